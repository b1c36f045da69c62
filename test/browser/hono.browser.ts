// examples/hono in real Chromium over HTTP on 127.0.0.1: the sign-in form, the flash across the
// 303 redirect, an HttpOnly cookie scripts cannot read, and sign-out.
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../examples/hono/app.ts'
import { sessionTesting } from '../../src/testing.ts'
import { type Listening, listen } from '../adapters/http.ts'
import { SECRET } from '../support.ts'
import { launch, newContext } from './browser.ts'

let server: Listening | undefined
let browser: Browser | undefined
let context: BrowserContext | undefined
let base = ''
const held = sessionTesting({ secret: SECRET })

beforeAll(async () => {
  server = await listen(createApp(SECRET).fetch)
  base = server.base
  browser = await launch()
})

afterAll(async () => {
  await context?.close()
  await browser?.close()
  await server?.close()
})

/** Submits a form by its button; resolves once the page the redirect leads to has loaded. */
async function submit(page: Page, button: string, action: string) {
  const [post] = await Promise.all([
    page.waitForRequest((r) => r.method() === 'POST' && r.url() === `${base}${action}`),
    page.waitForResponse((r) => r.request().method() === 'GET' && r.url() === `${base}/`),
    page.getByRole('button', { name: button }).click(),
  ])
  await page.waitForLoadState('load')
  return post.response()
}

/** The `sid` cookie in the browser's jar. */
async function sid() {
  const cookies = (await context!.cookies(base)).filter((c) => c.name === 'sid')
  expect(cookies).toHaveLength(1)
  return cookies[0]!
}

describe('examples/hono in Chromium', () => {
  it('signs in, shows the flash once across the redirect, hides the cookie, signs out', async () => {
    context = await newContext(browser!)
    const page = await context.newPage()
    await page.goto(`${base}/`)
    await page.getByLabel('Name').fill('Ada')
    const login = await submit(page, 'Sign in', '/login')
    expect(login?.status()).toBe(303)
    expect(await login?.headerValue('location')).toBe('/')
    expect(await page.getByRole('status').textContent()).toBe('Welcome, Ada')
    // The visit count started on the signed-out page: regenerate() keeps the data.
    const visit = async () =>
      Number(/Signed in as Ada \(visit (\d+)\)/.exec((await page.textContent('body')) ?? '')?.[1])
    const first = await visit()
    expect(first).toBe(2)

    const cookie = await sid()
    expect(cookie).toMatchObject({
      domain: '127.0.0.1',
      path: '/',
      httpOnly: true,
      secure: false, // plain-HTTP loopback: `secure: 'auto'` leaves Secure off
      sameSite: 'Lax',
    })
    expect(cookie.expires).toBeGreaterThan(Date.now() / 1000 + 7 * 86_400 - 120)
    // HttpOnly: the page's scripts see no cookie, yet the browser sends it with fetch().
    expect(await page.evaluate(() => document.cookie)).toBe('')
    expect(await page.evaluate(async () => (await fetch('/me')).json())).toMatchObject({
      name: 'Ada',
    })
    // The page that showed the flash removed it from the cookie.
    const session = await held.read(`sid=${cookie.value}`)
    expect(session).toMatchObject({ name: 'Ada', visits: first })
    expect(session).not.toHaveProperty('notice')

    await page.reload()
    expect(await page.getByRole('status').count()).toBe(0)
    expect(await visit()).toBe(first + 1)

    // Sign-out ends the session; the example starts a fresh one to carry the "Signed out" notice.
    const logout = await submit(page, 'Sign out', '/logout')
    expect(logout?.status()).toBe(303)
    expect(await page.getByRole('status').textContent()).toBe('Signed out')
    const after = await sid()
    expect(after.value).not.toBe(cookie.value)
    const anonymous = await held.read(`sid=${after.value}`)
    expect(anonymous).not.toHaveProperty('userId')
    expect(anonymous).not.toHaveProperty('name')
    expect(await page.evaluate(async () => (await fetch('/me')).status)).toBe(401)
    await page.getByLabel('Name').waitFor()
  })
})
