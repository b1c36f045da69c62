// The shape of an iron `Fe26.2` string, checked before any key derivation: a string that is
// not one iron writes costs one regular expression, never a MAC.

/** The iron format this library reads and writes: https://github.com/hapijs/iron */
export const IRON_PREFIX = 'Fe26.2'

// The key policy both crypto paths (iron.ts on node:crypto, iron-web.ts on crypto.subtle) keep.
/**
 * Derived keys kept per ring key and purpose. A key is cached only after its MAC verified, so
 * forged cookies never grow the cache.
 */
export const KEY_CACHE_SIZE = 1024
/**
 * Our own seals reuse one pair of salts (so one pair of derived keys) for a bounded time and
 * count; every seal still gets a fresh random IV, and the encryption and MAC salts differ.
 */
export const SALT_REUSE_MS = 60_000
export const SALT_REUSE_SEALS = 100_000

// One pattern for the whole string, so a refusal costs one pass and no split. Salts: iron writes
// hex, we write base64url (the same 128 random bits in 22 characters, not 32); iron reads a salt
// as any characters but '*'. The IV is 16 bytes (22 characters). A 32-byte MAC in unpadded
// base64url is 43 characters whose last carries 2 spare bits that must be zero: a lenient
// decoder would accept up to four spellings of one MAC, and the canonical one keeps one valid
// string per seal.
const SEAL =
  /^Fe26\.2\*(\w*)\*([\w-]+)\*([\w-]{22})\*([\w-]+)\*(\d*)\*([\w-]+)\*([\w-]{42}[AEIMQUYcgkosw048])$/

/** The string a seal's MAC covers, as both crypto paths write it: no iron expiration (ttl 0). */
export const macBase = (id: string, encSalt: string, ivB64: string, encB64: string): string =>
  `${IRON_PREFIX}*${id}*${encSalt}*${ivB64}*${encB64}*`

/** The whole seal: its MAC base, then the MAC salt and the MAC. */
export const joinSeal = (base: string, macSalt: string, mac: string): string =>
  `${base}*${macSalt}*${mac}`

/** The parts of a well-formed seal. */
export interface SealParts {
  /** Password id ('' for a plain-string secret). */
  id: string
  encSalt: string
  ivB64: string
  encB64: string
  /** iron's own expiration, epoch ms, or 0 when the seal has none. */
  expiration: number
  macSalt: string
  mac: string
}

/** The parts of `sealed`, or why it is refused; iron expirations up to `expiredBy` are. */
export function parseSeal(sealed: string, expiredBy: number): SealParts | 'malformed' | 'expired' {
  const m = SEAL.exec(sealed)
  if (!m) return 'malformed'
  const [, id, encSalt, ivB64, encB64, expiration, macSalt, mac] = m as unknown as string[]
  // Whole AES blocks only: a length check costs nothing and spares the MAC work.
  if (encB64!.length % 4 === 1 || ((encB64!.length * 3) >> 2) % 16 !== 0) return 'malformed'
  let exp = 0
  if (expiration !== '') {
    if (expiration![0] === '0') return 'malformed'
    exp = Number(expiration)
    if (exp <= expiredBy) return 'expired'
  }
  return {
    id: id!,
    encSalt: encSalt!,
    ivB64: ivB64!,
    encB64: encB64!,
    expiration: exp,
    macSalt: macSalt!,
    mac: mac!,
  }
}
