// expressStore over connect-redis (node-redis client) against a real redis-server: the shared
// contract, plus what the wrapped store sees and the last-write-wins behaviour it implies.
import { RedisStore } from 'connect-redis'
import { Hono } from 'hono'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { session } from '../../src/adapters/hono.ts'
import { SessionConfigError, SessionStoreError } from '../../src/core/errors.ts'
import type { SessionRecord, SessionStore } from '../../src/core/types.ts'
import { expressStore } from '../../src/stores/express.ts'
import { commandStats, type RedisServer, redisCommand, startRedis } from '../servers/redis.ts'
import { Jar, SECRET, testClock } from '../support.ts'
import { describeStore } from './contract.ts'

let server: RedisServer
let client: ReturnType<typeof createClient>

beforeAll(async () => {
  server = await startRedis()
  client = createClient({ url: server.url })
  await client.connect()
}, 30_000)

afterAll(async () => {
  await client?.close().catch(() => undefined)
  await server?.stop()
})

let namespace = 0
const freshPrefix = () => `x${++namespace}-${Math.random().toString(36).slice(2, 8)}:`

describeStore('expressStore (connect-redis)', {
  async make({ now } = {}) {
    const prefix = freshPrefix()
    return {
      store: expressStore(new RedisStore({ client, prefix }), { now }),
      ttlSeconds: async (id) => {
        const ms = await client.pTTL(prefix + id)
        return ms < 0 ? undefined : ms / 1000
      },
      close: async () => {},
    }
  },
  userIndex: false,
  expiresItself: true,
})

describe('expressStore specifics', () => {
  it('hands the wrapped store an express-session shaped session and reads ours back', async () => {
    const prefix = freshPrefix()
    const store = expressStore(new RedisStore({ client, prefix }))
    const now = Date.now()
    const record: SessionRecord = {
      data: { userId: 'u1' },
      createdAt: now,
      expiresAt: now + 3_600_000,
      idleExpiresAt: now + 120_000,
      flash: ['notice'],
    }
    record.data.notice = 'hi'
    await store.set('shape000000000000000000000000001', record, undefined)
    const raw = JSON.parse((await client.get(`${prefix}shape000000000000000000000000001`))!)
    // connect-redis (like most stores) derives its TTL from cookie.expires: the earlier deadline.
    expect(raw.cookie.expires).toBe(new Date(now + 120_000).toISOString())
    expect(raw.cookie.originalMaxAge).toBeGreaterThan(110_000)
    expect(raw.cookie.originalMaxAge).toBeLessThanOrEqual(120_000)
    expect(raw.data).toEqual(record.data)
    // Read back without the cookie object.
    expect(await store.get('shape000000000000000000000000001', undefined)).toEqual(record)
  })

  it('the cookie maxAge counts from the injected clock, or from meta.now', async () => {
    const rows = new Map<string, any>()
    const clock = testClock()
    const store = expressStore(
      {
        get: (sid, cb) => cb(null, rows.get(sid)),
        set: (sid, sess, cb) => {
          rows.set(sid, JSON.parse(JSON.stringify(sess)))
          cb?.()
        },
        destroy: (sid, cb) => {
          rows.delete(sid)
          cb?.()
        },
      },
      { now: clock.now },
    )
    const id = 'clock000000000000000000000000001'
    const t = clock.now()
    const record: SessionRecord = { data: { a: 1 }, createdAt: t, expiresAt: t + 120_000 }
    clock.advance(20)
    await store.set(id, record)
    expect(rows.get(id).cookie).toMatchObject({
      originalMaxAge: 100_000,
      maxAge: 100_000,
      expires: new Date(t + 120_000).toISOString(),
    })
    await store.patch!(id, record, { set: ['a'], deleted: [] }, undefined, { now: t + 90_000 })
    expect(rows.get(id).cookie.originalMaxAge).toBe(30_000)
    // Past the deadline by the injected clock, the wrapped store's copy still reads (for the
    // engine to refuse as expired), and a patch does not merge into it.
    clock.advance(100)
    expect(await store.get(id, undefined)).toEqual(record)
    await store.patch!(id, { ...record, data: { a: 2 } }, { set: ['a'], deleted: [] }, undefined)
    expect(rows.get(id).data).toEqual({ a: 1 })
  })

  it('bad options throw one SessionConfigError naming each field', () => {
    let error: unknown
    try {
      expressStore({} as never, { merge: 'yes' as never, now: 5 as never })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(SessionConfigError)
    expect((error as SessionConfigError).issues.map((i) => i.path)).toEqual([
      'store',
      'merge',
      'now',
    ])
  })

  /** Two overlapping requests on one session: /a is held open while /b changes another key. */
  async function overlap(store: SessionStore): Promise<unknown> {
    let release!: () => void
    const held = new Promise<void>((r) => {
      release = r
    })
    const app = new Hono()
      .use(session({ secret: SECRET, store }))
      .get('/login', (c) => {
        c.session.userId = 'u1'
        return c.text('ok')
      })
      .get('/a', async (c) => {
        c.session.a = 1
        await held
        return c.text('ok')
      })
      .get('/b', (c) => {
        c.session.b = 1
        return c.text('ok')
      })
      .get('/me', (c) => c.json(c.session.toJSON()))
    const jar = new Jar()
    await jar.request(app, '/login')
    const first = jar.request(app, '/a')
    await new Promise((r) => setTimeout(r, 20))
    await jar.request(app, '/b')
    release()
    await first
    return (await jar.request(app, '/me')).json()
  }

  it('merges by default: overlapping requests that change different keys both survive', async () => {
    const store = expressStore(new RedisStore({ client, prefix: freshPrefix() }))
    expect(typeof store.patch).toBe('function')
    expect(await overlap(store)).toEqual({ userId: 'u1', a: 1, b: 1 })
  })

  it('merge: false has no patch, so the last whole write wins', async () => {
    const store = expressStore(new RedisStore({ client, prefix: freshPrefix() }), { merge: false })
    expect(store.patch).toBeUndefined()
    expect(await overlap(store)).toEqual({ userId: 'u1', a: 1 })
  })

  it('a delete issued while a merge is reading waits for it, so the session stays deleted', async () => {
    // A slow express-style store: every call answers after 20 ms.
    const rows = new Map<string, unknown>()
    const later = (cb: (err?: unknown, value?: unknown) => void, value?: unknown) =>
      setTimeout(() => cb(null, value), 20)
    const store = expressStore({
      get: (sid, cb) => later(cb, rows.get(sid)),
      set: (sid, sess, cb) => {
        rows.set(sid, JSON.parse(JSON.stringify(sess)))
        later(cb!)
      },
      destroy: (sid, cb) => {
        rows.delete(sid)
        later(cb!)
      },
    })
    const id = 'merge0000000000000000000000000001'
    const now = Date.now()
    const record: SessionRecord = { data: { a: 1 }, createdAt: now, expiresAt: now + 60_000 }
    await store.set(id, record, undefined)
    const merging = store.patch!(
      id,
      { ...record, data: { a: 2 } },
      { set: ['a'], deleted: [] },
      undefined,
    )
    await new Promise((r) => setTimeout(r, 5))
    await Promise.all([merging, store.delete(id, undefined)])
    expect(rows.has(id)).toBe(false)
  })

  it('a failing wrapped store surfaces as SessionStoreError, callback or promise', async () => {
    const boom = new Error('backend down')
    const viaCallback = expressStore({
      get: (_sid, cb) => cb(boom),
      set: (_sid, _s, cb) => cb?.(boom),
      destroy: (_sid, cb) => cb?.(boom),
    })
    const viaPromise = expressStore({
      get: () => Promise.reject(boom),
      set: () => Promise.reject(boom),
      destroy: () => Promise.reject(boom),
    })
    for (const store of [viaCallback, viaPromise]) {
      let caught: unknown
      const app = new Hono().use(session({ secret: SECRET, store })).get('/login', (c) => {
        c.session.userId = 'u1'
        return c.text('ok')
      })
      app.onError((err, c) => {
        caught = err
        return c.text('store down', 503)
      })
      const res = await app.request('http://localhost/login')
      expect(res.status).toBe(503)
      expect(res.headers.getSetCookie()).toEqual([])
      expect(caught).toBeInstanceOf(SessionStoreError)
      expect((caught as SessionStoreError).operation).toBe('set')
      expect((caught as SessionStoreError).cause).toBe(boom)
    }
  })

  for (const merge of [true, false]) {
    it(`Redis commands per request through connect-redis (merge: ${merge})`, async () => {
      const store = expressStore(new RedisStore({ client, prefix: freshPrefix() }), { merge })
      const app = new Hono()
        .use(session({ secret: SECRET, store }))
        .get('/login', (c) => {
          c.session.userId = 'u1'
          return c.text('ok')
        })
        .get('/peek', (c) => c.text(c.session.userId ?? 'anon'))
        .get('/set/:value', (c) => {
          c.session.theme = c.req.param('value')
          return c.text('ok')
        })
      const jar = new Jar()
      const measure = async (path: string) => {
        await redisCommand(server.port, ['CONFIG', 'RESETSTAT'])
        expect((await jar.request(app, path)).status).toBe(200)
        const stats = await commandStats(server.port)
        delete stats['config|resetstat']
        delete stats.info
        return stats
      }
      expect(await measure('/login')).toEqual({ set: 1 })
      expect(await measure('/peek')).toEqual({ get: 1 })
      await jar.request(app, '/set/dark')
      expect(await measure('/set/dark')).toEqual({ get: 1 })
      // The merge reads the stored session again before writing it whole.
      expect(await measure('/set/light')).toEqual(merge ? { get: 2, set: 1 } : { get: 1, set: 1 })
    })
  }
})
