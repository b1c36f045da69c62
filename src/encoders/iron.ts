import * as Iron from 'iron-webcrypto'
import { fromBase64Url, nodeCrypto, randomBytes, timingSafeEqual } from '../core/crypto.ts'
import type { RingKey } from '../core/options.ts'
import type { InvalidReason, MaybePromise } from '../core/types.ts'

/** The iron format this encoder reads and writes: https://github.com/hapijs/iron */
export const IRON_PREFIX = 'Fe26.2'

// iron's own defaults: 256-bit salts, one PBKDF2-SHA1 iteration, AES-256-CBC and HMAC-SHA256.
const SALT_BYTES = 32
const IV_BYTES = 16
const KEY_BYTES = 32
const SKEW_MS = 60_000
// Derived keys kept per ring key and purpose. A key is cached only after its MAC verified,
// so forged cookies never grow the cache.
const KEY_CACHE_SIZE = 1024

const HEX_SALT = /^[0-9a-f]+$/
const PASSWORD_ID = /^\w*$/

/** What `unseal` found: the value with whether an older key sealed it, or why it failed. */
export type UnsealResult =
  | { ok: true; value: unknown; stale: boolean }
  | { ok: false; reason: InvalidReason }

const fail = (reason: InvalidReason): UnsealResult => ({ ok: false, reason })

class KeyCache {
  readonly #map = new Map<string, Uint8Array>()

  get(salt: string): Uint8Array | undefined {
    const key = this.#map.get(salt)
    if (key) {
      // Refresh recency so a busy session's keys stay cached.
      this.#map.delete(salt)
      this.#map.set(salt, key)
    }
    return key
  }

  set(salt: string, key: Uint8Array): void {
    if (this.#map.size >= KEY_CACHE_SIZE) this.#map.delete(this.#map.keys().next().value!)
    this.#map.set(salt, key)
  }

  get size(): number {
    return this.#map.size
  }
}

interface CodecKey extends RingKey {
  encKeys: KeyCache
  macKeys: KeyCache
}

function hex(bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) out += b.toString(16).padStart(2, '0')
  return out
}

/**
 * Seals and unseals JSON values in iron's `Fe26.2` format with a key ring.
 *
 * Uses synchronous `node:crypto` where the runtime has it and iron-webcrypto (WebCrypto)
 * elsewhere; both produce and accept the same strings, which iron-webcrypto also opens.
 * Expiry is not put in the seal (its `ttl` field is left empty): the session record inside
 * carries its own deadlines, checked against the injectable clock.
 */
export class IronCodec {
  readonly #keys: CodecKey[]
  readonly #node: boolean
  readonly #now: () => number

  constructor(keys: RingKey[], options: { now?: () => number; webCrypto?: boolean } = {}) {
    this.#keys = keys.map((k) => ({ ...k, encKeys: new KeyCache(), macKeys: new KeyCache() }))
    this.#node = nodeCrypto !== undefined && !options.webCrypto
    this.#now = options.now ?? Date.now
  }

  /** Seals `value` (JSON-serialisable) with the newest key. */
  seal(value: unknown): MaybePromise<string> {
    const json = JSON.stringify(value)
    const key = this.#keys[0]!
    if (!this.#node) {
      return Iron.seal(json, { id: key.id, secret: key.secret }, {
        ...Iron.defaults,
        encode: (v: unknown) => v as string,
      } as Iron.SealOptions)
    }
    const c = nodeCrypto!
    const encSalt = hex(randomBytes(SALT_BYTES))
    const iv = randomBytes(IV_BYTES)
    const encKey = c.pbkdf2Sync(key.secret, encSalt, 1, KEY_BYTES, 'sha1')
    const cipher = c.createCipheriv('aes-256-cbc', encKey, iv)
    const encrypted = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()])
    const base = `${IRON_PREFIX}*${key.id}*${encSalt}*${Buffer.from(iv).toString('base64url')}*${encrypted.toString('base64url')}*`
    const macSalt = hex(randomBytes(SALT_BYTES))
    const macKey = c.pbkdf2Sync(key.secret, macSalt, 1, KEY_BYTES, 'sha1')
    const mac = c.createHmac('sha256', macKey).update(base).digest('base64url')
    return `${base}*${macSalt}*${mac}`
  }

  /**
   * Opens a sealed string. Never throws: a bad seal is `{ ok: false, reason }`.
   * The work spent on a forged string is bounded by one key derivation per ring key tried.
   */
  unseal(sealed: string): MaybePromise<UnsealResult> {
    const parts = sealed.split('*')
    if (parts.length !== 8) return fail('malformed')
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
    if (prefix !== IRON_PREFIX || !PASSWORD_ID.test(id)) return fail('malformed')
    if (!HEX_SALT.test(encSalt) || !HEX_SALT.test(macSalt)) return fail('malformed')
    const iv = fromBase64Url(ivB64)
    const encrypted = fromBase64Url(encB64)
    // Decoding the MAC strictly keeps one valid string per seal: base64url has spare bits in
    // its last character, which a lenient decoder would let an attacker flip.
    if (!iv || iv.length !== IV_BYTES || !encrypted || encrypted.length === 0)
      return fail('malformed')
    if (encrypted.length % 16 !== 0 || !fromBase64Url(mac)) return fail('malformed')
    if (expiration !== '') {
      if (!/^[1-9]\d*$/.test(expiration)) return fail('malformed')
      if (Number(expiration) <= this.#now() - SKEW_MS) return fail('expired')
    }
    // A plain-string secret seals with id ''; such cookies are tried against every key.
    const candidates = id === '' ? this.#keys : this.#keys.filter((k) => k.id === id)
    if (candidates.length === 0) return fail('unknown-key')
    const base = sealed.slice(0, sealed.length - macSalt.length - mac.length - 2)
    if (this.#node) return this.#unsealNode(candidates, base, encSalt, iv, encrypted, macSalt, mac)
    return this.#unsealWeb(candidates, sealed, id)
  }

  #unsealNode(
    candidates: CodecKey[],
    base: string,
    encSalt: string,
    iv: Uint8Array,
    encrypted: Uint8Array,
    macSalt: string,
    mac: string,
  ): UnsealResult {
    const c = nodeCrypto!
    for (const key of candidates) {
      const cached = key.macKeys.get(macSalt)
      const macKey = cached ?? c.pbkdf2Sync(key.secret, macSalt, 1, KEY_BYTES, 'sha1')
      const digest = c.createHmac('sha256', macKey).update(base).digest('base64url')
      if (!timingSafeEqual(digest, mac)) continue
      if (!cached) key.macKeys.set(macSalt, macKey)
      let encKey = key.encKeys.get(encSalt)
      if (!encKey) {
        encKey = c.pbkdf2Sync(key.secret, encSalt, 1, KEY_BYTES, 'sha1')
        key.encKeys.set(encSalt, encKey)
      }
      let json: string
      try {
        const decipher = c.createDecipheriv('aes-256-cbc', encKey, iv)
        json = decipher.update(encrypted, undefined, 'utf8') + decipher.final('utf8')
      } catch {
        // Authentic but undecryptable: sealed by a holder of the key with other parameters.
        return fail('invalid-data')
      }
      return parse(json, key !== this.#keys[0])
    }
    return fail('tampered')
  }

  async #unsealWeb(candidates: CodecKey[], sealed: string, id: string): Promise<UnsealResult> {
    for (const key of candidates) {
      let json: string
      try {
        json = (await Iron.unseal(sealed, { [id || 'default']: key.secret }, {
          ...Iron.defaults,
          // Our own clock decides expiry (checked above); iron's would ignore an injected one.
          timestampSkewSec: Number.MAX_SAFE_INTEGER / 1000,
          decode: (s: string) => s,
        } as Iron.SealOptions)) as string
      } catch (err) {
        if (err instanceof Error && err.message === 'Bad hmac value') continue
        return fail('invalid-data')
      }
      return parse(json, key !== this.#keys[0])
    }
    return fail('tampered')
  }

  /** Entries in the derived-key caches, for benchmarks and tests of the forged-cookie bound. */
  cacheSizes(): { enc: number; mac: number } {
    let enc = 0
    let mac = 0
    for (const k of this.#keys) {
      enc += k.encKeys.size
      mac += k.macKeys.size
    }
    return { enc, mac }
  }
}

function parse(json: string, stale: boolean): UnsealResult {
  try {
    return { ok: true, value: JSON.parse(json), stale }
  } catch {
    return fail('invalid-data')
  }
}
