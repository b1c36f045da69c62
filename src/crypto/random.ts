// Encodings and randomness every part of the library uses; WebCrypto only, so it runs anywhere.

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const B64URL_CHARS = /^[A-Za-z0-9_-]*$/

/** True when `text` holds only base64url characters. */
export const isBase64Url = (text: string): boolean => B64URL_CHARS.test(text)

/** Unpadded base64url of `bytes`. */
export function toBase64Url(bytes: Uint8Array): string {
  let out = ''
  let i = 0
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]! + B64URL[n & 63]!
  }
  if (i < bytes.length) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8)
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]!
    if (i + 1 < bytes.length) out += B64URL[(n >> 6) & 63]!
  }
  return out
}

/** Bytes of an unpadded base64url string, or undefined when it is not one. */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!B64URL_CHARS.test(text) || text.length % 4 === 1) return undefined
  const out = new Uint8Array((text.length * 3) >> 2)
  let bits = 0
  let value = 0
  let o = 0
  for (let i = 0; i < text.length; i++) {
    value = (value << 6) | B64URL.indexOf(text[i]!)
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[o++] = (value >> bits) & 255
    }
  }
  // Leftover bits must be zero, so each byte string has exactly one encoding.
  if ((value & ((1 << bits) - 1)) !== 0) return undefined
  return out
}

/** `n` cryptographically random bytes. */
export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(n)
  crypto.getRandomValues(bytes)
  return bytes
}

const ID_BYTES = 24
// Ids drawn per random fill: each fill costs a system call (10-15 µs on a VM), more than the
// rest of a new session's seal. Every id is still fresh CSPRNG output, used once.
let idPool: Uint8Array | undefined
let idOffset = 0

/** A new session id: 192 random bits, base64url (32 characters). */
export function randomId(): string {
  if (!idPool || idOffset === idPool.length) {
    idPool = randomBytes(ID_BYTES * 64)
    idOffset = 0
  }
  idOffset += ID_BYTES
  return toBase64Url(idPool.subarray(idOffset - ID_BYTES, idOffset))
}

/** Compares two strings in time that depends only on their lengths. */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

/** One key of the ring. */
export interface RingKey {
  /** Password id written into new seals ('' for a plain string secret, as iron does). */
  id: string
  secret: string
}
