// regenerate(), destroy() and renew(): the session-lifecycle methods, in sealed-cookie mode.
import { Hono } from 'hono'
import { describe, expect, it, vi } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import type { SessionOptions } from '../src/core/types.ts'
import { Jar, SECRET, setCookies, testClock } from './support.ts'

function createApp(options: SessionOptions = {}) {
  const app = new Hono()
  app.use(session({ secret: SECRET, ...options }))
  app.onError((err, c) => c.json({ error: err.name, message: err.message }, 500))
  app.post('/login', (c) => {
    c.session.userId = 'u1'
    c.session.cart = { items: ['a'] }
    return c.text(c.session.id)
  })
  app.get('/', (c) =>
    c.json({ id: c.session.id, isNew: c.session.isNew, data: c.session.toJSON() }),
  )
  app.post('/regenerate', async (c) => {
    const before = c.session.id
    await c.session.regenerate()
    return c.json({ before, after: c.session.id, data: c.session.toJSON() })
  })
  app.post('/restart', (c) => {
    const before = c.session.id
    c.session.destroy()
    c.session.fresh = true
    return c.json({ before, after: c.session.id, data: c.session.toJSON() })
  })
  app.post('/destroy', (c) => {
    c.session.destroy()
    return c.json({ data: c.session.toJSON() })
  })
  app.post('/renew', async (c) => {
    const arg = c.req.query('maxAge')
    c.session.renew(arg === undefined ? undefined : Number(arg))
    return c.json({ expiresAt: c.session.expiresAt.getTime() })
  })
  return app
}

type State = { id: string; isNew: boolean; data: Record<string, unknown> }
const state = async (app: Hono, jar: Jar) => (await (await jar.request(app, '/')).json()) as State

describe('regenerate()', () => {
  it('gives the session a new id and keeps its data', async () => {
    const app = createApp()
    const jar = new Jar()
    const loginId = await (await jar.request(app, '/login', { method: 'POST' })).text()
    const loaded = await state(app, jar)
    // Sealed mode carries the internal id inside the cookie, so it is stable across requests.
    expect(loaded.id).toBe(loginId)
    expect(loaded.id).toMatch(/^[A-Za-z0-9_-]{32}$/)

    const res = await jar.request(app, '/regenerate', { method: 'POST' })
    const body = (await res.json()) as { before: string; after: string; data: unknown }
    expect(body.before).toBe(loginId)
    expect(body.after).not.toBe(loginId)
    expect(body.data).toEqual({ userId: 'u1', cart: { items: ['a'] } })
    // No data changed, yet the new id must reach the cookie.
    expect(setCookies(res)).toHaveLength(1)

    const after = await state(app, jar)
    expect(after.id).toBe(body.after)
    expect(after.isNew).toBe(false)
    expect(after.data).toEqual({ userId: 'u1', cart: { items: ['a'] } })
  })

  it('works on a brand-new session', async () => {
    const app = new Hono()
    app.use(session({ secret: SECRET }))
    app.post('/login', async (c) => {
      await c.session.regenerate()
      c.session.userId = 'u9'
      return c.text(c.session.id)
    })
    app.get('/', (c) => c.json({ id: c.session.id, userId: c.session.userId }))
    const jar = new Jar()
    const id = await (await jar.request(app, '/login', { method: 'POST' })).text()
    expect(await (await jar.request(app, '/')).json()).toEqual({ id, userId: 'u9' })
  })
})

describe('destroy()', () => {
  it('then writing new data in the same request starts a fresh session with a new id', async () => {
    const app = createApp()
    const jar = new Jar()
    const loginId = await (await jar.request(app, '/login', { method: 'POST' })).text()
    const res = await jar.request(app, '/restart', { method: 'POST' })
    const body = (await res.json()) as { before: string; after: string; data: unknown }
    expect(body.before).toBe(loginId)
    expect(body.after).not.toBe(loginId)
    expect(body.data).toEqual({ fresh: true })
    const [cookie, ...rest] = setCookies(res)
    expect(rest).toEqual([])
    expect(cookie?.value).toMatch(/^Fe26\.2\*/)

    const after = await state(app, jar)
    expect(after.id).toBe(body.after)
    expect(after.data).toEqual({ fresh: true })
  })

  it('alone clears the cookie and the data', async () => {
    const app = createApp()
    const jar = new Jar()
    await jar.request(app, '/login', { method: 'POST' })
    const res = await jar.request(app, '/destroy', { method: 'POST' })
    expect(((await res.json()) as any).data).toEqual({})
    expect(res.headers.getSetCookie()).toEqual([
      'sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax',
    ])
    const after = await state(app, jar)
    expect(after.isNew).toBe(true)
    expect(after.data).toEqual({})
  })
})

describe('renew()', () => {
  it('renew(maxAge) moves the sealed expiry and the cookie Max-Age together', async () => {
    const clock = testClock()
    const onInvalid = vi.fn()
    const app = createApp({ maxAge: 100, now: clock.now, onInvalid })
    const jar = new Jar()
    const login = await jar.request(app, '/login', { method: 'POST' })
    const start = clock.now()
    expect(setCookies(login)[0]?.attributes['max-age']).toBe('100')

    clock.advance(50)
    const res = await jar.request(app, '/renew?maxAge=1000', { method: 'POST' })
    expect(((await res.json()) as any).expiresAt).toBe(start + 1050 * 1000)
    const [cookie] = setCookies(res)
    expect(cookie?.attributes['max-age']).toBe('1000')
    expect(cookie?.attributes.expires).toBe(new Date(start + 1050 * 1000).toUTCString())

    // Past the original 100 s the session lives on: the server honours the new deadline.
    clock.advance(999)
    expect((await state(app, jar)).data).toEqual({ userId: 'u1', cart: { items: ['a'] } })
    expect(onInvalid).not.toHaveBeenCalled()

    // ...and ends exactly there, even though the jar still sends the cookie.
    clock.advance(1)
    expect(jar.cookies.has('sid')).toBe(true)
    const expired = await state(app, jar)
    expect(expired.isNew).toBe(true)
    expect(expired.data).toEqual({})
    expect(onInvalid).toHaveBeenCalledTimes(1)
    expect(onInvalid.mock.calls[0]?.[0]).toBe('expired')
  })

  it('renew(maxAge) can also shorten the session', async () => {
    const clock = testClock()
    const app = createApp({ maxAge: 1000, now: clock.now })
    const jar = new Jar()
    await jar.request(app, '/login', { method: 'POST' })
    const res = await jar.request(app, '/renew?maxAge=10', { method: 'POST' })
    expect(setCookies(res)[0]?.attributes['max-age']).toBe('10')
    clock.advance(10)
    expect((await state(app, jar)).isNew).toBe(true)
  })

  it('renew() with no argument restarts the maxAge option', async () => {
    const clock = testClock()
    const app = createApp({ maxAge: 100, now: clock.now })
    const jar = new Jar()
    await jar.request(app, '/login', { method: 'POST' })
    const start = clock.now()

    clock.advance(80)
    const res = await jar.request(app, '/renew', { method: 'POST' })
    expect(((await res.json()) as any).expiresAt).toBe(start + 180 * 1000)
    expect(setCookies(res)[0]?.attributes['max-age']).toBe('100')

    clock.advance(99)
    expect((await state(app, jar)).data).toEqual({ userId: 'u1', cart: { items: ['a'] } })
    clock.advance(1)
    expect((await state(app, jar)).data).toEqual({})
  })

  it('rejects a maxAge that is not a positive number of seconds with a RangeError', async () => {
    const app = createApp()
    const jar = new Jar()
    await jar.request(app, '/login', { method: 'POST' })
    for (const bad of ['-1', '0', 'NaN', 'Infinity']) {
      const res = await jar.request(app, `/renew?maxAge=${bad}`, { method: 'POST' })
      expect(res.status).toBe(500)
      expect(((await res.json()) as any).error).toBe('RangeError')
      expect(res.headers.getSetCookie()).toEqual([])
    }
    // The session is untouched by the failed calls.
    expect((await state(app, jar)).data).toEqual({ userId: 'u1', cart: { items: ['a'] } })
  })
})
