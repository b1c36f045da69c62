// The basic login / read / logout round trip through Hono, with a browser-like cookie jar.
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { Jar, SECRET, setCookies } from './support.ts'

function createApp() {
  const app = new Hono()
  app.use(session({ secret: SECRET }))
  app.post('/login', async (c) => {
    const { user } = await c.req.json<{ user: string }>()
    c.session.userId = user
    return c.text('ok')
  })
  app.get('/', (c) =>
    c.json({ userId: c.session.userId ?? null, isNew: c.session.isNew, data: c.session.toJSON() }),
  )
  app.post('/logout', (c) => {
    c.session = null
    return c.redirect('/')
  })
  return app
}

const login = (jar: Jar, app: Hono, user: string) =>
  jar.request(app, '/login', {
    method: 'POST',
    body: JSON.stringify({ user }),
    headers: { 'content-type': 'application/json' },
  })

describe('login flow', () => {
  it('reads back on the next request what login stored', async () => {
    const app = createApp()
    const jar = new Jar()
    const res = await login(jar, app, 'u-42')
    expect(res.status).toBe(200)
    const [cookie, ...rest] = setCookies(res)
    expect(rest).toEqual([])
    expect(cookie?.name).toBe('sid')
    expect(cookie?.value).toMatch(/^Fe26\.2\*/)
    // The user id travels sealed, never in clear text.
    expect(cookie?.value).not.toContain('u-42')

    const me = await jar.request(app, '/')
    expect(await me.json()).toEqual({ userId: 'u-42', isNew: false, data: { userId: 'u-42' } })
  })

  it('keeps two clients apart', async () => {
    const app = createApp()
    const ada = new Jar()
    const bob = new Jar()
    await login(ada, app, 'ada')
    await login(bob, app, 'bob')
    expect(((await (await ada.request(app, '/')).json()) as any).userId).toBe('ada')
    expect(((await (await bob.request(app, '/')).json()) as any).userId).toBe('bob')
    expect(((await (await new Jar().request(app, '/')).json()) as any).userId).toBeNull()
  })

  it('logout clears the cookie with exact attributes and leaves a new, empty session', async () => {
    const app = createApp()
    const jar = new Jar()
    await login(jar, app, 'u-42')
    expect(jar.cookies.has('sid')).toBe(true)

    const out = await jar.request(app, '/logout', { method: 'POST' })
    expect(out.status).toBe(302)
    expect(out.headers.get('location')).toBe('/')
    expect(out.headers.getSetCookie()).toEqual([
      'sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax',
    ])
    expect(jar.cookies.has('sid')).toBe(false)

    const after = await jar.request(app, '/')
    expect(await after.json()).toEqual({ userId: null, isNew: true, data: {} })
    expect(after.headers.getSetCookie()).toEqual([])
  })

  it('logout without a session cookie sends no Set-Cookie', async () => {
    const app = createApp()
    const res = await new Jar().request(app, '/logout', { method: 'POST' })
    expect(res.status).toBe(302)
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('logging in again replaces the user', async () => {
    const app = createApp()
    const jar = new Jar()
    await login(jar, app, 'first')
    await login(jar, app, 'second')
    expect(((await (await jar.request(app, '/')).json()) as any).userId).toBe('second')
  })
})
