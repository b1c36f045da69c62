import { SessionConfigError, type SessionConfigIssue } from '../core/errors.ts'
import { userAgentOf, userIdOf } from '../core/owner.ts'
import { applySessionPatch, sessionDeadline } from '../core/record.ts'
import type {
  SessionInfo,
  SessionPatch,
  SessionRecord,
  SessionStore,
  UserSessionIndex,
} from '../core/types.ts'

/** A prepared statement, as better-sqlite3 and bun:sqlite both shape it. */
export interface SqliteStatement {
  run(...params: any[]): unknown
  get(...params: any[]): unknown
  all(...params: any[]): unknown[]
}

/** The part of a better-sqlite3 or bun:sqlite `Database` the store uses. */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement
  transaction(fn: (...args: any[]) => any): any
}

/** Options of `sqliteStore()`. */
export interface SqliteStoreOptions {
  /** An open better-sqlite3 (Node) or bun:sqlite (Bun) `Database`. */
  db: SqliteDatabase
  /**
   * Table that holds the sessions; created with its indexes when missing. Letters, digits and
   * `_` only.
   * @default 'sessions'
   */
  table?: string
  /**
   * Key of the session data that holds the user id, for `listSessions()` and
   * `destroyUserSessions()`.
   * @default 'userId'
   */
  userKey?: string
  /**
   * Clock in epoch milliseconds; tests inject one to move time.
   * @default Date.now
   */
  now?: () => number
}

/** A session store in a SQLite table, with a per-user index. */
export interface SqliteStore extends SessionStore, UserSessionIndex {
  /** Merges one request's changed keys into the stored session; no-op when none is stored. */
  patch(id: string, record: SessionRecord<any>, patch: SessionPatch, ctx?: unknown): void
  /** Deletes expired rows; returns how many. Call it from a timer or a cron job. */
  prune(): number
}

interface Row {
  data: string
  flash: string | null
  created_at: number
  absolute_expires_at: number
  idle_expires_at: number | null
}

interface InfoRow {
  id: string
  created_at: number
  last_seen_at: number
  expires_at: number
  user_agent: string | null
}

// Interpolated into SQL, so only a plain identifier is accepted; 63 keeps index names short.
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/**
 * A session store in a SQLite table, over a better-sqlite3 (Node) or bun:sqlite (Bun)
 * database the app opened; it creates its table, ignores expired rows and keeps a per-user
 * index.
 *
 * @example
 * import Database from 'better-sqlite3' // on Bun: import { Database } from 'bun:sqlite'
 * import { sqliteStore } from 'sealed-session/stores/sqlite'
 * const store = sqliteStore({ db: new Database('sessions.db') })
 * app.use(session({ secret: process.env.SESSION_SECRET, store }))
 * setInterval(() => store.prune(), 3600_000).unref()
 */
export function sqliteStore(options: SqliteStoreOptions): SqliteStore {
  const { db, table = 'sessions', userKey = 'userId', now = Date.now } = options ?? {}
  const issues: SessionConfigIssue[] = []
  if (
    typeof db !== 'object' ||
    db === null ||
    typeof db.prepare !== 'function' ||
    typeof db.transaction !== 'function'
  ) {
    issues.push({
      path: 'db',
      message: 'must be a better-sqlite3 or bun:sqlite Database (prepare and transaction)',
    })
  }
  if (typeof table !== 'string' || !IDENTIFIER.test(table)) {
    issues.push({
      path: 'table',
      message: 'must be an identifier: a letter or _, then letters, digits or _ (at most 63)',
    })
  }
  if (typeof userKey !== 'string' || userKey === '') {
    issues.push({ path: 'userKey', message: 'must be a non-empty string' })
  }
  if (typeof now !== 'function') issues.push({ path: 'now', message: 'must be a function' })
  if (issues.length > 0) throw new SessionConfigError(issues)

  const t = `"${table}"`
  // One statement per prepare: better-sqlite3 refuses several in one string.
  for (const ddl of [
    `CREATE TABLE IF NOT EXISTS ${t} (
      id TEXT PRIMARY KEY NOT NULL,
      data TEXT NOT NULL,
      flash TEXT,
      created_at INTEGER NOT NULL,
      absolute_expires_at INTEGER NOT NULL,
      idle_expires_at INTEGER,
      expires_at INTEGER NOT NULL,
      user_id TEXT,
      last_seen_at INTEGER NOT NULL,
      user_agent TEXT
    )`,
    `CREATE INDEX IF NOT EXISTS "${table}_expires_at" ON ${t} (expires_at)`,
    `CREATE INDEX IF NOT EXISTS "${table}_user_id" ON ${t} (user_id) WHERE user_id IS NOT NULL`,
  ]) {
    db.prepare(ddl).run()
  }

  // `expires_at` is the earlier deadline: what reads, prune() and listings compare to now.
  const GET = db.prepare(
    `SELECT data, flash, created_at, absolute_expires_at, idle_expires_at FROM ${t}
     WHERE id = ? AND expires_at > ?`,
  )
  const SET = db.prepare(
    `INSERT INTO ${t} (id, data, flash, created_at, absolute_expires_at, idle_expires_at,
       expires_at, user_id, last_seen_at, user_agent)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET
       data = excluded.data, flash = excluded.flash, created_at = excluded.created_at,
       absolute_expires_at = excluded.absolute_expires_at,
       idle_expires_at = excluded.idle_expires_at, expires_at = excluded.expires_at,
       user_id = excluded.user_id, last_seen_at = excluded.last_seen_at,
       user_agent = coalesce(excluded.user_agent, ${t}.user_agent)`,
  )
  const DELETE = db.prepare(`DELETE FROM ${t} WHERE id = ?`)
  const PRUNE = db.prepare(`DELETE FROM ${t} WHERE expires_at <= ?`)
  const LIST = db.prepare(
    `SELECT id, created_at, last_seen_at, expires_at, user_agent FROM ${t}
     WHERE user_id = ? AND expires_at > ? ORDER BY last_seen_at DESC, created_at DESC`,
  )
  // `id IS NOT NULL` (no `except`) matches every row.
  const COUNT_USER = db.prepare(
    `SELECT count(*) AS n FROM ${t} WHERE user_id = ? AND id IS NOT ? AND expires_at > ?`,
  )
  const DELETE_USER = db.prepare(`DELETE FROM ${t} WHERE user_id = ? AND id IS NOT ?`)
  const CHANGES = db.prepare('SELECT changes() AS n')

  /** Rows changed by the statement just run (bun:sqlite before 1.1.14 returned nothing). */
  function changed(result: unknown): number {
    const n = (result as { changes?: unknown } | undefined)?.changes
    if (typeof n === 'number' || typeof n === 'bigint') return Number(n)
    return Number((CHANGES.get() as { n: number }).n)
  }

  function load(id: string): SessionRecord<any> | undefined {
    // better-sqlite3 answers undefined for no row, bun:sqlite null.
    const row = GET.get(id, now()) as Row | null | undefined
    if (!row) return undefined
    const record: SessionRecord<any> = {
      data: JSON.parse(row.data),
      createdAt: row.created_at,
      expiresAt: row.absolute_expires_at,
    }
    if (row.idle_expires_at !== null) record.idleExpiresAt = row.idle_expires_at
    if (row.flash !== null) record.flash = JSON.parse(row.flash)
    return record
  }

  function save(id: string, record: SessionRecord<any>, ctx: unknown): void {
    SET.run(
      id,
      JSON.stringify(record.data),
      record.flash && record.flash.length > 0 ? JSON.stringify(record.flash) : null,
      record.createdAt,
      record.expiresAt,
      record.idleExpiresAt ?? null,
      sessionDeadline(record),
      userIdOf(record.data, userKey) ?? null,
      now(),
      userAgentOf(ctx) ?? null,
    )
  }

  // Both drivers are synchronous, so nothing interleaves inside one process; IMMEDIATE takes
  // the write lock before the read, so other processes on the same file cannot either.
  const patchTx = db.transaction(
    (id: string, record: SessionRecord<any>, changes: SessionPatch, ctx: unknown) => {
      const next = applySessionPatch(load(id), record, changes)
      if (next) save(id, next, ctx)
    },
  )
  const patchAtomically: typeof patchTx = patchTx.immediate ?? patchTx

  const destroyTx = db.transaction((userId: string, except: string | null): number => {
    const live = Number((COUNT_USER.get(userId, except, now()) as { n: number }).n)
    // Expired rows of the user go too, but only live sessions are counted as logged out.
    DELETE_USER.run(userId, except)
    return live
  })

  return {
    get(id) {
      return load(id)
    },

    set(id, record, ctx) {
      save(id, record, ctx)
    },

    patch(id, record, changes, ctx) {
      patchAtomically(id, record, changes, ctx)
    },

    delete(id) {
      DELETE.run(id)
    },

    async listSessions(userId) {
      const rows = LIST.all(String(userId), now()) as InfoRow[]
      return rows.map((row) => {
        const info: SessionInfo = {
          id: row.id,
          createdAt: row.created_at,
          lastSeenAt: row.last_seen_at,
          expiresAt: row.expires_at,
        }
        if (row.user_agent !== null) info.userAgent = row.user_agent
        return info
      })
    },

    async destroyUserSessions(userId, options = {}) {
      return destroyTx(String(userId), options.except ?? null) as number
    },

    prune() {
      return changed(PRUNE.run(now()))
    },
  }
}
