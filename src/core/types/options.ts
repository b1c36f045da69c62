// Public types of the options of session() and every adapter.
import type { SessionSchema } from './schema.ts'
import type { InvalidReason } from './session.ts'
import type { SessionEncoder, SessionRevocation, SessionStore } from './store.ts'

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
   * `Secure` attribute. `'auto'` is `true` when `NODE_ENV=production` (read once, when the
   * options are resolved; an environment that cannot be read, such as Deno without
   * `--allow-env=NODE_ENV`, counts as production). Otherwise it sets Secure except on
   * plain-HTTP `localhost`, `*.localhost`, `127.0.0.1` and `[::1]` as the request URL names
   * them, so local development works in every browser. `false` never sets it.
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
export interface SessionOptions<
  Ctx = any,
  Schema extends SessionSchema = SessionSchema,
  FlashSchema extends SessionSchema = SessionSchema,
> {
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
   * `regenerate()` of a session with a user (its list's `userKey`) revoke the old id, so a copy
   * of a logged-out cookie stops working everywhere. Anonymous sessions are not revoked.
   * @default undefined (a sealed cookie is valid until it expires)
   */
  revocation?: SessionRevocation
  /**
   * A Standard Schema validator of the session data (zod 4, valibot, arktype, …); the session
   * is then typed by it, without a generic. Data a request brings that fails it (a cookie from
   * an older deploy, a changed store row) is refused: a fresh session and
   * `onInvalid('invalid-data')`. Data that fails it at commit throws `SessionDataError`. It only
   * validates: data is stored as the handler set it, never the schema's output. A new session
   * starts from its output for `{}` (its defaults; none when `{}` fails), and a loaded one gets
   * the keys its validation adds; neither counts as a change. Internal keys (`_csrf`) are not
   * shown to it. A schema that answers `{}` with a promise makes loads async.
   * @default undefined (any JSON data)
   */
  schema?: Schema
  /**
   * A Standard Schema validator of the flash values, as one object of a value per key
   * (`z.object({ notice: z.string() })`); `flash()` is then typed by it, without a generic.
   * A value flashed that fails it throws `SessionDataError` at commit (`key` is `flash.<key>…`);
   * flash values a request brings that fail it refuse the session, like data failing `schema`.
   * Each check sees the keys being checked only, so its required keys are never missing; its
   * output and defaults are not used. A schema that answers `{}` with a promise makes loads async.
   * @default undefined (flash values are any JSON; typed by `SessionFlash` or the data's keys)
   */
  flashSchema?: FlashSchema
  /**
   * Session cookies another library sealed that open as sessions here, so switching logs nobody
   * out: each entry is made by `sealed-session/migrate` (`ironSession()`, `honoSession()`,
   * `honoSessions()`, `h3()`). A request whose own cookie does not open tries them in order;
   * a session found is checked against `schema` and `flashSchema` like one of ours (failing,
   * it is refused as `invalid-data`), carried over (data, flash keys, the old library's expiry)
   * and this response seals it in our format under a new id, clearing the old cookie when its
   * name differs. Cookie transport only. Any seal the old library made under the same secret
   * opens as a session while an entry is on: give each an `until` date (see SECURITY.md).
   * @default undefined (other libraries' cookies are refused)
   */
  migrateFrom?: readonly SessionMigrator[]
}

/**
 * Opens session cookies another library sealed, for `migrateFrom`. Made by the functions of
 * `sealed-session/migrate`; its workings are internal.
 *
 * @example
 * import { ironSession } from 'sealed-session/migrate'
 * const migrator: SessionMigrator = ironSession({ cookieName: 'app', until: '2027-03-01' })
 */
export interface SessionMigrator {
  /** The library whose cookies it opens, such as `'iron-session'`. */
  readonly from: string
  /** Only `sealed-session/migrate` makes them (a type-level mark; nothing at run time). */
  readonly [migratorMark]: true
}

export declare const migratorMark: unique symbol
