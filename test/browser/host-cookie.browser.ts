// A `__Host-` session cookie over HTTPS in real Chromium: the server has a self-signed
// certificate made for this run, which Chromium trusts by its key alone. The browser must store
// the cookie (Secure, Path=/, no Domain) and send it back, chunks included, and let a shrinking
// or ended session take its stale chunks away.
import { spawnSync } from 'node:child_process'
import { createHash, X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ServerType, serve } from '@hono/node-server'
import type { Browser, BrowserContext, Cookie, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sessionEngine } from '../../src/core/engine.ts'
import { requestOf, SECRET } from '../support.ts'
import { launch, newContext } from './browser.ts'
import { createFixtureApp } from './fixture-app.ts'

const NAME = '__Host-sid'
const MAX_COOKIE_BYTES = 4096

let dir = ''
let server: ServerType | undefined
let browser: Browser | undefined
let base = ''
const contexts: BrowserContext[] = []

/** A key and a certificate for 127.0.0.1, valid one day, and the SHA-256 of its public key. */
function selfSignedCertificate(into: string): { key: Buffer; cert: Buffer; spki: string } {
  const keyFile = join(into, 'key.pem')
  const certFile = join(into, 'cert.pem')
  const run = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { encoding: 'utf8' },
  )
  if (run.error) {
    throw new Error(
      'openssl is not installed; this test makes its certificate with it. Install it with: apt-get install -y openssl',
    )
  }
  if (run.status !== 0) throw new Error(`openssl could not make a certificate:\n${run.stderr}`)
  const cert = readFileSync(certFile)
  const publicKey = new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' })
  return {
    key: readFileSync(keyFile),
    cert,
    spki: createHash('sha256').update(publicKey).digest('base64'),
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealed-session-https-'))
  const { key, cert, spki } = selfSignedCertificate(dir)
  const app = createFixtureApp(SECRET, NAME)
  server = await new Promise<ServerType>((resolve) => {
    const s = serve(
      {
        fetch: app.fetch,
        createServer,
        serverOptions: { key, cert },
        port: 0,
        hostname: '127.0.0.1',
      },
      () => resolve(s),
    )
  })
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  // Trusts this certificate's key and nothing else: every other certificate check stays on.
  browser = await launch([`--ignore-certificate-errors-spki-list=${spki}`])
})

afterAll(async () => {
  await Promise.allSettled(contexts.map((c) => c.close()))
  await browser?.close()
  if (server) {
    const closed = new Promise((resolve) => server!.close(resolve))
    if ('closeAllConnections' in server) server.closeAllConnections()
    await closed
  }
  if (dir) rmSync(dir, { recursive: true, force: true })
})

async function open(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await newContext(browser!)
  contexts.push(context)
  const page = await context.newPage()
  await page.goto(`${base}/`)
  return { context, page }
}

/** Posts one of the page's forms by clicking its button; resolves once the next page is there. */
async function press(page: Page, button: string): Promise<void> {
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'GET' && r.url() === `${base}/`),
    page.getByRole('button', { name: button, exact: true }).click(),
  ])
  await page.waitForLoadState('load')
}

/** The session cookies in the browser's jar, chunks in index order. */
async function sessionCookies(context: BrowserContext): Promise<Cookie[]> {
  const index = (c: Cookie) => (c.name === NAME ? -1 : Number(c.name.slice(NAME.length + 1)))
  return (await context.cookies(base))
    .filter((c) => c.name === NAME || c.name.startsWith(`${NAME}.`))
    .sort((a, b) => index(a) - index(b))
}

/** The cookie names the server received on a request from the page. */
const namesSent = (page: Page) =>
  page.evaluate(async () => (await (await fetch('/cookie-names')).json()) as string[])

/** What the browser holds, opened with the app's secret: chunks joined as the server joins them. */
async function heldSession(cookies: Cookie[]): Promise<Record<string, unknown> | null> {
  const engine = sessionEngine({ secret: SECRET, cookieName: NAME, chunk: true })
  const header = cookies.map((c) => `${c.name}=${c.value}`).join('; ')
  const state = await engine.load(requestOf(header, `${base}/`), undefined)
  return state.session.isNew ? null : state.session.toJSON()
}

describe('a __Host- cookie over HTTPS in Chromium', () => {
  it('is stored with Secure, Path=/ and no Domain, hidden from scripts, and sent back', async () => {
    const { context, page } = await open()
    expect(await page.evaluate(() => [location.protocol, window.isSecureContext])).toEqual([
      'https:',
      true,
    ])
    await page.getByLabel('Name').fill('Ada')
    await press(page, 'Sign in')
    expect(await page.getByRole('status').textContent()).toBe('Welcome, Ada')

    const [cookie, ...more] = await sessionCookies(context)
    expect(more).toEqual([])
    // Host-only (no leading dot), as the prefix requires.
    expect(cookie).toMatchObject({
      name: NAME,
      domain: '127.0.0.1',
      path: '/',
      secure: true,
      httpOnly: true,
      sameSite: 'Lax',
    })
    expect(cookie!.expires).toBeGreaterThan(Date.now() / 1000 + 86_400 - 120)
    expect(await page.evaluate(() => document.cookie)).toBe('')
    expect(await namesSent(page)).toEqual([NAME])

    // The page that showed the flash wrote the session without it; the next one shows none.
    expect(await heldSession(await sessionCookies(context))).toEqual({ name: 'Ada' })
    await page.reload()
    expect(await page.locator('#user').textContent()).toBe('Signed in as Ada')
    expect(await page.getByRole('status').count()).toBe(0)
  })

  it('refuses __Host- cookies that break the prefix rules (the controls)', async () => {
    const { context, page } = await open()
    await page.goto(`${base}/refused-prefix-cookies`)
    const names = (await context.cookies(base)).map((c) => c.name)
    expect(names).toContain('__Host-control')
    expect(names).not.toContain('__Host-no-secure')
    expect(names).not.toContain('__Host-sub-path')
  })

  it('chunks a session over 4 KB, sends every chunk back, drops stale chunks, and logs out', async () => {
    const { context, page } = await open()
    await page.getByLabel('Name').fill('Ada')
    await press(page, 'Sign in')

    const chunkNames = (n: number) => Array.from({ length: n }, (_, i) => `${NAME}.${i}`)
    const expectChunked = async (blobLength: number): Promise<number> => {
      // The page after the redirect read the blob back: the browser sent every chunk.
      expect(await page.locator('#blob').textContent()).toBe(`${blobLength} characters of blob`)
      expect(await page.locator('#user').textContent()).toBe('Signed in as Ada')
      const cookies = await sessionCookies(context)
      expect(cookies.map((c) => c.name)).toEqual(chunkNames(cookies.length))
      expect(cookies.length).toBeGreaterThan(1)
      for (const c of cookies) {
        expect(c).toMatchObject({ domain: '127.0.0.1', path: '/', secure: true, httpOnly: true })
        expect(c.name.length + 1 + c.value.length).toBeLessThanOrEqual(MAX_COOKIE_BYTES)
      }
      expect(cookies.reduce((n, c) => n + c.value.length, 0)).toBeGreaterThan(MAX_COOKIE_BYTES)
      expect((await heldSession(cookies))?.blob).toHaveLength(blobLength)
      expect(await namesSent(page)).toEqual(chunkNames(cookies.length))
      return cookies.length
    }

    await press(page, 'Blob 8 KB')
    const big = await expectChunked(8192)
    // Fewer chunks: the browser must drop the last ones, not keep sending them.
    await press(page, 'Blob 4 KB')
    const smaller = await expectChunked(4096)
    expect(smaller).toBeLessThan(big)
    // Small again: one plain cookie, every chunk gone.
    await press(page, 'No blob')
    expect(await page.locator('#blob').textContent()).toBe('0 characters of blob')
    expect((await sessionCookies(context)).map((c) => c.name)).toEqual([NAME])
    expect(await namesSent(page)).toEqual([NAME])
    expect(await heldSession(await sessionCookies(context))).toEqual({ name: 'Ada' })

    // Signing out of a chunked session removes every cookie of it from the jar.
    await press(page, 'Blob 8 KB')
    expect(await expectChunked(8192)).toBe(big)
    await press(page, 'Sign out')
    expect(await page.locator('#user').textContent()).toBe('Signed out')
    expect(await sessionCookies(context)).toEqual([])
    expect(await namesSent(page)).toEqual([])
  })
})
