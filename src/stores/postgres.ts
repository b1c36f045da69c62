import { SessionConfigError, type SessionConfigIssue } from '../core/errors.ts'
import { userAgentOf, userIdOf } from '../core/owner.ts'
import { sessionDeadline } from '../core/record.ts'
import type {
  SessionInfo,
  SessionPatch,
  SessionRecord,
  SessionStore,
  UserSessionIndex,
} from '../core/types.ts'

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
   * Clock in epoch milliseconds, used to skip and prune expired rows (the app's clock, not the
   * database's); tests inject one to move time.
   * @default Date.now
   */
  now?: () => number
}

/** A session store over a PostgreSQL table, with a per-user index and `prune()`. */
export interface PostgresStore extends SessionStore, UserSessionIndex {
  /** Merges one request's changed keys into the stored row in one atomic UPDATE. */
  patch(id: string, record: SessionRecord<any>, patch: SessionPatch, ctx?: unknown): Promise<void>
  /** Deletes every expired row; resolves to how many were deleted. */
  prune(): Promise<number>
}

type Row = Record<string, unknown>
type Query = (text: string, values: unknown[]) => Promise<Row[]>

// A plain identifier, optionally schema-qualified; quoted in SQL, so never injected.
const TABLE = /^(?:[A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$/
// Longest user agent kept: the client chooses it, the table should not grow with it.
const MAX_USER_AGENT = 512

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

// Times cross the wire as epoch milliseconds and live in the table as timestamptz, readable
// in psql. Both drivers map float8 to a JS number whatever their timestamp settings.
const ts = (param: string) => `to_timestamp(${param}::float8 / 1000)`
const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`
const toMs = (value: unknown) => Math.round(Number(value))

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
export function postgresStore({
  client,
  table = 'sessions',
  createTable = true,
  userKey = 'userId',
  now = Date.now,
}: PostgresStoreOptions): PostgresStore {
  const issues: SessionConfigIssue[] = []
  const query = queryOf(client)
  if (!query) {
    issues.push({
      path: 'client',
      message: 'must be a pg Pool or Client (with query()) or a postgres.js sql (with unsafe())',
    })
  }
  if (typeof table !== 'string' || !TABLE.test(table)) {
    issues.push({
      path: 'table',
      message:
        'must be a table name of letters, digits and underscores (at most 63), optionally schema-qualified',
    })
  }
  if (typeof createTable !== 'boolean') {
    issues.push({ path: 'createTable', message: 'must be a boolean' })
  }
  if (typeof userKey !== 'string' || userKey === '') {
    issues.push({ path: 'userKey', message: 'must be a non-empty string' })
  }
  if (typeof now !== 'function') issues.push({ path: 'now', message: 'must be a function' })
  if (issues.length > 0 || !query) throw new SessionConfigError(issues)

  const parts = table.split('.')
  const name = parts[parts.length - 1]!
  const t = parts.map((p) => `"${p}"`).join('.')

  const ddl = `DO $ddl$ BEGIN
  -- Concurrent CREATE ... IF NOT EXISTS can still collide in the catalog: one creator at a time.
  PERFORM pg_advisory_xact_lock(hashtext('sealed-session:${table}'));
  -- "already exists" notices would be printed by postgres.js on every start.
  SET LOCAL client_min_messages = warning;
  CREATE TABLE IF NOT EXISTS ${t} (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    flash jsonb,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    absolute_expires_at timestamptz NOT NULL,
    idle_expires_at timestamptz,
    last_seen_at timestamptz NOT NULL,
    user_id text,
    user_agent text
  );
  CREATE INDEX IF NOT EXISTS "${name}_expires_at_idx" ON ${t} (expires_at);
  CREATE INDEX IF NOT EXISTS "${name}_user_id_idx" ON ${t} (user_id) WHERE user_id IS NOT NULL;
END $ddl$`

  // Created once per store, on first use; a failure (database down) is retried next time.
  let ready: Promise<void> | undefined = createTable ? undefined : Promise.resolve()
  function ensure(): Promise<void> {
    ready ??= query!(ddl, []).then(
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
    return query!(
      text,
      values.map((v) => (v === undefined ? null : v)),
    )
  }

  // Aliases are single lower-case words so postgres.js column transforms (camel) keep them.
  const GET = `SELECT data::text AS data, flash::text AS flash, ${ms('created_at')} AS created,
    ${ms('absolute_expires_at')} AS expires, ${ms('idle_expires_at')} AS idle
  FROM ${t} WHERE id = $1 AND expires_at > ${ts('$2')}`

  // created_at is the record's, so a regenerated session keeps its age.
  const SET = `INSERT INTO ${t} AS s (id, data, flash, created_at, expires_at, absolute_expires_at,
    idle_expires_at, last_seen_at, user_id, user_agent)
  VALUES ($1, $2::text::jsonb, $3::text::jsonb, ${ts('$4')}, ${ts('$5')}, ${ts('$6')},
    ${ts('$7')}, ${ts('$8')}, $9, $10)
  ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, flash = EXCLUDED.flash,
    created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at,
    absolute_expires_at = EXCLUDED.absolute_expires_at, idle_expires_at = EXCLUDED.idle_expires_at,
    last_seen_at = EXCLUDED.last_seen_at, user_id = EXCLUDED.user_id,
    user_agent = COALESCE(EXCLUDED.user_agent, s.user_agent)`

  // One UPDATE, so the row lock makes it atomic: a concurrent patch waits, then applies its keys
  // to the row this one wrote. No row (logged out elsewhere): nothing happens.
  // $10 chooses the user id: 0 keep, 1 take $11 (the user key was set or removed).
  const PATCH = `UPDATE ${t} SET
    data = (data - ARRAY(SELECT jsonb_array_elements_text($2::text::jsonb))) || $3::text::jsonb,
    flash = $4::text::jsonb, created_at = ${ts('$5')}, expires_at = ${ts('$6')},
    absolute_expires_at = ${ts('$7')}, idle_expires_at = ${ts('$8')}, last_seen_at = ${ts('$9')},
    user_id = CASE WHEN $10::int = 1 THEN $11::text ELSE user_id END,
    user_agent = COALESCE($12::text, user_agent)
  WHERE id = $1`

  const DELETE = `DELETE FROM ${t} WHERE id = $1`

  const PRUNE = `WITH gone AS (DELETE FROM ${t} WHERE expires_at <= ${ts('$1')} RETURNING 1)
  SELECT count(*)::int AS n FROM gone`

  const LIST = `SELECT id, ${ms('created_at')} AS created, ${ms('last_seen_at')} AS seen,
    ${ms('expires_at')} AS expires, user_agent AS agent
  FROM ${t} WHERE user_id = $1 AND expires_at > ${ts('$2')}
  ORDER BY last_seen_at DESC, created_at DESC, id`

  // Expired rows of the user go too, but only live sessions are counted as logged out.
  const DESTROY = `WITH gone AS (
    DELETE FROM ${t} WHERE user_id = $1 AND id IS DISTINCT FROM $2::text RETURNING expires_at)
  SELECT count(*) FILTER (WHERE expires_at > ${ts('$3')})::int AS n FROM gone`

  const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value))

  return {
    async get(id) {
      const [row] = await run(GET, [id, now()])
      if (!row) return undefined
      const record: SessionRecord = {
        data: JSON.parse(String(row.data)),
        createdAt: toMs(row.created),
        expiresAt: toMs(row.expires),
      }
      if (row.idle !== null && row.idle !== undefined) record.idleExpiresAt = toMs(row.idle)
      if (row.flash !== null && row.flash !== undefined)
        record.flash = JSON.parse(String(row.flash))
      return record
    },

    async set(id, record, ctx) {
      await run(SET, [
        id,
        JSON.stringify(record.data),
        json(record.flash),
        record.createdAt,
        sessionDeadline(record),
        record.expiresAt,
        record.idleExpiresAt,
        now(),
        userIdOf(record.data, userKey) ?? null,
        userAgentOf(ctx)?.slice(0, MAX_USER_AGENT) ?? null,
      ])
    },

    async patch(id, record, changes: SessionPatch, ctx) {
      const set: Record<string, unknown> = {}
      const deleted = [...changes.deleted]
      for (const key of changes.set) {
        // A key whose new value JSON drops (undefined) is a removal.
        if (Object.hasOwn(record.data, key) && record.data[key] !== undefined) {
          set[key] = record.data[key]
        } else deleted.push(key)
      }
      const userChanged = changes.set.includes(userKey) || changes.deleted.includes(userKey)
      await run(PATCH, [
        id,
        JSON.stringify(deleted),
        JSON.stringify(set),
        json(record.flash),
        record.createdAt,
        sessionDeadline(record),
        record.expiresAt,
        record.idleExpiresAt,
        now(),
        userChanged ? 1 : 0,
        userIdOf(set, userKey) ?? null,
        userAgentOf(ctx)?.slice(0, MAX_USER_AGENT) ?? null,
      ])
    },

    async delete(id) {
      await run(DELETE, [id])
    },

    async prune() {
      const [row] = await run(PRUNE, [now()])
      return Number(row?.n ?? 0)
    },

    async listSessions(userId) {
      const rows = await run(LIST, [String(userId), now()])
      return rows.map((row) => {
        const info: SessionInfo = {
          id: String(row.id),
          createdAt: toMs(row.created),
          lastSeenAt: toMs(row.seen),
          expiresAt: toMs(row.expires),
        }
        if (typeof row.agent === 'string') info.userAgent = row.agent
        return info
      })
    },

    async destroyUserSessions(userId, options = {}) {
      const [row] = await run(DESTROY, [String(userId), options.except ?? null, now()])
      return Number(row?.n ?? 0)
    },
  }
}
