/**
 * What the stores with a per-user index share for the device API: argument checks (user ids,
 * `except`, page sizes), the data a listing shows, and the last-seen throttle of `touch()`.
 * Not a public entry point.
 */
import { CSRF_SESSION_KEY, ownerKey } from '../core/record.ts'
import { type Check, func, is } from '../core/validate.ts'
import { BoundedCache } from '../util/cache.ts'

/**
 * What `listSessions()` shows of a session's data: `(data) => ({ label: data.label })`. It gets
 * the data without internal keys (`_csrf`); what it returns is each entry's `data`.
 */
export type ListData<L> = (data: Record<string, unknown>) => L

/** The check of a `listData` option: a function. */
export const listDataCheck: Check = func

/**
 * The check of a `touchAfter` option: seconds, 0 or more (0: last seen moves on writes only), as
 * `sessionRevocation({ touchAfter })` takes it.
 */
export const touchAfterCheck: Check = is(
  (v): v is number => typeof v === 'number' && v >= 0 && v !== Infinity,
  'must be a number of seconds, 0 or more (0: last seen moves on writes only)',
)

/**
 * The string form of a user id given to the device API: a non-empty string or a finite number.
 * Anything else is a developer error (`String(undefined)` would name the user "undefined").
 *
 * @example
 * const owner = userIdArg(userId) // 42 -> '42'
 */
export function userIdArg(userId: unknown): string {
  const owner = ownerKey(userId)
  if (owner === undefined) {
    throw new TypeError(
      `userId must be a non-empty string or a finite number, got ${describe(userId)}`,
    )
  }
  return owner
}

/** A session id given to `destroySession()`: a string, else a developer error. */
export function sessionIdArg(sessionId: unknown): string {
  if (typeof sessionId !== 'string') {
    throw new TypeError(`sessionId must be a string, got ${describe(sessionId)}`)
  }
  return sessionId
}

/**
 * The `except` of `destroyUserSessions(userId, options)`. The second argument must be an
 * options object or undefined: `destroyUserSessions(uid, c.session.id)` would otherwise end
 * every device, the current one included.
 *
 * @example
 * const except = exceptArg(options) // string | undefined
 */
export function exceptArg(options: unknown): string | undefined {
  if (options === undefined) return undefined
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(
      `destroyUserSessions(userId, options): options must be an object such as { except: sessionId }, got ${describe(options)}`,
    )
  }
  const { except } = options as { except?: unknown }
  if (except !== undefined && typeof except !== 'string') {
    throw new TypeError(
      `destroyUserSessions(userId, { except }): except must be a session id (string), got ${describe(except)}`,
    )
  }
  return except
}

/** The page size `allSessions()` reads with: `pageSize`, or `fallback`. */
export function pageSizeArg(options: unknown, fallback: number): number {
  const size = (options as { pageSize?: unknown } | undefined)?.pageSize
  if (size === undefined) return fallback
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) {
    throw new TypeError(
      `allSessions({ pageSize }): must be a positive integer, got ${describe(size)}`,
    )
  }
  return size
}

/** How many sessions `allSessions()` reads per page by default. */
export const PAGE_SIZE = 500

const describe = (v: unknown) =>
  typeof v === 'string' ? `the string ${JSON.stringify(v.slice(0, 40))}` : String(v)

/**
 * The `data` of a `listSessions()` entry: the session data without internal keys, through
 * `listData` when the store has one.
 *
 * @example
 * listed(record.data, options.listData)
 */
export function listed<L>(data: Record<string, unknown>, listData?: ListData<L>): L {
  const { [CSRF_SESSION_KEY]: _, ...visible } = data
  return listData ? listData(visible) : (visible as L)
}

/**
 * When a read may record last seen (`touch`): at most once per session per interval, by what
 * this process last wrote or read for it. Bounded, so a flood of sessions costs at most one
 * early touch each once forgotten.
 *
 * @example
 * const recent = lastSeenThrottle(60)
 * if (recent.due(id, meta.now)) { recent.seen(id, meta.now); await write() }
 */
export interface LastSeenThrottle {
  /** Whether a read at `now` should record last seen (false when the interval is off). */
  due(id: string, now: number): boolean
  /** `id` was last seen (written, touched, or read back as seen) at `at`. */
  seen(id: string, at: number): void
  /** `id` is gone. */
  forget(id: string): void
}

const THROTTLE_MAX = 10_000

/** A `LastSeenThrottle` for `touchAfter` seconds (`0`: reads never record last seen). */
export function lastSeenThrottle(interval: number): LastSeenThrottle {
  if (interval === 0) {
    return { due: () => false, seen() {}, forget() {} }
  }
  const intervalMs = interval * 1000
  const recent = new BoundedCache<string, number>(THROTTLE_MAX)
  return {
    due(id, now) {
      const last = recent.get(id)
      return last === undefined || now - last >= intervalMs
    },
    seen(id, at) {
      const last = recent.get(id)
      if (last === undefined || at > last) recent.set(id, at)
    },
    forget(id) {
      recent.delete(id)
    },
  }
}
