/**
 * How SQLite and PostgreSQL spell the sessions table of `_sql.ts`: types, placeholders, time
 * conversions, DDL wrapping, and the one statement only Postgres has (the atomic patch).
 */

import { sessionDeadline } from '../core/record.ts'
import type { SessionPatch, SessionRecord } from '../core/types.ts'
import { type Check, is } from '../core/validate.ts'
import { userIdOf, type WriteStamp } from './_shared.ts'
import { quote, type SqlDialect } from './_sql.ts'

/** SQLite (better-sqlite3, bun:sqlite): JSON as TEXT, times as INTEGER epoch milliseconds. */
export const sqlite: SqlDialect = {
  type: (kind) => (kind === 'time' ? 'INTEGER' : kind === 'key' ? 'TEXT PRIMARY KEY' : 'TEXT'),
  param: () => '?',
  read: (column) => column,
  time: (value) => Number(value),
  indexSuffix: '',
  schemas: false,
  isNot: 'IS NOT',
  countsDeletes: false,
  schema: (ddl) => ddl,
}

// Times cross the wire as epoch milliseconds and live in the table as timestamptz, readable
// in psql. Both drivers map float8 to a JS number whatever their timestamp settings.
const ts = (param: string) => `to_timestamp(${param}::float8 / 1000)`
const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`

/** PostgreSQL (pg, postgres.js): JSON as jsonb, times as timestamptz. */
export const postgres: SqlDialect = {
  order: [
    'id',
    'data',
    'flash',
    'created_at',
    'expires_at',
    'absolute_expires_at',
    'idle_expires_at',
    'last_seen_at',
    'user_id',
    'user_agent',
  ],
  type: (kind) =>
    ({ key: 'text PRIMARY KEY', json: 'jsonb', time: 'timestamptz', text: 'text' })[kind],
  // A typed placeholder: postgres.js sends NULL untyped, and the server must know the type.
  param: (n, kind) =>
    kind === 'time' ? ts(`$${n}`) : kind === 'json' ? `$${n}::text::jsonb` : `$${n}::text`,
  read: (column, kind) =>
    kind === 'time' ? ms(column) : kind === 'json' ? `${column}::text` : column,
  time: (value) => Math.round(Number(value)),
  indexSuffix: '_idx',
  schemas: true,
  isNot: 'IS DISTINCT FROM',
  countsDeletes: true,
  schema: (ddl, table) => [
    `DO $ddl$ BEGIN
  -- Concurrent CREATE ... IF NOT EXISTS can still collide in the catalog: one creator at a time.
  PERFORM pg_advisory_xact_lock(hashtext('sealed-session:${table}'));
  -- "already exists" notices would be printed by postgres.js on every start.
  SET LOCAL client_min_messages = warning;
  ${ddl.join(';\n  ')};
END $ddl$`,
  ],
}

const NAME = '[A-Za-z_][A-Za-z0-9_]{0,62}'
// Interpolated into SQL (quoted), so only plain identifiers; 63 keeps index names short.
const TABLE = new RegExp(`^${NAME}$`)
const QUALIFIED = new RegExp(`^(?:${NAME}\\.)?${NAME}$`)

/**
 * The check of a `table` option for `dialect`: a plain identifier (schema-qualified where the
 * dialect has schemas).
 *
 * @example
 * object({ table: tableCheck(postgres) })
 */
export function tableCheck(dialect: SqlDialect): Check {
  return dialect.schemas
    ? is(
        (v): v is string => typeof v === 'string' && QUALIFIED.test(v),
        'must be a table name of letters, digits and underscores (at most 63), optionally schema-qualified',
      )
    : is(
        (v): v is string => typeof v === 'string' && TABLE.test(v),
        'must be an identifier: a letter or _, then letters, digits or _ (at most 63)',
      )
}

/**
 * Postgres merges a patch in one UPDATE, so the row lock makes it atomic: a concurrent patch
 * waits, then applies its keys to the row this one wrote; no row (logged out elsewhere) or an
 * expired one (by `$13`, the store's clock), no change. `patchValues` binds it. `$10` chooses
 * the user id: 0 keep, 1 take `$11`.
 *
 * @example
 * await query(postgresPatch(table), patchValues(id, record, changes, userKey, write))
 */
export function postgresPatch(table: string): string {
  return `UPDATE ${quote(table)} SET
  data = (data - ARRAY(SELECT jsonb_array_elements_text($2::text::jsonb))) || $3::text::jsonb,
  flash = $4::text::jsonb, created_at = ${ts('$5')}, expires_at = ${ts('$6')},
  absolute_expires_at = ${ts('$7')}, idle_expires_at = ${ts('$8')}, last_seen_at = ${ts('$9')},
  user_id = CASE WHEN $10::int = 1 THEN $11::text ELSE user_id END,
  user_agent = COALESCE($12::text, user_agent)
WHERE id = $1 AND expires_at > ${ts('$13')}`
}

/** The values `postgresPatch` binds. */
export function patchValues(
  id: string,
  record: SessionRecord<any>,
  changes: SessionPatch,
  userKey: string,
  write: WriteStamp,
  now: number,
): unknown[] {
  const set: Record<string, unknown> = {}
  const deleted = [...changes.deleted]
  for (const key of changes.set) {
    // A key whose new value JSON drops (undefined) is a removal.
    if (Object.hasOwn(record.data, key) && record.data[key] !== undefined) {
      set[key] = record.data[key]
    } else deleted.push(key)
  }
  const userChanged = changes.set.includes(userKey) || changes.deleted.includes(userKey)
  return [
    id,
    JSON.stringify(deleted),
    JSON.stringify(set),
    record.flash === undefined ? null : JSON.stringify(record.flash),
    record.createdAt,
    sessionDeadline(record),
    record.expiresAt,
    record.idleExpiresAt ?? null,
    write.now,
    userChanged ? 1 : 0,
    userIdOf(set, userKey) ?? null,
    write.userAgent ?? null,
    now,
  ]
}
