import type { SessionPatch, SessionRecord, UserSessionIndex } from '../core/types.ts'
import { boolean, func, is, object, required } from '../core/validate.ts'
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
  writeMeta,
} from './_shared.ts'
import { infoOf, recordOf, sessionSql, userSessionOf, writeValues } from './_sql.ts'
import { patchValues, postgres, postgresPatch, tableCheck } from './_sql-dialects.ts'

/**
 * A PostgreSQL client the store can use: a `pg` `Pool` or `Client` (anything with
 * `query(text, values)` resolving to `{ rows }`), or a postgres.js `sql` instance (anything with
 * `unsafe(text, values)` resolving to the rows).
 */
export type PostgresClient =
  | { query(text: string, values?: unknown[]): PromiseLike<{ rows: unknown[] }> }
  | { unsafe(text: string, values?: any[]): PromiseLike<readonly unknown[]> }

/** Options of `postgresStore()`. */
export interface PostgresStoreOptions<L = Record<string, unknown>> {
  /** The client the app already built: a `pg` `Pool` (or `Client`), or a postgres.js `sql`. */
  client: PostgresClient
  /**
   * Table holding the sessions, optionally schema-qualified (`auth.sessions`). Letters, digits
   * and underscores only; it is quoted, so its case is kept.
   * @default 'sessions'
   */
  table?: string
  /**
   * Create the table and its indexes on first use when they are missing. Turn it off when
   * migrations own the schema, or the app's role may not create tables.
   * @default true
   */
  createTable?: boolean
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
   * Clock in epoch milliseconds, used to prune expired rows and leave them out of listings and
   * patches (the app's clock, not the database's) and for `lastSeenAt` of writes the engine did not time (direct calls); tests
   * inject one to move time.
   * @default Date.now
   */
  now?: () => number
}

/** A session store over a PostgreSQL table, with a per-user index and `prune()`. */
export interface PostgresStore<L = Record<string, unknown>>
  extends MetaStore,
    UserSessionIndex<L>,
    UserKeyed {
  /** The record stored under `id` (past its deadline too: the engine refuses those), or undefined. */
  get(id: string, ctx?: unknown): Promise<SessionRecord<any> | undefined>
  /** Deletes the row of `id`. */
  delete(id: string, ctx?: unknown): Promise<void>
  /** Upserts the row of `id` in one INSERT … ON CONFLICT. */
  set(id: string, record: SessionRecord<any>, ctx?: unknown, meta?: WriteMeta): Promise<void>
  /** Merges one request's changed keys into the stored row in one atomic UPDATE. */
  patch(
    id: string,
    record: SessionRecord<any>,
    patch: SessionPatch,
    ctx?: unknown,
    meta?: WriteMeta,
  ): Promise<void>
  /**
   * Records that a request read the session (one UPDATE of last seen and user agent): at most
   * once per `touchAfter` with the engine's `meta` (undefined, no query, in between), at
   * once on a direct call.
   */
  touch(id: string, ctx?: unknown, meta?: WriteMeta): Promise<void> | undefined
  /** Deletes every expired row; resolves to how many were deleted. */
  prune(): Promise<number>
  /** The data key that holds the owner. */
  readonly userKey: string
}

type Row = Record<string, unknown>
type Query = (text: string, values: unknown[]) => Promise<Row[]>

/** The driver's query function behind one signature: text plus values in, rows out. */
function queryOf(client: any): Query | undefined {
  if (typeof client?.unsafe === 'function') {
    // postgres.js: `unsafe` resolves to the row array itself.
    return async (text, values) => (await client.unsafe(text, values)) as Row[]
  }
  if (typeof client?.query === 'function') {
    return async (text, values) => (await client.query(text, values)).rows as Row[]
  }
  return undefined
}

const checkOptions = object<PostgresStoreOptions>({
  client: required(
    is(
      (v): v is PostgresClient => queryOf(v) !== undefined,
      'must be a pg Pool or Client (with query()) or a postgres.js sql (with unsafe())',
    ),
  ),
  table: tableCheck(postgres),
  createTable: boolean,
  userKey: userKeyCheck,
  listData: listDataCheck,
  touchAfter: touchAfterCheck,
  now: func,
})

/**
 * A session store over a PostgreSQL table, for `pg` or postgres.js: one query to load, one to
 * write, concurrent changes to different keys merged in the database; `prune()` deletes
 * expired rows.
 *
 * @example
 * import pg from 'pg'
 * import { postgresStore } from 'sealed-session/stores/postgres'
 * const store = postgresStore({ client: new pg.Pool({ connectionString: process.env.DATABASE_URL }) })
 * app.use(session({ secret: process.env.SESSION_SECRET, store }))
 * setInterval(() => store.prune().catch(console.error), 3600_000).unref()
 */
export function postgresStore<L = Record<string, unknown>>(
  options: PostgresStoreOptions<L>,
): PostgresStore<L> {
  assertOptions(checkOptions, options)
  const {
    client,
    table = 'sessions',
    createTable = true,
    userKey = 'userId',
    listData,
    touchAfter = 60,
    now = Date.now,
  } = options
  const query = queryOf(client)!
  const recent = lastSeenThrottle(touchAfter)

  const sql = sessionSql(table, postgres)
  const PATCH = postgresPatch(table)

  // Created once per store, on first use; a failure (database down) is retried next time.
  let ready: Promise<void> | undefined = createTable ? undefined : Promise.resolve()
  function ensure(): Promise<void> {
    ready ??= query(sql.schema.join(';\n'), []).then(
      () => undefined,
      (err: unknown) => {
        ready = undefined
        throw err
      },
    )
    return ready
  }

  async function run(text: string, values: unknown[]): Promise<Row[]> {
    await ensure()
    // postgres.js would send `undefined` as the text "undefined".
    return query(
      text,
      values.map((v) => (v === undefined ? null : v)),
    )
  }

  return {
    userKey,

    async get(id) {
      const [row] = await run(sql.get, [id])
      if (!row) return undefined
      // Last seen by any process: a touch is due only an interval after it.
      recent.seen(id, postgres.time(row.seen))
      return recordOf(row, postgres)
    },

    async set(id, record, _ctx, meta) {
      const write = writeMeta(meta, now)
      recent.seen(id, write.now)
      await run(sql.set, writeValues(id, record, userKey, write))
    },

    async patch(id, record, changes: SessionPatch, _ctx, meta) {
      const write = writeMeta(meta, now)
      recent.seen(id, write.now)
      await run(PATCH, patchValues(id, record, changes, userKey, write, now()))
    },

    async delete(id) {
      recent.forget(id)
      await run(sql.delete, [id])
    },

    touch(id, _ctx, meta) {
      if (meta && !recent.due(id, meta.now)) return undefined
      const { now: at, userAgent } = writeMeta(meta, now)
      recent.seen(id, at)
      return run(sql.touch, [at, userAgent ?? null, id, at]).then(() => undefined)
    },

    async prune() {
      const [row] = await run(sql.prune, [now()])
      return Number(row?.n ?? 0)
    },

    async listSessions(userId) {
      const rows = await run(sql.list, [userIdArg(userId), now()])
      return rows.map((row) => userSessionOf(row, postgres, listData))
    },

    async destroySession(userId, sessionId) {
      const owner = userIdArg(userId)
      const id = sessionIdArg(sessionId)
      recent.forget(id)
      return (await run(`${sql.destroyOne} RETURNING id`, [owner, id, now()])).length === 1
    },

    async destroyUserSessions(userId, options) {
      const except = exceptArg(options)
      const [row] = await run(sql.destroyUser, [userIdArg(userId), except ?? null, now()])
      return Number(row?.n ?? 0)
    },

    async *allSessions(options) {
      const size = pageSizeArg(options, PAGE_SIZE)
      const PAGE = sql.page(size)
      let after = ''
      while (true) {
        const rows = await run(PAGE, [now(), after])
        for (const row of rows) yield infoOf(row, postgres)
        if (rows.length < size) return
        after = String(rows[rows.length - 1]!.id)
      }
    },
  }
}
