// What the device API costs each backend, counted on the real servers: Redis commands (sent, as a
// loopback proxy sees them; executed, from INFO commandstats) and round trips; SQL statements.
// Last seen on reads: nothing between throttle windows, one index write when one has passed.
import { Hono } from 'hono'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { session } from '../../src/adapters/hono.ts'
import type { SessionStore } from '../../src/core/types.ts'
import { postgresStore } from '../../src/stores/postgres.ts'
import { redisStore } from '../../src/stores/redis.ts'
import { type SqliteDatabase, sqliteStore } from '../../src/stores/sqlite.ts'
import { type PostgresServer, startPostgres } from '../servers/postgres.ts'
import {
  commandStats,
  type RedisProxy,
  type RedisServer,
  redisCommand,
  startRedis,
  startRedisProxy,
} from '../servers/redis.ts'
import { openSqlite } from '../servers/sqlite.ts'
import { Jar, SECRET, testClock } from '../support.ts'

type Clock = ReturnType<typeof testClock>

function app(store: SessionStore, clock: Clock) {
  return new Hono()
    .use(session({ secret: SECRET, store, now: clock.now }))
    .get('/login/:user', (c) => {
      c.session.userId = c.req.param('user')
      return c.text(c.session.id)
    })
    .get('/peek', (c) => c.text(c.session.userId ?? 'anon'))
}

const tally = (names: string[]) => {
  const out: Record<string, number> = {}
  for (const n of names) out[n] = (out[n] ?? 0) + 1
  return out
}

describe('Redis: commands per request', () => {
  let server: RedisServer
  let proxy: RedisProxy
  let client: Redis
  let n = 0

  beforeAll(async () => {
    server = await startRedis()
    proxy = await startRedisProxy(server.port)
    client = new Redis({ host: '127.0.0.1', port: proxy.port, lazyConnect: true })
    await client.connect()
  }, 30_000)

  afterAll(async () => {
    await client?.quit()
    await proxy?.close()
    await server?.stop()
  })

  /** Commands sent, round trips and commands executed by the server while `run` runs. */
  async function cost(run: () => Promise<unknown>) {
    await redisCommand(server.port, ['CONFIG', 'RESETSTAT'])
    proxy.reset()
    await run()
    const executed = await commandStats(server.port)
    delete executed['config|resetstat']
    delete executed.info
    return { sent: tally(proxy.commands()), roundTrips: proxy.roundTrips(), executed }
  }

  async function setup(touchAfter?: number) {
    const clock = testClock(Date.now())
    const prefix = `cost${++n}:`
    const store = redisStore({ client, prefix, now: clock.now, touchAfter })
    const sessions = app(store, clock)
    const jar = new Jar()
    const id = await (await jar.request(sessions, '/login/u1')).text()
    // Warm up: every script the server will run is loaded (EVALSHA, never EVAL, below).
    await store.touch(id)
    await store.destroySession('u1', 'warmup'.padEnd(32, '0'))
    const read = () => jar.request(sessions, '/peek')
    return { clock, store, read, id, jar }
  }

  it('touch on (60 s): an unchanged read is 1 GET; once a minute 1 GET + 1 index script', async () => {
    const { clock, read } = await setup()
    const only = { sent: { GET: 1 }, roundTrips: 1, executed: { get: 1 } }
    clock.advance(30)
    expect(await cost(read)).toEqual(only)
    clock.advance(30)
    expect(await cost(read)).toEqual({
      sent: { GET: 1, EVALSHA: 1 },
      roundTrips: 2,
      executed: { get: 1, evalsha: 1, hget: 1, hset: 1 },
    })
    for (const seconds of [1, 30, 28.999]) {
      clock.advance(seconds)
      expect(await cost(read)).toEqual(only)
    }
    clock.advance(0.001)
    expect((await cost(read)).sent).toEqual({ GET: 1, EVALSHA: 1 })
  })

  it('another process (a second store) reading a session within a minute of its last write: 1 GET', async () => {
    // Behind a load balancer most reads land on an instance that did not write the session.
    const { clock, id, jar } = await setup()
    const other = redisStore({ client, prefix: `cost${n}:`, now: clock.now })
    const there = app(other, clock)
    const readThere = async () =>
      (await there.request('/peek', { headers: { cookie: jar.header() } })).text()
    clock.advance(30)
    let seen = ''
    expect(await cost(async () => (seen = await readThere()))).toEqual({
      sent: { GET: 1 },
      roundTrips: 1,
      executed: { get: 1 },
    })
    expect(seen).toBe('u1')
    // The stored record carries its write time for this, and nothing of it reaches the session.
    const stored = await client.get(`cost${n}:${id}`)
    expect(JSON.parse(stored!).seen).toBeTypeOf('number')
    // Past the interval since that write, the other process touches once, then not again.
    clock.advance(30)
    expect((await cost(readThere)).sent).toEqual({ GET: 1, EVALSHA: 1 })
    expect((await cost(readThere)).sent).toEqual({ GET: 1 })
  })

  it('touch off (touchAfter: 0): every unchanged read is 1 GET, however long apart', async () => {
    const { clock, read } = await setup(0)
    for (let i = 0; i < 3; i++) {
      clock.advance(600)
      expect(await cost(read)).toEqual({ sent: { GET: 1 }, roundTrips: 1, executed: { get: 1 } })
    }
  })

  it('touchAfter 1 ms, reads 1 ms apart: every unchanged read is 1 GET + 1 index script', async () => {
    const { clock, read } = await setup(0.001)
    for (let i = 0; i < 3; i++) {
      clock.advance(0.001)
      expect((await cost(read)).sent).toEqual({ GET: 1, EVALSHA: 1 })
    }
  })

  it('listSessions: HGETALL + one MGET, two round trips, whatever the number of devices', async () => {
    const { store, clock } = await setup()
    const sessions = app(store, clock)
    for (let i = 0; i < 4; i++) await new Jar().request(sessions, '/login/u1')
    let list: unknown[] = []
    const spent = await cost(async () => {
      list = await store.listSessions('u1')
    })
    expect(list).toHaveLength(5)
    expect(spent).toEqual({
      sent: { HGETALL: 1, MGET: 1 },
      roundTrips: 2,
      executed: { hgetall: 1, mget: 1 },
    })
  })

  it('destroySession: one round trip (the owned-delete script and the index HDEL)', async () => {
    const { store, id } = await setup()
    const spent = await cost(async () => expect(await store.destroySession('u1', id)).toBe(true))
    expect(spent.sent).toEqual({ EVALSHA: 1, HDEL: 1 })
    expect(spent.roundTrips).toBe(1)
    expect(spent.executed).toEqual({ evalsha: 1, get: 1, del: 1, hdel: 1 })
  })
})

/** A better-sqlite3 database whose statements count their runs by verb (SELECT, UPDATE, …). */
async function countedSqlite() {
  const db = await openSqlite()
  const counts: Record<string, number> = {}
  const verb = (sql: string) => /^\s*(?:WITH\b[\s\S]*?\)\s*)?(\w+)/i.exec(sql)![1]!.toUpperCase()
  const counted: SqliteDatabase = {
    prepare(sql) {
      const statement = db.prepare(sql)
      const name = verb(sql)
      const count = <T>(call: () => T): T => {
        counts[name] = (counts[name] ?? 0) + 1
        return call()
      }
      return {
        run: (...p) => count(() => statement.run(...p)),
        get: (...p) => count(() => statement.get(...p)),
        all: (...p) => count(() => statement.all(...p)),
      }
    },
    transaction: (fn) => db.transaction(fn),
  }
  const reset = () => {
    for (const k of Object.keys(counts)) delete counts[k]
  }
  return { db: counted, counts, reset, close: () => db.close() }
}

describe('SQLite: statements per request', () => {
  it('an unchanged read is 1 SELECT; once past the interval, 1 SELECT + 1 UPDATE', async () => {
    const sqlite = await countedSqlite()
    const clock = testClock(Date.now())
    const store = sqliteStore({ db: sqlite.db, now: clock.now })
    const sessions = app(store, clock)
    const jar = new Jar()
    await jar.request(sessions, '/login/u1')
    const read = async () => {
      sqlite.reset()
      expect(await (await jar.request(sessions, '/peek')).text()).toBe('u1')
      return { ...sqlite.counts }
    }
    clock.advance(59)
    expect(await read()).toEqual({ SELECT: 1 })
    clock.advance(1)
    expect(await read()).toEqual({ SELECT: 1, UPDATE: 1 })
    clock.advance(59)
    expect(await read()).toEqual({ SELECT: 1 })
    sqlite.reset()
    expect(await store.destroySession('u1', 'nosuchsession00000000000000000')).toBe(false)
    expect(sqlite.counts).toEqual({ DELETE: 1 })
    sqlite.close()
  })

  it('the throttle is per row, across stores over one file: a touch by one is seen by the other', async () => {
    const sqlite = await countedSqlite()
    const clock = testClock(Date.now())
    // Two stores over one database: two processes sharing a file.
    const one = app(sqliteStore({ db: sqlite.db, now: clock.now }), clock)
    const two = app(sqliteStore({ db: sqlite.db, now: clock.now }), clock)
    const jar = new Jar()
    await jar.request(one, '/login/u1')
    clock.advance(61)
    sqlite.reset()
    await jar.request(one, '/peek')
    expect(sqlite.counts).toEqual({ SELECT: 1, UPDATE: 1 })
    sqlite.reset()
    // The row's last seen, read with it, tells the other store a touch was just made.
    await jar.request(two, '/peek')
    expect(sqlite.counts).toEqual({ SELECT: 1 })
    sqlite.close()
  })
})

describe('Postgres: queries per request', () => {
  let server: PostgresServer
  beforeAll(async () => {
    server = await startPostgres()
  }, 60_000)
  afterAll(async () => {
    await server?.stop()
  }, 60_000)

  it('an unchanged read is 1 SELECT; once past the interval, 1 SELECT + 1 UPDATE', async () => {
    const pg = (await import('pg')).default
    const pool = new pg.Pool({ connectionString: server.url, max: 2 })
    const log: string[] = []
    const client = {
      query: (text: string, values?: unknown[]) => {
        log.push(/^\s*(\w+)/.exec(text)![1]!.toUpperCase())
        return pool.query(text, values)
      },
    }
    const clock = testClock(Date.now())
    const store = postgresStore({ client, table: 'cost_sessions', now: clock.now })
    const sessions = app(store, clock)
    const jar = new Jar()
    await jar.request(sessions, '/login/u1')
    const read = async () => {
      log.length = 0
      expect(await (await jar.request(sessions, '/peek')).text()).toBe('u1')
      return tally(log)
    }
    clock.advance(59)
    expect(await read()).toEqual({ SELECT: 1 })
    clock.advance(1)
    expect(await read()).toEqual({ SELECT: 1, UPDATE: 1 })
    clock.advance(59)
    expect(await read()).toEqual({ SELECT: 1 })
    log.length = 0
    const [info] = await store.listSessions('u1')
    expect(info!.lastSeenAt).toBe(clock.now() - 59_000)
    expect(tally(log)).toEqual({ SELECT: 1 })
    await pool.end()
  })
})
