// examples/next in real Chromium (`next build` + `next start`): the sign-in form posted to its
// Server Action with JavaScript on, as React submits it, and off, as a plain form; the flash
// must show once either way, the cookie stay hidden from scripts, and sign-out empty the jar.
// And a <Link> the router prefetches must not consume a flash the page it opens shows.
import type { Browser, BrowserContext, Page, Request } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sessionTesting } from '../../src/testing.ts'
import { SECRET } from '../support.ts'
import { launch, newContext } from './browser.ts'
import { type NextApp, startNextExample } from './next-app.ts'

let app: NextApp | undefined
let browser: Browser | undefined
let base = ''
const contexts: BrowserContext[] = []
const held = sessionTesting({ secret: SECRET })

beforeAll(async () => {
  app = await startNextExample({ SESSION_SECRET: SECRET })
  base = app.base
  if (app.buildSeconds > 0) console.log(`examples/next built in ${app.buildSeconds.toFixed(1)}s`)
  browser = await launch()
}, 420_000)

afterAll(async () => {
  await Promise.allSettled(contexts.map((c) => c.close()))
  await browser?.close()
  await app?.stop()
})

async function open(javaScriptEnabled: boolean): Promise<{ context: BrowserContext; page: Page }> {
  const context = await newContext(browser!, { javaScriptEnabled })
  contexts.push(context)
  const page = await context.newPage()
  await page.goto(`${base}/`)
  if (javaScriptEnabled) await hydrated(page)
  return { context, page }
}

/**
 * Waits until React has hydrated the page's first `selector` (its form, by default), so a click
 * runs its handler (the form's action through fetch).
 */
function hydrated(page: Page, selector = 'form') {
  return page.waitForFunction((selector) => {
    const element = document.querySelector(selector)
    return element !== null && Object.keys(element).some((k) => k.startsWith('__reactFiber$'))
  }, selector)
}

/** Clicks `button` and resolves with the POST it sent, once the page shows `text`. */
async function submit(page: Page, button: string, text: string): Promise<Request> {
  const [post] = await Promise.all([
    page.waitForRequest((r) => r.method() === 'POST' && r.url() === `${base}/`),
    page.getByRole('button', { name: button }).click(),
  ])
  await page.getByText(text).waitFor()
  await page.waitForLoadState('load')
  return post
}

/** The `sid` cookies in the browser's jar. */
const sids = async (context: BrowserContext) =>
  (await context.cookies(base)).filter((c) => c.name === 'sid')

/** Signs in as Ada and checks the flash shows once; answers the action's POST. */
async function signIn(context: BrowserContext, page: Page): Promise<Request> {
  await page.getByPlaceholder('Your name').fill('Ada')
  const post = await submit(page, 'Sign in', 'Signed in as')
  expect(await page.getByRole('status').textContent()).toBe('Welcome, Ada')
  expect(await page.locator('b').textContent()).toBe('Ada')

  const [cookie, ...more] = await sids(context)
  expect(more).toEqual([])
  expect(cookie).toMatchObject({ domain: '127.0.0.1', path: '/', httpOnly: true, sameSite: 'Lax' })
  expect(await page.evaluate(() => document.cookie)).toBe('')
  // What the browser keeps no longer holds the notice it has shown...
  expect(await held.read(`sid=${cookie!.value}`)).toEqual({ user: 'Ada' })
  // ...so the next page shows none.
  await page.reload()
  await page.getByText('Signed in as').waitFor()
  expect(await page.getByRole('status').count()).toBe(0)
  expect(await page.evaluate(async () => (await fetch('/api/me')).json())).toEqual({ user: 'Ada' })
  return post
}

describe('examples/next in Chromium', () => {
  it('signs in through the Server Action with JavaScript on, shows the flash once, signs out', async () => {
    const { context, page } = await open(true)
    // Every document the browser loads, to see how the action's redirect reached the page.
    const documents: string[] = []
    page.on('request', (r) => {
      if (r.isNavigationRequest()) documents.push(`${r.method()} ${new URL(r.url()).pathname}`)
    })
    const post = await signIn(context, page)
    // React called the action through fetch (with JavaScript off there is no such header).
    expect(await post.headerValue('next-action')).toMatch(/^[0-9a-f]+$/)
    // Next renders a Server Action's redirect target in the action's response, from a request
    // whose Set-Cookie it drops; the proxy refuses that render when it has a cookie to write
    // (the consumed flash), so the browser loads the page itself and gets the cookie
    // (src/adapters/next-compat.ts). Then the reload.
    expect(documents).toEqual(['GET /', 'GET /'])

    await hydrated(page)
    await submit(page, 'Sign out', 'Signed out')
    expect(await sids(context)).toEqual([])
    // Nothing left to write on the redirect's render: the page came inside the action's answer.
    expect(documents).toEqual(['GET /', 'GET /'])
    expect(await page.evaluate(async () => (await fetch('/api/me')).status)).toBe(401)
  })

  it('signs in through the same form with JavaScript off: a 303, then the flash once', async () => {
    const { context, page } = await open(false)
    const post = await signIn(context, page)
    expect(await post.headerValue('next-action')).toBeNull()
    expect((await post.response())?.status()).toBe(303)

    await submit(page, 'Sign out', 'Signed out')
    expect(await sids(context)).toEqual([])
  })

  it('a <Link> the router prefetches after a notice is set leaves it for the page it opens', async () => {
    const context = await newContext(browser!, { javaScriptEnabled: true })
    contexts.push(context)
    const page = await context.newPage()
    await page.goto(`${base}/later`)
    await hydrated(page, 'button')
    // Every request for the home page after the notice is set, and whether the router sent it
    // as a prefetch.
    const home: Request[] = []
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/') home.push(r)
    })
    await page.getByRole('button', { name: 'Save' }).click()
    const link = page.getByRole('link', { name: 'Back home' })
    await link.waitFor()
    await expect.poll(() => home.length, { timeout: 10_000 }).toBeGreaterThan(0)
    const prefetch = home[0]!
    expect(await prefetch.headerValue('next-router-prefetch')).toBe('1')
    // Answered before the click: what it set (nothing, since the proxy skips prefetches) is in.
    await prefetch.response()
    await link.click()
    await page.getByText('Signed out').waitFor()
    // Before skipProxyUrlNormalize, the proxy took the prefetch for a page load: its response
    // cleared the notice, and the page opened without it.
    expect(await page.getByRole('status').allTextContents()).toEqual(['Saved'])
    expect(home.length).toBeGreaterThan(1)
  })
})
