// The shape of an iron `Fe26.2` string, checked before any key derivation: a string that is
// not one iron writes costs a few regular expressions, never a MAC.

/** The iron format this library reads and writes: https://github.com/hapijs/iron */
export const IRON_PREFIX = 'Fe26.2'

// Salts: iron writes hex, we write base64url (the same 128 random bits in 22 characters, not 32);
// iron reads a salt as a string of any characters but '*'.
const SALT = /^[\w-]+$/
const PASSWORD_ID = /^\w*$/
// A 32-byte MAC in unpadded base64url is 43 characters; the last one carries 2 spare bits that
// must be zero. Anything else is not a MAC iron writes, and a lenient decoder would accept up to
// four spellings of one MAC: requiring the canonical one keeps one valid string per seal.
const CANONICAL_MAC = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/
// A 16-byte IV is 22 characters; the ciphertext is whole 16-byte blocks.
const IV_CHARS = /^[A-Za-z0-9_-]{22}$/
const B64URL = /^[A-Za-z0-9_-]+$/

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
  const parts = sealed.split('*')
  if (parts.length !== 8) return 'malformed'
  const [prefix, id, encSalt, ivB64, encB64, expiration, macSalt, mac] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ]
  if (prefix !== IRON_PREFIX || !PASSWORD_ID.test(id)) return 'malformed'
  if (!SALT.test(encSalt) || !SALT.test(macSalt)) return 'malformed'
  if (!CANONICAL_MAC.test(mac) || !IV_CHARS.test(ivB64) || !B64URL.test(encB64)) return 'malformed'
  // Whole AES blocks only: a length check costs nothing and spares the MAC work.
  if (encB64.length % 4 === 1 || ((encB64.length * 3) >> 2) % 16 !== 0) return 'malformed'
  let exp = 0
  if (expiration !== '') {
    if (!/^[1-9]\d*$/.test(expiration)) return 'malformed'
    exp = Number(expiration)
    if (exp <= expiredBy) return 'expired'
  }
  return { id, encSalt, ivB64, encB64, expiration: exp, macSalt, mac }
}
