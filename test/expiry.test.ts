// Server-side expiry with an injected clock: absolute maxAge, idleTimeout, rolling refresh.
import { Hono } from 'hono'
import { describe, expect, it, vi } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import type { SessionOptions } from '../src/core/types.ts'
import { Jar, SECRET, setCookies, testClock } from './support.ts'

function createApp(options: SessionOptions) {
  const app = new Hono()
  app.use(session({ secret: SECRET, ...options }))
  app.post('/login', (c) => {
    c.session.userId = 'u1'
    return c.json({ expiresAt: c.session.expiresAt.getTime() })
  })
  app.get('/', (c) =>
    c.json({
      userId: c.session.userId ?? null,
      isNew: c.session.isNew,
      expiresAt: c.session.expiresAt.getTime(),
    }),
  )
  return app
}

type Seen = { userId: string | null; isNew: boolean; expiresAt: number }

function setup(options: SessionOptions) {
  const clock = testClock()
  const onInvalid = vi.fn()
  const app = createApp({ now: clock.now, onInvalid, ...options })
  const jar = new Jar()
  const start = clock.now()
  const get = async () => {
    const res = await jar.request(app, '/')
    return { res, body: (await res.json()) as Seen }
  }
  const login = () => jar.request(app, '/login', { method: 'POST' })
  return { clock, onInvalid, app, jar, start, get, login }
}

const at = (start: number, seconds: number) => start + seconds * 1000
const reasons = (fn: ReturnType<typeof vi.fn>) => fn.mock.calls.map((call) => call[0])

describe('absolute maxAge', () => {
  it('a valid cookie replayed after maxAge gives a fresh session and onInvalid("expired")', async () => {
    const t = setup({ maxAge: 3600 })
    const login = await t.login()
    expect(setCookies(login)[0]?.attributes['max-age']).toBe('3600')

    t.clock.advance(3599)
    expect((await t.get()).body.userId).toBe('u1')
    expect(t.onInvalid).not.toHaveBeenCalled()

    t.clock.advance(1)
    const { body } = await t.get()
    expect(body).toMatchObject({ userId: null, isNew: true })
    expect(reasons(t.onInvalid)).toEqual(['expired'])
    // The hook gets the Hono context too.
    expect(t.onInvalid.mock.calls[0]?.[1]?.req?.url).toBe('http://localhost/')
  })

  it('defaults to one day', async () => {
    const t = setup({})
    const login = await t.login()
    expect(setCookies(login)[0]?.attributes['max-age']).toBe('86400')
    t.clock.advance(86_399)
    expect((await t.get()).body.userId).toBe('u1')
    t.clock.advance(1)
    expect((await t.get()).body.userId).toBeNull()
  })

  it('is absolute: requests and writes do not extend it', async () => {
    const t = setup({ maxAge: 100 })
    t.app.post('/touch', (c) => {
      c.session.n = (c.session.n ?? 0) + 1
      return c.body(null, 204)
    })
    await t.login()
    for (let i = 0; i < 9; i++) {
      t.clock.advance(10)
      const res = await t.jar.request(t.app, '/touch', { method: 'POST' })
      // Each rewrite tells the browser only the time that is left.
      expect(setCookies(res)[0]?.attributes['max-age']).toBe(String(100 - 10 * (i + 1)))
    }
    t.clock.advance(10)
    expect((await t.get()).body.isNew).toBe(true)
    expect(reasons(t.onInvalid)).toEqual(['expired'])
  })

  it('a session created after expiry can be logged into again', async () => {
    const t = setup({ maxAge: 60 })
    await t.login()
    t.clock.advance(61)
    await t.login()
    expect((await t.get()).body.userId).toBe('u1')
  })
})

describe('idleTimeout', () => {
  it('ends the session after idle time without requests', async () => {
    const t = setup({ idleTimeout: 600 })
    const login = await t.login()
    // The idle deadline comes first, so that is what the cookie gets.
    expect(setCookies(login)[0]?.attributes['max-age']).toBe('600')

    t.clock.advance(600)
    const { body } = await t.get()
    expect(body).toMatchObject({ userId: null, isNew: true })
    expect(reasons(t.onInvalid)).toEqual(['expired'])
  })

  it('a request in the second half of the window refreshes it (rolling is on by default)', async () => {
    const t = setup({ idleTimeout: 600 })
    await t.login()
    t.clock.advance(400)
    const refresh = await t.get()
    expect(refresh.body.userId).toBe('u1')
    expect(setCookies(refresh.res)[0]?.attributes['max-age']).toBe('600')

    // Past the first idle deadline (600 s after login) the session is still alive.
    t.clock.advance(599)
    expect((await t.get()).body.userId).toBe('u1')
    expect(t.onInvalid).not.toHaveBeenCalled()
  })

  it('requests closer together than half the window keep it alive indefinitely', async () => {
    const t = setup({ idleTimeout: 600 })
    await t.login()
    for (let i = 0; i < 20; i++) {
      t.clock.advance(299)
      expect((await t.get()).body.userId).toBe('u1')
    }
    expect(t.onInvalid).not.toHaveBeenCalled()
  })

  it('rolling refresh writes at most once per half idle window', async () => {
    const t = setup({ idleTimeout: 600 })
    await t.login()
    const writes: number[] = []
    for (let s = 60; s <= 1800; s += 60) {
      t.clock.advance(60)
      const { res, body } = await t.get()
      expect(body.userId).toBe('u1')
      if (setCookies(res).length > 0) writes.push(s)
    }
    // Refreshed when 300 s or less of the window remained, and never in between.
    expect(writes).toEqual([300, 600, 900, 1200, 1500, 1800])
  })

  it('rolling: false makes the idle deadline fixed', async () => {
    const t = setup({ idleTimeout: 600, rolling: false })
    await t.login()
    t.clock.advance(500)
    const { res, body } = await t.get()
    expect(body.userId).toBe('u1')
    expect(res.headers.getSetCookie()).toEqual([])
    t.clock.advance(100)
    expect((await t.get()).body.userId).toBeNull()
  })

  it('a write refreshes the idle deadline even without rolling', async () => {
    const t = setup({ idleTimeout: 600, rolling: false })
    t.app.post('/touch', (c) => {
      c.session.seen = c.req.query('n')
      return c.body(null, 204)
    })
    await t.login()
    t.clock.advance(500)
    const write = await t.jar.request(t.app, '/touch?n=1', { method: 'POST' })
    expect(setCookies(write)[0]?.attributes['max-age']).toBe('600')
    t.clock.advance(500)
    expect((await t.get()).body.userId).toBe('u1')
  })

  it('does not outlive the absolute maxAge', async () => {
    const t = setup({ idleTimeout: 600, maxAge: 1000 })
    await t.login()
    for (let s = 250; s < 1000; s += 250) {
      t.clock.advance(250)
      expect((await t.get()).body.userId).toBe('u1')
    }
    t.clock.advance(250)
    expect((await t.get()).body.userId).toBeNull()
    expect(reasons(t.onInvalid)).toEqual(['expired'])
  })
})

describe('rolling without idleTimeout', () => {
  it('makes maxAge sliding, refreshed at most once per half maxAge', async () => {
    const t = setup({ maxAge: 100, rolling: true })
    await t.login()

    t.clock.advance(40)
    const early = await t.get()
    expect(early.res.headers.getSetCookie()).toEqual([])

    t.clock.advance(20)
    const slide = await t.get()
    expect(slide.body.userId).toBe('u1')
    const [cookie] = setCookies(slide.res)
    expect(cookie?.attributes['max-age']).toBe('100')
    expect(cookie?.attributes.expires).toBe(new Date(at(t.start, 160)).toUTCString())

    // At 150 s the unrolled session would be gone; the slid one is not.
    t.clock.advance(90)
    const later = await t.get()
    expect(later.body.userId).toBe('u1')
    // This response slides it again, and expiresAt says where to: the cookie's Expires.
    expect(later.body.expiresAt).toBe(at(t.start, 250))
    expect(setCookies(later.res)).toHaveLength(1)
    expect(setCookies(later.res)[0]?.attributes.expires).toBe(
      new Date(at(t.start, 250)).toUTCString(),
    )
    expect(t.onInvalid).not.toHaveBeenCalled()
  })

  it('without rolling the same requests do not extend it', async () => {
    const t = setup({ maxAge: 100 })
    await t.login()
    t.clock.advance(60)
    const res = (await t.get()).res
    expect(res.headers.getSetCookie()).toEqual([])
    t.clock.advance(90)
    expect((await t.get()).body.userId).toBeNull()
  })
})

describe('expiresAt and the cookie Max-Age', () => {
  it('expiresAt is the earlier deadline and Max-Age the seconds that remain', async () => {
    const t = setup({ maxAge: 1000, idleTimeout: 600 })
    const login = await t.login()
    expect(setCookies(login)[0]?.attributes['max-age']).toBe('600')

    t.clock.advance(100)
    const first = await t.get()
    // Idle deadline (600 s) is earlier than the absolute one (1000 s).
    expect(first.body.expiresAt).toBe(at(t.start, 600))
    expect(first.res.headers.getSetCookie()).toEqual([])

    t.clock.advance(400)
    const refreshed = await t.get()
    expect(refreshed.body.userId).toBe('u1')
    // Refreshed idle deadline is 1100 s; the absolute 1000 s now comes first: 500 s remain.
    const [cookie] = setCookies(refreshed.res)
    expect(cookie?.attributes['max-age']).toBe('500')
    expect(cookie?.attributes.expires).toBe(new Date(at(t.start, 1000)).toUTCString())

    t.clock.advance(10)
    expect((await t.get()).body.expiresAt).toBe(at(t.start, 1000))
  })

  it('expiresAt of a new session is its idle deadline when idleTimeout is set', async () => {
    const t = setup({ idleTimeout: 600 })
    const res = await t.login()
    expect(((await res.json()) as { expiresAt: number }).expiresAt).toBe(at(t.start, 600))
    expect(setCookies(res)[0]?.attributes.expires).toBe(new Date(at(t.start, 600)).toUTCString())
  })

  it('expiresAt of a new session is maxAge from now', async () => {
    const t = setup({ maxAge: 3600 })
    t.clock.advance(5)
    const { body } = await t.get()
    expect(body.expiresAt).toBe(at(t.start, 3605))
  })

  it('Max-Age rounds a partial second up', async () => {
    const t = setup({ maxAge: 100 })
    t.app.post('/write', (c) => {
      c.session.x = Date.now()
      return c.body(null, 204)
    })
    await t.login()
    t.clock.advance(0.5)
    const res = await t.jar.request(t.app, '/write', { method: 'POST' })
    expect(setCookies(res)[0]?.attributes['max-age']).toBe('100')
  })
})
