// Runs under Node with better-sqlite3 (vitest) and under Bun with bun:sqlite (`bun test`).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SessionConfigError } from '../../src/core/errors.ts'
import type { SessionRecord } from '../../src/core/types.ts'
import { type SqliteDatabase, sqliteStore } from '../../src/stores/sqlite.ts'
import { openSqlite, type SqliteDb, sqliteDriver } from '../servers/sqlite.ts'
import { testClock } from '../support.ts'
import { describeStore } from './contract.ts'

describeStore(`sqliteStore (${sqliteDriver})`, {
  async make(options = {}) {
    const db = await openSqlite()
    const store = sqliteStore({ db, ...options })
    return {
      store,
      async ttlSeconds(id) {
        const row = db.prepare('SELECT expires_at FROM sessions WHERE id = ?').get(id) as
          | { expires_at: number }
          | null
          | undefined
        return row ? (row.expires_at - Date.now()) / 1000 : undefined
      },
      close: async () => db.close(),
    }
  },
  userIndex: true,
  expiresItself: false,
})

function rec(now: number, data: Record<string, unknown> = {}, seconds = 60): SessionRecord {
  return { data, createdAt: now, expiresAt: now + seconds * 1000 }
}

const id = (n: number) => `sqlite-store-id-${String(n).padStart(16, '0')}`

function count(db: SqliteDb, sql: string, ...params: unknown[]): number {
  return Number((db.prepare(sql).get(...params) as { n: number }).n)
}

describe(`sqliteStore specifics (${sqliteDriver})`, () => {
  it('creates its table and indexes once; a second store on the same db reuses them', async () => {
    const db = await openSqlite()
    try {
      const first = sqliteStore({ db })
      first.set(id(1), rec(Date.now(), { userId: 'u1' }), undefined)
      const second = sqliteStore({ db })
      expect(second.get(id(1), undefined)).toMatchObject({ data: { userId: 'u1' } })
      const objects = db
        .prepare("SELECT type, name FROM sqlite_master WHERE tbl_name = 'sessions' ORDER BY name")
        .all()
      expect(objects).toEqual([
        { type: 'table', name: 'sessions' },
        { type: 'index', name: 'sessions_expires_at' },
        { type: 'index', name: 'sessions_user_id' },
        // The PRIMARY KEY's own index.
        { type: 'index', name: 'sqlite_autoindex_sessions_1' },
      ])
      const columns = (
        db.prepare("SELECT name FROM pragma_table_info('sessions')").all() as {
          name: string
        }[]
      ).map((c) => c.name)
      expect(columns).toEqual([
        'id',
        'data',
        'flash',
        'created_at',
        'absolute_expires_at',
        'idle_expires_at',
        'expires_at',
        'user_id',
        'last_seen_at',
        'user_agent',
      ])
    } finally {
      db.close()
    }
  })

  it('a custom table keeps its sessions apart from the default one', async () => {
    const db = await openSqlite()
    try {
      const a = sqliteStore({ db })
      const b = sqliteStore({ db, table: 'admin_sessions' })
      a.set(id(1), rec(Date.now(), { who: 'a' }), undefined)
      expect(b.get(id(1), undefined)).toBeUndefined()
      b.set(id(1), rec(Date.now(), { who: 'b' }), undefined)
      expect(a.get(id(1), undefined)).toMatchObject({ data: { who: 'a' } })
      expect(count(db, 'SELECT count(*) AS n FROM admin_sessions')).toBe(1)
    } finally {
      db.close()
    }
  })

  it('stores the data as JSON text, the deadline, the user id and the user agent in columns', async () => {
    const db = await openSqlite()
    try {
      const clock = testClock()
      const store = sqliteStore({ db, now: clock.now })
      const record = {
        ...rec(clock.now(), { userId: 7, cart: [1] }, 3600),
        idleExpiresAt: clock.now() + 600_000,
      }
      // The engine passes the request's user agent in WriteMeta, after the framework context.
      store.set(id(1), record, undefined, { now: clock.now(), userAgent: 'Agent/1' })
      expect(db.prepare('SELECT * FROM sessions').get()).toEqual({
        id: id(1),
        data: '{"userId":7,"cart":[1]}',
        flash: null,
        created_at: clock.now(),
        absolute_expires_at: clock.now() + 3600_000,
        idle_expires_at: clock.now() + 600_000,
        expires_at: clock.now() + 600_000,
        user_id: '7',
        last_seen_at: clock.now(),
        user_agent: 'Agent/1',
      })
      // A write without a user agent (a direct call from app code) keeps the recorded one.
      clock.advance(5)
      store.set(id(1), record)
      expect(db.prepare('SELECT user_agent, last_seen_at FROM sessions').get()).toEqual({
        user_agent: 'Agent/1',
        last_seen_at: clock.now(),
      })
    } finally {
      db.close()
    }
  })

  it('reads expired rows as they are (the engine refuses them) and prune() deletes them, returning the count', async () => {
    const db = await openSqlite()
    try {
      const clock = testClock()
      const store = sqliteStore({ db, now: clock.now })
      store.set(id(1), rec(clock.now(), { userId: 'u1' }, 10), undefined)
      store.set(
        id(2),
        { ...rec(clock.now(), { userId: 'u1' }, 3600), idleExpiresAt: clock.now() + 20_000 },
        undefined,
      )
      store.set(id(3), rec(clock.now(), { userId: 'u1' }, 30), undefined)
      expect(store.prune()).toBe(0)
      clock.advance(10)
      const expired = rec(clock.now() - 10_000, { userId: 'u1' }, 10)
      expect(store.get(id(1), undefined)).toEqual(expired)
      expect(store.get(id(2), undefined)).toBeDefined()
      // Kept until prune().
      expect(count(db, 'SELECT count(*) AS n FROM sessions')).toBe(3)
      // A patch does not revive an expired row: it stays as it was.
      store.patch(id(1), rec(clock.now(), { x: 1 }, 60), { set: ['x'], deleted: [] }, undefined)
      expect(store.get(id(1), undefined)).toEqual(expired)
      clock.advance(10)
      expect((await store.listSessions('u1')).map((s) => s.id)).toEqual([id(3)])
      expect(store.prune()).toBe(2)
      expect(store.prune()).toBe(0)
      expect(count(db, 'SELECT count(*) AS n FROM sessions')).toBe(1)
    } finally {
      db.close()
    }
  })

  it('destroyUserSessions counts live sessions only and leaves other users alone', async () => {
    const db = await openSqlite()
    try {
      const clock = testClock()
      const store = sqliteStore({ db, now: clock.now })
      store.set(id(1), rec(clock.now(), { userId: 'u1' }, 10), undefined)
      store.set(id(2), rec(clock.now(), { userId: 'u1' }, 100), undefined)
      store.set(id(3), rec(clock.now(), { userId: 'u1' }, 100), undefined)
      store.set(id(4), rec(clock.now(), { userId: 'u2' }, 100), undefined)
      clock.advance(10)
      expect(await store.destroyUserSessions('u1', { except: id(3) })).toBe(1)
      expect(count(db, "SELECT count(*) AS n FROM sessions WHERE user_id = 'u1'")).toBe(1)
      expect(store.get(id(3), undefined)).toBeDefined()
      expect(store.get(id(4), undefined)).toBeDefined()
    } finally {
      db.close()
    }
  })

  it('patches through two connections to one database file merge, not overwrite', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sealed-session-sqlite-'))
    const db1 = await openSqlite(join(dir, 's.db'))
    const db2 = await openSqlite(join(dir, 's.db'))
    try {
      const a = sqliteStore({ db: db1 })
      const b = sqliteStore({ db: db2 })
      const now = Date.now()
      a.set(id(1), rec(now, { base: 0 }), undefined)
      a.patch(id(1), rec(now, { x: 1 }), { set: ['x'], deleted: [] }, undefined)
      b.patch(id(1), rec(now, { y: 2 }), { set: ['y'], deleted: ['base'] }, undefined)
      expect(a.get(id(1), undefined)).toEqual(rec(now, { x: 1, y: 2 }))
    } finally {
      db1.close()
      db2.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('a bad table name, db or userKey is a SessionConfigError naming each field', async () => {
    const db = await openSqlite()
    try {
      for (const table of [
        'sessions; DROP TABLE x',
        'my-sessions',
        '"s"',
        '1sessions',
        '',
        'a.b',
        'x'.repeat(64),
      ]) {
        expect(() => sqliteStore({ db, table })).toThrow(SessionConfigError)
      }
      let error: unknown
      try {
        sqliteStore({ db: {} as SqliteDatabase, table: 'bad name', userKey: '' })
      } catch (err) {
        error = err
      }
      expect(error).toBeInstanceOf(SessionConfigError)
      expect((error as SessionConfigError).issues.map((i) => i.path)).toEqual([
        'db',
        'table',
        'userKey',
      ])
      // Nothing was created for the refused names.
      expect(count(db, "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'")).toBe(0)
      expect(() => sqliteStore({ db, table: '_Sessions_2' })).not.toThrow()
    } finally {
      db.close()
    }
  })
})
