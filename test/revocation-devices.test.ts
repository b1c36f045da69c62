// Devices in sealed mode: a revocation list over a store with a per-user index registers each
// login there, lists a user's sessions and ends exactly one. Run on the real stores (memory,
// redis-server, SQLite, PostgreSQL) through a Hono app served over HTTP.
import { Hono } from 'hono'
import { Redis } from 'ioredis'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { SessionConfigError, SessionStoreError } from '../src/core/errors.ts'
import { type SessionRevocationOptions, sessionRevocation } from '../src/core/revocation.ts'
import type {
  InvalidReason,
  SealedSessionInfo,
  SessionDevices,
  SessionRevocation,
  SessionStore,
  UserSessionIndex,
} from '../src/core/types.ts'
import { memoryStore } from '../src/stores/memory.ts'
import { postgresStore } from '../src/stores/postgres.ts'
import { redisStore } from '../src/stores/redis.ts'
import { type SqliteDatabase, sqliteStore } from '../src/stores/sqlite.ts'
import { type Listening, listen } from './adapters/http.ts'
import { type PostgresServer, startPostgres } from './servers/postgres.ts'
import { type RedisServer, startRedis } from './servers/redis.ts'
import { Jar, type Requestable, SECRET, testClock } from './support.ts'

type Clock = ReturnType<typeof testClock>
type DeviceList = SessionRevocation & SessionDevices
type IndexStore = SessionStore & UserSessionIndex

const LAPTOP = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0'
const PHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1'

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined'
// A variable specifier, so Vite does not try to resolve a Bun built-in under Node.
const BUN_SQLITE = 'bun:sqlite'
let Sqlite: new (file: string) => SqliteDatabase

let redis: RedisServer
let redisClient: Redis
let postgres: PostgresServer
let pool: pg.Pool
const servers: Listening[] = []

beforeAll(async () => {
  ;[redis, postgres] = await Promise.all([startRedis(), startPostgres()])
  redisClient = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true })
  await redisClient.connect()
  pool = new pg.Pool({ connectionString: postgres.url, max: 4 })
  pool.on('error', () => {})
  Sqlite = isBun
    ? ((await import(BUN_SQLITE)) as { Database: typeof Sqlite }).Database
    : ((await import('better-sqlite3')).default as unknown as typeof Sqlite)
}, 60_000)

afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
  redisClient?.disconnect()
  await pool?.end()
  await Promise.allSettled([redis?.stop(), postgres?.stop()])
}, 60_000)

let n = 0
/** A fresh namespace per test: a key prefix or table name no other test uses. */
const fresh = () => `t${++n}_${Math.random().toString(36).slice(2, 8)}`

/** Each backend, a store of its own per call, on the test's clock. */
const backends: { name: string; store: (clock: Clock) => IndexStore }[] = [
  { name: 'memoryStore', store: (clock) => memoryStore({ now: clock.now }) },
  {
    name: 'redisStore (redis-server)',
    store: (clock) =>
      redisStore({ client: redisClient, prefix: `${fresh()}:revoked:`, now: clock.now }),
  },
  {
    name: `sqliteStore (${isBun ? 'bun:sqlite' : 'better-sqlite3'})`,
    store: (clock) => sqliteStore({ db: new Sqlite(':memory:'), now: clock.now }),
  },
  {
    name: 'postgresStore (pg, PostgreSQL)',
    store: (clock) => postgresStore({ client: pool, table: `revoked_${fresh()}`, now: clock.now }),
  },
]

type Body = { id: string; isNew: boolean; userId: string | number | null }

/** An app served over HTTP whose jars reach it through fetch(), as a browser would. */
async function device(
  revocation: DeviceList,
  clock: Clock,
  options: { idleTimeout?: number } = {},
) {
  const onInvalid = vi.fn<(reason: InvalidReason) => void>()
  const app = new Hono()
    .use(session({ secret: SECRET, revocation, onInvalid, now: clock.now, ...options }))
    .post('/login/:user', async (c) => {
      await c.session.regenerate()
      const user = c.req.param('user')
      c.session.userId = /^\d+$/.test(user) ? Number(user) : user
      return c.text(c.session.id)
    })
    .post('/logout', (c) => {
      c.session = null
      return c.text('bye')
    })
    .post('/note', (c) => {
      c.session.note = c.req.query('v') ?? 'x'
      return c.text('ok')
    })
    .post('/sign-out/:id', async (c) =>
      c.json(await revocation.destroySession(c.session.userId, c.req.param('id'))),
    )
    .post('/sign-out-others', async (c) =>
      c.json(await revocation.destroyUserSessions(c.session.userId, { except: c.session.id })),
    )
    .get('/devices', async (c) => c.json(await revocation.listSessions(c.session.userId)))
    .get('/', (c) =>
      c.json({ id: c.session.id, isNew: c.session.isNew, userId: c.session.userId ?? null }),
    )
  const server = await listen(app.fetch)
  servers.push(server)
  const http: Requestable = {
    request: (url, init) => fetch(url.replace('http://localhost', server.base), init),
  }
  /** A browser with its own cookie jar and User-Agent. */
  const browser = (userAgent: string) => {
    const jar = new Jar()
    const send = (path: string, init: RequestInit = {}) =>
      jar.request(http, path, { ...init, headers: { 'user-agent': userAgent, ...init.headers } })
    return {
      jar,
      send,
      async login(user: string | number) {
        return (await send(`/login/${user}`, { method: 'POST' })).text()
      },
      async state() {
        return (await (await send('/')).json()) as Body
      },
    }
  }
  return { browser, onInvalid }
}

for (const { name, store: makeStore } of backends)
  describe(`devices over ${name}`, () => {
    const setup = (clock = testClock(), options: Omit<SessionRevocationOptions, 'store'> = {}) => {
      const store = makeStore(clock)
      const revocation = sessionRevocation({ store, now: clock.now, ...options })
      return { store, revocation, clock }
    }

    it('two logins of one user are listed with their user agents; another user sees only theirs', async () => {
      const { revocation, clock } = setup()
      const app = await device(revocation, clock)
      const laptop = app.browser(LAPTOP)
      const phone = app.browser(PHONE)
      const bob = app.browser(LAPTOP)
      const laptopId = await laptop.login('alice')
      clock.advance(5)
      const phoneId = await phone.login('alice')
      const bobId = await bob.login('bob')
      const list = await revocation.listSessions('alice')
      expect(list.map((s) => [s.id, s.userAgent, s.userId])).toEqual([
        [phoneId, PHONE, 'alice'],
        [laptopId, LAPTOP, 'alice'],
      ])
      const start = Date.UTC(2026, 0, 1)
      expect(list[1]).toMatchObject({ createdAt: start, lastSeenAt: start })
      expect(list[0]).toMatchObject({ createdAt: start + 5000, lastSeenAt: start + 5000 })
      // The deadline of the session: maxAge (1 day) from its login.
      expect(list[0]!.expiresAt).toBe(start + 5000 + 86_400_000)
      expect((await revocation.listSessions('bob')).map((s) => s.id)).toEqual([bobId])
      // The route an app would write, through the session of the user asking.
      const devices = (await (await laptop.send('/devices')).json()) as SealedSessionInfo[]
      expect(devices.map((s) => s.id)).toEqual([phoneId, laptopId])
    })

    it('destroySession of the other device: its next request is a fresh session (revoked), this one stays', async () => {
      const { revocation, clock } = setup()
      const app = await device(revocation, clock)
      const laptop = app.browser(LAPTOP)
      const phone = app.browser(PHONE)
      const laptopId = await laptop.login('alice')
      const phoneId = await phone.login('alice')
      clock.advance(1)
      const res = await laptop.send(`/sign-out/${phoneId}`, { method: 'POST' })
      expect(await res.json()).toBe(true)
      expect(app.onInvalid).not.toHaveBeenCalled()
      expect(await phone.state()).toMatchObject({ isNew: true, userId: null })
      expect(app.onInvalid).toHaveBeenCalledWith('revoked', expect.anything())
      expect(await laptop.state()).toEqual({ id: laptopId, isNew: false, userId: 'alice' })
      expect((await revocation.listSessions('alice')).map((s) => s.id)).toEqual([laptopId])
      // Once is enough: the same id again ends nothing.
      expect(await revocation.destroySession('alice', phoneId)).toBe(false)
    })

    it("another user's session id: false, and that session keeps working", async () => {
      const { revocation, clock } = setup()
      const app = await device(revocation, clock)
      const alice = app.browser(LAPTOP)
      const mallory = app.browser(PHONE)
      const aliceId = await alice.login('alice')
      await mallory.login('mallory')
      clock.advance(1)
      expect(await (await mallory.send(`/sign-out/${aliceId}`, { method: 'POST' })).json()).toBe(
        false,
      )
      expect(await revocation.destroySession('mallory', aliceId)).toBe(false)
      expect(await revocation.destroySession('alice', 'not-a-session')).toBe(false)
      expect(await revocation.destroySession('alice', undefined as unknown as string)).toBe(false)
      expect(await alice.state()).toEqual({ id: aliceId, isNew: false, userId: 'alice' })
      expect(await revocation.isRevoked({ id: aliceId, userId: 'alice', createdAt: 0 })).toBe(false)
      expect((await revocation.listSessions('alice')).map((s) => s.id)).toEqual([aliceId])
    })

    it('destroyUserSessions(user, { except }) ends and unlists the others; a bare id is refused', async () => {
      const { revocation, clock } = setup()
      const app = await device(revocation, clock)
      const laptop = app.browser(LAPTOP)
      const phone = app.browser(PHONE)
      const tablet = app.browser(PHONE)
      const laptopId = await laptop.login('alice')
      await phone.login('alice')
      await tablet.login('alice')
      clock.advance(1)
      // The slip of a missing `{ except: … }` would end this very session too.
      await expect(revocation.destroyUserSessions('alice', laptopId as never)).rejects.toThrow(
        /options object/,
      )
      await expect(revocation.revokeUser('alice', laptopId as never)).rejects.toThrow(TypeError)
      expect(await revocation.listSessions('alice')).toHaveLength(3)
      expect(await (await laptop.send('/sign-out-others', { method: 'POST' })).json()).toBe(2)
      expect(await phone.state()).toMatchObject({ isNew: true })
      expect(await tablet.state()).toMatchObject({ isNew: true })
      expect(await laptop.state()).toMatchObject({ id: laptopId, isNew: false })
      expect((await revocation.listSessions('alice')).map((s) => s.id)).toEqual([laptopId])
      // A later login is a new device, listed and working.
      clock.advance(1)
      const again = await phone.login('alice')
      expect((await revocation.listSessions('alice')).map((s) => s.id).sort()).toEqual(
        [laptopId, again].sort(),
      )
    })

    it('logout and a new login unregister the old session; revokeUser() alone takes them off the list', async () => {
      const { revocation, clock } = setup()
      const app = await device(revocation, clock)
      const laptop = app.browser(LAPTOP)
      const first = await laptop.login('alice')
      clock.advance(1)
      const second = await laptop.login('alice')
      expect(second).not.toBe(first)
      expect((await revocation.listSessions('alice')).map((s) => s.id)).toEqual([second])
      await laptop.send('/logout', { method: 'POST' })
      expect(await revocation.listSessions('alice')).toEqual([])
      const phone = app.browser(PHONE)
      await phone.login('alice')
      clock.advance(1)
      await revocation.revokeUser('alice')
      expect(await revocation.listSessions('alice')).toEqual([])
      expect(await phone.state()).toMatchObject({ isNew: true })
    })

    it('user ids compare by their string form: 42 and "42" are one user', async () => {
      const { revocation, clock } = setup()
      const app = await device(revocation, clock)
      const laptop = app.browser(LAPTOP)
      const phone = app.browser(PHONE)
      const laptopId = await laptop.login(42)
      const phoneId = await phone.login(42)
      expect(await laptop.state()).toMatchObject({ userId: 42 })
      expect((await revocation.listSessions(42)).map((s) => s.id).sort()).toEqual(
        [laptopId, phoneId].sort(),
      )
      expect((await revocation.listSessions('42')).map((s) => s.userId)).toEqual(['42', '42'])
      clock.advance(1)
      expect(await revocation.destroySession('42', phoneId)).toBe(true)
      expect(await phone.state()).toMatchObject({ isNew: true })
      expect(await revocation.destroyUserSessions(42)).toBe(1)
      expect(await laptop.state()).toMatchObject({ isNew: true })
    })

    it('lastSeenAt moves on reads at most once per touchAfter, and not at all with 0', async () => {
      for (const touchAfter of [undefined, 0]) {
        const { revocation, clock } = setup(testClock(), { touchAfter })
        const app = await device(revocation, clock)
        const laptop = app.browser(LAPTOP)
        await laptop.login('alice')
        const login = (await revocation.listSessions('alice'))[0]!.lastSeenAt
        clock.advance(30)
        await laptop.state()
        expect((await revocation.listSessions('alice'))[0]!.lastSeenAt).toBe(login)
        clock.advance(31)
        await laptop.state()
        const seen = (await revocation.listSessions('alice'))[0]!.lastSeenAt
        expect(seen).toBe(touchAfter === 0 ? login : login + 61_000)
      }
    })

    it('entries expire with their session (absolute and idle deadlines)', async () => {
      const { revocation, clock } = setup()
      const app = await device(revocation, clock)
      const laptop = app.browser(LAPTOP)
      await laptop.login('alice')
      clock.advance(86_400 - 1)
      expect(await revocation.listSessions('alice')).toHaveLength(1)
      clock.advance(1)
      expect(await revocation.listSessions('alice')).toEqual([])
      expect(await laptop.state()).toMatchObject({ isNew: true })

      const idle = setup()
      const idleApp = await device(idle.revocation, idle.clock, { idleTimeout: 600 })
      const phone = idleApp.browser(PHONE)
      await phone.login('alice')
      // A request each 8 minutes: rolling refresh moves the idle deadline, and the entry with it.
      for (let i = 0; i < 4; i++) {
        idle.clock.advance(480)
        expect(await phone.state()).toMatchObject({ isNew: false })
      }
      const listed = await idle.revocation.listSessions('alice')
      expect(listed).toHaveLength(1)
      expect(listed[0]!.expiresAt).toBeGreaterThan(idle.clock.now())
      idle.clock.advance(600)
      expect(await idle.revocation.listSessions('alice')).toEqual([])
    })
  })

describe('store calls per request', () => {
  /** memoryStore with every call counted by method name. */
  function counted(clock: Clock) {
    const store = memoryStore({ now: clock.now })
    const calls: string[] = []
    const proxy = new Proxy(store, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver)
        if (typeof value !== 'function' || typeof key !== 'string') return value
        return (...args: unknown[]) => {
          calls.push(`${key} ${String(args[0]).slice(0, 4)}`)
          return value.apply(target, args)
        }
      },
    })
    return { store: proxy, calls }
  }

  it('login, plain read, read after the window, write, logout: exactly these calls', async () => {
    const clock = testClock()
    const { store, calls } = counted(clock)
    const revocation = sessionRevocation({ store, now: clock.now })
    const app = await device(revocation, clock)
    const laptop = app.browser(LAPTOP)
    const costs: Record<string, string[]> = {}
    const measure = async (name: string, request: () => Promise<unknown>) => {
      calls.length = 0
      await request()
      costs[name] = [...calls]
    }
    await measure('login', () => laptop.login('alice'))
    const id = (await laptop.state()).id
    await measure('read', () => laptop.state())
    clock.advance(59)
    await measure('read 59 s later', () => laptop.state())
    clock.advance(2)
    await measure('read after the window', () => laptop.state())
    await measure('read right after', () => laptop.state())
    await measure('a write', () => laptop.send('/note', { method: 'POST' }))
    await measure('logout', () => laptop.send('/logout', { method: 'POST' }))
    expect(id).toMatch(/^[\w-]{32}$/)
    expect(costs).toEqual({
      // An anonymous first visit: nothing to look up; the login registers the session.
      login: ['set dev:'],
      // The two lookups revocation always makes (by id, by user), and nothing else.
      read: ['get sid:', 'get user'],
      'read 59 s later': ['get sid:', 'get user'],
      'read after the window': ['get sid:', 'get user', 'set dev:'],
      'read right after': ['get sid:', 'get user'],
      // A seal that moves nothing the entry holds (no idleTimeout) writes nothing more.
      'a write': ['get sid:', 'get user'],
      // The revocation, then the entry goes.
      logout: ['get sid:', 'get user', 'set sid:', 'delete dev:'],
    })
  })

  it('two instances (two lists over one store) each write last-seen at most once per window', async () => {
    const clock = testClock()
    const { store, calls } = counted(clock)
    const a = await device(sessionRevocation({ store, now: clock.now }), clock)
    const b = await device(sessionRevocation({ store, now: clock.now }), clock)
    const onA = a.browser(LAPTOP)
    await onA.login('alice')
    // The same cookie, sent to the other instance as a balancer would.
    const onB = b.browser(LAPTOP)
    for (const [k, v] of onA.jar.cookies) onB.jar.cookies.set(k, v)
    clock.advance(1)
    const writes: number[] = []
    // A request every 5 s for 70 s, alternating between the instances.
    for (let i = 0; i < 14; i++) {
      clock.advance(5)
      calls.length = 0
      await (i % 2 ? onA : onB).state()
      if (calls.includes('set dev:')) writes.push((clock.now() - Date.UTC(2026, 0, 1)) / 1000)
    }
    // B had never written it: at once (6 s), then 60 s later (66 s); A wrote it at login, so
    // 60 s after that (61 s).
    expect(writes).toEqual([6, 61, 66])
  })

  it('with idleTimeout a seal moves the deadline, so it writes the entry; a read still does not', async () => {
    const clock = testClock()
    const { store, calls } = counted(clock)
    const revocation = sessionRevocation({ store, now: clock.now })
    const app = await device(revocation, clock, { idleTimeout: 600 })
    const laptop = app.browser(LAPTOP)
    await laptop.login('alice')
    clock.advance(1)
    calls.length = 0
    await laptop.state()
    expect(calls).toEqual(['get sid:', 'get user'])
    calls.length = 0
    await laptop.send('/note', { method: 'POST' })
    expect(calls).toEqual(['get sid:', 'get user', 'set dev:'])
    // A login again on the same browser: the old session revoked and unlisted, the new one listed.
    clock.advance(1)
    calls.length = 0
    await laptop.login('alice')
    expect(calls).toEqual(['get sid:', 'get user', 'set sid:', 'delete dev:', 'set dev:'])
  })

  it('over Redis: the commands of each request, as redis-server saw them', async () => {
    const clock = testClock(Date.now())
    const prefix = `${fresh()}:`
    const revocation = sessionRevocation({
      store: redisStore({ client: redisClient, prefix, now: clock.now }),
      now: clock.now,
    })
    const monitor = await redisClient.duplicate().monitor()
    const seen: string[] = []
    // What clients sent: not the commands a script runs inside the server.
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      const key = args.find((a) => a.startsWith(prefix))
      if (!key || source.includes('lua')) return
      seen.push(`${args[0]!.toUpperCase()} ${key.slice(prefix.length, prefix.length + 4)}`)
    })
    const app = await device(revocation, clock)
    // A first login loads the index script into the server (EVALSHA, NOSCRIPT, EVAL).
    await app.browser(PHONE).login('bob')
    const laptop = app.browser(LAPTOP)
    const costs: Record<string, string[]> = {}
    const measure = async (name: string, request: () => Promise<unknown>) => {
      await new Promise((r) => setTimeout(r, 30))
      seen.length = 0
      await request()
      await new Promise((r) => setTimeout(r, 30))
      costs[name] = [...seen]
    }
    await measure('login', () => laptop.login('alice'))
    await measure('read', () => laptop.state())
    clock.advance(61)
    await measure('read after the window', () => laptop.state())
    await measure('a write', () => laptop.send('/note', { method: 'POST' }))
    clock.advance(1)
    await measure('login again', () => laptop.login('alice'))
    await measure('logout', () => laptop.send('/logout', { method: 'POST' }))
    const idle = await device(revocation, clock, { idleTimeout: 600 })
    const phone = idle.browser(PHONE)
    await phone.login('alice')
    clock.advance(1)
    await measure('a write with idleTimeout', () => phone.send('/note', { method: 'POST' }))
    monitor.disconnect()
    const read = ['GET sid:', 'GET user']
    const entry = ['SET dev:', 'EVALSHA user']
    expect(costs).toEqual({
      // The entry and its index line, in one round trip.
      login: entry,
      read,
      'read after the window': [...read, ...entry],
      'a write': read,
      'login again': [...read, 'SET sid:', 'DEL dev:', ...entry],
      logout: [...read, 'SET sid:', 'DEL dev:'],
      'a write with idleTimeout': [...read, ...entry],
    })
  })
})

describe('lists without a device registry', () => {
  const db = {
    get: () => undefined,
    set: () => undefined,
    delete: () => undefined,
  }

  it('a Map, a db-object store, or devices: false keep revoke/revokeUser only; device calls reject clearly', async () => {
    const lists = [
      sessionRevocation({ store: new Map() }),
      sessionRevocation({ store: db }),
      sessionRevocation({ store: memoryStore(), devices: false }),
    ] as unknown as DeviceList[]
    for (const list of lists) {
      expect(list.seen).toBeUndefined()
      await expect(list.listSessions('alice')).rejects.toThrow(SessionConfigError)
      await expect(list.listSessions('alice')).rejects.toThrow(
        /listSessions\(\) needs a device registry/,
      )
      await expect(list.destroySession('alice', 'x')).rejects.toThrow(SessionConfigError)
      await expect(list.destroyUserSessions('alice', {})).rejects.toThrow(SessionConfigError)
      await list.revokeUser('alice')
      await list.revoke('x'.repeat(32))
    }
    // A redisStore with its index off keeps none either.
    const off = sessionRevocation({
      store: redisStore({ client: redisClient, prefix: `${fresh()}:`, userKey: false }),
    }) as unknown as DeviceList
    await expect(off.listSessions('alice')).rejects.toThrow(/a store without a per-user index/)
  })

  it('a Map list writes nothing at login, as before', async () => {
    const clock = testClock()
    const map = new Map<string, unknown>()
    const revocation = sessionRevocation({ store: map, now: clock.now })
    const app = await device(revocation as DeviceList, clock)
    await app.browser(LAPTOP).login('alice')
    expect(map.size).toBe(0)
  })

  it('options are checked', () => {
    const paths = (options: Partial<SessionRevocationOptions>) => {
      try {
        sessionRevocation({ store: memoryStore(), ...options })
      } catch (err) {
        return (err as SessionConfigError).issues.map((i) => i.path)
      }
      return []
    }
    expect(paths({ touchAfter: -1 })).toEqual(['touchAfter'])
    expect(paths({ touchAfter: Number.POSITIVE_INFINITY })).toEqual(['touchAfter'])
    expect(paths({ devices: 'yes' as never })).toEqual(['devices'])
    expect(paths({ touchAfter: 0, devices: true })).toEqual([])
  })
})

describe('what the registry holds', () => {
  it('anonymous sessions made, changed, read and logged out register nothing; a login one entry, its logout none', async () => {
    const clock = testClock()
    const store = memoryStore({ now: clock.now, sweepInterval: 0 })
    const revocation = sessionRevocation({ store, now: clock.now })
    const app = await device(revocation, clock)
    for (let i = 0; i < 10; i++) {
      const visitor = app.browser(PHONE)
      await visitor.send('/note', { method: 'POST' })
      await visitor.state()
      clock.advance(61)
      await visitor.state()
      await visitor.send(i % 2 ? '/logout' : '/note', { method: 'POST' })
    }
    expect(store.size).toBe(0)
    const user = app.browser(LAPTOP)
    const id = await user.login('alice')
    expect(store.size).toBe(1)
    expect(store.get(`dev:${id}`)?.data).toEqual({ userId: '\u0001alice' })
    await user.send('/logout', { method: 'POST' })
    // What is left is the revocation of the logged-out session.
    expect(store.size).toBe(1)
    expect(store.get(`dev:${id}`)).toBeUndefined()
    expect(store.get(`sid:${id}`)).toBeDefined()
  })
})

describe('a registry write that fails', () => {
  /** memoryStore whose `set` of registry entries fails while `down` is true. */
  function flaky(clock: Clock) {
    const store = memoryStore({ now: clock.now })
    const state = { down: false }
    const set = store.set.bind(store)
    store.set = (id, record, ctx, meta) => {
      if (state.down && id.startsWith('dev:')) throw new Error('READONLY replica')
      set(id, record, ctx, meta)
    }
    return { store, state }
  }

  it('on a read only costs the last-seen time: the request is answered, and tried again a window later', async () => {
    const clock = testClock()
    const { store, state } = flaky(clock)
    const revocation = sessionRevocation({ store, now: clock.now })
    const app = await device(revocation, clock)
    const laptop = app.browser(LAPTOP)
    const id = await laptop.login('alice')
    state.down = true
    clock.advance(61)
    const res = await laptop.send('/')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ id, isNew: false, userId: 'alice' })
    state.down = false
    clock.advance(30)
    await laptop.state()
    const login = Date.UTC(2026, 0, 1)
    expect((await revocation.listSessions('alice'))[0]!.lastSeenAt).toBe(login)
    clock.advance(31)
    await laptop.state()
    expect((await revocation.listSessions('alice'))[0]!.lastSeenAt).toBe(login + 122_000)
  })

  it('at login fails the request with SessionStoreError, as any store failure does', async () => {
    const clock = testClock()
    const { store, state } = flaky(clock)
    const revocation = sessionRevocation({ store, now: clock.now })
    const errors: unknown[] = []
    const app = new Hono()
      .use(session({ secret: SECRET, revocation, now: clock.now }))
      .post('/login', (c) => {
        c.session.userId = 'alice'
        return c.text('ok')
      })
    app.onError((err, c) => {
      errors.push(err)
      return c.text('error', 500)
    })
    state.down = true
    const res = await new Jar().request(app, '/login', { method: 'POST' })
    expect(res.status).toBe(500)
    expect(errors[0]).toBeInstanceOf(SessionStoreError)
    expect((errors[0] as SessionStoreError).operation).toBe('set')
    expect(res.headers.getSetCookie()).toEqual([])
  })
})

describe('entries that outlive their revocation', () => {
  it('a request that raced destroySession() and wrote last is not listed, and its entry goes', async () => {
    const clock = testClock()
    const store = memoryStore({ now: clock.now })
    const revocation = sessionRevocation({ store, now: clock.now }) as DeviceList
    const app = await device(revocation, clock)
    const phone = app.browser(PHONE)
    const phoneId = await phone.login('alice')
    const createdAt = clock.now()
    clock.advance(1)
    expect(await revocation.destroySession('alice', phoneId)).toBe(true)
    expect(store.get(`dev:${phoneId}`)).toBeUndefined()
    // The phone's request had passed its check before the revocation; its write lands after.
    clock.advance(61)
    const record = { data: { userId: 'alice' }, createdAt, expiresAt: createdAt + 86_400_000 }
    const request = { header: () => PHONE, url: () => 'http://localhost/' }
    await revocation.seen!({ ...record, sid: phoneId }, request, false)
    expect(store.get(`dev:${phoneId}`)).toBeDefined()
    expect(await revocation.listSessions('alice')).toEqual([])
    expect(store.get(`dev:${phoneId}`)).toBeUndefined()
    expect(await revocation.destroySession('alice', phoneId)).toBe(false)
  })

  it('revoke(id) unlists the session too', async () => {
    const clock = testClock()
    const revocation = sessionRevocation({ store: memoryStore({ now: clock.now }), now: clock.now })
    const app = await device(revocation, clock)
    const id = await app.browser(LAPTOP).login('alice')
    await revocation.revoke(id)
    expect(await revocation.listSessions('alice')).toEqual([])
  })
})

describe('registry entries and the list share a Redis prefix without meeting', () => {
  it("revokeUser() writes user:<id>, the key of redisStore's index for that id: the registry indexes a marked owner", async () => {
    const prefix = `${fresh()}:`
    const clock = testClock(Date.now())
    const revocation = sessionRevocation({
      store: redisStore({ client: redisClient, prefix, now: clock.now }),
      now: clock.now,
    })
    const app = await device(revocation, clock)
    const laptop = app.browser(LAPTOP)
    await laptop.login('alice')
    clock.advance(1)
    await revocation.revokeUser('alice')
    expect(await redisClient.type(`${prefix}user:alice`)).toBe('string')
    // The next login of alice (a millisecond later) registers and lists as before.
    clock.advance(0.001)
    const phone = app.browser(PHONE)
    const phoneId = await phone.login('alice')
    expect((await revocation.listSessions('alice')).map((s) => s.id)).toEqual([phoneId])
    await expect(revocation.revokeUser('\u0001alice')).rejects.toThrow(/U\+0001/)
  })

  it('Redis drops an entry itself when its session ends (PX of the remaining lifetime)', async () => {
    const prefix = `${fresh()}:`
    const clock = testClock(Date.now())
    const revocation = sessionRevocation({
      store: redisStore({ client: redisClient, prefix, now: clock.now }),
      now: clock.now,
    })
    const app = await device(revocation, clock, { idleTimeout: 600 })
    const id = await app.browser(LAPTOP).login('alice')
    const ttl = await redisClient.pttl(`${prefix}dev:${id}`)
    expect(ttl).toBeGreaterThan(595_000)
    expect(ttl).toBeLessThanOrEqual(600_000)
  })
})
