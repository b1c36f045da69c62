// hono-sessions (the `hono-sessions` package, CookieStore): a JSON *string* of
// `{ _data: { key: { value, flash } }, _expire: ISO date | null, _delete, _accessed }`, sealed
// with iron-webcrypto's defaults under its `encryptionKey`, in cookie `session`.
import type { SessionMigrator } from '../core/types.ts'
import { IronCodec } from '../crypto/iron.ts'
import { type Found, isObject, type MigrateOptions, Migration, readPlain } from './_shared.ts'

/** Options of `honoSessions()`. */
export interface HonoSessionsMigrateOptions extends MigrateOptions {
  /**
   * hono-sessions' `sessionCookieName` (with its `cookieOptions.prefix`, write the whole name:
   * `__Host-session`).
   * @default 'session'
   */
  cookieName?: string
}

function revive(v: unknown): Found | undefined {
  // It seals a string: anything else is not its payload.
  if (typeof v !== 'string') return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(v)
  } catch {
    return undefined
  }
  if (!isObject(parsed) || !isObject(parsed._data)) return undefined
  const { _data, _expire } = parsed
  let expiresAt: number | undefined
  if (_expire !== null && _expire !== undefined) {
    expiresAt = typeof _expire === 'string' ? Date.parse(_expire) : Number.NaN
    if (!Number.isFinite(expiresAt)) return undefined
  }
  const data: Record<string, unknown> = {}
  const flash: string[] = []
  for (const [key, entry] of Object.entries(_data)) {
    // It reads an entry's `value` and drops a `flash` one once read.
    if (!isObject(entry) || entry.value === undefined || entry.value === null) continue
    // An own key, even `__proto__`, as JSON.parse made it: never the object's prototype.
    Object.defineProperty(data, key, {
      value: entry.value,
      enumerable: true,
      writable: true,
      configurable: true,
    })
    if (entry.flash === true) flash.push(key)
  }
  return { data, expiresAt, flash }
}

/**
 * A `migrateFrom` entry for cookies hono-sessions' `CookieStore` sealed: each entry's value
 * becomes a session key (flash entries stay flash), and `_expire` stays its end.
 *
 * @example
 * import { honoSessions } from 'sealed-session/migrate'
 * // hono-sessions' encryptionKey as the secret; its cookie `session` is cleared once read.
 * session({ secret: process.env.SESSION_SECRET, migrateFrom: [honoSessions({ until: '2027-03-01' })] })
 */
export function honoSessions(options?: HonoSessionsMigrateOptions): SessionMigrator {
  return new Migration(
    {
      from: 'hono-sessions',
      factory: 'honoSessions',
      cookieName: 'session',
      reader(keys, o) {
        const codec = new IronCodec(keys, { now: o.now, revive })
        return {
          read: readPlain,
          *open(value) {
            const opened = yield* codec.unsealing(value, false)
            return opened.ok ? opened.value : opened.reason
          },
        }
      },
    },
    options,
  )
}
