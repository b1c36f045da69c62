// unstorageStore over unstorage's memory, fs and redis drivers (a real redis-server): the shared
// contract on each, TTLs where the driver takes them, prune() where it does not, escaped keys,
// and the backend calls one request costs, counted at the Storage and at Redis.
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Hono } from 'hono'
import { createStorage, type Storage } from 'unstorage'
import fsDriver from 'unstorage/drivers/fs'
import memoryDriver from 'unstorage/drivers/memory'
import redisDriver from 'unstorage/drivers/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { session } from '../../src/adapters/hono.ts'
import { SessionConfigError } from '../../src/core/errors.ts'
import type { InvalidReason, SessionRecord } from '../../src/core/types.ts'
import { type UnstorageStoreOptions, unstorageStore } from '../../src/stores/unstorage.ts'
import { commandStats, type RedisServer, redisCommand, startRedis } from '../servers/redis.ts'
import { Jar, SECRET, testClock } from '../support.ts'
import { describeStore } from './contract.ts'

let server: RedisServer

beforeAll(async () => {
  server = await startRedis()
}, 30_000)

afterAll(async () => {
  await server?.stop()
})

let namespace = 0
const freshBase = () => `u${++namespace}${Math.random().toString(36).slice(2, 8)}`
const tempDir = () => mkdtemp(join(tmpdir(), 'sealed-session-unstorage-'))

describeStore('unstorageStore (memory driver)', {
  async make({ now } = {}) {
    const storage = createStorage({ driver: memoryDriver() })
    return { store: unstorageStore(storage, { now }), close: () => storage.dispose() }
  },
  userIndex: false,
  expiresItself: false,
})

describeStore('unstorageStore (fs driver)', {
  async make({ now } = {}) {
    const dir = await tempDir()
    const storage = createStorage({ driver: fsDriver({ base: dir }) })
    return {
      store: unstorageStore(storage, { now }),
      close: async () => {
        await storage.dispose()
        await rm(dir, { recursive: true, force: true })
      },
    }
  },
  userIndex: false,
  expiresItself: false,
})

describeStore('unstorageStore (redis driver)', {
  async make({ now } = {}) {
    const base = freshBase()
    const storage = createStorage({ driver: redisDriver({ base, url: server.url }) })
    return {
      store: unstorageStore(storage, { now }),
      // The driver joins its base and our key with ':'.
      async ttlSeconds(id) {
        const ms = Number(await redisCommand(server.port, ['PTTL', `${base}:sess:${id}`]))
        return ms < 0 ? undefined : ms / 1000
      },
      close: () => storage.dispose(),
    }
  },
  userIndex: false,
  expiresItself: true,
})

function rec(now: number, data: Record<string, unknown> = {}, seconds = 60): SessionRecord {
  return { data, createdAt: now, expiresAt: now + seconds * 1000 }
}

/** The Storage with every call of the methods the store uses counted. */
function countedStorage(storage: Storage) {
  const calls: Record<string, number> = {}
  const counted = new Proxy(storage, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver)
      if (typeof value !== 'function' || typeof name !== 'string') return value
      return (...args: unknown[]) => {
        calls[name] = (calls[name] ?? 0) + 1
        return value.apply(target, args)
      }
    },
  })
  const take = () => {
    const out = { ...calls }
    for (const k of Object.keys(calls)) delete calls[k]
    return out
  }
  return { counted, take }
}

function app(store: ReturnType<typeof unstorageStore>, onInvalid?: (r: InvalidReason) => void) {
  return new Hono()
    .use(session({ secret: SECRET, store, onInvalid }))
    .get('/login', async (c) => {
      await c.session.regenerate()
      c.session.userId = 'u1'
      return c.text(c.session.id)
    })
    .get('/peek', (c) => c.text(c.session.userId ?? 'anon'))
    .get('/set/:v', (c) => {
      c.session.theme = c.req.param('v')
      return c.text('ok')
    })
    .get('/logout', (c) => {
      c.session.destroy()
      return c.text('bye')
    })
}

describe('unstorageStore specifics', () => {
  it('bad arguments throw one SessionConfigError naming each', () => {
    let error: unknown
    try {
      unstorageStore(
        { getItem() {} } as never,
        {
          prefix: 'a/b',
          merge: 'yes',
          ttl: 5,
        } as unknown as UnstorageStoreOptions,
      )
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(SessionConfigError)
    const paths = (error as SessionConfigError).issues.map((i) => i.path).sort()
    expect(paths).toEqual(['', 'merge', 'prefix', 'storage'])
    expect(() => unstorageStore(createStorage(), { prefix: 'sess' })).toThrow(/ending in ':'/)
    expect(() => unstorageStore(createStorage(), { prefix: 'app:sess:' })).not.toThrow()
  })

  it('passes the TTL in whole seconds to setItem, rounded up', async () => {
    const seen: unknown[] = []
    const storage = createStorage()
    const spy = new Proxy(storage, {
      get(target, name, receiver) {
        if (name === 'setItem') {
          return (key: string, value: unknown, options: unknown) => {
            seen.push(options)
            return target.setItem(key, value as never, options as never)
          }
        }
        return Reflect.get(target, name, receiver)
      },
    })
    const clock = testClock()
    const store = unstorageStore(spy, { now: clock.now })
    await store.set('a'.repeat(32), { ...rec(clock.now()), expiresAt: clock.now() + 1500 })
    await store.set('b'.repeat(32), rec(clock.now(), {}, 3600))
    expect(seen).toEqual([{ ttl: 2 }, { ttl: 3600 }])
  })

  it('a write of a record already past its deadline removes what is stored', async () => {
    const clock = testClock()
    const store = unstorageStore(createStorage(), { now: clock.now })
    const id = 'c'.repeat(32)
    await store.set(id, rec(clock.now()))
    await store.set(id, rec(clock.now() - 120_000))
    expect(await store.get(id)).toBeUndefined()
  })

  it('a patch never merges into a session past its deadline: the expired record stays as it was', async () => {
    const clock = testClock()
    const store = unstorageStore(createStorage(), { now: clock.now })
    const id = 'd'.repeat(32)
    const stored = rec(clock.now(), { a: 1 }, 10)
    await store.set(id, stored)
    clock.advance(10)
    await store.patch!(id, rec(clock.now(), { b: 2 }, 60), { set: ['b'], deleted: [] })
    expect(await store.get(id)).toEqual(stored)
  })

  it('concurrent patches of one session in this process all land (one at a time per key)', async () => {
    const dir = await tempDir()
    try {
      const store = unstorageStore(createStorage({ driver: fsDriver({ base: dir }) }))
      const id = 'e'.repeat(32)
      await store.set(id, rec(Date.now(), { start: true }))
      const keys = Array.from({ length: 10 }, (_, i) => `k${i}`)
      await Promise.all(
        keys.map((k) => store.patch!(id, rec(Date.now(), { [k]: k }), { set: [k], deleted: [] })),
      )
      const stored = (await store.get(id)) as SessionRecord
      expect(Object.keys(stored.data).sort()).toEqual(['start', ...keys].sort())
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('prune() deletes expired sessions only, on a driver without TTLs (fs)', async () => {
    const dir = await tempDir()
    try {
      const storage = createStorage({ driver: fsDriver({ base: dir }) })
      const clock = testClock()
      const store = unstorageStore(storage, { now: clock.now })
      await store.set('short'.padEnd(32, 's'), rec(clock.now(), { n: 1 }, 10))
      await store.set('long'.padEnd(32, 'l'), rec(clock.now(), { n: 2 }, 100))
      // Not a session, under another prefix and under ours: both left alone.
      await storage.setItem('other:thing', { expiresAt: 0 })
      await storage.setItem('sess:note', 'not a record')
      clock.advance(10)
      expect(await store.prune()).toBe(1)
      expect(await store.get('short'.padEnd(32, 's'))).toBeUndefined()
      expect(await store.get('long'.padEnd(32, 'l'))).toMatchObject({ data: { n: 2 } })
      expect((await readdir(join(dir, 'sess'))).sort()).toEqual(['long'.padEnd(32, 'l'), 'note'])
      expect(await storage.getItem('other:thing')).toEqual({ expiresAt: 0 })
      expect(await store.prune()).toBe(0)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('ids unstorage would rewrite get keys of their own (no collisions, no path escapes)', async () => {
    const dir = await tempDir()
    try {
      const storage = createStorage({ driver: fsDriver({ base: join(dir, 'base') }) })
      const store = unstorageStore(storage)
      const ids = ['user:alice', 'user:alice?admin', 'user:a/b', 'user:a:b', 'user:../../x', 'é']
      for (const [i, id] of ids.entries()) await store.set(id, rec(Date.now(), { i }))
      for (const [i, id] of ids.entries()) {
        expect(await store.get(id)).toMatchObject({ data: { i } })
      }
      expect(await readdir(dir)).toEqual(['base'])
      expect(await storage.getKeys('sess:')).toHaveLength(ids.length)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('merge: false has no patch; a change is one whole-record setItem', async () => {
    const { counted, take } = countedStorage(createStorage())
    const store = unstorageStore(counted, { merge: false })
    expect(store.patch).toBeUndefined()
    const sessions = app(store)
    const jar = new Jar()
    await jar.request(sessions, '/login')
    take()
    await jar.request(sessions, '/set/dark')
    expect(take()).toEqual({ getItem: 1, setItem: 1 })
    expect(await (await jar.request(sessions, '/peek')).text()).toBe('u1')
  })

  it('a session past its deadline by the engine clock is refused and deleted (memory driver, no TTL)', async () => {
    const storage = createStorage()
    const clock = testClock(Date.now())
    const reasons: InvalidReason[] = []
    // The store keeps the real clock: only the engine's moves.
    const store = unstorageStore(storage)
    const sessions = new Hono()
      .use(
        session({
          secret: SECRET,
          store,
          maxAge: 60,
          now: clock.now,
          onInvalid: (r) => reasons.push(r),
        }),
      )
      .get('/login', (c) => {
        c.session.userId = 'u1'
        return c.text(c.session.id)
      })
      .get('/peek', (c) => c.text(c.session.userId ?? 'anon'))
    const jar = new Jar()
    const id = await (await jar.request(sessions, '/login')).text()
    clock.advance(59)
    expect(await (await jar.request(sessions, '/peek')).text()).toBe('u1')
    clock.advance(1)
    // The memory driver has no TTL: the record is still there, the engine's clock refuses it.
    expect(await storage.getItem(`sess:${id}`)).toMatchObject({ data: { userId: 'u1' } })
    expect(await (await jar.request(sessions, '/peek')).text()).toBe('anon')
    expect(reasons).toEqual(['expired'])
    expect(await storage.getItem(`sess:${id}`)).toBeNull()
  })
})

describe('backend calls per request', () => {
  it('Storage calls: login 1 set; read 1 get; change 2 gets + 1 set; logout 1 get + 1 remove', async () => {
    const { counted, take } = countedStorage(createStorage())
    const sessions = app(unstorageStore(counted))
    const jar = new Jar()
    await jar.request(sessions, '/login')
    expect(take()).toEqual({ setItem: 1 })
    await jar.request(sessions, '/peek')
    expect(take()).toEqual({ getItem: 1 })
    await jar.request(sessions, '/set/dark')
    // The load, then the patch's read-merge-write.
    expect(take()).toEqual({ getItem: 2, setItem: 1 })
    await jar.request(sessions, '/login')
    // regenerate: the new entry written, then the old one removed.
    expect(take()).toEqual({ getItem: 1, setItem: 1, removeItem: 1 })
    await jar.request(sessions, '/logout')
    expect(take()).toEqual({ getItem: 1, removeItem: 1 })
  })

  it('Redis commands through the redis driver: GET to read; GET + SET … EX to change; GET + UNLINK to log out', async () => {
    const base = freshBase()
    const storage = createStorage({ driver: redisDriver({ base, url: server.url }) })
    try {
      const sessions = app(unstorageStore(storage))
      const jar = new Jar()
      const id = await (await jar.request(sessions, '/login')).text()
      const stats = async () => {
        const all = await commandStats(server.port)
        delete all.info
        delete all['config|resetstat']
        await redisCommand(server.port, ['CONFIG', 'RESETSTAT'])
        return all
      }
      await stats()
      await jar.request(sessions, '/peek')
      expect(await stats()).toEqual({ get: 1 })
      await jar.request(sessions, '/set/dark')
      expect(await stats()).toEqual({ get: 2, set: 1 })
      // The SET carried the TTL: the default maxAge, one day.
      const ttl = await redisCommand(server.port, ['TTL', `${base}:sess:${id}`])
      expect(Number(ttl)).toBeGreaterThan(86_390)
      await stats()
      await jar.request(sessions, '/logout')
      expect(await stats()).toEqual({ get: 1, unlink: 1 })
    } finally {
      await storage.dispose()
    }
  })
})
