// Who can write to the revocation list: logout and regenerate of a session with a user write
// one entry; those of an anonymous session, which anyone can make by the thousand, write none
// (issue 12, item 4). Counted on real stores: a Map, memoryStore, and redisStore on a real
// redis-server (the server's own SET count).
import { Hono } from 'hono'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { SessionEngine } from '../src/core/engine.ts'
import { sessionRevocation } from '../src/core/revocation.ts'
import type { SessionRecord, SessionStore } from '../src/core/types.ts'
import { memoryStore } from '../src/stores/memory.ts'
import { redisStore } from '../src/stores/redis.ts'
import { attackReport } from './attack-report.ts'
import { commandStats, type RedisServer, startRedis } from './servers/redis.ts'
import { Jar, type Requestable, requestOf, SECRET, testClock } from './support.ts'

const report = attackReport()
let server: RedisServer
let redis: Redis

beforeAll(async () => {
  server = await startRedis()
  redis = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true })
  await redis.connect()
}, 30_000)

afterAll(async () => {
  report.write()
  await redis?.quit().catch(() => undefined)
  await server?.stop()
})

/** A real store for the list, and how many entries its backend says were written. */
interface Backend {
  name: string
  make(): Promise<{ store: SessionStore | Map<string, unknown>; written(): Promise<number> }>
}

let namespace = 0
const backends: Backend[] = [
  {
    name: 'Map',
    async make() {
      const map = new Map<string, unknown>()
      return { store: map, written: async () => map.size }
    },
  },
  {
    name: 'memoryStore',
    async make() {
      const store = memoryStore({ sweepInterval: 0 })
      return { store, written: async () => store.size }
    },
  },
  {
    name: 'redisStore',
    async make() {
      const prefix = `revoked${++namespace}:`
      const sets = async () => (await commandStats(server.port)).set ?? 0
      const before = await sets()
      // The server's count of SET commands: every entry the list writes is one.
      return {
        store: redisStore({ client: redis, prefix }),
        written: async () => (await sets()) - before,
      }
    },
  },
]

/**
 * An app with a revocation list: anonymous carts, logins, logouts. The device registry that
 * memoryStore and redisStore would also keep (an entry per login, gone at logout) is off: these
 * count revocation entries; test/revocation-devices.test.ts counts the registry's.
 */
function shop(store: SessionStore | Map<string, unknown>) {
  const revocation = sessionRevocation({ store, devices: false })
  const app = new Hono()
    .use(session({ secret: SECRET, revocation }))
    .post('/cart', (c) => {
      c.session.cart = [...((c.session.cart as string[] | undefined) ?? []), 'item']
      return c.text(c.session.id)
    })
    .post('/login/:user', async (c) => {
      await c.session.regenerate()
      c.session.userId = c.req.param('user')
      return c.text(c.session.id)
    })
    .post('/regenerate', async (c) => {
      await c.session.regenerate()
      return c.text(c.session.id)
    })
    .post('/logout', (c) => {
      c.session = null
      return c.text('bye')
    })
    .post('/login-then-logout', (c) => {
      c.session.userId = 'alice'
      c.session.destroy()
      return c.text('bye')
    })
    .get('/', (c) =>
      c.json({ isNew: c.session.isNew, userId: c.session.userId ?? null, cart: c.session.cart }),
    )
  return { app, revocation }
}

const copyOf = (jar: Jar) => {
  const copy = new Jar()
  for (const [k, v] of jar.cookies) copy.cookies.set(k, v)
  return copy
}
const look = async (app: Requestable, jar: Jar) =>
  (await (await jar.request(app, '/')).json()) as {
    isNew: boolean
    userId: string | null
    cart?: string[]
  }

for (const backend of backends) {
  describe(`revocation entries on ${backend.name}`, () => {
    it('destroy() and regenerate() of an anonymous session write nothing; its copies stay anonymous', async () => {
      const { store, written } = await backend.make()
      const { app } = shop(store)
      const visitor = new Jar()
      await visitor.request(app, '/cart', { method: 'POST' })
      const copy = copyOf(visitor)
      await visitor.request(app, '/logout', { method: 'POST' })
      const other = new Jar()
      await other.request(app, '/cart', { method: 'POST' })
      await other.request(app, '/regenerate', { method: 'POST' })
      expect(await written()).toBe(0)
      // The copy opens as what it always was: an anonymous cart, no user.
      expect(await look(app, copy)).toEqual({ isNew: false, userId: null, cart: ['item'] })
    })

    it('a login from an anonymous session writes nothing: the pre-login copy opens, without the user', async () => {
      const { store, written } = await backend.make()
      const { app } = shop(store)
      const jar = new Jar()
      await jar.request(app, '/cart', { method: 'POST' })
      const preLogin = copyOf(jar)
      await jar.request(app, '/login/alice', { method: 'POST' })
      expect(await written()).toBe(0)
      expect(await look(app, jar)).toEqual({ isNew: false, userId: 'alice', cart: ['item'] })
      expect(await look(app, preLogin)).toEqual({ isNew: false, userId: null, cart: ['item'] })
    })

    it('logout and regenerate of a session with a user write one entry each, and its copies die', async () => {
      const { store, written } = await backend.make()
      const { app } = shop(store)
      const jar = new Jar()
      await jar.request(app, '/login/alice', { method: 'POST' })
      const beforeRegenerate = copyOf(jar)
      await jar.request(app, '/regenerate', { method: 'POST' })
      expect(await written()).toBe(1)
      const beforeLogout = copyOf(jar)
      await jar.request(app, '/logout', { method: 'POST' })
      expect(await written()).toBe(2)
      for (const copy of [beforeRegenerate, beforeLogout]) {
        expect(await look(app, copy)).toEqual({ isNew: true, userId: null })
      }
    })

    it('a user set and destroyed in the same request writes nothing: no cookie with the user was sent', async () => {
      const { store, written } = await backend.make()
      const { app } = shop(store)
      const jar = new Jar()
      await jar.request(app, '/cart', { method: 'POST' })
      await jar.request(app, '/login-then-logout', { method: 'POST' })
      expect(await written()).toBe(0)
    })

    it('a flood of anonymous sessions made and logged out grows nothing', async () => {
      const count = report.count(
        'revocation list growth: anonymous sessions destroyed or regenerated',
        'rejected: no entry written; accepted: the control, a logged-in logout, written',
      )
      const { store, written } = await backend.make()
      const { app } = shop(store)
      for (let i = 0; i < 30; i++) {
        const attacker = new Jar()
        await attacker.request(app, '/cart', { method: 'POST' })
        count.run++
        await attacker.request(app, i % 2 === 0 ? '/logout' : '/regenerate', { method: 'POST' })
        if ((await written()) === 0) count.rejected++
      }
      expect(await written()).toBe(0)
      // A control: one logout by a logged-in user is written.
      const user = new Jar()
      await user.request(app, '/login/mallory', { method: 'POST' })
      count.run++
      await user.request(app, '/logout', { method: 'POST' })
      expect(await written()).toBe(1)
      count.accepted++
    })
  })
}

describe('what counts as a user', () => {
  it('any value under the list userKey does (a number, an object), but not null or ""', async () => {
    for (const [userKey, data, expected] of [
      ['userId', { userId: 42 }, 1],
      ['userId', { userId: { id: 7 } }, 1],
      ['userId', { userId: '' }, 0],
      ['userId', { userId: null }, 0],
      ['account', { userId: 'alice' }, 0],
      ['account', { account: 'acme' }, 1],
    ] as const) {
      const map = new Map<string, unknown>()
      const engine = new SessionEngine({
        secret: SECRET,
        revocation: sessionRevocation({ store: map, userKey }),
      })
      const first = await engine.load(requestOf(), undefined)
      Object.assign(first.session, data)
      const cookie = (await engine.commit(first, undefined)).headers[0]![1].split(';', 1)[0]!
      const state = await engine.load(requestOf(cookie), undefined)
      state.session.destroy()
      await engine.commit(state, undefined)
      expect([userKey, data, map.size]).toEqual([userKey, data, expected])
    }
  })

  it('a cookie written with a user earlier in the same request (a second commit) is revoked on destroy', async () => {
    const map = new Map<string, unknown>()
    const engine = new SessionEngine({
      secret: SECRET,
      revocation: sessionRevocation({ store: map }),
    })
    const state = await engine.load(requestOf(), undefined)
    state.session.userId = 'alice'
    const sent = (await engine.commit(state, undefined)).headers[0]![1].split(';', 1)[0]!
    state.session.destroy()
    await engine.commit(state, undefined)
    expect(map.size).toBe(1)
    expect((await engine.load(requestOf(sent), undefined)).isNew).toBe(true)
  })
})

describe('entries on Redis count their TTL from the list clock', () => {
  it('an admin list with its own clock writes a 400-day TTL (plus 60 s)', async () => {
    // Ten days behind the server's clock: the TTL must count from the list's.
    const clock = testClock(Date.now() - 10 * 86_400_000)
    const prefix = `revoked${++namespace}:`
    const list = sessionRevocation({ store: redisStore({ client: redis, prefix }), now: clock.now })
    await list.revokeUser('alice')
    const ttl = await redis.pttl(`${prefix}user:alice`)
    const expected = (400 * 86_400 + 60) * 1000
    expect(ttl).toBeGreaterThan(expected - 5000)
    expect(ttl).toBeLessThanOrEqual(expected)
    const stored = JSON.parse((await redis.get(`${prefix}user:alice`))!) as SessionRecord
    expect(stored.expiresAt - stored.createdAt).toBe(expected)
  })
})
