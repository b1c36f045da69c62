// Values read from a session are plain data: structuredClone and JSON work, a read answers the
// same object every time, and nested changes are still found (by comparing JSON at commit).
// Values JSON cannot hold are refused at the assignment. Runs under vitest and `bun test`.
import { type Context, Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { sessionEngine } from '../src/core/engine.ts'
import { SessionDataError } from '../src/core/errors.ts'
import type { SessionOptions } from '../src/core/types.ts'
import { Jar, requestOf, SECRET, setCookies, testClock } from './support.ts'

type Handler = (c: Context) => unknown

const CART = { items: [{ sku: 'a', qty: 1 }], coupon: null, meta: { tags: ['x'] } }

/** An app whose `/seed` stores a cart and whose `/run` runs `act` and answers its result. */
function createApp(act: Handler, options: SessionOptions = { secret: SECRET }) {
  const app = new Hono()
  app.use(session(options))
  app.post('/seed', (c) => {
    c.session.cart = structuredClone(CART)
    c.session.userId = 'u1'
    return c.body(null, 204)
  })
  app.post('/run', (c) => c.json({ result: act(c) ?? null, hasChanged: c.session.hasChanged }))
  app.get('/data', (c) => c.json(c.session.toJSON()))
  return app
}

const modes: [string, () => SessionOptions][] = [
  ['sealed', () => ({ secret: SECRET })],
  ['store', () => ({ secret: SECRET, store: new Map() })],
]

for (const [mode, options] of modes) {
  describe(`plain values (${mode} mode)`, () => {
    async function seeded(act: Handler) {
      const app = createApp(act, options())
      const jar = new Jar()
      await jar.request(app, '/seed', { method: 'POST' })
      return { app, jar }
    }
    const run = async (app: Hono, jar: Jar) => {
      const res = await jar.request(app, '/run', { method: 'POST' })
      return { res, body: (await res.json()) as { result: any; hasChanged: boolean } }
    }

    it('structuredClone and JSON.stringify work on a value read from the session', async () => {
      const { app, jar } = await seeded((c) => {
        const cart = c.session.cart
        const clone = structuredClone(cart)
        return {
          clone,
          json: JSON.parse(JSON.stringify(cart)),
          plain: Object.getPrototypeOf(cart) === Object.prototype,
          array: Array.isArray(cart.items) && Object.getPrototypeOf(cart.items) === Array.prototype,
          nested: structuredClone(cart.items[0]),
        }
      })
      // Twice: the second request opens a cookie the result cache holds (sealed mode).
      for (let i = 0; i < 2; i++) {
        const { res, body } = await run(app, jar)
        expect(body.result).toEqual({
          clone: CART,
          json: CART,
          plain: true,
          array: true,
          nested: CART.items[0],
        })
        expect(body.hasChanged).toBe(false)
        expect(res.headers.getSetCookie()).toEqual([])
      }
    })

    it('a read answers the same object every time in one request', async () => {
      const { app, jar } = await seeded((c) => {
        const [cart, items, first] = [c.session.cart, c.session.cart.items, c.session.cart.items[0]]
        return [
          cart === c.session.cart,
          items === c.session.cart.items,
          first === c.session.cart.items[0],
          Object.getOwnPropertyDescriptor(c.session, 'cart')?.value === cart,
        ]
      })
      for (let i = 0; i < 2; i++) {
        expect((await run(app, jar)).body.result).toEqual([true, true, true, true])
      }
    })

    it('nested mutation of a value read earlier is found and saved', async () => {
      const { app, jar } = await seeded((c) => {
        const cart = c.session.cart
        const before = c.session.hasChanged
        cart.items.push({ sku: 'b', qty: 2 })
        cart.meta.tags.sort().push('y')
        return before
      })
      const { res, body } = await run(app, jar)
      expect(body).toEqual({ result: false, hasChanged: true })
      // Sealed, a new seal; a store keeps the id (and its deadline): no cookie to set again.
      expect(setCookies(res)).toHaveLength(mode === 'sealed' ? 1 : 0)
      const data = (await (await jar.request(app, '/data')).json()) as any
      expect(data.cart.items).toEqual([...CART.items, { sku: 'b', qty: 2 }])
      expect(data.cart.meta.tags).toEqual(['x', 'y'])
    })

    it('hasChanged is true after a change made after an earlier hasChanged read, false after undoing it', async () => {
      const { app, jar } = await seeded((c) => {
        const items = c.session.cart.items
        const seen = [c.session.hasChanged]
        items[0].qty = 5
        seen.push(c.session.hasChanged)
        items[0].qty = 1
        seen.push(c.session.hasChanged)
        return seen
      })
      const { res, body } = await run(app, jar)
      expect(body.result).toEqual([false, true, false])
      expect(res.headers.getSetCookie()).toEqual([])
    })

    it('an object assigned from outside keeps being compared: a later change is saved', async () => {
      const { app, jar } = await seeded((c) => {
        const list: string[] = []
        c.session.list = list
        list.push('one')
        return c.session.list === list
      })
      expect((await run(app, jar)).body.result).toBe(true)
      expect(((await (await jar.request(app, '/data')).json()) as any).list).toEqual(['one'])
    })

    it('a function put into an object read earlier is reported at commit (JSON would drop it)', async () => {
      const errors: unknown[] = []
      const { app, jar } = await seeded((c) => {
        c.session.cart.meta.cb = () => 1
      })
      app.onError((err, c) => {
        errors.push(err)
        return c.text('error', 500)
      })
      const res = await jar.request(app, '/run', { method: 'POST' })
      expect(res.status).toBe(500)
      expect((errors[0] as SessionDataError).key).toBe('cart.meta.cb')
    })
  })
}

describe('values JSON cannot hold are refused at the assignment', () => {
  class Point {
    x = 1
  }
  const cases: [string, unknown, string][] = [
    ['a Date', new Date(0), 'when'],
    ['a Map', new Map(), 'when'],
    ['a Set', new Set([1]), 'when'],
    ['a function', () => 1, 'when'],
    ['a BigInt', 10n, 'when'],
    ['NaN', Number.NaN, 'when'],
    ['a class instance', new Point(), 'when'],
    ['undefined in an array', [1, undefined], 'when.1'],
    ['a Date inside a new object', { at: new Date(0) }, 'when.at'],
  ]
  for (const [what, value, key] of cases) {
    it(`${what}: the assignment throws SessionDataError("${key}") and nothing is stored`, async () => {
      const engine = sessionEngine({ secret: SECRET })
      const handle = await engine.load(requestOf(), undefined)
      const s = handle.session as Record<string, unknown>
      let thrown: unknown
      try {
        s.when = value
      } catch (err) {
        thrown = err
      }
      expect(thrown).toBeInstanceOf(SessionDataError)
      expect((thrown as SessionDataError).key).toBe(key)
      // The stack points at the assignment, in this file.
      expect((thrown as Error).stack).toContain('plain-values.test.ts')
      expect('when' in s).toBe(false)
      expect(() => Object.assign(s, { when: value })).toThrow(SessionDataError)
      expect(() => handle.replace({ ok: 1, when: value })).toThrow(SessionDataError)
      // A refused replacement changes nothing at all.
      expect(handle.session.toJSON()).toEqual({})
      expect((await engine.commit(handle, undefined)).headers).toEqual([])
    })
  }

  it('undefined as a value (a key about to be absent) and JSON values are accepted', async () => {
    const engine = sessionEngine({ secret: SECRET })
    const handle = await engine.load(requestOf(), undefined)
    const s = handle.session as Record<string, unknown>
    s.gone = undefined
    s.ok = { n: 1, list: [null, 'a', true], nested: { no: undefined } }
    expect(handle.session.toJSON()).toEqual({ ok: { n: 1, list: [null, 'a', true], nested: {} } })
  })
})

describe('a second commit in the same request', () => {
  it('writes a nested change made to an object read before the first commit', async () => {
    const engine = sessionEngine({ secret: SECRET })
    const first = await engine.load(requestOf(), undefined)
    first.session.cart = structuredClone(CART)
    const seeded = await engine.commit(first, undefined)
    const cookie = seeded.cookies[0]!.header.split(';', 1)[0]!

    const handle = await engine.load(requestOf(cookie), undefined)
    const items = handle.session.cart.items as unknown[]
    handle.session.visits = 1
    const one = await engine.commit(handle, undefined)
    expect(one.headers).toHaveLength(1)
    // Nothing changed since: nothing to write.
    expect((await engine.commit(handle, undefined)).headers).toEqual([])
    items.push({ sku: 'late' })
    const two = await engine.commit(handle, undefined)
    expect(two.headers).toHaveLength(1)

    const reread = await engine.load(requestOf(two.cookies[0]!.header.split(';', 1)[0]), undefined)
    expect(reread.session.toJSON()).toEqual({
      cart: { ...CART, items: [...CART.items, { sku: 'late' }] },
      visits: 1,
    })
  })
})

describe('expiresAt', () => {
  for (const [what, options, due] of [
    ['idleTimeout (rolling)', { idleTimeout: 100 }, 100],
    ['rolling maxAge', { maxAge: 100, rolling: true }, 100],
  ] as const) {
    it(`${what}: reflects the refresh this response writes, and matches the cookie`, async () => {
      const clock = testClock()
      const app = new Hono()
      app.use(session({ secret: SECRET, now: clock.now, ...options }))
      app.post('/seed', (c) => {
        c.session.userId = 'u1'
        return c.body(null, 204)
      })
      app.get('/', (c) => c.json(c.session.expiresAt.getTime()))
      const jar = new Jar()
      await jar.request(app, '/seed', { method: 'POST' })
      const start = clock.now()
      // Before half the window: no refresh, the deadline set at the seed.
      clock.advance(10)
      const early = await jar.request(app, '/')
      expect(await early.json()).toBe(start + due * 1000)
      expect(early.headers.getSetCookie()).toEqual([])
      // Past half: this response refreshes, and expiresAt says where to.
      clock.advance(50)
      const late = await jar.request(app, '/')
      expect(await late.json()).toBe(clock.now() + due * 1000)
      expect(setCookies(late)[0]?.attributes['max-age']).toBe(String(due))
    })
  }

  it('with idleTimeout, a write moves the idle deadline and expiresAt says so', async () => {
    const clock = testClock()
    const app = new Hono()
    app.use(session({ secret: SECRET, now: clock.now, idleTimeout: 100 }))
    app.post('/', (c) => {
      const before = c.session.expiresAt.getTime()
      c.session.visits = (c.session.visits ?? 0) + 1
      return c.json([before, c.session.expiresAt.getTime()])
    })
    const jar = new Jar()
    await jar.request(app, '/', { method: 'POST' })
    const seeded = clock.now()
    clock.advance(10)
    const [before, after] = (await (await jar.request(app, '/', { method: 'POST' })).json()) as [
      number,
      number,
    ]
    expect(before).toBe(seeded + 100_000)
    expect(after).toBe(clock.now() + 100_000)
  })
})

describe('a write in flight', () => {
  it('a nested change alone, made while an unawaited save() waits on the store, reaches the final commit', async () => {
    const map = new Map<string, any>()
    const store = {
      get: async (id: string) => map.get(id),
      set: async (id: string, record: unknown) => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        map.set(id, structuredClone(record))
      },
      delete: async (id: string) => {
        map.delete(id)
      },
    }
    const engine = sessionEngine({ secret: SECRET, store })
    const handle = await engine.load(requestOf(), undefined)
    const s = handle.session
    s.cart = { items: [] as string[] }
    const saving = s.save()
    // No assignment, no method: only the object the app holds changes.
    s.cart.items.push('apple')
    await saving
    expect([...map.values()][0].data).toEqual({ cart: { items: [] } })
    await engine.commit(handle, undefined)
    expect([...map.values()][0].data).toEqual({ cart: { items: ['apple'] } })
  })
})
