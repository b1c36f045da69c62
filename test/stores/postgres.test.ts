// postgresStore against a real PostgreSQL server (started here, see test/servers/postgres.ts),
// through both drivers it supports: pg and postgres.js.
import { Hono } from 'hono'
import pg from 'pg'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { session } from '../../src/adapters/hono.ts'
import { SessionConfigError, SessionStoreError } from '../../src/core/errors.ts'
import type { SessionRecord } from '../../src/core/types.ts'
import { type PostgresClient, postgresStore } from '../../src/stores/postgres.ts'
import { type PostgresServer, startPostgres } from '../servers/postgres.ts'
import { Jar, SECRET, testClock } from '../support.ts'
import { describeStore } from './contract.ts'

type Rows = Record<string, unknown>[]

/** One connection pool of one driver, plus a way to count the queries a store sends through it. */
interface Connection {
  client: PostgresClient
  /** Runs SQL outside the store. */
  sql(text: string, values?: unknown[]): Promise<Rows>
  /** The same client, with every query's text appended to `log`. */
  logged(log: string[]): PostgresClient
  /** Notices the server sent (postgres.js only; pg drops them unless listened for per client). */
  notices: unknown[]
  end(): Promise<void>
}

interface Driver {
  name: string
  connect(url: string): Connection
}

// Fail fast when the server is down, so fault tests finish in seconds.
const drivers: Driver[] = [
  {
    name: 'pg',
    connect(url) {
      const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 2000 })
      // An idle pooled connection whose server goes away emits 'error'; unhandled, it would
      // crash the process. Apps need this listener too (see docs/stores-postgres.md).
      pool.on('error', () => {})
      return {
        client: pool,
        sql: async (text, values) => (await pool.query(text, values)).rows,
        logged: (log) => ({
          query: (text: string, values?: unknown[]) => {
            log.push(text)
            return pool.query(text, values)
          },
        }),
        notices: [],
        end: () => pool.end(),
      }
    },
  },
  {
    name: 'postgres.js',
    connect(url) {
      const notices: unknown[] = []
      const sql = postgres(url, {
        max: 10,
        connect_timeout: 2,
        onnotice: (notice) => void notices.push(notice),
      })
      return {
        client: sql,
        sql: async (text, values) => (await sql.unsafe(text, values as never[])) as unknown as Rows,
        logged: (log) => ({
          unsafe: (text: string, values?: any[]) => {
            log.push(text)
            return sql.unsafe(text, values)
          },
        }),
        notices,
        end: () => sql.end({ timeout: 5 }),
      }
    },
  },
]

let server: PostgresServer | undefined
const connections: Connection[] = []

beforeAll(async () => {
  server = await startPostgres()
}, 60_000)

afterAll(async () => {
  await Promise.all(connections.splice(0).map((c) => c.end()))
  await server?.stop()
}, 60_000)

function connect(driver: Driver, url = server!.url): Connection {
  const connection = driver.connect(url)
  connections.push(connection)
  return connection
}

let tables = 0
/** A table name no other test uses. */
function freshTable(): string {
  tables++
  return `sessions_t${tables}_${Math.random().toString(36).slice(2, 8)}`
}

const isWrite = (text: string) => /^\s*(INSERT|UPDATE|DELETE)\b/i.test(text)

/** A record that lives `seconds` after `from`. */
function record(data: Record<string, unknown>, from = Date.now(), seconds = 600): SessionRecord {
  return { data, createdAt: from, expiresAt: from + seconds * 1000 }
}

function createApp(client: PostgresClient, table: string) {
  const store = postgresStore({ client, table })
  const app = new Hono()
    .use(session({ secret: SECRET, store }))
    .get('/login/:user', (c) => {
      c.session.userId = c.req.param('user')
      return c.text(c.session.id)
    })
    .get('/peek', (c) => c.text(c.session.userId ?? 'anon'))
    .get('/set/:key/:value', (c) => {
      c.session[c.req.param('key')] = c.req.param('value')
      return c.text('ok')
    })
  const errors: unknown[] = []
  app.onError((err, c) => {
    errors.push(err)
    return c.text(err instanceof SessionStoreError ? `store ${err.operation}` : 'other', 500)
  })
  return { app, store, errors }
}

for (const driver of drivers) {
  let shared: Connection | undefined
  const conn = () => {
    shared ??= connect(driver)
    return shared
  }

  describeStore(`postgresStore (${driver.name})`, {
    async make(options = {}) {
      const c = conn()
      const table = freshTable()
      return {
        store: postgresStore({ client: c.client, table, ...options }),
        async ttlSeconds(id) {
          const [row] = await c.sql(
            `SELECT (extract(epoch FROM expires_at) * 1000)::float8 AS e FROM "${table}" WHERE id = $1`,
            [id],
          )
          return row ? (Number(row.e) - Date.now()) / 1000 : undefined
        },
        close: async () => void (await c.sql(`DROP TABLE IF EXISTS "${table}"`)),
      }
    },
    userIndex: true,
    expiresItself: false,
  })

  describe(`postgresStore (${driver.name}): schema, prune, concurrency, round trips`, () => {
    it('creates the table with its indexes on first use, once, without notices', async () => {
      const c = conn()
      const table = freshTable()
      const log: string[] = []
      const store = postgresStore({ client: c.logged(log), table })
      // Other tests' DROP TABLE IF EXISTS may have left notices behind.
      c.notices.length = 0
      expect(await c.sql('SELECT to_regclass($1)::text AS t', [table])).toEqual([{ t: null }])
      // Concurrent first calls share one creation.
      await Promise.all([store.get('a', undefined), store.get('b', undefined), store.prune()])
      expect(log.filter((q) => q.includes('CREATE TABLE'))).toHaveLength(1)
      const indexes = await c.sql(
        'SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 ORDER BY indexname',
        [table],
      )
      expect(indexes.map((i) => i.indexname)).toEqual([
        `${table}_expires_at_idx`,
        `${table}_pkey`,
        `${table}_user_id_idx`,
      ])
      expect(String(indexes[0]!.indexdef)).toContain('(expires_at)')
      const columns = await c.sql(
        `SELECT column_name AS name, data_type AS type FROM information_schema.columns
         WHERE table_name = $1 ORDER BY ordinal_position`,
        [table],
      )
      expect(columns).toEqual([
        { name: 'id', type: 'text' },
        { name: 'data', type: 'jsonb' },
        { name: 'flash', type: 'jsonb' },
        { name: 'created_at', type: 'timestamp with time zone' },
        { name: 'expires_at', type: 'timestamp with time zone' },
        { name: 'absolute_expires_at', type: 'timestamp with time zone' },
        { name: 'idle_expires_at', type: 'timestamp with time zone' },
        { name: 'last_seen_at', type: 'timestamp with time zone' },
        { name: 'user_id', type: 'text' },
        { name: 'user_agent', type: 'text' },
      ])
      // A second store on the existing table creates nothing and reports nothing.
      const again = postgresStore({ client: c.client, table })
      expect(await again.get('a', undefined)).toBeUndefined()
      expect(c.notices).toEqual([])
    })

    it('two stores creating the same table at once both succeed', async () => {
      const c = conn()
      const table = freshTable()
      const stores = Array.from({ length: 5 }, () => postgresStore({ client: c.client, table }))
      await Promise.all(stores.map((s) => s.get('x', undefined)))
      expect(
        await c.sql('SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = $1', [table]),
      ).toEqual([{ n: 3 }])
    })

    it('takes a schema-qualified table, keeping its case; createTable: false creates nothing', async () => {
      const c = conn()
      const schema = `auth_${Math.random().toString(36).slice(2, 8)}`
      await c.sql(`CREATE SCHEMA "${schema}"`)
      const store = postgresStore({ client: c.client, table: `${schema}.Sessions` })
      await store.set('id1', record({ userId: 'u1' }), undefined)
      expect(
        await c.sql(`SELECT count(*)::int AS n FROM "${schema}"."Sessions" WHERE id = $1`, ['id1']),
      ).toEqual([{ n: 1 }])

      const table = freshTable()
      const manual = postgresStore({ client: c.client, table, createTable: false })
      await expect(manual.get('x', undefined)).rejects.toThrow(/does not exist/)
      expect(await c.sql('SELECT to_regclass($1)::text AS t', [table])).toEqual([{ t: null }])
      await c.sql(`DROP SCHEMA "${schema}" CASCADE`)
    })

    it('prune deletes only expired rows (absolute or idle deadline) and returns the count', async () => {
      const c = conn()
      const clock = testClock()
      const store = postgresStore({ client: c.client, table: freshTable(), now: clock.now })
      const t = clock.now()
      await store.set('absolute', record({ a: 1 }, t, 10), undefined)
      await store.set(
        'idle',
        { ...record({ b: 1 }, t, 3600), idleExpiresAt: t + 20_000 },
        undefined,
      )
      await store.set('live', record({ c: 1 }, t, 3600), undefined)
      expect(await store.prune()).toBe(0)
      clock.advance(30)
      // Expired rows read as they are (the engine refuses them) until prune removes them; a
      // patch does not merge into one.
      expect(await store.get('absolute', undefined)).toEqual(record({ a: 1 }, t, 10))
      await store.patch('idle', record({ b: 2 }, clock.now(), 60), { set: ['b'], deleted: [] })
      expect(await store.get('idle', undefined)).toMatchObject({ data: { b: 1 } })
      expect(await store.prune()).toBe(2)
      expect(await store.get('absolute', undefined)).toBeUndefined()
      expect(await store.prune()).toBe(0)
      expect(await store.get('live', undefined)).toMatchObject({ data: { c: 1 } })
      clock.advance(3600)
      expect(await store.prune()).toBe(1)
    })

    it('twenty concurrent patches of different keys on one row all survive', async () => {
      const c = conn()
      const store = postgresStore({ client: c.client, table: freshTable() })
      const base = record({ userId: 'u1', drop: 'x' })
      await store.set('row', base, undefined)
      // Each request saw only the original data plus its own key.
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => {
          const mine = { ...base, data: { ...base.data, [`k${i}`]: i } }
          return store.patch('row', mine, { set: [`k${i}`], deleted: [] }, undefined)
        }).concat(
          store.patch(
            'row',
            { ...base, data: { userId: 'u1' } },
            { set: [], deleted: ['drop'] },
            undefined,
          ) as Promise<void>,
        ),
      )
      const stored = (await store.get('row', undefined)) as SessionRecord
      const expected: Record<string, unknown> = { userId: 'u1' }
      for (let i = 0; i < 20; i++) expected[`k${i}`] = i
      expect(stored.data).toEqual(expected)
    })

    it('a user id that is a number is indexed as its string', async () => {
      const c = conn()
      const store = postgresStore({ client: c.client, table: freshTable(), userKey: 'uid' })
      await store.set('n', record({ uid: 42 }), undefined)
      await store.set('o', record({ uid: { not: 'an id' } }), undefined)
      expect((await store.listSessions('42')).map((s) => s.id)).toEqual(['n'])
      expect(await store.destroyUserSessions('42')).toBe(1)
    })

    it('queries per request: load 1, unchanged 0 writes, changed 1 write', async () => {
      const c = conn()
      const log: string[] = []
      const { app } = createApp(c.logged(log), freshTable())
      const jar = new Jar()
      await jar.request(app, '/login/u1')
      // First use: create the table, then one INSERT.
      expect(log).toHaveLength(2)
      expect(log[0]).toContain('CREATE TABLE')
      expect(log[1]).toMatch(/^INSERT/)

      log.length = 0
      await jar.request(app, '/login/u2')
      expect(log).toHaveLength(2)
      expect(log.filter(isWrite)).toHaveLength(1)

      log.length = 0
      const unchanged = await jar.request(app, '/peek')
      expect(await unchanged.text()).toBe('u2')
      expect(log).toHaveLength(1)
      expect(log[0]).toMatch(/^SELECT/)
      expect(log.filter(isWrite)).toHaveLength(0)

      log.length = 0
      await jar.request(app, '/set/theme/dark')
      expect(log).toHaveLength(2)
      expect(log.filter(isWrite)).toHaveLength(1)
      expect(log[1]).toMatch(/^UPDATE/)
    })
  })
}

describe('postgresStore: configuration', () => {
  const client = { query: async () => ({ rows: [] }) }

  it('refuses an unsafe or malformed table name with SessionConfigError', () => {
    for (const table of [
      'sessions; DROP TABLE users',
      'a.b.c',
      '',
      '1sessions',
      '"sessions"',
      'sess-ions',
      'x'.repeat(64),
      'public.',
    ]) {
      let error: unknown
      try {
        postgresStore({ client, table })
      } catch (err) {
        error = err
      }
      expect(error, table).toBeInstanceOf(SessionConfigError)
      expect((error as SessionConfigError).issues.map((i) => i.path)).toEqual(['table'])
    }
    for (const table of ['sessions', 'auth.sessions', '_s1', 'Sessions', 'x'.repeat(63)]) {
      expect(() => postgresStore({ client, table })).not.toThrow()
    }
  })

  it('names every bad option at once, and wants a client', () => {
    let error: unknown
    try {
      postgresStore({ client: {} as never, table: 'no way', userKey: '', now: 5 as never })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(SessionConfigError)
    expect((error as SessionConfigError).issues.map((i) => i.path)).toEqual([
      'client',
      'table',
      'userKey',
      'now',
    ])
  })
})

// A server of their own: these tests stop it.
describe('postgresStore: database down', () => {
  let down: PostgresServer | undefined

  beforeAll(async () => {
    down = await startPostgres()
  }, 60_000)

  afterAll(async () => {
    await down?.stop()
  }, 60_000)

  for (const driver of drivers) {
    it(`${driver.name}: requests fail with SessionStoreError (500), no logout; then recover`, async () => {
      const c = connect(driver, down!.url)
      const { app, errors } = createApp(c.client, freshTable())
      const jar = new Jar()
      const id = await (await jar.request(app, '/login/u1')).text()
      const cookie = jar.header()

      await down!.kill()
      for (const path of ['/peek', '/set/theme/dark']) {
        const res = await app.request(`http://localhost${path}`, { headers: { cookie } })
        expect(res.status).toBe(500)
        expect(await res.text()).toBe('store get')
        // Not a silent logout: no new session cookie, no cleared cookie.
        expect(res.headers.getSetCookie()).toEqual([])
      }
      // A store first used while the database is down fails too, and creates its table later.
      const late = createApp(c.client, freshTable())
      const fresh = await late.app.request('http://localhost/login/u9')
      expect(fresh.status).toBe(500)
      expect(await fresh.text()).toBe('store set')
      expect(errors.every((e) => e instanceof SessionStoreError)).toBe(true)
      expect(errors).toHaveLength(2)

      await down!.restart()
      // The same app, the same cookie: the session is still there.
      const back = await jar.request(app, '/peek')
      expect(back.status).toBe(200)
      expect(await back.text()).toBe('u1')
      await jar.request(app, '/set/theme/dark')
      expect(jar.header()).toBe(cookie)
      const loggedIn = await late.app.request('http://localhost/login/u9')
      expect(loggedIn.status).toBe(200)
      expect(await loggedIn.text()).toHaveLength(id.length)
    }, 30_000)
  }
})
