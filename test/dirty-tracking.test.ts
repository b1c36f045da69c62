// What counts as a change: only real changes rewrite the cookie; reads and no-op writes do not.
import { type Context, Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { Jar, SECRET, setCookies } from './support.ts'

type Handler = (c: Context) => unknown

/**
 * An app whose `/seed` stores `seed` and whose `/run` runs `act`, then answers with the
 * session data and `hasChanged` as seen at the end of the handler.
 */
function createApp(seed: Record<string, unknown>, act: Handler) {
  const app = new Hono()
  app.use(session({ secret: SECRET }))
  app.post('/seed', (c) => {
    for (const [k, v] of Object.entries(seed)) c.session[k] = v
    return c.body(null, 204)
  })
  app.all('/run', (c) => {
    const result = act(c)
    return c.json({ result: result ?? null, hasChanged: c.session.hasChanged })
  })
  app.get('/data', (c) => c.json(c.session.toJSON()))
  return app
}

async function seeded(seed: Record<string, unknown>, act: Handler) {
  const app = createApp(seed, act)
  const jar = new Jar()
  const res = await jar.request(app, '/seed', { method: 'POST' })
  expect(setCookies(res)).toHaveLength(1)
  return { app, jar }
}

async function run(app: Hono, jar: Jar) {
  const before = jar.header()
  const res = await jar.request(app, '/run')
  const body = (await res.json()) as { result: unknown; hasChanged: boolean }
  return { res, body, cookieChanged: jar.header() !== before }
}

const data = async (app: Hono, jar: Jar) => (await jar.request(app, '/data')).json()

describe('dirty tracking', () => {
  it('sends no Set-Cookie on an unchanged read of an existing session', async () => {
    const { app, jar } = await seeded({ userId: 'u1', cart: { items: [1, 2] } }, (c) => [
      c.session.userId,
      c.session.cart.items.length,
      c.session.isNew,
      c.session.expiresAt.getTime() > 0,
    ])
    const { res, body } = await run(app, jar)
    expect(body).toEqual({ result: ['u1', 2, false, true], hasChanged: false })
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('sends no Set-Cookie when a new visitor only reads the session', async () => {
    const app = createApp({}, (c) => [c.session.userId ?? null, c.session.isNew])
    const res = await app.request('http://localhost/run')
    expect(await res.json()).toEqual({ result: [null, true], hasChanged: false })
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('a new visitor whose handler writes gets a cookie', async () => {
    const app = createApp({}, (c) => {
      c.session.visits = 1
    })
    const res = await app.request('http://localhost/run')
    expect(((await res.json()) as any).hasChanged).toBe(true)
    expect(setCookies(res).map((c) => c.name)).toEqual(['sid'])
  })

  it('setting a primitive to its current value is not a change', async () => {
    const { app, jar } = await seeded({ userId: 'u1', n: 3, ok: true }, (c) => {
      c.session.userId = 'u1'
      c.session.n = 3
      c.session.ok = true
    })
    const { res, body } = await run(app, jar)
    expect(body.hasChanged).toBe(false)
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('setting a key to a structurally equal object is not a change', async () => {
    const { app, jar } = await seeded({ prefs: { theme: 'dark', tags: ['a', 'b'] } }, (c) => {
      c.session.prefs = { theme: 'dark', tags: ['a', 'b'] }
    })
    const { res, body } = await run(app, jar)
    expect(body.hasChanged).toBe(false)
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('a real change sets hasChanged and is persisted', async () => {
    const { app, jar } = await seeded({ userId: 'u1' }, (c) => {
      const before = c.session.hasChanged
      c.session.userId = 'u2'
      return before
    })
    const { res, body, cookieChanged } = await run(app, jar)
    expect(body).toEqual({ result: false, hasChanged: true })
    expect(setCookies(res)).toHaveLength(1)
    expect(cookieChanged).toBe(true)
    expect(await data(app, jar)).toEqual({ userId: 'u2' })
  })

  it('changing a nested object and changing it back in one request is no change', async () => {
    const { app, jar } = await seeded({ prefs: { theme: 'dark' } }, (c) => {
      c.session.prefs.theme = 'light'
      c.session.prefs.theme = 'dark'
    })
    const { res, body } = await run(app, jar)
    expect(body.hasChanged).toBe(false)
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('nested mutation (cart.items.push) is tracked and persisted', async () => {
    const { app, jar } = await seeded({ cart: { items: [{ sku: 'a' }] } }, (c) => {
      const before = c.session.hasChanged
      c.session.cart.items.push({ sku: 'b' })
      return before
    })
    const { res, body } = await run(app, jar)
    expect(body).toEqual({ result: false, hasChanged: true })
    expect(setCookies(res)).toHaveLength(1)
    expect(await data(app, jar)).toEqual({ cart: { items: [{ sku: 'a' }, { sku: 'b' }] } })

    // Every later request sees the item, and another push grows it again.
    await run(app, jar)
    expect(await data(app, jar)).toEqual({
      cart: { items: [{ sku: 'a' }, { sku: 'b' }, { sku: 'b' }] },
    })
  })

  it('deep nested writes and deletes are tracked', async () => {
    const { app, jar } = await seeded({ a: { b: { c: 1, d: 2 } } }, (c) => {
      c.session.a.b.c = 10
      delete c.session.a.b.d
    })
    const { body } = await run(app, jar)
    expect(body.hasChanged).toBe(true)
    expect(await data(app, jar)).toEqual({ a: { b: { c: 10 } } })
  })

  it('push then pop in the same request is no change', async () => {
    const { app, jar } = await seeded({ cart: { items: ['x'] } }, (c) => {
      c.session.cart.items.push('y')
      c.session.cart.items.pop()
    })
    const { res, body } = await run(app, jar)
    expect(body.hasChanged).toBe(false)
    expect(res.headers.getSetCookie()).toEqual([])
    expect(await data(app, jar)).toEqual({ cart: { items: ['x'] } })
  })

  it('a nested object assigned to a new key keeps being tracked', async () => {
    const { app, jar } = await seeded({ a: 1 }, (c) => {
      const list: string[] = []
      c.session.list = list
      c.session.list.push('one')
    })
    await run(app, jar)
    expect(await data(app, jar)).toEqual({ a: 1, list: ['one'] })
  })

  it('deleting a key persists', async () => {
    const { app, jar } = await seeded({ userId: 'u1', keep: 'me' }, (c) => {
      delete c.session.userId
    })
    const { res, body } = await run(app, jar)
    expect(body.hasChanged).toBe(true)
    expect(setCookies(res)).toHaveLength(1)
    expect(await data(app, jar)).toEqual({ keep: 'me' })
  })

  it('deleting a key that is not there is no change', async () => {
    const { app, jar } = await seeded({ keep: 'me' }, (c) => {
      delete c.session.missing
    })
    const { res, body } = await run(app, jar)
    expect(body.hasChanged).toBe(false)
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('setting then deleting a new key in one request is no change', async () => {
    const { app, jar } = await seeded({ keep: 'me' }, (c) => {
      c.session.temp = 1
      delete c.session.temp
    })
    const { res, body } = await run(app, jar)
    expect(body.hasChanged).toBe(false)
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('isNew is true on the first visit and false once the session was saved', async () => {
    const app = createApp({}, (c) => {
      const isNew = c.session.isNew
      c.session.visits = (c.session.visits ?? 0) + 1
      return isNew
    })
    const jar = new Jar()
    expect((await run(app, jar)).body.result).toBe(true)
    expect((await run(app, jar)).body.result).toBe(false)
    expect((await run(app, jar)).body.result).toBe(false)
    expect(await data(app, jar)).toEqual({ visits: 3 })
  })

  it('a new visitor whose session was only read stays new on the next request', async () => {
    const app = createApp({}, (c) => c.session.isNew)
    const jar = new Jar()
    expect((await run(app, jar)).body.result).toBe(true)
    expect((await run(app, jar)).body.result).toBe(true)
  })
})

describe('data keys that Object.prototype also names are plain data', () => {
  it("'toString', 'constructor' and 'hasOwnProperty' are absent until set, then ordinary keys", async () => {
    const names = ['toString', 'constructor', 'hasOwnProperty', 'valueOf']
    const { app, jar } = await seeded({ userId: 'u1' }, (c) =>
      names.map((k) => [k in c.session, c.session[k] ?? null]),
    )
    const { body } = await run(app, jar)
    expect(body.result).toEqual(names.map(() => [false, null]))
    const set = createApp({}, (c) => {
      for (const k of names) c.session[k] = `v-${k}`
      return names.map((k) => c.session[k])
    })
    const jar2 = new Jar()
    expect((await run(set, jar2)).body.result).toEqual(names.map((k) => `v-${k}`))
    expect(await data(set, jar2)).toEqual(Object.fromEntries(names.map((k) => [k, `v-${k}`])))
  })

  it("assigning '__proto__' stores a data key and changes no prototype", async () => {
    // As a key read from a request body would arrive: a string, not the literal accessor.
    const key = '__proto__'
    const app = createApp({}, (c) => {
      c.session[key] = { admin: true }
      return { admin: c.session.admin ?? null, proto: c.session[key] }
    })
    const jar = new Jar()
    const { body } = await run(app, jar)
    expect(body.result).toEqual({ admin: null, proto: { admin: true } })
    const stored = (await data(app, jar)) as Record<string, unknown>
    expect(Object.keys(stored)).toEqual(['__proto__'])
    expect(stored.admin).toBeUndefined()
  })
})
