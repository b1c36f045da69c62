// h3's useSession: `{ id, createdAt, data, lastSeenAt? }` sealed in iron's Fe26.2 under its
// `password`, in cookie `h3`; with `maxAge` the seal expires too. h3 2 derives keys with 8192
// PBKDF2 iterations (and still reads h3 1's seals, made with iron's 1), and splits a large seal
// into `h3=__chunked__<n>` plus `h3.1` … `h3.<n>`.
import { readCookie } from '../core/request.ts'
import type { SessionMigrator } from '../core/types.ts'
import { is, oneOf } from '../core/validate.ts'
import { IronCodec } from '../crypto/iron.ts'
import {
  type Found,
  isObject,
  isTime,
  type MigrateOptions,
  Migration,
  sealExpiration,
} from './_shared.ts'
import { unsealStrong } from './h3-keys.ts'

/** Options of `h3()`. */
export interface H3MigrateOptions extends MigrateOptions {
  /**
   * h3's session `name`, the cookie's name.
   * @default 'h3'
   */
  cookieName?: string
  /**
   * h3's `maxAge` in seconds, if it had one: a session older than this (from its `createdAt`)
   * is refused as expired, as h3 does.
   * @default undefined (no limit but the seal's)
   */
  maxAge?: number
  /**
   * h3 2's `idleTimeout` in seconds, if it had one: a session unseen this long is refused.
   * @default undefined
   */
  idleTimeout?: number
  /**
   * h3's major version: 2 reads seals of h3 2 (8192 PBKDF2 iterations) and of h3 1 (one), as h3
   * 2 itself does; 1 reads only h3 1's, so a forged cookie costs one cheap derivation, not 8192.
   * @default 2
   */
  version?: 1 | 2
}

const CHUNKED = '__chunked__'
// h3 2 allows 100 chunks of 4000 characters; no browser sends that much. More is refused.
const MAX_CHUNKS = 10

const seconds = is(
  (v): v is number => Number.isFinite(v) && (v as number) > 0,
  'must be a number of seconds greater than 0',
)

/** The session cookie's value (its chunks joined) and every cookie it spans. */
function readH3(header: string | null | undefined, cookieName: string) {
  const main = readCookie(header, cookieName)[0]
  if (main === undefined) return { values: [], names: [] }
  const names = [cookieName]
  if (!main.startsWith(CHUNKED)) return { values: [main], names }
  const count = Number(main.slice(CHUNKED.length))
  // A marker that does not join is tried as it is: it fails as malformed and is cleared.
  if (!Number.isInteger(count) || count < 1 || count > MAX_CHUNKS) return { values: [main], names }
  const chunks: string[] = []
  for (let i = 1; i <= count; i++) {
    const chunk = readCookie(header, `${cookieName}.${i}`)[0]
    if (chunk === undefined) continue
    names.push(`${cookieName}.${i}`)
    chunks.push(chunk)
  }
  return { values: [chunks.length === count ? chunks.join('') : main], names }
}

/**
 * A `migrateFrom` entry for cookies h3's `useSession` sealed (h3 1 and 2, so Nuxt and Nitro
 * too): `data` becomes the session's data and `createdAt` its creation time; the seal's
 * expiration, `maxAge` from `createdAt` and `idleTimeout` from `lastSeenAt` end it as h3 would.
 *
 * @example
 * import { h3 } from 'sealed-session/migrate'
 * // h3's password as the secret, and the maxAge it had (seconds).
 * session({ secret: process.env.SESSION_SECRET, migrateFrom: [h3({ maxAge: 3600, until: '2027-03-01' })] })
 */
export function h3(options?: H3MigrateOptions): SessionMigrator {
  const maxAgeMs = options?.maxAge === undefined ? undefined : options.maxAge * 1000
  const idleMs = options?.idleTimeout === undefined ? undefined : options.idleTimeout * 1000
  const version = options?.version ?? 2
  function revive(v: unknown): Found | undefined {
    if (!isObject(v) || typeof v.id !== 'string' || !isTime(v.createdAt) || !isObject(v.data)) {
      return undefined
    }
    const ends: number[] = []
    if (maxAgeMs !== undefined) ends.push(v.createdAt + maxAgeMs)
    if (idleMs !== undefined)
      ends.push((isTime(v.lastSeenAt) ? v.lastSeenAt : v.createdAt) + idleMs)
    return {
      data: v.data,
      createdAt: v.createdAt,
      expiresAt: ends.length > 0 ? Math.min(...ends) : undefined,
    }
  }
  return new Migration(
    {
      from: 'h3',
      factory: 'h3',
      cookieName: 'h3',
      reader(keys, o) {
        const v1 = new IronCodec(keys, { now: o.now, revive })
        return {
          read: readH3,
          *open(value) {
            // The cheap derivation first: a seal h3 1 made (or a forgery) costs no 8192 rounds
            // unless its MAC failed under one.
            let opened = yield* v1.unsealing(value, false)
            if (!opened.ok && opened.reason === 'tampered' && version === 2) {
              opened = yield* unsealStrong(value, keys, o.now(), revive)
            }
            if (!opened.ok) return opened.reason
            const found = opened.value
            const sealEnd = sealExpiration(value)
            if (sealEnd !== undefined)
              found.expiresAt = Math.min(found.expiresAt ?? sealEnd, sealEnd)
            return found
          },
        }
      },
    },
    options,
    {
      maxAge: seconds,
      idleTimeout: seconds,
      version: oneOf([1, 2], 'must be 1 or 2'),
    },
  )
}
