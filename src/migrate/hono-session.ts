// hono-session (the `hono-session` package): the data's own keys plus `_expires` (epoch ms) and
// `_flashKeys` (the keys flashed for the next request), sealed with iron-webcrypto's defaults
// under its `secret`, in cookie `sid`. It also sets `sx=1`, a "session exists" cookie for scripts.
import { TOKEN } from '../core/options.ts'
import type { SessionMigrator } from '../core/types.ts'
import { matches } from '../core/validate.ts'
import { IronCodec } from '../crypto/iron.ts'
import {
  type Found,
  isObject,
  isTime,
  type MigrateOptions,
  Migration,
  readPlain,
} from './_shared.ts'

/** Options of `honoSession()`. */
export interface HonoSessionMigrateOptions extends MigrateOptions {
  /**
   * hono-session's `cookieName`.
   * @default 'sid'
   */
  cookieName?: string
  /**
   * hono-session's `existsCookieName`: cleared along with the session cookie.
   * @default 'sx'
   */
  existsCookieName?: string
}

function revive(v: unknown): Found | undefined {
  // `_expires` is what tells its payload from any other seal under the same secret.
  if (!isObject(v) || !isTime(v._expires)) return undefined
  const { _expires, _flashKeys, ...data } = v
  const found: Found = { data, expiresAt: _expires }
  if (Array.isArray(_flashKeys)) found.flash = _flashKeys.filter((k) => typeof k === 'string')
  return found
}

/**
 * A `migrateFrom` entry for cookies hono-session sealed: its keys become the session's data,
 * `_expires` stays its end and `_flashKeys` its flash messages.
 *
 * @example
 * import { honoSession } from 'sealed-session/migrate'
 * // hono-session's `secret`; both libraries name the cookie `sid` by default.
 * session({ secret: process.env.SESSION_SECRET, migrateFrom: [honoSession({ until: '2027-03-01' })] })
 */
export function honoSession(options?: HonoSessionMigrateOptions): SessionMigrator {
  const exists = options?.existsCookieName ?? 'sx'
  return new Migration(
    {
      from: 'hono-session',
      factory: 'honoSession',
      cookieName: 'sid',
      reader(keys, o) {
        const codec = new IronCodec(keys, { now: o.now, revive })
        return {
          read(header, cookieName) {
            const plain = readPlain(header, cookieName)
            if (plain.values.length > 0 && readPlain(header, exists).values.length > 0) {
              plain.names.push(exists)
            }
            return plain
          },
          *open(value) {
            const opened = yield* codec.unsealing(value, false)
            return opened.ok ? opened.value : opened.reason
          },
        }
      },
    },
    options,
    { existsCookieName: matches(TOKEN, 'must be a cookie token') },
  )
}
