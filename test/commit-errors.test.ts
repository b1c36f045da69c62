// Errors that reach the app: non-JSON data, oversized cookies, reserved keys, missing middleware,
// and a failing handler, which must leave no half-written session behind.
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { SessionDataError, SessionError, SessionTooLargeError } from '../src/core/errors.ts'
import { Jar, SECRET, setCookies } from './support.ts'

/** An app that records the error Hono's onError receives, and a handler per test. */
function createApp(handler: (c: any) => unknown) {
  const errors: unknown[] = []
  const app = new Hono()
  app.use(session({ secret: SECRET }))
  app.onError((err, c) => {
    errors.push(err)
    return c.text(`error: ${err.message}`, 500)
  })
  app.post('/seed', (c) => {
    c.session.userId = 'u1'
    return c.body(null, 204)
  })
  app.post('/run', async (c) => {
    await handler(c)
    return c.text('ok')
  })
  app.get('/data', (c) => c.json(c.session.toJSON()))
  return { app, errors }
}

const cycle = () => {
  const a: Record<string, unknown> = { name: 'a' }
  a.self = a
  return a
}

// First in the file, so its first request runs before any request has passed the middleware.
describe('missing middleware', () => {
  it('reading c.session on a route the middleware does not cover throws ERR_SESSION_MISSING', async () => {
    const errors: unknown[] = []
    const app = new Hono()
    app.onError((err, c) => {
      errors.push(err)
      return c.text('error', 500)
    })
    app.use('/app/*', session({ secret: SECRET }))
    app.get('/app/me', (c) => c.text(String(c.session.userId ?? 'anon')))
    app.get('/public', (c) => c.text(String(c.session.userId)))
    app.post('/public', (c) => {
      c.session = { userId: 'x' }
      return c.text('set')
    })

    // Before any request has passed the middleware, and after one has.
    for (const warm of [false, true]) {
      if (warm) expect(await (await app.request('http://localhost/app/me')).text()).toBe('anon')
      errors.length = 0
      const read = await app.request('http://localhost/public')
      expect(read.status).toBe(500)
      const write = await app.request('http://localhost/public', { method: 'POST' })
      expect(write.status).toBe(500)
      expect(errors).toHaveLength(2)
      for (const err of errors) {
        expect(err).toBeInstanceOf(SessionError)
        expect((err as SessionError).code).toBe('ERR_SESSION_MISSING')
      }
    }
  })
})

describe('non-JSON session data', () => {
  const cases: [string, (c: any) => void, string, RegExp][] = [
    ['a Date', (c) => (c.session.when = new Date(0)), 'when', /Date.*toISOString/],
    ['a Map', (c) => (c.session.tags = new Map([['a', 1]])), 'tags', /Map/],
    ['a BigInt', (c) => (c.session.big = 10n), 'big', /BigInt/],
    ['NaN', (c) => (c.session.score = Number.NaN), 'score', /NaN/],
    ['Infinity nested', (c) => (c.session.stats = { max: Infinity }), 'stats.max', /Infinity/],
    ['a function', (c) => (c.session.fn = () => 1), 'fn', /function/],
    ['a cycle', (c) => (c.session.node = cycle()), 'node.self', /circular/],
    [
      'undefined inside an array',
      (c) => (c.session.cart = { items: [undefined] }),
      'cart.items.0',
      /undefined/,
    ],
    [
      'a Date pushed into a nested array',
      (c) => {
        c.session.cart = { items: [] }
        c.session.cart.items.push(new Date(0))
      },
      'cart.items.0',
      /Date/,
    ],
  ]

  for (const [what, act, key, message] of cases) {
    it(`${what} makes the response a 500 with a SessionDataError naming "${key}"`, async () => {
      const { app, errors } = createApp(act)
      const jar = new Jar()
      await jar.request(app, '/seed', { method: 'POST' })
      const before = jar.header()

      const res = await jar.request(app, '/run', { method: 'POST' })
      expect(res.status).toBe(500)
      expect(res.headers.getSetCookie()).toEqual([])
      expect(errors).toHaveLength(1)
      const err = errors[0] as SessionDataError
      expect(err).toBeInstanceOf(SessionDataError)
      expect(err).toBeInstanceOf(SessionError)
      expect(err.code).toBe('ERR_SESSION_DATA')
      expect(err.key).toBe(key)
      expect(err.message).toContain(`"${key}"`)
      expect(err.message).toMatch(message)

      // The stored session is what it was before the failed request.
      expect(jar.header()).toBe(before)
      expect(await (await jar.request(app, '/data')).json()).toEqual({ userId: 'u1' })
    })
  }

  it('a value JSON would drop is reported even when the JSON looks unchanged', async () => {
    // `{ x: 1, cb() {} }` and `new Map()` serialise like `{ x: 1 }` and `{}`: no visible change,
    // but the app asked to store something that cannot be stored, so it must hear about it.
    const cases: [(c: any) => void, string][] = [
      [(c) => (c.session.prefs.cb = () => 1), 'prefs.cb'],
      [(c) => (c.session.empty = new Map()), 'empty'],
      [(c) => (c.session.prefs = { x: 1, when: Symbol('s') }), 'prefs.when'],
    ]
    for (const [act, key] of cases) {
      const errors: unknown[] = []
      const app = new Hono()
      app.use(session({ secret: SECRET }))
      app.onError((err, c) => {
        errors.push(err)
        return c.text('error', 500)
      })
      app.post('/seed', (c) => {
        c.session.prefs = { x: 1 }
        c.session.empty = {}
        return c.body(null, 204)
      })
      app.post('/run', (c) => {
        act(c)
        return c.text('ok')
      })
      const jar = new Jar()
      await jar.request(app, '/seed', { method: 'POST' })
      const res = await jar.request(app, '/run', { method: 'POST' })
      expect(res.status).toBe(500)
      expect(errors[0]).toBeInstanceOf(SessionDataError)
      expect((errors[0] as SessionDataError).key).toBe(key)
    }
  })

  it('names the nested path of a Date inside a newly set object', async () => {
    const { app, errors } = createApp((c) => {
      c.session.profile = { born: new Date(0) }
      c.session.userId = 'u2'
    })
    const res = await app.request('http://localhost/run', { method: 'POST' })
    expect(res.status).toBe(500)
    expect((errors[0] as SessionDataError).key).toBe('profile.born')
  })

  it('undefined as an object property is allowed and simply not stored', async () => {
    const { app, errors } = createApp((c) => {
      c.session.profile = { name: 'Ada', nick: undefined }
    })
    const jar = new Jar()
    const res = await jar.request(app, '/run', { method: 'POST' })
    expect(res.status).toBe(200)
    expect(errors).toEqual([])
    expect(await (await jar.request(app, '/data')).json()).toEqual({ profile: { name: 'Ada' } })
  })
})

describe('oversized session', () => {
  it('throws SessionTooLargeError instead of silently dropping the cookie', async () => {
    const { app, errors } = createApp((c) => {
      c.session.blob = 'x'.repeat(4000)
    })
    const jar = new Jar()
    await jar.request(app, '/seed', { method: 'POST' })
    const before = jar.header()
    const res = await jar.request(app, '/run', { method: 'POST' })
    expect(res.status).toBe(500)
    expect(res.headers.getSetCookie()).toEqual([])
    const err = errors[0] as SessionTooLargeError
    expect(err).toBeInstanceOf(SessionTooLargeError)
    expect(err.code).toBe('ERR_SESSION_TOO_LARGE')
    expect(err.limit).toBe(4096)
    expect(err.size).toBeGreaterThan(4096)
    expect(jar.header()).toBe(before)
  })

  it('the largest payload that fits is written and reads back; one block more fails', async () => {
    const { app, errors } = createApp((c) => {
      c.session.blob = 'y'.repeat(Number(c.req.query('n')))
    })
    app.get('/blob', (c) => c.text(String(c.session.blob?.length ?? 0)))
    let fits = 0
    for (let n = 2000; n <= 4096; n += 16) {
      const res = await app.request(`http://localhost/run?n=${n}`, { method: 'POST' })
      if (res.status !== 200) break
      fits = n
    }
    expect(fits).toBeGreaterThan(2000)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(SessionTooLargeError)

    const jar = new Jar()
    const res = await jar.request(app, `/run?n=${fits}`, { method: 'POST' })
    const [cookie] = setCookies(res)
    expect((cookie?.name.length ?? 0) + 1 + (cookie?.value.length ?? 0)).toBeLessThanOrEqual(4096)
    expect(await (await jar.request(app, '/blob')).text()).toBe(String(fits))
  })
})

describe('a handler that throws', () => {
  it('leaves no Set-Cookie and no half-written session', async () => {
    const { app, errors } = createApp((c) => {
      c.session.userId = 'intruder'
      c.session.flash('notice', 'half')
      throw new Error('boom')
    })
    const jar = new Jar()
    await jar.request(app, '/seed', { method: 'POST' })
    const res = await jar.request(app, '/run', { method: 'POST' })
    expect(res.status).toBe(500)
    expect(await res.text()).toBe('error: boom')
    expect(res.headers.getSetCookie()).toEqual([])
    expect((errors[0] as Error).message).toBe('boom')
    expect(await (await jar.request(app, '/data')).json()).toEqual({ userId: 'u1' })
  })

  it('a new visitor whose handler throws gets no cookie', async () => {
    const { app } = createApp((c) => {
      c.session.userId = 'x'
      throw new Error('boom')
    })
    const res = await app.request('http://localhost/run', { method: 'POST' })
    expect(res.status).toBe(500)
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('also when it destroys the session before throwing', async () => {
    const { app } = createApp((c) => {
      c.session = null
      throw new Error('boom')
    })
    const jar = new Jar()
    await jar.request(app, '/seed', { method: 'POST' })
    const res = await jar.request(app, '/run', { method: 'POST' })
    expect(res.headers.getSetCookie()).toEqual([])
    expect(await (await jar.request(app, '/data')).json()).toEqual({ userId: 'u1' })
  })
})

describe('reserved keys', () => {
  const reserved: [string, (c: any) => void][] = [
    ['flash', (c) => (c.session.flash = 1)],
    ['id', (c) => (c.session.id = 'x')],
    ['isNew', (c) => (c.session.isNew = false)],
    ['destroy', (c) => delete c.session.destroy],
    ['toJSON', (c) => (c.session = { toJSON: 1 })],
    ['renew', (c) => Object.assign(c.session, { renew: 5 })],
  ]
  for (const [key, act] of reserved) {
    it(`"${key}" throws SessionError ERR_SESSION_RESERVED_KEY`, async () => {
      const { app, errors } = createApp(act)
      const jar = new Jar()
      await jar.request(app, '/seed', { method: 'POST' })
      const res = await jar.request(app, '/run', { method: 'POST' })
      expect(res.status).toBe(500)
      expect(res.headers.getSetCookie()).toEqual([])
      const err = errors[0] as SessionError
      expect(err).toBeInstanceOf(SessionError)
      expect(err.code).toBe('ERR_SESSION_RESERVED_KEY')
      expect(err.message).toContain(`"${key}"`)
      expect(await (await jar.request(app, '/data')).json()).toEqual({ userId: 'u1' })
    })
  }

  it('the methods still work after a rejected assignment', async () => {
    const app = new Hono()
    app.use(session({ secret: SECRET }))
    app.get('/', (c) => {
      try {
        ;(c.session as any).flash = 1
      } catch {}
      c.session.flash('notice', 'still works')
      return c.text(typeof c.session.flash)
    })
    app.get('/read', (c) => c.text(String(c.session.notice)))
    const jar = new Jar()
    expect(await (await jar.request(app, '/')).text()).toBe('function')
    expect(await (await jar.request(app, '/read')).text()).toBe('still works')
  })
})
