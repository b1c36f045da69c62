// Public types of the session object and its data.

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
   * does the cookie. With a `revocation` list, at most the list's `maxAge`
   * (`sessionRevocation({ maxAge })`): a longer session would outlive the list's entries.
   *
   * @param maxAge lifetime in seconds; defaults to the `maxAge` option
   */
  renew(maxAge?: number): void
  /** Ends the session: clears its data, deletes its store entry and clears the cookie. */
  destroy(): void
  /**
   * Commits the session now (the store write or the seal; the Set-Cookie or token header is
   * kept for the response) and resolves to the value the client presents from now on: the
   * sealed cookie value (chunks joined), the signed store id, or the bearer token; `null`
   * after `destroy()`. What it committed stays committed if the handler throws later; changes
   * made after it are committed again at the end of the request (only what changed since).
   *
   * @example
   * return c.json({ token: await c.session.save() }) // a bearer login
   */
  save(): Promise<string | null>
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
