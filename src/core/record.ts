// Session records: what a cookie or store value must hold to count as one, the compact form a
// sealed cookie carries, and the helpers stores use (deadline, patch merge).
import { isPlainContainer } from './json.ts'
import type { SessionPatch, SessionRecord } from './types.ts'

type Data = Record<string, unknown>

/** Session key that holds the synchronizer token secret. */
export const CSRF_SESSION_KEY = '_csrf'

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((k) => typeof k === 'string')

/** Flash values by key, as version 2 keeps them: each key a non-empty array. */
export type FlashRecord = Record<string, unknown[]>

/** True for `{ key: [value, …] }`. */
export const isFlashRecord = (v: unknown): v is FlashRecord =>
  isPlainContainer(v) && !Array.isArray(v) && Object.values(v).every(Array.isArray)

/**
 * When a stored session may be dropped: the earlier of its absolute and idle deadlines, in
 * epoch milliseconds. Stores use it to set a TTL.
 *
 * @example
 * const ttlSeconds = Math.ceil((sessionDeadline(record) - Date.now()) / 1000)
 */
export function sessionDeadline(
  record: Pick<SessionRecord<unknown>, 'expiresAt' | 'idleExpiresAt'>,
): number {
  return record.idleExpiresAt === undefined
    ? record.expiresAt
    : Math.min(record.expiresAt, record.idleExpiresAt)
}

/**
 * The record a store should keep after `patch`: `stored` with this request's changed keys
 * applied and the timestamps and flash list of `record`. Returns undefined when nothing is
 * stored (the session ended elsewhere: do not write).
 *
 * @example
 * patch(id, record, changes) {
 *   const next = applySessionPatch(this.rows.get(id), record, changes)
 *   if (next) this.rows.set(id, next)
 * }
 */
export function applySessionPatch(
  stored: unknown,
  record: SessionRecord<any>,
  patch: SessionPatch,
): SessionRecord<any> | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined
  const old = (stored as SessionRecord<Data>).data
  const data: Data = typeof old === 'object' && old !== null ? { ...old } : {}
  for (const key of patch.set) data[key] = record.data[key]
  for (const key of patch.deleted) delete data[key]
  return { ...record, data }
}

/** True when `at` (epoch ms) is past the record's absolute or idle deadline. */
export function isExpired(record: SessionRecord<unknown>, at: number): boolean {
  return (
    at >= record.expiresAt || (record.idleExpiresAt !== undefined && at >= record.idleExpiresAt)
  )
}

/** A user id by its string form: a non-empty string, or a finite number; else undefined. */
export function ownerKey(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined
}

/** The owner of session data: a string (or finite number, by its string form) under `userKey`. */
export function userIdOf(data: unknown, userKey: string): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined
  return ownerKey((data as Record<string, unknown>)[userKey])
}

/** The record inside a value read from a cookie or store, or undefined when it is not one. */
export function asRecord(value: unknown): SessionRecord<Data> | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const r = value as Record<string, unknown>
  if (!isPlainContainer(r.data) || Array.isArray(r.data)) return undefined
  if (!isTime(r.createdAt) || !isTime(r.expiresAt)) return undefined
  if (r.idleExpiresAt !== undefined && !isTime(r.idleExpiresAt)) return undefined
  // Flash values by key, or (0.1.0's records) the keys of `data` that are flash values.
  if (r.flash !== undefined && !isFlashRecord(r.flash) && !isStringArray(r.flash)) return undefined
  if (r.sid !== undefined && typeof r.sid !== 'string') return undefined
  return r as unknown as SessionRecord<Data>
}

/**
 * A record with a deep copy of its data, or undefined when it is not a record of JSON data.
 * Stores and custom decoders may hand back an object they keep (a Map does): the request works
 * on its own copy, so a handler that fails half way leaves the kept session as it was.
 */
export function ownCopy(value: unknown): SessionRecord<Data> | undefined {
  const record = asRecord(value)
  if (!record) return undefined
  const copy = (v: object) => JSON.parse(JSON.stringify(v))
  try {
    return { ...record, data: copy(record.data), flash: record.flash && copy(record.flash) }
  } catch {
    return undefined
  }
}

/** A record opened from a seal, with the purpose it was sealed for. */
export type SealedRecord = SessionRecord<Data> & { purpose?: string }

/**
 * The sealed payload, versioned; every version opens forever (test/compat/).
 * - version 1 (0.1.0 on): the record with one-letter keys; `f` lists the keys of `d` that are
 *   flash values (one value each). A payload without `v` is version 1.
 * - version 2: as 1 with `"v":2`, `f` holding the flash values apart from `d`, by key
 *   (`{ "notice": ["hi"] }`), several per key.
 * - version 3 (written now): an array, so no key names; times as milliseconds after
 *   `EPOCH_MS` (created) and after creation (deadlines); the purpose left out when it is
 *   `DEFAULT_PURPOSE`, and trailing empty places dropped:
 *   `[data, created, expires, sid, idle or 0, purpose or 0, flash]`.
 */
interface Compact {
  v?: 1 | 2
  d: Data
  c: number
  e: number
  i?: number
  f?: string[] | FlashRecord
  s?: string
  /** The purpose (`options.purpose`) it was sealed for. */
  p: string
}

/** Version 3's origin of time: 2026-01-01T00:00:00Z, so creation times take fewer digits. */
const EPOCH_MS = 1_767_225_600_000
/** The purpose of the default cookie name, which version 3 leaves out. */
const DEFAULT_PURPOSE = 'sid'

/** The sealed payload for `record`, bound to `purpose` (version 3). */
export function toCompact(r: SessionRecord<Data>, purpose: string): unknown[] {
  const c = r.createdAt
  const out: unknown[] = [
    r.data,
    c - EPOCH_MS,
    r.expiresAt - c,
    r.sid ?? 0,
    r.idleExpiresAt === undefined ? 0 : r.idleExpiresAt - c,
    purpose === DEFAULT_PURPOSE ? 0 : purpose,
    r.flash,
  ]
  while (out.length > 4 && !out[out.length - 1]) out.pop()
  return out
}

/** The record inside an unsealed payload, or undefined when it is not one of ours. */
export function fromCompact(v: unknown): SealedRecord | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  if (Array.isArray(v)) {
    const [d, c, e, s, i, p, f] = v
    // asRecord checks the rest (the idle deadline and flash values are checked there).
    if (!isTime(c) || !isTime(e) || (p && typeof p !== 'string')) return undefined
    const at = c + EPOCH_MS
    return asRecord({
      data: d,
      createdAt: at,
      expiresAt: at + e,
      idleExpiresAt: i ? at + i : undefined,
      flash: f,
      sid: s === 0 ? undefined : s,
      purpose: p || DEFAULT_PURPOSE,
    }) as SealedRecord | undefined
  }
  const c = v as Compact
  // Each version's own form of `f`: keys of `d` (1), or values by key (2, which always has it).
  const v1 = c.v === undefined || c.v === 1
  if (v1 ? c.f !== undefined && !isStringArray(c.f) : c.v !== 2 || !isFlashRecord(c.f))
    return undefined
  const record = asRecord({
    data: c.d,
    createdAt: c.c,
    expiresAt: c.e,
    idleExpiresAt: c.i,
    flash: c.f,
    sid: c.s,
    purpose: c.p,
  }) as SealedRecord | undefined
  return record && (record.purpose === undefined || typeof record.purpose === 'string')
    ? record
    : undefined
}
