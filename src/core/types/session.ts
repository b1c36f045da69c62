// Public types of the session object and its data.
import type { SchemaFlash, SessionSchema } from './schema.ts'

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

/**
 * The global shape of flash values, by key. Augment it to type `flash()` apart from the data;
 * without it, flash keys are the data's keys.
 *
 * @example
 * declare module 'sealed-session' {
 *   interface SessionFlash { notice: string; error: { field: string; message: string } }
 * }
 */
// biome-ignore lint/suspicious/noEmptyInterface: empty on purpose, so apps can augment it
export interface SessionFlash {}

/** `SessionFlash` when an app has augmented it; otherwise the data's own keys (`Data`). */
export type DefaultSessionFlash<Data> = keyof SessionFlash extends never ? Data : SessionFlash

declare const unsetFlash: unique symbol
/**
 * An adapter's `Flash` type parameter when the app gives none, so the default can follow a
 * schema's data type (a default may not name a later parameter).
 */
export interface UnsetFlash {
  readonly [unsetFlash]: true
}
/**
 * The flash type for `Data`: `Flash` when the app gave one, else the `flashSchema`'s when it is a
 * particular one, else `DefaultSessionFlash<Data>`.
 */
export type FlashOf<Flash, Data, FlashSchema = SessionSchema> = Flash extends UnsetFlash
  ? SessionSchema extends FlashSchema
    ? DefaultSessionFlash<Data>
    : SchemaFlash<FlashSchema>
  : Flash

/**
 * The flash values that arrived with a request, by key, in the order they were flashed:
 * what `session.flash()` returns.
 *
 * @example
 * const all: FlashValues<{ notice: string }> = session.flash() // { notice?: string[] }
 */
export type FlashValues<Flash> = { [K in keyof Flash & string]?: Exclude<Flash[K], undefined>[] }

/** Names on a session object that belong to the API and cannot be data keys. */
export type ReservedSessionKey = keyof SessionMethods<any>

/** Methods and state of a session, beside its data; `Flash` types the flash values. */
export interface SessionMethods<Data, Flash = Data> {
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
   * (setting a key to a value with the same JSON does not count; key order does; a nested
   * change to an object read earlier counts, found by comparing its JSON when this is read),
   * or a flash value flashed or consumed.
   */
  readonly hasChanged: boolean
  /**
   * When the session ends if nothing renews it: the earlier of its absolute and idle deadlines,
   * as this response would leave them (a rolling refresh or a write moving the idle deadline
   * included).
   */
  readonly expiresAt: Date
  /** When the session was first created. */
  readonly createdAt: Date
  /**
   * Flashes `value` under `key` for the next request: there `session[key]` reads it (when the
   * data has no `key`) and `flash(key)` lists it. Flashing a key again adds a value. A request
   * that touches the session consumes what arrived, unless `reflash()` keeps it; one that never
   * touches it leaves it for the next.
   */
  flash<K extends keyof Flash & string>(key: K, value: Exclude<Flash[K], undefined>): void
  /** The values flashed under `key` that arrived with this request, oldest first (`[]` when none). */
  flash<K extends keyof Flash & string>(key: K): Exclude<Flash[K], undefined>[]
  /** Every flash value that arrived with this request, by key (`{}` when none). */
  flash(): FlashValues<Flash>
  /**
   * Keeps the flash values that arrived with this request for one more request: all of them,
   * or only those under `keys`.
   */
  reflash(...keys: (keyof Flash & string)[]): void
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
  /** A plain copy of the session data (flash values are not data). */
  toJSON(): Data
}

/**
 * Flash keys the data does not declare, read-only and optional: `session[key]` falls back to
 * the value flashed under `key`.
 */
export type FlashFallback<Data, Flash> = {
  readonly [K in Exclude<keyof Flash, keyof Data>]?: Flash[K]
}

/**
 * A session: its data as properties (`session.userId`) plus the methods of `SessionMethods`.
 * `Flash` types the flash values; by default the global `SessionFlash`, else the data's keys.
 *
 * @example
 * function greet(session: Session<{ name?: string }>) { return session.name ?? 'guest' }
 */
export type Session<
  Data extends object = DefaultSessionData,
  Flash extends object = DefaultSessionFlash<Data>,
> = string extends keyof Data
  ? OpenSession<Data, Flash>
  : [Exclude<keyof Flash, keyof Data>] extends [never]
    ? Data & SessionMethods<Data, Flash>
    : Data & FlashFallback<Data, Flash> & SessionMethods<Data, Flash>

/**
 * A session whose data has no declared shape: any key reads as `any`, while the methods keep
 * their types (an intersection with an index signature of `any` would erase them).
 */
export interface OpenSession<Data, Flash = Data> extends SessionMethods<Data, Flash> {
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
 * - `invalid-data`: it opened, but what was inside is not a session record (or fails `schema`)
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
