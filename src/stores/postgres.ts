import type { SessionPatch, SessionRecord, UserSessionIndex } from '../core/types.ts'
import { boolean, func, is, object, required } from '../core/validate.ts'
import {
  assertOptions,
  type MetaStore,
  type UserKeyed,
  userKeyCheck,
  type WriteMeta,
  writeMeta,
} from './_shared.ts'
import { infoOf, recordOf, sessionSql, writeValues } from './_sql.ts'
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
export interface PostgresStoreOptions {
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
   * Clock in epoch milliseconds, used to prune expired rows and leave them out of listings and
   * patches (the app's clock, not the database's) and for `lastSeenAt` of writes the engine did not time (direct calls); tests
   * inject one to move time.
   * @default Date.now
   */
  now?: () => number
}

/** A session store over a PostgreSQL table, with a per-user index and `prune()`. */
export interface PostgresStore extends MetaStore, UserSessionIndex, UserKeyed {
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
export function postgresStore(options: PostgresStoreOptions): PostgresStore {
  assertOptions(checkOptions, options)
  const {
    client,
    table = 'sessions',
    createTable = true,
    userKey = 'userId',
    now = Date.now,
  } = options
  const query = queryOf(client)!

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
      return row ? recordOf(row, postgres) : undefined
    },

    async set(id, record, _ctx, meta) {
      await run(sql.set, writeValues(id, record, userKey, writeMeta(meta, now)))
    },

    async patch(id, record, changes: SessionPatch, _ctx, meta) {
      await run(PATCH, patchValues(id, record, changes, userKey, writeMeta(meta, now), now()))
    },

    async delete(id) {
      await run(sql.delete, [id])
    },

    async prune() {
      const [row] = await run(sql.prune, [now()])
      return Number(row?.n ?? 0)
    },

    async listSessions(userId) {
      const rows = await run(sql.list, [String(userId), now()])
      return rows.map((row) => infoOf(row, postgres))
    },

    async destroyUserSessions(userId, options = {}) {
      const [row] = await run(sql.destroyUser, [String(userId), options.except ?? null, now()])
      return Number(row?.n ?? 0)
    },
  }
}
