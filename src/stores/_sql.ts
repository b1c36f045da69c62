/**
 * The sessions table of the SQLite and Postgres stores, described once: its DDL, its statements,
 * the values they bind and the rows they return, written out per dialect (`_sql-dialects.ts`).
 * The store files keep only their driver plumbing. Tables created by earlier releases stay
 * valid: same names, same column types, same column order per dialect.
 */

import { sessionDeadline } from '../core/record.ts'
import type { SessionInfo, SessionRecord, UserSession } from '../core/types.ts'
import { type ListData, listed } from './_devices.ts'
import { sessionInfo, userIdOf, type WriteStamp } from './_shared.ts'

/** How one SQL dialect spells the parts the two stores differ in. */
export interface SqlDialect {
  /** Column order of `CREATE TABLE` where it differs from the logical one (earlier releases'). */
  order?: readonly Column[]
  /** The SQL type of a column of `kind`. */
  type(kind: Kind): string
  /** Placeholder number `n` (1-based) holding a value of `kind`, as SQL reads it. */
  param(n: number, kind: Kind): string
  /** `column` of `kind` as a select expression handing back text or epoch ms. */
  read(column: string, kind: Kind): string
  /** A time value from a row, as epoch milliseconds. */
  time(value: unknown): number
  /** Suffix of index names (`<table>_expires_at<suffix>`). */
  indexSuffix: string
  /** Whether `table` may be schema-qualified (`auth.sessions`). */
  schemas: boolean
  /** The null-safe "differs from" operator. */
  isNot: string
  /**
   * Whether a DELETE can report what it deleted in the same statement (a CTE over
   * `DELETE … RETURNING`); otherwise the driver counts in the same transaction.
   */
  countsDeletes: boolean
  /** The DDL statements as the driver runs them. */
  schema(ddl: string[], table: string): string[]
}

/** What a column holds; each dialect picks its SQL type and conversions per kind. */
export type Kind = 'key' | 'json' | 'time' | 'text'

// Logical order: the order `set` binds its values in (see writeValues) and SQLite's DDL order.
const COLUMNS = {
  id: { kind: 'key', required: true },
  data: { kind: 'json', required: true },
  flash: { kind: 'json', required: false },
  created_at: { kind: 'time', required: true },
  absolute_expires_at: { kind: 'time', required: true },
  idle_expires_at: { kind: 'time', required: false },
  // The earlier deadline: what reads, prune() and listings compare to now.
  expires_at: { kind: 'time', required: true },
  user_id: { kind: 'text', required: false },
  last_seen_at: { kind: 'time', required: true },
  user_agent: { kind: 'text', required: false },
} as const satisfies Record<string, { kind: Kind; required: boolean }>

/** A column of the sessions table. */
export type Column = keyof typeof COLUMNS
const WRITTEN = Object.keys(COLUMNS) as Column[]

/**
 * `table` quoted for SQL, part by part (`auth.Sessions` → `"auth"."Sessions"`), so its case is
 * kept; the name was checked by `tableCheck`, so it holds no quote.
 *
 * @example
 * `DELETE FROM ${quote(table)}`
 */
export const quote = (table: string): string =>
  table
    .split('.')
    .map((p) => `"${p}"`)
    .join('.')

/**
 * The statements both stores run; each binds its values in the order of its placeholders. A
 * count comes back as a row `{ n }` where the dialect `countsDeletes`, else from the driver.
 */
export interface SessionSql {
  /** DDL statements, one per string (better-sqlite3 refuses several in one). */
  schema: string[]
  /**
   * (id) → the row `recordOf` reads, past its deadline or not: the engine tells `expired` from
   * `not-found` and deletes an expired row.
   */
  get: string
  /** `writeValues(…)` → upsert. */
  set: string
  /** (id) */
  delete: string
  /** (userId, now) → rows `infoOf` reads (with `data`), newest first. */
  list: string
  /** (userId, sessionId, now): deletes the session if it is the user's and live. */
  destroyOne: string
  /** (now, userAgent | null, id, now): moves last seen forward (and the user agent). */
  touch: string
  /** (now, after id) → the next `size` live rows `infoOf` reads, by id. */
  page(size: number): string
  /** (userId, except | null, now) → `{ n }`: the user's live sessions but `except`. */
  countUser: string
  /**
   * (userId, except | null[, now]): deletes the user's rows but `except`, expired ones too
   * (with `countsDeletes`, → `{ n }` counting the live ones).
   */
  destroyUser: string
  /** (now): deletes expired rows (with `countsDeletes`, → `{ n }`). */
  prune: string
}

/**
 * The statements over `table` in `dialect` (the table name already checked by `tableCheck`).
 *
 * @example
 * const sql = sessionSql('sessions', sqlite)
 */
export function sessionSql(table: string, dialect: SqlDialect): SessionSql {
  const t = quote(table)
  const name = table.slice(table.lastIndexOf('.') + 1)
  const index = (column: string) => `"${name}_${column}${dialect.indexSuffix}"`
  let n = 0
  const p = (kind: Kind = 'text') => dialect.param(++n, kind)
  const statement = (build: () => string) => {
    n = 0
    return build()
  }
  const r = (column: Column) => dialect.read(column, COLUMNS[column].kind)
  const columns = (dialect.order ?? WRITTEN).map((c) => {
    const { kind, required } = COLUMNS[c]
    return `${c} ${dialect.type(kind)}${required ? ' NOT NULL' : ''}`
  })
  const updates = WRITTEN.filter((c) => c !== 'id' && c !== 'user_agent').map(
    (c) => `${c} = excluded.${c}`,
  )
  const count = (del: string, live?: string) =>
    `WITH gone AS (${del} RETURNING expires_at)
SELECT count(*)${live ? ` FILTER (WHERE ${live})` : ''}::int AS n FROM gone`
  const info = `id, user_id AS owner, ${r('created_at')} AS created, ${r('last_seen_at')} AS seen,
  ${r('expires_at')} AS expires, user_agent AS agent`
  const userRows = () => `user_id = ${p()} AND id ${dialect.isNot} ${p()}`
  return {
    schema: dialect.schema(
      [
        `CREATE TABLE IF NOT EXISTS ${t} (\n  ${columns.join(',\n  ')}\n)`,
        `CREATE INDEX IF NOT EXISTS ${index('expires_at')} ON ${t} (expires_at)`,
        `CREATE INDEX IF NOT EXISTS ${index('user_id')} ON ${t} (user_id) WHERE user_id IS NOT NULL`,
      ],
      table,
    ),
    // Aliases are single lower-case words so postgres.js column transforms (camel) keep them.
    get: statement(
      () => `SELECT ${r('data')} AS data, ${r('flash')} AS flash, ${r('created_at')} AS created,
  ${r('absolute_expires_at')} AS expires, ${r('idle_expires_at')} AS idle
  , ${r('last_seen_at')} AS seen
FROM ${t} WHERE id = ${p()}`,
    ),
    // created_at is the record's, so a regenerated session keeps its age; a write without a
    // user agent keeps the one recorded before.
    set: statement(
      () => `INSERT INTO ${t} AS s (${WRITTEN.join(', ')})
VALUES (${WRITTEN.map((c) => p(COLUMNS[c].kind)).join(', ')})
ON CONFLICT (id) DO UPDATE SET ${updates.join(', ')},
  user_agent = coalesce(excluded.user_agent, s.user_agent)`,
    ),
    delete: statement(() => `DELETE FROM ${t} WHERE id = ${p()}`),
    list: statement(
      () => `SELECT ${info}, ${r('data')} AS data
FROM ${t} WHERE user_id = ${p()} AND expires_at > ${p('time')}
ORDER BY last_seen_at DESC, created_at DESC, id`,
    ),
    destroyOne: statement(
      () => `DELETE FROM ${t} WHERE user_id = ${p()} AND id = ${p()} AND expires_at > ${p('time')}`,
    ),
    touch: statement(
      () => `UPDATE ${t} SET last_seen_at = ${p('time')}, user_agent = coalesce(${p()}, user_agent)
WHERE id = ${p()} AND last_seen_at < ${p('time')}`,
    ),
    // Keyset pages: each starts after the last id of the one before, so none is held longer.
    page: (size) =>
      statement(
        () => `SELECT ${info} FROM ${t} WHERE expires_at > ${p('time')} AND id > ${p()}
ORDER BY id LIMIT ${size}`,
      ),
    // With no `except` (NULL), "id differs from it" matches every row.
    countUser: statement(
      () => `SELECT count(*) AS n FROM ${t} WHERE ${userRows()} AND expires_at > ${p('time')}`,
    ),
    // Expired rows of the user go too, but only live sessions are counted as logged out.
    destroyUser: statement(() => {
      const del = `DELETE FROM ${t} WHERE ${userRows()}`
      return dialect.countsDeletes ? count(del, `expires_at > ${p('time')}`) : del
    }),
    prune: statement(() => {
      const del = `DELETE FROM ${t} WHERE expires_at <= ${p('time')}`
      return dialect.countsDeletes ? count(del) : del
    }),
  }
}

/**
 * The values `set` binds, in column order: the record, its owner and the write's time and user
 * agent (`null` for what is missing, which both drivers bind as NULL).
 *
 * @example
 * db.prepare(sql.set).run(...writeValues(id, record, userKey, write))
 */
export function writeValues(
  id: string,
  record: SessionRecord<any>,
  userKey: string,
  write: WriteStamp,
): unknown[] {
  return [
    id,
    JSON.stringify(record.data),
    record.flash === undefined ? null : JSON.stringify(record.flash),
    record.createdAt,
    record.expiresAt,
    record.idleExpiresAt ?? null,
    sessionDeadline(record),
    userIdOf(record.data, userKey) ?? null,
    write.now,
    write.userAgent ?? null,
  ]
}

/** The record in a row `get` returned. */
export function recordOf(row: Record<string, unknown>, dialect: SqlDialect): SessionRecord<any> {
  const record: SessionRecord<any> = {
    data: JSON.parse(String(row.data)),
    createdAt: dialect.time(row.created),
    expiresAt: dialect.time(row.expires),
  }
  if (row.idle !== null && row.idle !== undefined) record.idleExpiresAt = dialect.time(row.idle)
  if (row.flash !== null && row.flash !== undefined) record.flash = JSON.parse(String(row.flash))
  return record
}

/** The `SessionInfo` in a row `list` returned. */
export function infoOf(row: Record<string, unknown>, dialect: SqlDialect): SessionInfo {
  const { time } = dialect
  const owner = row.owner === null || row.owner === undefined ? undefined : String(row.owner)
  return sessionInfo(
    String(row.id),
    owner,
    time(row.created),
    time(row.seen),
    time(row.expires),
    row.agent,
  )
}

/** The `UserSession` in a row `list` returned, its data shown through `listData`. */
export function userSessionOf<L>(
  row: Record<string, unknown>,
  dialect: SqlDialect,
  listData?: ListData<L>,
): UserSession<L> {
  const info = infoOf(row, dialect) as UserSession<L>
  info.data = listed(JSON.parse(String(row.data)), listData)
  return info
}
