// Public types only: no runtime code, and no imports, so nothing can loop through here.

/** A value, or a promise of it: stores and encoders may be sync or async. */
export type MaybePromise<T> = T | Promise<T>

/**
 * The global shape of session data. Augment it once to type every session in the app.
 *
 * @example
 * declare module 'sealed-session' {
 *   interface SessionData { userId?: string; notice?: string }
 * }
 */
// biome-ignore lint/suspicious/noEmptyInterface: empty on purpose, so apps can augment it
export interface SessionData {}

/** `SessionData` when an app has augmented it; otherwise any string-keyed data. */
export type DefaultSessionData = keyof SessionData extends never ? Record<string, any> : SessionData

/** Names on a session object that belong to the API and cannot be data keys. */
export type ReservedSessionKey = keyof SessionMethods<any>

/** Methods and state of a session, beside its data. */
export interface SessionMethods<Data> {
  /**
   * The session id: in store mode the store key; in sealed mode an internal random id
   * carried inside the cookie. Created on first read for a new session.
   */
  readonly id: string
  /**
   * True when this request arrived without a valid session. It describes the request, so it
   * stays as it was after `destroy()`.
   */
  readonly isNew: boolean
  /**
   * True when this response will rewrite the session data: a key set, deleted or mutated
   * (setting a key to a value with the same JSON does not count; key order does), or a flash
   * value consumed.
   */
  readonly hasChanged: boolean
  /** When the session ends if nothing renews it: the earlier of its absolute and idle deadlines. */
  readonly expiresAt: Date
  /** When the session was first created. */
  readonly createdAt: Date
  /**
   * Sets `key` for this request and the next one only; it is removed after the next
   * request reads the session, unless `reflash()` keeps it.
   */
  flash<K extends keyof Data & string>(key: K, value: Data[K]): void
  /** Keeps every flash value that arrived with this request for one more request. */
  reflash(): void
  /**
   * Gives the session a new id and keeps its data; in store mode the old entry is deleted
   * when the response is sent. Call it on login to prevent session fixation.
   */
  regenerate(): Promise<void>
  /**
   * Restarts the absolute lifetime: the session now ends `maxAge` seconds from now, and so
   * does the cookie.
   *
   * @param maxAge lifetime in seconds; defaults to the `maxAge` option
   */
  renew(maxAge?: number): void
  /** Ends the session: clears its data, deletes its store entry and clears the cookie. */
  destroy(): void
  /** A plain copy of the session data. */
  toJSON(): Data
}

/**
 * A session: its data as properties (`session.userId`) plus the methods of `SessionMethods`.
 *
 * @example
 * function greet(session: Session<{ name?: string }>) { return session.name ?? 'guest' }
 */
export type Session<Data extends object = DefaultSessionData> = string extends keyof Data
  ? OpenSession<Data>
  : Data & SessionMethods<Data>

/**
 * A session whose data has no declared shape: any key reads as `any`, while the methods keep
 * their types (an intersection with an index signature of `any` would erase them).
 */
export interface OpenSession<Data> extends SessionMethods<Data> {
  [key: string]: any
}

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
  /** Keys of `data` that are flash values, removed after the next request. */
  flash?: string[]
  /** Internal session id (sealed mode only; in store mode the id is the store key). */
  sid?: string
}

/**
 * Any Map-shaped session store: a `Map`, or an object whose `get`, `set` and `delete` may be
 * sync or async. The framework context (for Hono, `c`) is passed last so a store can record
 * the user agent or IP.
 *
 * @example
 * const store: SessionStore = {
 *   get: (id) => db.sessions.find(id),
 *   set: (id, record, c) => db.sessions.upsert(id, record, c.req.header('user-agent')),
 *   delete: (id) => db.sessions.remove(id),
 * }
 */
export interface SessionStore<Ctx = any> {
  /**
   * Returns the `SessionRecord` stored under `id` (or a promise of it), or `undefined`/`null`
   * when there is none. Typed `unknown` so a `Map<string, unknown>` or a database row fits: the
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
}

/** What one request changed in a stored session, by top-level key. */
export interface SessionPatch {
  /** Keys whose value changed: copy them from the new record. */
  set: readonly string[]
  /** Keys removed (consumed flash values included). */
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
 * Why a session cookie was not accepted; passed to `onInvalid`.
 * - `malformed`: not a value this library writes (wrong shape, bad encoding, other iron version)
 * - `tampered`: the signature does not verify (changed, or sealed with a key not in the ring)
 * - `unknown-key`: sealed with a password id the key ring does not hold
 * - `expired`: past its absolute or idle deadline
 * - `not-found`: store mode, the id is signed correctly but the store has no entry
 * - `too-large`: the cookie is longer than any cookie this library writes
 * - `invalid-data`: it opened, but what was inside is not a session record
 * - `wrong-purpose`: authentic, but sealed or signed for another `purpose` (another cookie name or app)
 * - `revoked`: a sealed session on the revocation list
 */
export type InvalidReason =
  | 'malformed'
  | 'tampered'
  | 'unknown-key'
  | 'expired'
  | 'not-found'
  | 'too-large'
  | 'invalid-data'
  | 'wrong-purpose'
  | 'revoked'

/** Cookie attributes. */
export interface SessionCookieOptions {
  /**
   * `Domain` attribute. Not allowed with a `__Host-` cookie name.
   * @default undefined (host-only cookie)
   */
  domain?: string
  /**
   * `Path` attribute. Must be `/` with a `__Host-` cookie name.
   * @default '/'
   */
  path?: string
  /**
   * `SameSite` attribute. `'None'` requires `secure`.
   * @default 'Lax'
   */
  sameSite?: 'Strict' | 'Lax' | 'None' | 'strict' | 'lax' | 'none'
  /**
   * `Secure` attribute. `'auto'` sets it everywhere except plain-HTTP `localhost`, so local
   * development works in every browser.
   * @default 'auto'
   */
  secure?: boolean | 'auto'
  /**
   * `HttpOnly` attribute; leave it on unless client script must read the cookie.
   * @default true
   */
  httpOnly?: boolean
  /**
   * `Partitioned` attribute (CHIPS), for sessions inside third-party iframes. Requires `secure`.
   * @default false
   */
  partitioned?: boolean
}

/**
 * Options of `session()`.
 *
 * @example
 * session<{ userId?: string }>({ secret: process.env.SESSION_SECRET, maxAge: 7 * 86400 })
 */
export interface SessionOptions<Ctx = any> {
  /**
   * Key ring used to seal cookies (sealed mode) or sign ids (store mode), each at least 32
   * characters. A string; an array, newest first; or `{ [id]: secret }`, where the largest
   * numeric id (or, for other ids, the first one) is the newest. The newest seals, every
   * key opens, and a session opened with an older key is re-sealed with the newest.
   * When missing: an error in production (`NODE_ENV=production`), a random secret with one
   * warning otherwise (sessions then end when the process restarts).
   */
  secret?: string | readonly string[] | Readonly<Record<string, string>>
  /**
   * Cookie name. Prefix it with `__Host-` to bind the cookie to this host (requires
   * `secure`, `path: '/'` and no `domain`).
   * @default 'sid'
   */
  cookieName?: string
  /** Cookie attributes. */
  cookie?: SessionCookieOptions
  /**
   * Absolute lifetime in seconds, enforced on the server on every request.
   * @default 86400 (one day)
   */
  maxAge?: number
  /**
   * Idle timeout in seconds: the session ends after this long without a request that
   * refreshes it.
   * @default undefined (no idle timeout)
   */
  idleTimeout?: number
  /**
   * Refresh the session's deadline on requests that do not change it, at most once per half
   * window. With `idleTimeout` it refreshes the idle deadline and keeps `maxAge` absolute;
   * without it, `maxAge` becomes a sliding lifetime.
   * @default true when `idleTimeout` is set, otherwise false
   */
  rolling?: boolean
  /**
   * Where the session travels. `'cookie'`: the session cookie. `'header'`: for API and mobile
   * clients that keep no cookies, the session is read only from `Authorization: Bearer <token>`
   * and a new token is sent in the `tokenHeader` response header (an empty value there means
   * "drop your token"); cookies are then neither read nor written.
   * @default 'cookie'
   */
  transport?: 'cookie' | 'header'
  /**
   * Response header that carries a new session token when `transport` is `'header'`.
   * @default 'session-token'
   */
  tokenHeader?: string
  /**
   * Keep sessions in this store and put only a signed random id in the cookie: a `Map`, or any
   * object with `get`, `set` and `delete`.
   * @default undefined (sealed mode: the whole session lives in the cookie)
   */
  // Any `Map<string, …>` already is a `SessionStore`; a `| Map` union here would leave inline
  // `{ get: (id) => … }` stores without contextual types (implicit `any` parameters).
  store?: SessionStore<Ctx>
  /**
   * Replace iron sealing with your own cookie codec (sealed mode only).
   * @default the built-in iron `Fe26.2` encoder
   */
  encoder?: SessionEncoder
  /**
   * Told why a request's session cookie was refused; that request gets a fresh session.
   * Keep it cheap: attackers choose how often it runs.
   */
  onInvalid?: (reason: InvalidReason, ctx: Ctx) => void
  /**
   * Clock in epoch milliseconds; tests inject one to move time.
   * @default Date.now
   */
  now?: () => number
  /**
   * What these sessions are for. It is sealed into every cookie (and into the signature of a
   * store id) and checked on every request, so a value sealed with the same secret for another
   * purpose — another cookie name, another app sharing the secret — is refused
   * (`onInvalid('wrong-purpose')`). Give apps that share a secret different purposes.
   * @default the cookie name
   */
  purpose?: string
  /**
   * Sealed mode: let a session larger than one cookie (4096 bytes) span several, named
   * `<cookieName>.0`, `<cookieName>.1`, …; stale ones are cleared when it shrinks. `true` allows
   * up to 3 cookies (about 12 KB: mind your server's header size limit, 16 KB on Node);
   * `{ maxChunks }` sets the cap, from 2 to 10. A session over the cap throws
   * `SessionTooLargeError` at commit.
   * @default false (a session over 4096 bytes throws SessionTooLargeError at commit)
   */
  chunk?: boolean | { maxChunks?: number }
  /**
   * Sealed mode: a revocation list from `sessionRevocation()`. Every request then asks it
   * whether its session was revoked (by id, or by user with `revokeUser()`), and `destroy()` and
   * `regenerate()` revoke the old id, so a copy of a logged-out cookie stops working everywhere.
   * @default undefined (a sealed cookie is valid until it expires)
   */
  revocation?: SessionRevocation
}

/** One live session of a user, as `listSessions()` reports it. Times in epoch milliseconds. */
export interface SessionInfo {
  /** The session id (store key). */
  id: string
  createdAt: number
  /** When the session was last written (a change, renew or rolling refresh). */
  lastSeenAt: number
  /** The earlier of the absolute and idle deadlines. */
  expiresAt: number
  /** The request's User-Agent when the session was last written, where the store records it. */
  userAgent?: string
}

/**
 * Optional per-user index that some stores keep (memory, Redis, SQLite, Postgres): which
 * sessions belong to a user, so an app can show "your devices" and log out the others.
 * A session belongs to the user in `record.data[userKey]` (default `userId`).
 *
 * @example
 * await store.destroyUserSessions(userId, { except: c.session.id }) // log out other devices
 */
export interface UserSessionIndex {
  /** The user's live sessions, newest first. */
  listSessions(userId: string): Promise<SessionInfo[]>
  /** Deletes every session of the user, but `except`; resolves to how many were deleted. */
  destroyUserSessions(userId: string, options?: { except?: string }): Promise<number>
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
  /** Revokes one session by its id (`session.id`); waits only when its store does. */
  revoke(sessionId: string): MaybePromise<void>
  /**
   * Revokes every session of `userId` (its data's `userKey`) created until now, but `except`.
   * Sessions created later, such as the next login, are not affected.
   */
  revokeUser(userId: string, options?: { except?: string }): Promise<void>
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
   * Called by `session()` for each engine that uses the list: entries are kept at least
   * `maxAge` seconds, the longest a session of that engine can live.
   */
  retainFor(maxAge: number): void
}

/**
 * The request as the engine reads it; adapters build one over their framework's request.
 *
 * @example
 * const view: SessionRequest = { header: (name) => req.headers.get(name), url: () => req.url }
 */
export interface SessionRequest {
  /** A request header by lower-case name (`cookie`, `authorization`, `user-agent`). */
  header(name: string): string | null | undefined
  /** The request URL; called only when `secure: 'auto'` must decide on a write. */
  url(): string | undefined
}

/** One cookie a commit sets or clears, as fields and as its `Set-Cookie` header value. */
export interface SessionCookie {
  name: string
  /** The value; `''` when the cookie is cleared. */
  value: string
  /** Seconds it lives; 0 clears it. */
  maxAge: number
  /** When it expires, epoch ms; 0 when cleared. */
  expires: number
  path: string
  domain?: string
  httpOnly: boolean
  secure: boolean
  sameSite: 'Strict' | 'Lax' | 'None'
  partitioned: boolean
  /** The whole `Set-Cookie` header value. */
  header: string
}

/** What a commit tells the response. */
export interface SessionCommit {
  /** Headers to append, in order: Set-Cookie values, or the token header with `transport: 'header'`. */
  readonly headers: ReadonlyArray<readonly [string, string]>
  /** The cookies those Set-Cookie headers set or clear. */
  readonly cookies: readonly SessionCookie[]
  /**
   * What the client presents from now on: the cookie value (chunks joined), the signed store id
   * or the bearer token; null when it holds no session.
   */
  readonly token: string | null
}

/** One opened session, as an adapter holds it between load and commit. */
export interface SessionHandle<Data extends object = DefaultSessionData> {
  /** The session the app reads and writes. */
  readonly session: Session<Data>
  /** Replaces all data with the keys of `values` (an adapter's `c.session = { … }`). */
  replace(values: object): void
}

/**
 * The engine behind every adapter, for frameworks without one: `load` before the handler,
 * `commit` after it, and append `commit.headers` to the response.
 *
 * @example
 * const engine = sessionEngine({ secret })
 * const handle = await engine.load({ header: (n) => req.headers.get(n), url: () => req.url }, req)
 * handle.session.visits = (handle.session.visits ?? 0) + 1
 * for (const [name, value] of (await engine.commit(handle, req)).headers) res.headers.append(name, value)
 */
export interface SessionEngine<Data extends object = DefaultSessionData, Ctx = unknown> {
  /** True when `loadSync` and `commitSync` work: nothing the engine uses ever waits. */
  readonly synchronous: boolean
  /** The session cookie's name. */
  readonly cookieName: string
  /** Opens the session a request carries; a bad or missing one gives a new, empty session. */
  load(request: SessionRequest, ctx: Ctx): Promise<SessionHandle<Data>>
  /** `load` without a promise; throws `ERR_SESSION_ASYNC` unless `synchronous`. */
  loadSync(request: SessionRequest, ctx: Ctx): SessionHandle<Data>
  /**
   * Writes what changed and says what to send. Committing again later writes only what changed
   * since (the handle is rebased on what was written).
   */
  commit(handle: SessionHandle<Data>, ctx: Ctx): Promise<SessionCommit>
  /** `commit` without a promise; throws `ERR_SESSION_ASYNC` unless `synchronous`. */
  commitSync(handle: SessionHandle<Data>, ctx: Ctx): SessionCommit
}
