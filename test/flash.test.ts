// Flash values: apart from the data, readable on the next request that touches the session,
// several per key, kept longer only by reflash() or a plain write.
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { SessionDataError } from '../src/core/errors.ts'
import { Jar, SECRET, setCookies, testClock } from './support.ts'

function createApp(options: Parameters<typeof session>[0] = { secret: SECRET }) {
  const app = new Hono()
  app.use(session(options))
  app.post('/flash', (c) => {
    c.session.flash('notice', 'hi')
    return c.body(null, 204)
  })
  app.post('/flash-many', (c) => {
    c.session.flash('notice', 'hi')
    c.session.flash('error', { field: 'name', message: 'required' })
    return c.body(null, 204)
  })
  app.get('/', (c) =>
    c.json({
      data: c.session.toJSON(),
      flash: c.session.flash(),
      notice: c.session.notice ?? null,
      hasChanged: c.session.hasChanged,
    }),
  )
  app.get('/reflash', (c) => {
    c.session.reflash()
    return c.json({ flash: c.session.flash(), hasChanged: c.session.hasChanged })
  })
  app.post('/keep', (c) => {
    const notice = c.session.notice
    c.session.notice = notice
    return c.json({ data: c.session.toJSON() })
  })
  app.post('/login', (c) => {
    c.session.userId = 'u1'
    c.session.flash('notice', 'Welcome back')
    return c.redirect('/home', 303)
  })
  app.get('/home', (c) => c.text(`${c.session.notice ?? '-'} ${c.session.userId ?? 'anon'}`))
  // Routes that never touch the session, as an asset or a 404 would not.
  app.get('/favicon.ico', (c) => c.body(null, 204))
  return app
}

interface Seen {
  data: Record<string, unknown>
  flash: Record<string, unknown[]>
  notice: unknown
  hasChanged: boolean
}

const read = async (app: Hono, jar: Jar) => {
  const res = await jar.request(app, '/')
  return { res, ...((await res.json()) as Seen) }
}

describe('flash', () => {
  it('is readable on exactly the next request, then gone', async () => {
    const app = createApp()
    const jar = new Jar()
    const set = await jar.request(app, '/flash', { method: 'POST' })
    expect(setCookies(set)).toHaveLength(1)

    const next = await read(app, jar)
    expect(next.notice).toBe('hi')
    expect(next.flash).toEqual({ notice: ['hi'] })
    // Flash values are not data.
    expect(next.data).toEqual({})
    // Consuming the flash changes the session: the response rewrites the cookie without it.
    expect(next.hasChanged).toBe(true)
    expect(setCookies(next.res)).toHaveLength(1)
    expect(setCookies(next.res)[0]?.value).toMatch(/^Fe26\.2\*/)

    const after = await read(app, jar)
    expect(after).toMatchObject({ data: {}, flash: {}, notice: null, hasChanged: false })
    expect(after.res.headers.getSetCookie()).toEqual([])
  })

  it('the consuming response is what removes it: replaying the old cookie shows it again', async () => {
    const app = createApp()
    const jar = new Jar()
    await jar.request(app, '/flash', { method: 'POST' })
    const withFlash = jar.header()
    await read(app, jar)
    expect(jar.header()).not.toBe(withFlash)
    const replay = await app.request('http://localhost/', { headers: { cookie: withFlash } })
    const body = (await replay.json()) as Seen
    expect(body.flash).toEqual({ notice: ['hi'] })
    expect(body.notice).toBe('hi')
  })

  it('session[key] reads the value in the request that flashed it; the readers do not', async () => {
    const app = new Hono()
    app.use(session({ secret: SECRET }))
    app.get('/', (c) => {
      c.session.flash('notice', 'now')
      return c.json({ notice: c.session.notice, arrived: c.session.flash('notice') })
    })
    const res = await app.request('http://localhost/')
    expect(await res.json()).toEqual({ notice: 'now', arrived: [] })
  })

  it('handles several flash values and keeps ordinary keys', async () => {
    const app = createApp()
    const jar = new Jar()
    await jar.request(app, '/login', { method: 'POST' })
    await jar.request(app, '/home')
    await jar.request(app, '/flash-many', { method: 'POST' })
    const seen = await read(app, jar)
    expect(seen.data).toEqual({ userId: 'u1' })
    expect(seen.flash).toEqual({
      notice: ['hi'],
      error: [{ field: 'name', message: 'required' }],
    })
    const after = await read(app, jar)
    expect(after.data).toEqual({ userId: 'u1' })
    expect(after.flash).toEqual({})
  })

  it('flashing one key twice keeps both: session[key] is the last, the readers list all', async () => {
    const app = new Hono()
    app.use(session({ secret: SECRET }))
    app.post('/', (c) => {
      c.session.flash('notice', 'saved')
      c.session.flash('notice', { text: 'emailed', to: 'ada@example.com' })
      return c.body(null, 204)
    })
    app.get('/', (c) =>
      c.json({ notice: c.session.notice, one: c.session.flash('notice'), all: c.session.flash() }),
    )
    const jar = new Jar()
    await jar.request(app, '/', { method: 'POST' })
    const body = await (await jar.request(app, '/')).json()
    const both = ['saved', { text: 'emailed', to: 'ada@example.com' }]
    expect(body).toEqual({ notice: both[1], one: both, all: { notice: both } })
  })

  it('the readers answer [] and {} when nothing arrived', async () => {
    const app = new Hono()
    app.use(session({ secret: SECRET }))
    app.get('/', (c) => c.json({ one: c.session.flash('notice'), all: c.session.flash() }))
    const res = await app.request('http://localhost/')
    expect(await res.json()).toEqual({ one: [], all: {} })
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('lives apart from the data: toJSON, Object.keys, `in` and JSON.stringify see data only', async () => {
    const app = new Hono()
    app.use(session({ secret: SECRET }))
    app.post('/', (c) => {
      c.session.userId = 'u1'
      c.session.flash('notice', 'hi')
      return c.body(null, 204)
    })
    app.get('/', (c) =>
      c.json({
        json: c.session.toJSON(),
        keys: Object.keys(c.session),
        has: 'notice' in c.session,
        stringified: JSON.stringify(c.session),
        notice: c.session.notice,
      }),
    )
    const jar = new Jar()
    await jar.request(app, '/', { method: 'POST' })
    expect(await (await jar.request(app, '/')).json()).toEqual({
      json: { userId: 'u1' },
      keys: ['userId'],
      has: false,
      stringified: '{"userId":"u1"}',
      notice: 'hi',
    })
  })

  it('a data key of the same name wins over the flash value for session[key]', async () => {
    const app = new Hono()
    app.use(session({ secret: SECRET }))
    app.post('/flash', (c) => {
      c.session.flash('notice', 'flashed')
      return c.body(null, 204)
    })
    app.get('/', (c) => {
      const before = c.session.notice
      c.session.notice = 'data'
      return c.json({ before, after: c.session.notice, arrived: c.session.flash('notice') })
    })
    const jar = new Jar()
    await jar.request(app, '/flash', { method: 'POST' })
    expect(await (await jar.request(app, '/')).json()).toEqual({
      before: 'flashed',
      after: 'data',
      arrived: ['flashed'],
    })
  })

  it('reflash() keeps every flash value exactly one more request', async () => {
    const app = createApp()
    const jar = new Jar()
    await jar.request(app, '/flash-many', { method: 'POST' })

    const kept = await jar.request(app, '/reflash')
    const all = { notice: ['hi'], error: [{ field: 'name', message: 'required' }] }
    expect(((await kept.json()) as Seen).flash).toEqual(all)

    const once = await read(app, jar)
    expect(once.flash).toEqual(all)
    expect(setCookies(once.res)).toHaveLength(1)

    const gone = await read(app, jar)
    expect(gone.flash).toEqual({})
  })

  it('reflash() twice keeps them two more requests', async () => {
    const app = createApp()
    const jar = new Jar()
    await jar.request(app, '/flash', { method: 'POST' })
    await jar.request(app, '/reflash')
    const second = await jar.request(app, '/reflash')
    expect(((await second.json()) as Seen).flash).toEqual({ notice: ['hi'] })
    expect((await read(app, jar)).flash).toEqual({ notice: ['hi'] })
    expect((await read(app, jar)).flash).toEqual({})
  })

  it('reflash(...keys) keeps only those keys, after which new values of the same key follow', async () => {
    const app = new Hono()
    app.use(session({ secret: SECRET }))
    app.post('/flash', (c) => {
      c.session.flash('notice', 'n1')
      c.session.flash('error', 'e1')
      c.session.flash('info', 'i1')
      return c.body(null, 204)
    })
    app.post('/keep', (c) => {
      c.session.reflash('notice', 'info')
      c.session.flash('notice', 'n2')
      return c.json(c.session.flash())
    })
    app.get('/', (c) => c.json(c.session.flash()))
    const jar = new Jar()
    await jar.request(app, '/flash', { method: 'POST' })
    expect(await (await jar.request(app, '/keep', { method: 'POST' })).json()).toEqual({
      notice: ['n1'],
      error: ['e1'],
      info: ['i1'],
    })
    expect(await (await jar.request(app, '/')).json()).toEqual({
      notice: ['n1', 'n2'],
      info: ['i1'],
    })
    expect(await (await jar.request(app, '/')).json()).toEqual({})
  })

  it('reflash() with nothing flashed changes nothing', async () => {
    const app = createApp()
    const jar = new Jar()
    await jar.request(app, '/login', { method: 'POST' })
    await jar.request(app, '/home')
    const res = await jar.request(app, '/reflash')
    expect(((await res.json()) as Seen).hasChanged).toBe(false)
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('assigning a flashed key plainly makes it permanent', async () => {
    const app = createApp()
    const jar = new Jar()
    await jar.request(app, '/flash', { method: 'POST' })
    const keep = await jar.request(app, '/keep', { method: 'POST' })
    expect(((await keep.json()) as Seen).data).toEqual({ notice: 'hi' })
    expect((await read(app, jar)).data).toEqual({ notice: 'hi' })
    expect((await read(app, jar)).data).toEqual({ notice: 'hi' })
  })

  it('flashing an existing ordinary key turns it into a flash value', async () => {
    const app = createApp()
    app.post('/set', (c) => {
      c.session.notice = 'plain'
      return c.body(null, 204)
    })
    app.post('/flash-over', (c) => {
      c.session.flash('notice', 'flashed')
      return c.body(null, 204)
    })
    const jar = new Jar()
    await jar.request(app, '/set', { method: 'POST' })
    await jar.request(app, '/flash-over', { method: 'POST' })
    expect(await read(app, jar)).toMatchObject({
      data: {},
      flash: { notice: ['flashed'] },
      notice: 'flashed',
    })
    expect(await read(app, jar)).toMatchObject({ data: {}, flash: {}, notice: null })
  })

  it('survives a redirect: login flashes, the redirected page shows it once', async () => {
    const app = createApp()
    const jar = new Jar()
    const res = await jar.request(app, '/login', { method: 'POST' })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/home')
    expect(setCookies(res)).toHaveLength(1)

    expect(await (await jar.request(app, '/home')).text()).toBe('Welcome back u1')
    expect(await (await jar.request(app, '/home')).text()).toBe('- u1')
  })

  it('refuses a value JSON cannot hold where flash() is called', async () => {
    const app = new Hono()
    app.use(session({ secret: SECRET }))
    const errors: unknown[] = []
    app.post('/', (c) => {
      for (const value of [undefined, new Date(0), () => 1]) {
        try {
          c.session.flash('notice', value)
        } catch (err) {
          errors.push(err)
        }
      }
      return c.json(c.session.hasChanged)
    })
    const res = await app.request('http://localhost/', { method: 'POST' })
    expect(await res.json()).toBe(false)
    expect(res.headers.getSetCookie()).toEqual([])
    expect(errors).toHaveLength(3)
    for (const err of errors) {
      expect(err).toBeInstanceOf(SessionDataError)
      expect((err as SessionDataError).key).toBe('notice')
    }
  })
})

describe('flash is consumed by the next request that touches the session', () => {
  it('a request that never touches it (an asset, a 404) keeps it and writes nothing', async () => {
    const app = createApp()
    const jar = new Jar()
    await jar.request(app, '/flash', { method: 'POST' })
    const cookie = jar.header()
    for (const path of ['/favicon.ico', '/missing']) {
      const res = await jar.request(app, path)
      expect(res.headers.getSetCookie()).toEqual([])
    }
    expect(jar.header()).toBe(cookie)
    const seen = await read(app, jar)
    expect(seen.flash).toEqual({ notice: ['hi'] })
    expect((await read(app, jar)).flash).toEqual({})
  })

  for (const [what, touch] of [
    ['reads another key', (s: any) => s.userId],
    ['reads isNew', (s: any) => s.isNew],
    ['writes another key', (s: any) => (s.visits = 1)],
    ['calls renew()', (s: any) => s.renew()],
    ['asks `in`', (s: any) => 'userId' in s],
  ] as const) {
    it(`a request that only ${what} consumes it`, async () => {
      const app = createApp()
      app.get('/touch', (c) => {
        touch(c.session)
        return c.body(null, 204)
      })
      const jar = new Jar()
      await jar.request(app, '/flash', { method: 'POST' })
      const res = await jar.request(app, '/touch')
      expect(setCookies(res)).toHaveLength(1)
      expect((await read(app, jar)).flash).toEqual({})
    })
  }

  it('an untouched request that is due a rolling refresh rewrites the cookie and keeps the flash', async () => {
    const clock = testClock()
    const app = createApp({ secret: SECRET, idleTimeout: 100, now: clock.now })
    const jar = new Jar()
    await jar.request(app, '/flash', { method: 'POST' })
    const before = jar.header()
    clock.advance(60)
    const refreshed = await jar.request(app, '/favicon.ico')
    expect(setCookies(refreshed)).toHaveLength(1)
    expect(jar.header()).not.toBe(before)
    // Past the old idle deadline, inside the refreshed one.
    clock.advance(60)
    const seen = await read(app, jar)
    expect(seen.flash).toEqual({ notice: ['hi'] })
    expect((await read(app, jar)).flash).toEqual({})
  })

  it('store mode: an untouched request leaves the stored flash in place', async () => {
    const store = new Map<string, any>()
    const app = createApp({ secret: SECRET, store })
    const jar = new Jar()
    await jar.request(app, '/flash', { method: 'POST' })
    const [id] = store.keys()
    const stored = JSON.stringify(store.get(id!))
    expect(store.get(id!).flash).toEqual({ notice: ['hi'] })
    await jar.request(app, '/favicon.ico')
    expect(JSON.stringify(store.get(id!))).toBe(stored)
    expect((await read(app, jar)).flash).toEqual({ notice: ['hi'] })
    expect(store.get(id!).flash).toBeUndefined()
    expect((await read(app, jar)).flash).toEqual({})
  })
})
