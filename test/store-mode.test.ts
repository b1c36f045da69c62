import type { Context } from 'hono'
import { Hono } from 'hono'
import { describe, expect, it, vi } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { SessionStoreError } from '../src/core/errors.ts'
import type {
  InvalidReason,
  SessionOptions,
  SessionRecord,
  SessionStore,
} from '../src/core/types.ts'
import { muteConsole } from './quiet-console.ts'
import { Jar, OLD_SECRET, SECRET, setCookies, testClock } from './support.ts'

const COOKIE_SHAPE = /^([A-Za-z0-9_-]{32})\.([A-Za-z0-9_-]{43})$/

function createApp(options: SessionOptions) {
  const onInvalid = vi.fn<(reason: InvalidReason, ctx: unknown) => void>()
  const app = new Hono()
    .use(session({ secret: SECRET, ...options, onInvalid }))
    .get('/login', (c) => {
      c.session.userId = 'u1'
      c.session.cart = { items: ['a'] }
      return c.text(c.session.id)
    })
    .get('/me', (c) => c.json({ isNew: c.session.isNew, id: c.session.id, ...c.session.toJSON() }))
    .get('/peek', (c) => c.text(c.session.userId ?? 'anon'))
    .get('/add', (c) => {
      c.session.cart.items.push('b')
      return c.text('ok')
    })
    .get('/add-then-throw', (c) => {
      c.session.cart.items.push('boom')
      c.session.userId = 'changed'
      throw new Error('handler failed')
    })
    .get('/regenerate', async (c) => {
      await c.session.regenerate()
      c.session.loggedInAt = 1
      return c.text(c.session.id)
    })
    .get('/destroy', (c) => {
      c.session.destroy()
      return c.text('bye')
    })
    .get('/logout', (c) => {
      c.session = null
      return c.text('bye')
    })
  app.onError((err, c) => c.text(`${(err as { code?: string }).code ?? 'none'}`, 500))
  return { app, onInvalid }
}

/** A Map wrapped so each call is counted. */
function spiedMap() {
  const map = new Map<string, unknown>()
  const store = {
    get: vi.fn((id: string, _ctx: unknown) => map.get(id)),
    set: vi.fn((id: string, rec: unknown, _ctx: unknown) => {
      map.set(id, rec)
    }),
    delete: vi.fn((id: string, _ctx: unknown) => {
      map.delete(id)
    }),
  }
  return { map, store }
}

describe('store mode with a Map', () => {
  it('the cookie is <32-char id>.<43-char signature> and the Map holds the record', async () => {
    const clock = testClock()
    const map = new Map<string, SessionRecord>()
    const { app } = createApp({ store: map, now: clock.now, maxAge: 600 })
    const jar = new Jar()
    const res = await jar.request(app, '/login')
    const [cookie] = setCookies(res)
    const match = COOKIE_SHAPE.exec(cookie!.value)
    expect(match).not.toBeNull()
    const id = match![1]!
    expect(await res.text()).toBe(id)
    expect([...map.keys()]).toEqual([id])
    expect(map.get(id)).toEqual({
      data: { userId: 'u1', cart: { items: ['a'] } },
      createdAt: clock.now(),
      expiresAt: clock.now() + 600_000,
    })
  })

  it('two sessions get different ids', async () => {
    const map = new Map()
    const { app } = createApp({ store: map })
    const a = await (await new Jar().request(app, '/login')).text()
    const b = await (await new Jar().request(app, '/login')).text()
    expect(a).not.toBe(b)
    expect(map.size).toBe(2)
  })

  it('reads the session back; an unchanged read calls neither set nor Set-Cookie', async () => {
    const { map, store } = spiedMap()
    const { app } = createApp({ store })
    const jar = new Jar()
    const id = await (await jar.request(app, '/login')).text()
    expect(store.set).toHaveBeenCalledTimes(1)

    const res = await jar.request(app, '/me')
    expect(await res.json()).toEqual({
      isNew: false,
      id,
      userId: 'u1',
      cart: { items: ['a'] },
    })
    expect(res.headers.getSetCookie()).toEqual([])
    expect(store.get).toHaveBeenCalledWith(id, expect.anything())
    expect(store.set).toHaveBeenCalledTimes(1)
    expect(store.delete).not.toHaveBeenCalled()
    expect(map.size).toBe(1)
  })

  it('a nested change is written to the store under the same id; the cookie is not set again and still opens it', async () => {
    const { map, store } = spiedMap()
    const { app } = createApp({ store })
    const jar = new Jar()
    const id = await (await jar.request(app, '/login')).text()
    const cookie = jar.cookies.get('sid')
    const res = await jar.request(app, '/add')
    // The same id, to the deadline the cookie was set to: the client holds that cookie already.
    expect(res.headers.getSetCookie()).toEqual([])
    expect(store.set).toHaveBeenCalledTimes(2)
    expect([...map.keys()]).toEqual([id])
    expect((map.get(id) as SessionRecord).data).toEqual({
      userId: 'u1',
      cart: { items: ['a', 'b'] },
    })
    expect(await (await jar.request(app, '/me')).json()).toMatchObject({
      cart: { items: ['a', 'b'] },
    })
    expect(jar.cookies.get('sid')).toBe(cookie)
  })

  it('regenerate() leaves exactly one entry, under a new id; the old cookie no longer works', async () => {
    const { map, store } = spiedMap()
    const { app } = createApp({ store })
    const jar = new Jar()
    const oldId = await (await jar.request(app, '/login')).text()
    const oldCookie = jar.cookies.get('sid')!
    const newId = await (await jar.request(app, '/regenerate')).text()
    expect(newId).not.toBe(oldId)
    expect([...map.keys()]).toEqual([newId])
    expect(store.delete).toHaveBeenCalledWith(oldId, expect.anything())
    expect((map.get(newId) as SessionRecord).data).toEqual({
      userId: 'u1',
      cart: { items: ['a'] },
      loggedInAt: 1,
    })
    expect(jar.cookies.get('sid')!.startsWith(`${newId}.`)).toBe(true)

    const old = new Jar()
    old.cookies.set('sid', oldCookie)
    expect(await (await old.request(app, '/peek')).text()).toBe('anon')
  })

  for (const route of ['/destroy', '/logout']) {
    it(`${route} deletes the entry and clears the cookie`, async () => {
      const { map, store } = spiedMap()
      const { app } = createApp({ store })
      const jar = new Jar()
      const id = await (await jar.request(app, '/login')).text()
      const res = await jar.request(app, route)
      expect(map.size).toBe(0)
      expect(store.delete).toHaveBeenCalledWith(id, expect.anything())
      const [cleared] = setCookies(res)
      expect(cleared).toMatchObject({ name: 'sid', value: '' })
      expect(cleared!.attributes['max-age']).toBe('0')
      expect(jar.cookies.has('sid')).toBe(false)
    })
  }

  it('a forged id (right shape, wrong signature) never reaches store.get', async () => {
    const { store } = spiedMap()
    const { app, onInvalid } = createApp({ store })
    const jar = new Jar()
    const id = await (await jar.request(app, '/login')).text()
    store.get.mockClear()
    const sig = jar.cookies.get('sid')!.split('.')[1]!
    const forgedSig = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1)
    const forgedId = (id[0] === 'A' ? 'B' : 'A') + id.slice(1)
    const signedByOther = await (async () => {
      const other = new Jar()
      await other.request(createApp({ store: new Map(), secret: OLD_SECRET }).app, '/login')
      return other.cookies.get('sid')!
    })()
    for (const value of [`${id}.${forgedSig}`, `${forgedId}.${sig}`, signedByOther]) {
      expect(value).toMatch(COOKIE_SHAPE)
      const res = await app.request('http://localhost/peek', {
        headers: { cookie: `sid=${value}` },
      })
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('anon')
    }
    for (const value of ['garbage', `${id}`, `${id}.`, `${id}.${sig}x`, `${id}x.${sig}`]) {
      const res = await app.request('http://localhost/peek', {
        headers: { cookie: `sid=${value}` },
      })
      expect(await res.text()).toBe('anon')
    }
    expect(store.get).not.toHaveBeenCalled()
    expect(onInvalid.mock.calls.map((c) => c[0])).toEqual(Array(8).fill('tampered'))
  })

  it('a correctly signed id the store does not know is not adopted', async () => {
    const { map, store } = spiedMap()
    const { app, onInvalid } = createApp({ store })
    const jar = new Jar()
    const id = await (await jar.request(app, '/login')).text()
    map.clear()

    const me = await jar.request(app, '/me')
    const body = (await me.json()) as { isNew: boolean; id: string }
    expect(body.isNew).toBe(true)
    expect(body.id).not.toBe(id)
    expect(onInvalid).toHaveBeenCalledTimes(1)
    expect(onInvalid.mock.calls[0]![0]).toBe('not-found')

    // The next write makes a new id: the client's id is never reused.
    const again = await (await jar.request(app, '/login')).text()
    expect(again).not.toBe(id)
    expect([...map.keys()]).toEqual([again])
    expect(jar.cookies.get('sid')!.startsWith(`${again}.`)).toBe(true)
    expect(store.set.mock.calls.map((c) => c[0])).toEqual([id, again])
  })

  it('an entry past its deadline is deleted from the Map when read', async () => {
    const clock = testClock()
    const map = new Map()
    const { app, onInvalid } = createApp({ store: map, now: clock.now, maxAge: 60 })
    const jar = new Jar()
    await jar.request(app, '/login')
    expect(map.size).toBe(1)
    clock.advance(59)
    expect(await (await jar.request(app, '/peek')).text()).toBe('u1')
    clock.advance(1)
    expect(await (await jar.request(app, '/peek')).text()).toBe('anon')
    expect(map.size).toBe(0)
    expect(onInvalid.mock.calls.map((c) => c[0])).toEqual(['expired'])
  })

  it('an entry whose record is not a session record is invalid-data, not a crash', async () => {
    const map = new Map<string, unknown>()
    const { app, onInvalid } = createApp({ store: map as SessionStore })
    const jar = new Jar()
    const id = await (await jar.request(app, '/login')).text()
    // The refused cookie is cleared on each response, so replay the same one every time.
    const cookie = jar.header()
    const muted = muteConsole()
    try {
      for (const junk of [
        'a string',
        42,
        { data: 'x', createdAt: 1, expiresAt: 2 },
        { data: {} },
      ]) {
        map.set(id, junk)
        const res = await app.request('http://localhost/peek', { headers: { cookie } })
        expect(res.status).toBe(200)
        expect(await res.text()).toBe('anon')
        expect(res.headers.getSetCookie()).toEqual([
          'sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax',
        ])
      }
      // The developer is told once (test/store-wrong-shape.test.ts has the details).
      expect(muted.calls().warn).toBe(1)
    } finally {
      muted.restore()
    }
    expect(onInvalid.mock.calls.map((c) => c[0])).toEqual(Array(4).fill('invalid-data'))
  })

  it('a handler that mutates and then throws leaves the stored record unchanged', async () => {
    const map = new Map<string, SessionRecord>()
    const { app } = createApp({ store: map })
    const jar = new Jar()
    const id = await (await jar.request(app, '/login')).text()
    const before = structuredClone(map.get(id))
    const res = await jar.request(app, '/add-then-throw')
    expect(res.status).toBe(500)
    expect(res.headers.getSetCookie()).toEqual([])
    expect(map.get(id)).toEqual(before)
    expect(await (await jar.request(app, '/me')).json()).toMatchObject({
      userId: 'u1',
      cart: { items: ['a'] },
    })
  })
})

describe('store mode: a write sets the cookie only when the client must hold another', () => {
  // The cookie is the signed id; a write under that id, to the deadline the cookie was set to,
  // would send the client the cookie it holds.
  const appWith = (options: SessionOptions) => {
    const { app } = createApp(options)
    app.get('/renew', (c) => {
      c.session.renew()
      return c.text('ok')
    })
    return app
  }
  const login = async (options: SessionOptions) => {
    const app = appWith(options)
    const jar = new Jar()
    await jar.request(app, '/login')
    return { app, jar, cookie: jar.cookies.get('sid')! }
  }

  it('a due rolling refresh moves the deadline: the cookie is set again with it', async () => {
    const clock = testClock()
    const { app, jar, cookie } = await login({
      store: new Map(),
      now: clock.now,
      maxAge: 100,
      rolling: true,
    })
    clock.advance(10)
    // Not due yet (less than half the window gone): nothing to send.
    expect((await jar.request(app, '/add')).headers.getSetCookie()).toEqual([])
    clock.advance(50)
    const [set] = setCookies(await jar.request(app, '/add'))
    expect(set?.value).toBe(cookie)
    expect(set?.attributes['max-age']).toBe('100')
  })

  it('with an idle timeout every write moves the idle deadline, so every write sets the cookie', async () => {
    const clock = testClock()
    const { app, jar } = await login({ store: new Map(), now: clock.now, idleTimeout: 60 })
    clock.advance(5)
    const [set] = setCookies(await jar.request(app, '/add'))
    expect(set?.attributes['max-age']).toBe('60')
  })

  it('renew() and regenerate() set the cookie', async () => {
    const clock = testClock()
    const { app, jar, cookie } = await login({ store: new Map(), now: clock.now, maxAge: 100 })
    clock.advance(30)
    const [renewed] = setCookies(await jar.request(app, '/renew'))
    expect(renewed?.value).toBe(cookie)
    expect(renewed?.attributes['max-age']).toBe('100')
    const [regenerated] = setCookies(await jar.request(app, '/regenerate'))
    expect(regenerated?.value).not.toBe(cookie)
  })

  it('an id signed with an older key is set again, signed with the newest', async () => {
    const map = new Map()
    const old = await login({ store: map, secret: OLD_SECRET })
    const app = appWith({ store: map, secret: [SECRET, OLD_SECRET] })
    const [set] = setCookies(await old.jar.request(app, '/add'))
    expect(set?.value).not.toBe(old.cookie)
    expect(set?.value.split('.')[0]).toBe(old.cookie.split('.')[0])
  })

  it('a bearer token is still answered in its header on every write', async () => {
    const app = appWith({ store: new Map(), transport: 'header' })
    const token = (await app.request('/login')).headers.get('session-token')
    expect(token).toBeTruthy()
    const res = await app.request('/add', { headers: { authorization: `Bearer ${token}` } })
    expect(res.headers.get('session-token')).toBe(token)
  })
})

describe('a db-object store', () => {
  it('gets the Hono context in get, set and delete (async methods)', async () => {
    const rows = new Map<string, { record: SessionRecord; agent: string | undefined }>()
    const seen: string[] = []
    const store: SessionStore<Context> = {
      async get(id, c) {
        seen.push(`get ${c.req.path}`)
        return rows.get(id)?.record
      },
      async set(id, record, c) {
        await Promise.resolve()
        seen.push(`set ${c.req.path}`)
        rows.set(id, { record, agent: c.req.header('user-agent') })
      },
      async delete(id, c) {
        seen.push(`delete ${c.req.path}`)
        rows.delete(id)
      },
    }
    const { app } = createApp({ store })
    const jar = new Jar()
    const id = await (
      await jar.request(app, '/login', { headers: { 'user-agent': 'TestAgent/1.0' } })
    ).text()
    expect(rows.get(id)?.agent).toBe('TestAgent/1.0')
    expect(rows.get(id)?.record.data).toEqual({ userId: 'u1', cart: { items: ['a'] } })
    expect(await (await jar.request(app, '/peek')).text()).toBe('u1')
    await jar.request(app, '/logout')
    expect(rows.size).toBe(0)
    expect(seen).toEqual(['set /login', 'get /peek', 'get /logout', 'delete /logout'])
  })
})

describe('a failing store', () => {
  function failing(op: 'get' | 'set' | 'delete', sync: boolean) {
    const map = new Map<string, unknown>()
    const cause = new Error(`${op} is down`)
    let broken = false
    // Either a rejected promise or a synchronous throw.
    const fail = (name: string): unknown => {
      if (!broken || name !== op) return undefined
      if (sync) throw cause
      return Promise.reject(cause)
    }
    const store: SessionStore = {
      get: (id) => fail('get') ?? map.get(id),
      set: (id, rec) => fail('set') ?? map.set(id, rec),
      delete: (id) => fail('delete') ?? map.delete(id),
    }
    const errors: unknown[] = []
    const app = new Hono()
      .use(session({ secret: SECRET, store }))
      .get('/login', (c) => {
        c.session.userId = 'u1'
        c.session.visits = (c.session.visits ?? 0) + 1
        return c.text('ok')
      })
      .get('/peek', (c) => c.text(c.session.userId ?? 'anon'))
      .get('/logout', (c) => {
        c.session = null
        return c.text('bye')
      })
    app.onError((err, c) => {
      errors.push(err)
      return c.text('store down', 500)
    })
    return { app, cause, errors, break: () => (broken = true), fix: () => (broken = false) }
  }

  const routes = { get: '/peek', set: '/login', delete: '/logout' } as const

  for (const [op, sync] of [
    ['get', false],
    ['set', false],
    ['delete', false],
    ['get', true],
    ['set', true],
    ['delete', true],
  ] as const) {
    const how = sync ? 'throwing' : 'rejecting'
    it(`a ${how} ${op} gives a 500 with SessionStoreError, and the app keeps serving`, async () => {
      const t = failing(op, sync)
      const jar = new Jar()
      await jar.request(t.app, '/login')
      t.break()
      const res = await jar.request(t.app, routes[op])
      expect(res.status).toBe(500)
      expect(await res.text()).toBe('store down')
      expect(res.headers.getSetCookie()).toEqual([])
      expect(t.errors).toHaveLength(1)
      const err = t.errors[0] as SessionStoreError
      expect(err).toBeInstanceOf(SessionStoreError)
      expect(err.code).toBe('ERR_SESSION_STORE')
      expect(err.operation).toBe(op)
      expect(err.cause).toBe(t.cause)
      expect(err.message).toContain(`${op} is down`)

      t.fix()
      expect((await jar.request(t.app, '/peek')).status).toBe(200)
    })
  }
})

describe('write metadata the engine gives a store', () => {
  it('set() and patch() get { now, userId, userAgent } after the context, from the request and the clock', async () => {
    const clock = testClock()
    const seen: Array<{ op: string; now: number; userId?: string; userAgent?: string }> = []
    const map = new Map<string, unknown>()
    const store: SessionStore = {
      get: (id) => map.get(id),
      set: (id, record, _ctx, meta) => {
        seen.push({ op: 'set', now: meta!.now, userId: meta!.userId, userAgent: meta!.userAgent })
        map.set(id, record)
      },
      patch: (id, record, _patch, _ctx, meta) => {
        seen.push({ op: 'patch', now: meta!.now, userId: meta!.userId, userAgent: meta!.userAgent })
        map.set(id, record)
      },
      delete: (id) => void map.delete(id),
    }
    const app = new Hono()
      .use(session({ secret: SECRET, store, now: clock.now }))
      .get('/login', (c) => {
        c.session.userId = 42
        return c.text('ok')
      })
      .get('/touch', (c) => {
        c.session.n = 1
        return c.text('ok')
      })
    const jar = new Jar()
    await jar.request(app, '/login', { headers: { 'user-agent': 'UA/1' } })
    const loginAt = clock.now()
    clock.advance(5)
    await jar.request(app, '/touch')
    expect(clock.now()).toBeGreaterThan(loginAt)
    expect(seen).toEqual([
      { op: 'set', now: loginAt, userId: '42', userAgent: 'UA/1' },
      { op: 'patch', now: clock.now(), userId: '42', userAgent: undefined },
    ])
  })
})
