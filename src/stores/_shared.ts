/**
 * What the built-in stores share: option checks, the write metadata they record (time, user
 * agent), the owner of a session, and the `SessionInfo` they list. Not a public entry point.
 */
import { SessionConfigError, type SessionConfigIssue } from '../core/errors.ts'
import { asRecord, isExpired, sessionDeadline } from '../core/record.ts'
import type {
  SessionInfo,
  SessionPatch,
  SessionRecord,
  SessionStore,
  WriteMeta,
} from '../core/types.ts'
import { type Check, is } from '../core/validate.ts'

export { userIdOf } from '../core/record.ts'
export type { WriteMeta }

/**
 * A built-in store: `set` and `patch` also take the engine's `WriteMeta`; every method works
 * without ctx or meta, as direct calls from app code.
 *
 * @example
 * await store.set(id, record) // the store's own clock, no user agent
 * const record = await store.get(id) // undefined when none is stored
 */
export interface MetaStore extends SessionStore {
  /**
   * What is stored under `id` (a promise of it on async stores): the `SessionRecord`, or
   * undefined when there is none (a record past its deadline too, which the engine refuses).
   */
  get(id: string, ctx?: unknown): unknown
  /** Removes the record stored under `id`; a missing id is not an error. */
  delete(id: string, ctx?: unknown): unknown
  set(id: string, record: SessionRecord<any>, ctx?: unknown, meta?: WriteMeta): unknown
  patch?(
    id: string,
    record: SessionRecord<any>,
    patch: SessionPatch,
    ctx?: unknown,
    meta?: WriteMeta,
  ): unknown
}

/**
 * A store with a per-user index names the data key that holds the owner (`false`: index off),
 * so the engine can compute `WriteMeta.userId`.
 *
 * @example
 * const userId = store.userKey === false ? undefined : userIdOf(record.data, store.userKey)
 */
export interface UserKeyed {
  readonly userKey: string | false
}

/** Longest user agent a store records: the client chooses it, a row should not grow with it. */
export const USER_AGENT_MAX = 512

/**
 * `userAgent` cut to `USER_AGENT_MAX` UTF-16 units, never splitting a surrogate pair.
 *
 * @example
 * capUserAgent('x'.repeat(2000)).length // 512
 */
export function capUserAgent(userAgent: string): string {
  if (userAgent.length <= USER_AGENT_MAX) return userAgent
  const cut = userAgent.slice(0, USER_AGENT_MAX)
  const last = cut.charCodeAt(cut.length - 1)
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut
}

/** What a store stamps on one write: its time and the client's user agent (capped). */
export type WriteStamp = Pick<WriteMeta, 'now' | 'userAgent'>

/**
 * The time and user agent (capped) of one write: the engine's `meta` when it passes one, else
 * the store's clock. A store that records a user agent keeps the earlier one when this has none.
 *
 * @example
 * const { now, userAgent } = writeMeta(meta, clock)
 */
export function writeMeta(meta: WriteMeta | undefined, now: () => number): WriteStamp {
  // Without meta, a write is a direct call from app code: no request, no user agent.
  if (meta === undefined) return { now: now() }
  return meta.userAgent === undefined
    ? { now: meta.now }
    : { now: meta.now, userAgent: capUserAgent(meta.userAgent) }
}

/**
 * One `SessionInfo`; `userAgent` only when one was recorded (a database hands back `null`).
 *
 * @example
 * sessionInfo(row.id, row.user, row.created, row.seen, row.expires, row.agent)
 */
export function sessionInfo(
  id: string,
  userId: string | undefined,
  createdAt: number,
  lastSeenAt: number,
  expiresAt: number,
  userAgent?: unknown,
): SessionInfo {
  const info: SessionInfo = { id, userId, createdAt, lastSeenAt, expiresAt }
  if (typeof userAgent === 'string') info.userAgent = userAgent
  return info
}

/**
 * Sorts a user's sessions as `listSessions()` reports them: last seen first, then newest.
 *
 * @example
 * return newestFirst(list)
 */
export function newestFirst<T extends SessionInfo>(list: T[]): T[] {
  return list.sort((a, b) => b.lastSeenAt - a.lastSeenAt || b.createdAt - a.createdAt)
}

/**
 * Throws one `SessionConfigError` naming every issue `check` finds in a store's options (the
 * shared validator of `core/validate.ts`, as `session()` uses).
 *
 * @example
 * assertOptions(object<FileStoreOptions>({ dir: required(directory), now: func }), options)
 */
export function assertOptions(check: Check, options: unknown): void {
  const issues: SessionConfigIssue[] = []
  check(options ?? {}, '', issues)
  if (issues.length > 0) throw new SessionConfigError(issues)
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v !== ''

/** The check of a `userKey` option: a non-empty string. */
export const userKeyCheck: Check = is(nonEmpty, 'must be a non-empty string')

/** The check of a `userKey` option where `false` turns the per-user index off. */
export const userKeyOrOff: Check = is(
  (v): v is string | false => v === false || nonEmpty(v),
  'must be a non-empty string, or false to turn the index off',
)

/**
 * Milliseconds from `at` until the record's deadline, rounded up: the TTL a backend is given.
 * Below 1 the session is over: write nothing, delete what is stored.
 *
 * @example
 * const ttl = ttlMs(record, meta?.now ?? now())
 * if (ttl < 1) return remove(id)
 */
export function ttlMs(record: SessionRecord<any>, at: number): number {
  return Math.ceil(sessionDeadline(record) - at)
}

/**
 * What a patch may merge into: the stored record, unless there is none, it is not a record, or
 * it is past its deadline by `at` (a session ended or expired elsewhere never comes back).
 *
 * @example
 * const next = applySessionPatch(liveRecord(await read(id), now()), record, changes)
 */
export function liveRecord(stored: unknown, at: number): SessionRecord<any> | undefined {
  const record = asRecord(stored)
  return record && !isExpired(record, at) ? record : undefined
}

/**
 * JSON text read back from a backend, parsed; the text itself when it is not JSON (another
 * program wrote the key), for the engine to refuse as `invalid-data`.
 *
 * @example
 * get: async (id) => { const text = await kv.get(key(id)); return text === null ? undefined : parseStored(text) }
 */
export function parseStored(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
