// redisStore against real redis-server processes: the shared contract for every client kind
// (ioredis, ioredis Cluster, node-redis, and Bun's RedisClient under Bun), exact JSON through the
// Lua patch, and the commands and round trips each request costs.
import { Hono } from 'hono'
import { Cluster, Redis } from 'ioredis'
import { createClient, createCluster } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { session } from '../../src/adapters/hono.ts'
import { SessionConfigError } from '../../src/core/errors.ts'
import { applySessionPatch } from '../../src/core/record.ts'
import type { SessionRecord } from '../../src/core/types.ts'
import { type RedisStoreOptions, redisStore } from '../../src/stores/redis.ts'
import {
  commandStats,
  type RedisCluster,
  type RedisProxy,
  type RedisServer,
  redisCommand,
  startRedis,
  startRedisCluster,
  startRedisProxy,
} from '../servers/redis.ts'
import { Jar, SECRET, testClock } from '../support.ts'
import { describeStore } from './contract.ts'

const BunRuntime = (globalThis as { Bun?: { RedisClient: new (url: string) => BunRedis } }).Bun
interface BunRedis {
  send(command: string, args: string[]): Promise<unknown>
  close(): void
}

let server: RedisServer
let cluster: RedisCluster
let ioredis: Redis
let ioCluster: Cluster
let nodeRedis: ReturnType<typeof createClient>
let nodeCluster: ReturnType<typeof createCluster>
let bunRedis: BunRedis | undefined

beforeAll(async () => {
  ;[server, cluster] = await Promise.all([startRedis(), startRedisCluster()])
  ioredis = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true })
  await ioredis.connect()
  ioCluster = new Cluster(cluster.nodes)
  await ioCluster.ping()
  nodeRedis = createClient({ url: server.url })
  await nodeRedis.connect()
  nodeCluster = createCluster({
    rootNodes: cluster.nodes.map((n) => ({ url: `redis://${n.host}:${n.port}` })),
  })
  await nodeCluster.connect()
  if (BunRuntime) {
    bunRedis = new BunRuntime.RedisClient(server.url)
    await bunRedis.send('PING', [])
  }
}, 60_000)

afterAll(async () => {
  bunRedis?.close()
  await Promise.allSettled([
    ioredis?.quit(),
    ioCluster?.quit(),
    nodeRedis?.close(),
    nodeCluster?.close(),
  ])
  await Promise.allSettled([server?.stop(), cluster?.stop()])
})

let namespace = 0
/** A prefix no other test uses, so every `make()` starts from an empty keyspace. */
const freshPrefix = () => `t${++namespace}-${Math.random().toString(36).slice(2, 8)}:`

const pttlSeconds = async (reply: unknown) => {
  const ms = Number(reply)
  return ms < 0 ? undefined : ms / 1000
}

describeStore('redisStore (ioredis)', {
  async make(options = {}) {
    const prefix = freshPrefix()
    return {
      store: redisStore({ client: ioredis, prefix, ...options }),
      ttlSeconds: async (id) => pttlSeconds(await ioredis.pttl(prefix + id)),
      close: async () => {},
    }
  },
  userIndex: true,
  expiresItself: true,
})

describeStore('redisStore (ioredis Cluster)', {
  async make(options = {}) {
    const prefix = freshPrefix()
    return {
      store: redisStore({ client: ioCluster, prefix, ...options }),
      ttlSeconds: async (id) => pttlSeconds(await ioCluster.pttl(prefix + id)),
      close: async () => {},
    }
  },
  userIndex: true,
  expiresItself: true,
})

describeStore('redisStore (node-redis)', {
  async make(options = {}) {
    const prefix = freshPrefix()
    return {
      store: redisStore({ client: nodeRedis, prefix, ...options }),
      ttlSeconds: async (id) => pttlSeconds(await nodeRedis.pTTL(prefix + id)),
      close: async () => {},
    }
  },
  userIndex: true,
  expiresItself: true,
})

describeStore('redisStore (node-redis Cluster)', {
  async make(options = {}) {
    const prefix = freshPrefix()
    return {
      store: redisStore({ client: nodeCluster, prefix, ...options }),
      ttlSeconds: async (id) => pttlSeconds(await nodeCluster.pTTL(prefix + id)),
      close: async () => {},
    }
  },
  userIndex: true,
  expiresItself: true,
})

if (BunRuntime) {
  describeStore('redisStore (Bun RedisClient)', {
    async make(options = {}) {
      const prefix = freshPrefix()
      return {
        store: redisStore({ client: bunRedis!, prefix, ...options }),
        ttlSeconds: async (id) => pttlSeconds(await bunRedis!.send('PTTL', [prefix + id])),
        close: async () => {},
      }
    },
    userIndex: true,
    expiresItself: true,
  })
}

/** Every client kind this runtime can test, by name. */
function clients(): [string, () => RedisStoreOptions['client']][] {
  const list: [string, () => RedisStoreOptions['client']][] = [
    ['ioredis', () => ioredis],
    ['ioredis Cluster', () => ioCluster],
    ['node-redis', () => nodeRedis],
    ['node-redis Cluster', () => nodeCluster],
  ]
  if (BunRuntime) list.push(['Bun RedisClient', () => bunRedis!])
  return list
}

const inOneMinute = (data: Record<string, unknown>): SessionRecord => {
  const now = Date.now()
  return { data, createdAt: now, expiresAt: now + 60_000 }
}

describe('redisStore specifics', () => {
  for (const [name, client] of clients()) {
    it(`patch keeps untouched values byte for byte (${name})`, async () => {
      const store = redisStore({ client: client(), prefix: freshPrefix() })
      // What Redis' cjson would corrupt: empty arrays, 17-digit floats, key order, escapes.
      const data = {
        empty: [],
        nested: { list: [], obj: {}, deep: [[], [{}], { a: [] }] },
        float: 0.1 + 0.2,
        random: 0.12345678901234568,
        big: Number.MAX_SAFE_INTEGER,
        tiny: 5e-324,
        text: 'quote " backslash \\ braces }{][ colon: comma, slash / tab \t',
        unicode: 'héllo 😀 \u2028',
        'key "with" quotes': 1,
        'key\\with\\backslash': [true, false, null],
        ünï: 'x',
        zLast: 'z',
      }
      const id = 'exactjson0000000000000000000001'
      const before: SessionRecord = { ...inOneMinute(data), flash: ['zLast'] }
      await store.set(id, before, undefined)
      const mine: SessionRecord = {
        data: { ...data, float: 1.5, added: { more: [] }, 'new "key"': 0.30000000000000004 },
        createdAt: before.createdAt,
        expiresAt: before.expiresAt + 1000,
      }
      const changes = { set: ['float', 'added', 'new "key"'], deleted: ['zLast', 'missing'] }
      await store.patch!(id, mine, changes, undefined)
      const expected = applySessionPatch(before, mine, changes)!
      const got = (await store.get(id, undefined)) as SessionRecord
      // Same JSON text: same values, same key order.
      expect(JSON.stringify(got)).toBe(JSON.stringify(expected))
      expect(got.data.random).toBe(0.12345678901234568)
      expect(got.data.empty).toEqual([])
      expect(got.flash).toBeUndefined()
    })

    it(`numeric user ids are indexed and destroyed like strings (${name})`, async () => {
      const store = redisStore({ client: client(), prefix: freshPrefix() })
      await store.set('numericuser00000000000000000001', inOneMinute({ userId: 42 }), undefined)
      await store.set('numericuser00000000000000000002', inOneMinute({ userId: '42' }), undefined)
      expect((await store.listSessions('42')).length).toBe(2)
      expect(await store.destroyUserSessions('42')).toBe(2)
      expect(await store.listSessions('42')).toEqual([])
    })

    it(`a write whose deadline has passed removes the entry (${name})`, async () => {
      const store = redisStore({ client: client(), prefix: freshPrefix() })
      const id = 'pastdeadline000000000000000001'
      await store.set(id, inOneMinute({ a: 1 }), undefined)
      const now = Date.now()
      await store.set(id, { data: { a: 2 }, createdAt: now - 5000, expiresAt: now - 1 }, undefined)
      expect(await store.get(id, undefined)).toBeUndefined()
    })
  }

  it('the user index is one hash per user with a TTL, pruned of expired entries', async () => {
    const prefix = freshPrefix()
    const store = redisStore({ client: ioredis, prefix })
    const now = Date.now()
    await store.set(
      'short0000000000000000000000001',
      {
        data: { userId: 'u1' },
        createdAt: now,
        expiresAt: now + 300,
      },
      undefined,
    )
    await store.set('long00000000000000000000000001', inOneMinute({ userId: 'u1' }), undefined)
    const ttl = await ioredis.pttl(`${prefix}user:u1`)
    expect(ttl).toBeGreaterThan(55_000)
    expect(ttl).toBeLessThanOrEqual(60_000)
    expect(await ioredis.hlen(`${prefix}user:u1`)).toBe(2)
    await new Promise((r) => setTimeout(r, 400))
    // The next write for the user drops the expired session's entry.
    await store.set('long00000000000000000000000002', inOneMinute({ userId: 'u1' }), undefined)
    expect((await ioredis.hkeys(`${prefix}user:u1`)).sort()).toEqual([
      'long00000000000000000000000001',
      'long00000000000000000000000002',
    ])
  })

  it('userKey: false writes no index, and the index API says it is off', async () => {
    const prefix = freshPrefix()
    const store = redisStore({ client: ioredis, prefix, userKey: false })
    await store.set('noindex000000000000000000000001', inOneMinute({ userId: 'u1' }), undefined)
    expect(await ioredis.exists(`${prefix}user:u1`)).toBe(0)
    await expect(store.listSessions('u1')).rejects.toBeInstanceOf(SessionConfigError)
    await expect(store.destroyUserSessions('u1')).rejects.toBeInstanceOf(SessionConfigError)
  })

  it('a custom userKey indexes by that key', async () => {
    const store = redisStore({ client: nodeRedis, prefix: freshPrefix(), userKey: 'account' })
    await store.set('customkey0000000000000000000001', inOneMinute({ account: 'a1' }), undefined)
    await store.set('customkey0000000000000000000002', inOneMinute({ userId: 'a1' }), undefined)
    expect((await store.listSessions('a1')).map((s) => s.id)).toEqual([
      'customkey0000000000000000000001',
    ])
  })

  it('the TTL counts from the time of the write: the injected clock, or meta.now', async () => {
    const prefix = freshPrefix()
    // An hour ahead of the server: a TTL computed from Date.now() would be an hour too long.
    const clock = testClock(Date.now() + 3600_000)
    const store = redisStore({ client: ioredis, prefix, now: clock.now })
    const t = clock.now()
    const rec: SessionRecord = { data: { userId: 'u1' }, createdAt: t, expiresAt: t + 600_000 }
    await store.set('clockttl000000000000000000000001', rec)
    const ttl = await ioredis.pttl(`${prefix}clockttl000000000000000000000001`)
    expect(ttl).toBeGreaterThan(595_000)
    expect(ttl).toBeLessThanOrEqual(600_000)
    // The engine's time of the write wins over the store's clock.
    await store.patch(
      'clockttl000000000000000000000001',
      rec,
      { set: [], deleted: [] },
      undefined,
      { now: t - 100_000 },
    )
    const moved = await ioredis.pttl(`${prefix}clockttl000000000000000000000001`)
    expect(moved).toBeGreaterThan(695_000)
    expect(moved).toBeLessThanOrEqual(700_000)
    // The user index's TTL counts from the write too.
    expect(await ioredis.pttl(`${prefix}user:u1`)).toBeGreaterThan(695_000)
  })

  it('names its user key (false when the index is off)', () => {
    expect(redisStore({ client: ioredis }).userKey).toBe('userId')
    expect(redisStore({ client: ioredis, userKey: 'account' }).userKey).toBe('account')
    expect(redisStore({ client: ioredis, userKey: false }).userKey).toBe(false)
  })

  it('bad options throw one SessionConfigError naming each field', () => {
    let error: unknown
    try {
      redisStore({ client: {} as never, prefix: 1 as never, userKey: '', now: 5 as never })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(SessionConfigError)
    expect((error as SessionConfigError).issues.map((i) => i.path)).toEqual([
      'client',
      'prefix',
      'userKey',
      'now',
    ])
  })

  it('an object that is not a Redis client is a SessionConfigError at construction', () => {
    expect(() => redisStore({ client: {} as never })).toThrow(SessionConfigError)
    expect(() => redisStore({ client: new Map() as never })).toThrow(/client/)
  })

  it('scripts flushed from the server are sent again as EVAL', async () => {
    const store = redisStore({ client: ioredis, prefix: freshPrefix() })
    const id = 'noscript00000000000000000000001'
    await store.set(id, inOneMinute({ userId: 'u1', a: 1 }), undefined)
    await redisCommand(server.port, ['SCRIPT', 'FLUSH'])
    const next = { ...inOneMinute({ userId: 'u1', a: 2 }) }
    await store.patch!(id, next, { set: ['a'], deleted: [] }, undefined)
    expect(await store.get(id, undefined)).toMatchObject({ data: { userId: 'u1', a: 2 } })
  })
})

// --- Commands and round trips per request --------------------------------------------------

function app(options: Omit<RedisStoreOptions, 'prefix'>) {
  return new Hono()
    .use(session({ secret: SECRET, store: redisStore({ ...options, prefix: freshPrefix() }) }))
    .get('/login', (c) => {
      c.session.userId = 'u1'
      return c.text('ok')
    })
    .get('/anon', (c) => {
      c.session.cart = 1
      return c.text('ok')
    })
    .get('/peek', (c) => c.text(c.session.userId ?? 'anon'))
    .get('/set/:value', (c) => {
      c.session.theme = c.req.param('value')
      return c.text('ok')
    })
    .get('/logout', (c) => {
      c.session = null
      return c.text('bye')
    })
}

interface Cost {
  /** Commands the client sent (what the proxy saw), by name. */
  sent: Record<string, number>
  /** Sequential client->server turns. */
  roundTrips: number
  /** Server-side `INFO commandstats` calls, by name; counts commands scripts run too. */
  server: Record<string, number>
}

const tally = (names: string[]) => {
  const out: Record<string, number> = {}
  for (const n of names) out[n] = (out[n] ?? 0) + 1
  return out
}

/** Measures one request: commands sent, round trips and server command stats. */
async function cost(proxy: RedisProxy, port: number, run: () => Promise<Response>): Promise<Cost> {
  await redisCommand(port, ['CONFIG', 'RESETSTAT'])
  proxy.reset()
  const res = await run()
  expect(res.status).toBe(200)
  const server = await commandStats(port)
  delete server['config|resetstat']
  delete server.info
  return { sent: tally(proxy.commands()), roundTrips: proxy.roundTrips(), server }
}

describe('commands and round trips per request', () => {
  let proxy: RedisProxy
  const proxied: (() => Promise<void>)[] = []

  beforeAll(async () => {
    proxy = await startRedisProxy(server.port)
  })

  afterAll(async () => {
    for (const close of proxied) await close()
    await proxy.close()
  })

  const kinds: [string, () => Promise<RedisStoreOptions['client']>][] = [
    [
      'ioredis',
      async () => {
        const c = new Redis({ host: '127.0.0.1', port: proxy.port, lazyConnect: true })
        await c.connect()
        proxied.push(async () => void (await c.quit()))
        return c
      },
    ],
    [
      'node-redis',
      async () => {
        const c = createClient({ url: `redis://127.0.0.1:${proxy.port}` })
        await c.connect()
        proxied.push(async () => void (await c.close()))
        return c
      },
    ],
  ]
  if (BunRuntime) {
    kinds.push([
      'Bun RedisClient',
      async () => {
        const c = new BunRuntime.RedisClient(`redis://127.0.0.1:${proxy.port}`)
        await c.send('PING', [])
        proxied.push(async () => c.close())
        return c
      },
    ])
  }

  for (const [name, connect] of kinds) {
    for (const index of [true, false]) {
      it(`${name}, user index ${index ? 'on' : 'off'}: load = 1 GET, unchanged = no write, changed = 1 write round trip`, async () => {
        const client = await connect()
        const sessions = app({ client, userKey: index ? 'userId' : false })
        const jar = new Jar()
        // Warm up: scripts loaded, connection ready; steady state is what counts.
        await jar.request(sessions, '/login')
        await jar.request(sessions, '/set/warm')

        const login = await cost(proxy, server.port, () => new Jar().request(sessions, '/login'))
        const load = await cost(proxy, server.port, () => jar.request(sessions, '/peek'))
        await jar.request(sessions, '/set/dark')
        const unchanged = await cost(proxy, server.port, () => jar.request(sessions, '/set/dark'))
        const changed = await cost(proxy, server.port, () => jar.request(sessions, '/set/light'))
        const anon = new Jar()
        await anon.request(sessions, '/anon')
        const anonChanged = await cost(proxy, server.port, () => anon.request(sessions, '/set/x'))
        expect(load).toEqual({ sent: { GET: 1 }, roundTrips: 1, server: { get: 1 } })
        expect(unchanged).toEqual({ sent: { GET: 1 }, roundTrips: 1, server: { get: 1 } })
        const writes = index ? 2 : 1
        // Login: one SET (+ the index script), in one round trip.
        expect(login.sent).toEqual(index ? { SET: 1, EVALSHA: 1 } : { SET: 1 })
        expect(login.roundTrips).toBe(1)
        // Changed: the load, then one round trip carrying the patch (+ the index script).
        expect(changed.sent).toEqual({ GET: 1, EVALSHA: writes })
        expect(changed.roundTrips).toBe(2)
        expect(changed.server.evalsha).toBe(writes)
        expect(changed.server.set).toBe(1)
        // An anonymous session (no userId) never touches the index.
        expect(anonChanged.sent).toEqual({ GET: 1, EVALSHA: 1 })
        expect(anonChanged.roundTrips).toBe(2)
        expect(await (await jar.request(sessions, '/peek')).text()).toBe('u1')
        // Logout: the load, then one DEL; the index is cleaned lazily.
        const logout = await cost(proxy, server.port, () => jar.request(sessions, '/logout'))
        expect(logout.sent).toEqual({ GET: 1, DEL: 1 })
        expect(logout.roundTrips).toBe(2)
      })
    }
  }

  it('ioredis Cluster: the same commands, the index write in parallel on its own node', async () => {
    const sessions = app({ client: ioCluster })
    const jar = new Jar()
    await jar.request(sessions, '/login')
    await jar.request(sessions, '/set/warm')
    const total = async () => {
      const all = await Promise.all(cluster.nodes.map((n) => commandStats(n.port)))
      const sum: Record<string, number> = {}
      for (const stats of all) {
        for (const [k, v] of Object.entries(stats)) {
          if (k !== 'info' && k !== 'config|resetstat') sum[k] = (sum[k] ?? 0) + v
        }
      }
      return sum
    }
    const reset = () =>
      Promise.all(cluster.nodes.map((n) => redisCommand(n.port, ['CONFIG', 'RESETSTAT'])))
    await reset()
    await jar.request(sessions, '/peek')
    expect(await total()).toEqual({ get: 1 })
    await reset()
    await jar.request(sessions, '/set/dark')
    const changed = await total()
    expect(changed.evalsha).toBe(2)
    expect(changed.get).toBeGreaterThanOrEqual(2) // the load, and the patch script's own GET
  })
})
