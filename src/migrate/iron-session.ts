// iron-session 8: the data itself, sealed in iron's Fe26.2 with the newest id of its password
// ring (a plain password is `{ 1: password }`), then `~2`, its format version. The seal's own
// expiration is its `ttl` (14 days by default).

import { fromCompact } from '../core/record.ts'
import type { SessionMigrator } from '../core/types.ts'
import { IronCodec } from '../crypto/iron.ts'
import type { RingKey } from '../crypto/random.ts'
import {
  type Found,
  isObject,
  type MigrateOptions,
  Migration,
  readPlain,
  sealExpiration,
} from './_shared.ts'

/** Options of `ironSession()`. */
export interface IronSessionMigrateOptions extends MigrateOptions {
  /**
   * iron-session's `cookieName` (it has no default).
   * @default the `cookieName` of `session()`
   */
  cookieName?: string
}

const VERSION_SUFFIX = '~2'

/**
 * A `migrateFrom` entry for cookies iron-session 8 sealed: their data becomes the session's,
 * and the seal's `ttl` stays its end. A plain `password` seals under id 1 of its ring, so a
 * plain `secret` here opens those; a ring (`{ 1: 'old', 2: 'new' }`) opens seals made with any
 * of its ids when given the same ring.
 *
 * @example
 * import { ironSession } from 'sealed-session/migrate'
 * session({
 *   secret: process.env.SESSION_SECRET, // iron-session's password
 *   cookieName: 'myapp_session',         // iron-session's cookieName: nothing to clear
 *   migrateFrom: [ironSession({ until: '2027-03-01' })],
 * })
 */
export function ironSession(options?: IronSessionMigrateOptions): SessionMigrator {
  return new Migration(
    {
      from: 'iron-session',
      factory: 'ironSession',
      cookieName: undefined,
      reader(keys, o) {
        // iron-session turns a plain password into `{ 1: password }`.
        const ring: RingKey[] = keys.map((k) => (k.id === '' ? { id: '1', secret: k.secret } : k))
        // Any object is its payload, but ours: an expired seal of ours with `~2` appended
        // must not come back as data.
        const revive = (v: unknown) => (isObject(v) && !fromCompact(v) ? v : undefined)
        const codec = new IronCodec(ring, { now: o.now, revive })
        return {
          read: readPlain,
          *open(value) {
            // Without the suffix it is no seal iron-session 8 made (nor is any of ours one).
            if (!value.endsWith(VERSION_SUFFIX)) return 'malformed'
            const sealed = value.slice(0, -VERSION_SUFFIX.length)
            const opened = yield* codec.unsealing(sealed, false)
            if (!opened.ok) return opened.reason
            const found: Found = { data: opened.value, expiresAt: sealExpiration(sealed) }
            return found
          },
        }
      },
    },
    options,
  )
}
