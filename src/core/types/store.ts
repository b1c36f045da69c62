// Public types of what a store or encoder keeps and is told.
import type { SessionRequest } from './engine.ts'
import type { MaybePromise } from './session.ts'

/**
 * What the server keeps for one session: the data plus its timestamps (epoch milliseconds).
 * In sealed mode this travels inside the cookie; in store mode it is the store's value.
 */
export interface SessionRecord<Data = Record<string, unknown>> {
  /** The session data. */
  data: Data
  /** When the session was created, epoch milliseconds. */
  createdAt: number
  /** Absolute deadline, epoch milliseconds. */
  expiresAt: number
  /** Idle deadline, epoch milliseconds; present when `idleTimeout` is set. */
  idleExpiresAt?: number
  /**
   * Flash values for the next request, by key, oldest first; apart from `data`. Records
   * written by 0.1.0 hold instead the keys of `data` that were flash values (`string[]`);
   * they are still read as flash values.
   */
  flash?: Record<string, unknown[]> | string[]
  /** Internal session id (sealed mode only; in store mode the id is the store key). */
  sid?: string
}

/**
 * Any Map-shaped session store: a `Map`, or an object whose `get`, `set` and `delete` may be
 * sync or async. The framework context (for Hono, `c`) follows the id and record, so a store
 * can read what it needs of the request; writes also get `WriteMeta` (`now`, `userId`,
 * `userAgent`) after it, from the engine.
 *
 * @example
 * const store: SessionStore = {
 *   get: (id) => db.sessions.find(id),
 *   set: (id, record, c, meta) => db.sessions.upsert(id, record, meta?.userAgent),
 *   delete: (id) => db.sessions.remove(id),
 * }
 */
export interface SessionStore<Ctx = any> {
  /**
   * Returns the `SessionRecord` stored under `id` (or a promise of it), or `undefined`/`null`
   * when there is none; past its deadline too, so the engine can report `expired` (it refuses
   * and deletes it). Typed `unknown` so a `Map<string, unknown>` or a database row fits: the
   * engine checks what comes back and treats anything that is not a record as invalid.
   */
  get(id: string, ctx: Ctx): unknown
  /** Stores `record` under `id`; it may be dropped after `sessionDeadline(record)`. */
  set(id: string, record: SessionRecord<any>, ctx: Ctx, meta?: WriteMeta): unknown
  /** Removes the record stored under `id`; removing a missing id is not an error. */
  delete(id: string, ctx: Ctx): unknown
  /**
   * Optional: applies one request's changes to the record stored under `id` atomically, so two
   * concurrent requests that change different keys both survive. Copy the keys in
   * `patch.set` from `record.data`, remove `patch.deleted`, and take the timestamps and `flash`
   * from `record`. When nothing is stored under `id` (another request ended the session), do
   * nothing: a session logged out elsewhere is never brought back. Without `patch`, the engine
   * calls `set` with the whole record and the last write wins. `applySessionPatch()` does the
   * merge for stores that can read and write in one step.
   */
  patch?(
    id: string,
    record: SessionRecord<any>,
    patch: SessionPatch,
    ctx: Ctx,
    meta?: WriteMeta,
  ): unknown
  /**
   * Optional: records that a request read the session under `id` without changing it (its
   * last-seen time and user agent, never its data). The engine calls it after each such
   * request, so a store throttles it (the built-in ones write at most once per session per
   * `touchAfter`, answering synchronously in between); a store without it is never told.
   * A touch that throws or rejects does not fail the request: only the time is at stake.
   */
  touch?(id: string, ctx: Ctx, meta: WriteMeta): unknown
}

/**
 * What the engine tells a store about one write, after the framework context: built-in stores
 * record the user agent and last-seen time from it; custom stores may ignore it.
 */
export interface WriteMeta {
  /** Epoch ms of the write, from the engine's clock. */
  now: number
  /** The session's owner (string form), when the data names one under the store's `userKey`. */
  userId?: string
  /** The request's User-Agent, when it has one. */
  userAgent?: string
  /**
   * Set on a revocation list's entries: the entry must live until its `expiresAt`. A store that
   * evicts entries to stay within a bound (an LRU) must not evict this one, since an evicted
   * revocation is a revoked session valid again; `memoryStore` keeps such entries outside `max`.
   */
  keep?: true
}

/** What one request changed in a stored session, by top-level key. */
export interface SessionPatch {
  /** Keys whose value changed: copy them from the new record. */
  set: readonly string[]
  /** Keys removed (including flash keys a 0.1.0 record kept in `data`). */
  deleted: readonly string[]
}

/**
 * Replaces the built-in iron sealing. `encode` gets the whole session record (data plus
 * expiry and flash metadata, plain JSON) and the newest secret, and returns a cookie value;
 * `decode` turns that value back into the record, or returns `null`/throws when it is not valid.
 *
 * @example
 * const encoder: SessionEncoder = {
 *   encode: (record, secret) => myJwt.sign(record, secret),
 *   decode: (token, secret) => myJwt.verify(token, secret),
 * }
 */
export interface SessionEncoder {
  encode(record: SessionRecord<any>, secret: string): MaybePromise<string>
  decode(value: string, secret: string): MaybePromise<SessionRecord<any> | null | undefined>
}

/**
 * One live session, as `allSessions()` reports it (and `listSessions()`, with its data). Times in
 * epoch milliseconds.
 */
export interface SessionInfo {
  /** The session id (store key). */
  id: string
  /**
   * The session's owner by its string form (`42` and `'42'` are the same user); `undefined` for
   * a session without one.
   */
  userId?: string | undefined
  createdAt: number
  /**
   * When the session was last seen: its last write (a change, renew or rolling refresh), or a
   * request that only read it, at most once per the store's `touchAfter`.
   */
  lastSeenAt: number
  /** The earlier of the absolute and idle deadlines. */
  expiresAt: number
  /** The request's User-Agent when the session was last seen, where the store records it. */
  userAgent?: string
}

/**
 * One live session of a user, as `listSessions()` reports it: the `SessionInfo` plus the
 * session's data (internal keys such as `_csrf` left out), or what the store's `listData`
 * option makes of it.
 */
export interface UserSession<ListData = Record<string, unknown>> extends SessionInfo {
  userId: string
  /** The session data without internal keys, or the store's `listData(data)`. */
  data: ListData
}

/**
 * The per-user index some stores keep (memory, Redis, SQLite, Postgres, file): which sessions
 * belong to a user, so an app can show "your devices", end one, or sign out the others. A
 * session belongs to the user in `record.data[userKey]` (default `userId`); user ids are a
 * string or a number, compared by their string form.
 *
 * @example
 * const devices = await store.listSessions(userId) // [{ id, data, lastSeenAt, userAgent, … }]
 * await store.destroySession(userId, sessionId) // true when it was that user's
 * await store.destroyUserSessions(userId, { except: c.session.id }) // sign out other devices
 */
export interface UserSessionIndex<ListData = Record<string, unknown>> {
  /** The user's live sessions with their data, last seen first. */
  listSessions(userId: string | number): Promise<UserSession<ListData>[]>
  /**
   * Ends session `sessionId` only if it is a live session of `userId`; resolves `true` when it
   * did, `false` otherwise (another user's, unknown, already ended or expired).
   */
  destroySession(userId: string | number, sessionId: string): Promise<boolean>
  /**
   * Deletes every session of the user, but `except`; resolves to how many live ones were
   * deleted. The second argument must be an options object: a bare id is refused
   * (`TypeError`), so a slip cannot end every device.
   */
  destroyUserSessions(userId: string | number, options?: { except?: string }): Promise<number>
  /**
   * Every live session of the store, with or without a user, read page by page (memory stays
   * bounded however many there are): for admin pages and cleanup jobs.
   */
  allSessions(options?: { pageSize?: number }): AsyncIterable<SessionInfo>
}

/**
 * A revocation list for sealed sessions (`sessionRevocation()` makes one). A sealed cookie is
 * valid until it expires wherever it is replayed; with a revocation list, each request also asks
 * the list, so a revoked session is refused on its next request on every instance
 * (`onInvalid('revoked')`, a fresh session).
 *
 * @example
 * const revocation = sessionRevocation({ store: redisStore({ client, prefix: 'revoked:' }) })
 * app.use(session({ secret, revocation }))
 * await revocation.revokeUser(userId, { except: c.session.id }) // log out the other devices
 */
export interface SessionRevocation {
  /**
   * Revokes one session by its id (`session.id`); waits only when its store does. The entry
   * lives `maxAge` seconds, or until `expiresAt` (epoch ms: the session's deadline, e.g.
   * `session.expiresAt.getTime()`) when that is later; logout passes it.
   */
  revoke(sessionId: string, options?: { expiresAt?: number }): MaybePromise<void>
  /**
   * Revokes every session of `userId` (its data's `userKey`) created until now, but `except`.
   * Sessions created later, such as the next login, are not affected.
   */
  revokeUser(userId: string | number, options?: { except?: string }): Promise<void>
  /**
   * Whether a session is revoked: by its id, or by its user (`userId`, the value of `userKey`
   * in its data) when it was created (`createdAt`, epoch ms) before the user's revocation.
   */
  isRevoked(session: { id: string; userId?: unknown; createdAt: number }): MaybePromise<boolean>
  /** The data key that names a session's user. */
  readonly userKey: string
  /** True when `isRevoked` answers without waiting (the list lives in a `Map`). */
  readonly synchronous: boolean
  /**
   * The longest a session checked against the list can live, in seconds: how long entries
   * without a known deadline are kept. `renew()` is capped to it.
   */
  readonly maxAge: number
  /**
   * Called by `session()` for each engine that uses the list with that engine's `maxAge`: a
   * list without a `maxAge` of its own keeps entries as long as the longest of them; one with a
   * shorter `maxAge` throws a `SessionConfigError` (the engine is refused).
   */
  retainFor(maxAge: number): void
  /**
   * Present when the list keeps a device registry (`SessionDevices`): called by the engine when
   * a sealed session is opened (`sealing` false, after the revocation check) and when it is
   * sealed, so the list can register a login and move its last-seen time. Most calls write
   * nothing; see `sessionRevocation({ touchAfter })`.
   */
  seen?(
    record: SessionRecord<any>,
    request: SessionRequest,
    sealing: boolean,
  ): MaybePromise<unknown>
}

/** One sealed session of a user, as a revocation list's `listSessions()` reports it (epoch ms). */
export interface SealedSessionInfo {
  /** The session's internal id (`session.id`): what `destroySession()` takes. */
  id: string
  /** The user it belongs to, by its string form. */
  userId: string
  /** When the session was created (its login). */
  createdAt: number
  /** When it was last seen: its login, then its requests, written at most once per `touchAfter`. */
  lastSeenAt: number
  /** When its entry expires: the session's deadline when it was last seen or sealed. */
  expiresAt: number
  /** The User-Agent of the request that last wrote the entry (capped at 512 characters). */
  userAgent?: string
}

/**
 * Device management for sealed sessions: a revocation list over a store with a per-user index
 * (`memoryStore`, `redisStore`, `sqliteStore`, `postgresStore`) registers each login there and
 * ends one device by revoking exactly its session. Lists over a `Map` or another store have no
 * such methods (`revoke()` and `revokeUser()` still work there).
 *
 * @example
 * const revocation = sessionRevocation({ store: redisStore({ client, prefix: 'revoked:' }) })
 * await revocation.destroySession(c.session.userId, form.sessionId) // "sign out that device"
 */
export interface SessionDevices {
  /**
   * The user's live sessions (neither expired nor revoked), last seen first. User ids compare
   * by their string form (`42` and `'42'` are one user).
   */
  listSessions(userId: string | number): Promise<SealedSessionInfo[]>
  /**
   * Ends one session, only if it is a live session of that user: revokes it (its next request
   * is a fresh session, `onInvalid('revoked')`) and removes it from the list. Resolves `true`
   * if it did; `false`, with nothing written, for another user's session or an unknown id.
   */
  destroySession(userId: string | number, sessionId: string): Promise<boolean>
  /**
   * Ends every session of the user but `except` (`revokeUser(userId, { except })`, registered
   * or not) and removes them from the list; resolves to how many registered sessions it removed.
   * The second argument must be an options object: `destroyUserSessions(id, c.session.id)` is
   * refused with a `TypeError`, never read as "no exception".
   */
  destroyUserSessions(userId: string | number, options?: { except?: string }): Promise<number>
}
