// The object `await session()` answers in the Next adapter: the core session plus
// next-app-session's get/set/all/setAll and a save() that writes through `cookies()`.
import { SessionError } from '../core/errors.ts'
import type { SessionState } from '../core/state/session-state.ts'
import type { DefaultSessionData } from '../core/types.ts'

/**
 * Methods of the Next session handle. Every method that changes the session writes the cookie
 * at once through `cookies().set()`, so it only works where Next lets code set cookies (Route
 * Handlers, Server Actions); await it before `redirect()`.
 *
 * @example
 * const s = await session()
 * await s.set('theme', 'dark') // written now
 */
export interface NextSessionMethods<Data> {
  /** The session id (store key in store mode, an internal id in sealed mode). */
  readonly id: string
  /** True when this request arrived without a valid session. */
  readonly isNew: boolean
  /** True when the session differs from what the request brought (written or not). */
  readonly hasChanged: boolean
  /** When the session ends if nothing renews it. */
  readonly expiresAt: Date
  /** When the session was first created. */
  readonly createdAt: Date
  /** The value of `key`, like `session[key]` (next-app-session's `get`). */
  get<K extends keyof Data & string>(key: K): Data[K] | undefined
  /** A plain copy of all session data (next-app-session's `all`). */
  all(): Data
  /** Sets `key` and writes the cookie. */
  set<K extends keyof Data & string>(key: K, value: Data[K]): Promise<void>
  /** Replaces all session data with `values` and writes the cookie. */
  setAll(values: Data): Promise<void>
  /** Sets `key` for the next request only and writes the cookie. */
  flash<K extends keyof Data & string>(key: K, value: Data[K]): Promise<void>
  /** Keeps the flash values this request brought for one more request; writes the cookie. */
  reflash(): Promise<void>
  /** Gives the session a new id, keeping its data (call it on login); writes the cookie. */
  regenerate(): Promise<void>
  /**
   * Restarts the absolute lifetime and writes the cookie; with a `revocation` list, at most
   * the list's `maxAge` from now.
   *
   * @param maxAge lifetime in seconds; defaults to the `maxAge` option
   */
  renew(maxAge?: number): Promise<void>
  /** Ends the session: deletes its store entry and clears the cookie. */
  destroy(): Promise<void>
  /**
   * Writes what changed since the last write: properties assigned directly
   * (`session.count = 1`), flash values this request consumed, a rolling refresh or a re-seal
   * with a newer key. Writes nothing when there is nothing to write. Resolves to the value the
   * browser holds from now on (the sealed value, chunks joined, or the signed store id);
   * `null` after `destroy()`.
   */
  save(): Promise<string | null>
  /** A plain copy of the session data. */
  toJSON(): Data
}

/**
 * A Next session handle whose data has no declared shape: any key reads as `any`.
 *
 * @example
 * const s: OpenNextSession<Record<string, any>> = await nextSession()()
 */
export interface OpenNextSession<Data> extends NextSessionMethods<Data> {
  [key: string]: any
}

/**
 * The handle `await session()` gives: data as properties (`session.userId`), plus
 * `get`/`set`/`all`/`setAll`/`save` and the session methods of `NextSessionMethods`.
 *
 * @example
 * const s: NextSession<{ userId?: string }> = await session()
 */
export type NextSession<Data extends object = DefaultSessionData> = string extends keyof Data
  ? OpenNextSession<Data>
  : Data & NextSessionMethods<Data>

/**
 * What `session()` returns: a promise of the handle that also answers next-app-session's
 * `await session().get('key')`, `.set(key, value)`, `.all()`, `.setAll(obj)` and `.destroy()`.
 *
 * @example
 * const counter = (await session().get('counter')) ?? 0
 * await session().set('counter', counter + 1)
 */
export type NextSessionPromise<Data extends object = DefaultSessionData> = Promise<
  NextSession<Data>
> & {
  get<K extends keyof Data & string>(key: K): Promise<Data[K] | undefined>
  all(): Promise<Data>
  set<K extends keyof Data & string>(key: K, value: Data[K]): Promise<void>
  setAll(values: Data): Promise<void>
  destroy(): Promise<void>
}

// Names the Next handle answers itself, beside the core session's.
const HANDLE_KEYS = new Set([
  'get',
  'all',
  'set',
  'setAll',
  'flash',
  'reflash',
  'regenerate',
  'renew',
  'destroy',
  'save',
])

export /** Wraps a loaded state in the Next handle; `write` commits it through `cookies().set()`. */
function createHandle(state: SessionState, write: () => Promise<string | null>): NextSession<any> {
  const s = state.session
  const methods: Record<string, unknown> = {
    get: (key: string) => s[key],
    all: () => s.toJSON(),
    async set(key: string, value: unknown) {
      s[key] = value
      await write()
    },
    async setAll(values: object) {
      state.replace(values)
      await write()
    },
    async flash(key: string, value: unknown) {
      s.flash(key, value)
      await write()
    },
    async reflash() {
      s.reflash()
      await write()
    },
    async regenerate() {
      await s.regenerate()
      await write()
    },
    async renew(maxAge?: number) {
      s.renew(maxAge)
      await write()
    },
    async destroy() {
      s.destroy()
      await write()
    },
    save: write,
  }
  return new Proxy(s, {
    get(target, key) {
      if (typeof key === 'string' && HANDLE_KEYS.has(key)) return methods[key]
      return Reflect.get(target, key)
    },
    set(target, key, value) {
      if (typeof key === 'string' && HANDLE_KEYS.has(key)) {
        throw new SessionError(
          'ERR_SESSION_RESERVED_KEY',
          `"${key}" is a method of the Next session handle; write it with session.set('${key}', value)`,
        )
      }
      return Reflect.set(target, key, value)
    },
  }) as NextSession<any>
}
