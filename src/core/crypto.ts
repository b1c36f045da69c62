import { BoundedCache } from './cache.ts'
import { HmacSha256, nodeCrypto } from './fast-crypto.ts'
import { chain, isPromise } from './maybe.ts'
import type { RingKey } from './options.ts'
import type { MaybePromise } from './types.ts'

export { nodeCrypto }

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const B64URL_CHARS = /^[A-Za-z0-9_-]*$/

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
export function fromBase64Url(text: string): Uint8Array | undefined {
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
export function randomBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(n)
  crypto.getRandomValues(bytes)
  return bytes
}

/** A new session id: 192 random bits, base64url (32 characters). */
export function randomId(): string {
  return toBase64Url(randomBytes(24))
}

/** Compares two strings in time that depends only on their lengths. */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

const encoder = new TextEncoder()

// Signed ids kept in each direction; entries are added only for ids this ring signed.
const SIGNED_CACHE_SIZE = 10_000

/**
 * Signs store-mode session ids with the key ring, so a forged id is refused before any store
 * round trip. The cookie value is `<id>.<base64url HMAC-SHA256>`. Synchronous on `node:crypto`;
 * values it signed or verified are remembered (bounded), so a returning cookie costs no MAC.
 */
export class IdSigner {
  readonly #keys: RingKey[]
  readonly #purpose: string
  readonly #webKeys = new Map<string, Promise<CryptoKey>>()
  readonly #nodeKeys = new Map<string, HmacSha256>()
  /** Verified cookie value → what `verify` answered. */
  readonly #verified = new BoundedCache<string, { id: string; stale: boolean }>(SIGNED_CACHE_SIZE)
  /** Id → its value signed with the newest key. */
  readonly #signed = new BoundedCache<string, string>(SIGNED_CACHE_SIZE)

  /** @param purpose bound into every signature (`options.purpose`) */
  constructor(keys: RingKey[], purpose: string) {
    this.#keys = keys
    this.#purpose = purpose
  }

  // The prefix keeps these MACs apart from any other use of the same secret, and the purpose
  // apart from ids signed for another cookie or app. JSON keeps the two parts unambiguous.
  #mac(secret: string, id: string): MaybePromise<string> {
    const message = `sealed-session/id/${JSON.stringify([this.#purpose, id])}`
    if (nodeCrypto) {
      let hmac = this.#nodeKeys.get(secret)
      if (!hmac) {
        hmac = new HmacSha256(secret)
        this.#nodeKeys.set(secret, hmac)
      }
      return hmac.digest(message)
    }
    let key = this.#webKeys.get(secret)
    if (!key) {
      key = crypto.subtle.importKey(
        'raw',
        encoder.encode(secret),
        { name: 'HMAC', hash: 'SHA-256' },
        false,
        ['sign'],
      )
      this.#webKeys.set(secret, key)
    }
    return key
      .then((k) => crypto.subtle.sign('HMAC', k, encoder.encode(message)))
      .then((sig) => toBase64Url(new Uint8Array(sig)))
  }

  /** `<id>.<signature>` with the newest key. */
  sign(id: string): MaybePromise<string> {
    const known = this.#signed.get(id)
    if (known !== undefined) return known
    return chain(this.#mac(this.#keys[0]!.secret, id), (mac) => {
      const value = `${id}.${mac}`
      this.#signed.set(id, value)
      this.#verified.set(value, { id, stale: false })
      return value
    })
  }

  /**
   * The id inside a signed value, and whether it was signed with an older key; undefined when
   * the value is not an id this ring signed.
   */
  verify(value: string): MaybePromise<{ id: string; stale: boolean } | undefined> {
    const known = this.#verified.get(value)
    if (known !== undefined) return known
    const dot = value.indexOf('.')
    if (dot !== 32 || value.length !== 76) return undefined
    const id = value.slice(0, dot)
    const signature = value.slice(dot + 1)
    if (!B64URL_CHARS.test(id) || !B64URL_CHARS.test(signature)) return undefined
    return this.#verifyFrom(value, id, signature, 0)
  }

  #verifyFrom(
    value: string,
    id: string,
    signature: string,
    i: number,
  ): MaybePromise<{ id: string; stale: boolean } | undefined> {
    for (; i < this.#keys.length; i++) {
      const mac = this.#mac(this.#keys[i]!.secret, id)
      const stale = i > 0
      const check = (m: string) => {
        if (!timingSafeEqual(m, signature)) return false
        const verified = Object.freeze({ id, stale })
        this.#verified.set(value, verified)
        return verified
      }
      if (isPromise(mac)) {
        const next = i + 1
        return mac.then((m) => check(m) || this.#verifyFrom(value, id, signature, next))
      }
      const verified = check(mac)
      if (verified) return verified
    }
    return undefined
  }
}
