import { applySessionPatch, sessionDeadline } from '../core/record.ts'
import type { SessionInfo, SessionPatch, SessionRecord, UserSessionIndex } from '../core/types.ts'
import { func, methods, object, required } from '../core/validate.ts'
import {
  exceptArg,
  type ListData,
  lastSeenThrottle,
  listDataCheck,
  PAGE_SIZE,
  pageSizeArg,
  sessionIdArg,
  touchAfterCheck,
  userIdArg,
} from './_devices.ts'
import {
  assertOptions,
  type MetaStore,
  type UserKeyed,
  userKeyCheck,
  type WriteMeta,
  type WriteStamp,
  writeMeta,
} from './_shared.ts'
import { infoOf, recordOf, sessionSql, userSessionOf, writeValues } from './_sql.ts'
import { sqlite, tableCheck } from './_sql-dialects.ts'

const checkOptions = object<SqliteStoreOptions>({
  db: required(
    methods(
      ['prepare', 'transaction'],
      'must be a better-sqlite3 or bun:sqlite Database (prepare and transaction)',
    ),
  ),
  table: tableCheck(sqlite),
  userKey: userKeyCheck,
  listData: listDataCheck,
  touchAfter: touchAfterCheck,
  now: func,
})

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
export interface SqliteStoreOptions<L = Record<string, unknown>> {
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
   * What `listSessions()` shows of each session's data (internal keys such as `_csrf` are
   * never shown): `(data) => ({ label: data.label })`.
   * @default the whole data
   */
  listData?: ListData<L>
  /**
   * Seconds between two last-seen updates of a session that requests only read: one UPDATE of
   * `last_seen_at`, at most once per interval per session (the row's own `last_seen_at`, read
   * with it, tells); `0` moves it on writes only (as `sessionRevocation({ touchAfter })`).
   * @default 60
   */
  touchAfter?: number
  /**
   * Clock in epoch milliseconds, for pruning expired rows (and leaving them out of listings and
   * patches) and for `lastSeenAt` of writes the engine did not time (direct calls); tests inject
   * one to move time.
   * @default Date.now
   */
  now?: () => number
}

/** A session store in a SQLite table, with a per-user index. */
export interface SqliteStore<L = Record<string, unknown>>
  extends MetaStore,
    UserSessionIndex<L>,
    UserKeyed {
  /** The record stored under `id` (past its deadline too: the engine refuses those), or undefined. */
  get(id: string, ctx?: unknown): SessionRecord<any> | undefined
  /** Deletes the row of `id`. */
  delete(id: string, ctx?: unknown): void
  /** Upserts the row of `id`. */
  set(id: string, record: SessionRecord<any>, ctx?: unknown, meta?: WriteMeta): void
  /** Merges one request's changed keys into the stored session; no-op when none is stored. */
  patch(
    id: string,
    record: SessionRecord<any>,
    patch: SessionPatch,
    ctx?: unknown,
    meta?: WriteMeta,
  ): void
  /**
   * Records that a request read the session (one UPDATE of last seen and user agent): at most
   * once per `touchAfter` with the engine's `meta`, at once on a direct call.
   */
  touch(id: string, ctx?: unknown, meta?: WriteMeta): void
  /** Deletes expired rows; returns how many. Call it from a timer or a cron job. */
  prune(): number
  /** The data key that holds the owner. */
  readonly userKey: string
}

/**
 * A session store in a SQLite table, over a better-sqlite3 (Node) or bun:sqlite (Bun)
 * database the app opened; it creates its table and keeps a per-user index. An expired row is
 * still read (the engine refuses it as `expired` and deletes it) until `prune()` drops it.
 *
 * @example
 * import Database from 'better-sqlite3' // on Bun: import { Database } from 'bun:sqlite'
 * import { sqliteStore } from 'sealed-session/stores/sqlite'
 * const store = sqliteStore({ db: new Database('sessions.db') })
 * app.use(session({ secret: process.env.SESSION_SECRET, store }))
 * setInterval(() => store.prune(), 3600_000).unref()
 */
export function sqliteStore<L = Record<string, unknown>>(
  options: SqliteStoreOptions<L>,
): SqliteStore<L> {
  assertOptions(checkOptions, options)
  const {
    db,
    table = 'sessions',
    userKey = 'userId',
    listData,
    touchAfter = 60,
    now = Date.now,
  } = options
  const recent = lastSeenThrottle(touchAfter)

  const sql = sessionSql(table, sqlite)
  // One statement per prepare: better-sqlite3 refuses several in one string.
  for (const ddl of sql.schema) db.prepare(ddl).run()
  const GET = db.prepare(sql.get)
  const SET = db.prepare(sql.set)
  const DELETE = db.prepare(sql.delete)
  const PRUNE = db.prepare(sql.prune)
  const LIST = db.prepare(sql.list)
  const COUNT_USER = db.prepare(sql.countUser)
  const DELETE_USER = db.prepare(sql.destroyUser)
  const DELETE_ONE = db.prepare(sql.destroyOne)
  const TOUCH = db.prepare(sql.touch)
  const CHANGES = db.prepare('SELECT changes() AS n')

  /** Rows changed by the statement just run (bun:sqlite before 1.1.14 returned nothing). */
  function changed(result: unknown): number {
    const n = (result as { changes?: unknown } | undefined)?.changes
    if (typeof n === 'number' || typeof n === 'bigint') return Number(n)
    return Number((CHANGES.get() as { n: number }).n)
  }

  /** The record in `id`'s row, past its deadline or not. */
  function read(id: string): SessionRecord<any> | undefined {
    // better-sqlite3 answers undefined for no row, bun:sqlite null.
    const row = GET.get(id) as Record<string, unknown> | null | undefined
    if (!row) return undefined
    // Last seen by any process: a touch is due only an interval after it.
    recent.seen(id, sqlite.time(row.seen))
    return recordOf(row, sqlite)
  }

  function save(id: string, record: SessionRecord<any>, write: WriteStamp): void {
    recent.seen(id, write.now)
    SET.run(...writeValues(id, record, userKey, write))
  }

  // Both drivers are synchronous, so nothing interleaves inside one process; IMMEDIATE takes
  // the write lock before the read, so other processes on the same file cannot either.
  const patchTx = db.transaction(
    (id: string, record: SessionRecord<any>, changes: SessionPatch, write: WriteMeta) => {
      // An expired row is not merged into: a session that is over does not come back.
      const stored = read(id)
      const live = stored && now() < sessionDeadline(stored) ? stored : undefined
      const next = applySessionPatch(live, record, changes)
      if (next) save(id, next, write)
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
    userKey,

    get(id) {
      return read(id)
    },

    set(id, record, _ctx, meta) {
      save(id, record, writeMeta(meta, now))
    },

    patch(id, record, changes, _ctx, meta) {
      patchAtomically(id, record, changes, writeMeta(meta, now))
    },

    delete(id) {
      recent.forget(id)
      DELETE.run(id)
    },

    touch(id, _ctx, meta) {
      if (meta && !recent.due(id, meta.now)) return
      const { now: at, userAgent } = writeMeta(meta, now)
      recent.seen(id, at)
      TOUCH.run(at, userAgent ?? null, id, at)
    },

    async listSessions(userId) {
      const rows = LIST.all(userIdArg(userId), now()) as Record<string, unknown>[]
      return rows.map((row) => userSessionOf(row, sqlite, listData))
    },

    async destroySession(userId, sessionId) {
      const owner = userIdArg(userId)
      const id = sessionIdArg(sessionId)
      recent.forget(id)
      return changed(DELETE_ONE.run(owner, id, now())) === 1
    },

    async destroyUserSessions(userId, options) {
      const except = exceptArg(options)
      return destroyTx(userIdArg(userId), except ?? null) as number
    },

    async *allSessions(options) {
      const size = pageSizeArg(options, PAGE_SIZE)
      const PAGE = db.prepare(sql.page(size))
      let after = ''
      while (true) {
        const rows = PAGE.all(now(), after) as Record<string, unknown>[]
        for (const row of rows) yield infoOf(row, sqlite) as SessionInfo
        if (rows.length < size) return
        after = String(rows[rows.length - 1]!.id)
      }
    },

    prune() {
      return changed(PRUNE.run(now()))
    },
  }
}
