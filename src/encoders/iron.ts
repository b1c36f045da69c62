import * as Iron from 'iron-webcrypto'
import { BoundedCache } from '../core/cache.ts'
import { fromBase64Url, nodeCrypto, timingSafeEqual } from '../core/crypto.ts'
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

// Unseal results kept, keyed by the exact sealed string (added only after a full unseal).
const RESULT_CACHE_SIZE = 10_000
// Our own seals reuse one pair of salts (so one pair of derived keys) for a bounded time and
// count; every seal still gets a fresh random IV, and the encryption and MAC salts differ.
const SALT_REUSE_MS = 60_000
const SALT_REUSE_SEALS = 100_000
// IVs drawn per random fill (4 KiB / 16 bytes = 256 seals).
const IV_POOL_BYTES = 4096

const HEX_SALT = /^[0-9a-f]+$/
const PASSWORD_ID = /^\w*$/
// A 32-byte MAC in unpadded base64url is 43 characters; the last one carries 2 spare bits that
// must be zero. Anything else is not a MAC iron writes, and a lenient decoder would accept up to
// four spellings of one MAC: requiring the canonical one keeps one valid string per seal.
const CANONICAL_MAC = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/
// A 16-byte IV is 22 characters; the ciphertext is whole 16-byte blocks.
const IV_CHARS = /^[A-Za-z0-9_-]{22}$/
const B64URL = /^[A-Za-z0-9_-]+$/

/** What `unseal` found: the value with whether an older key sealed it, or why it failed. */
export type UnsealResult =
  | { ok: true; value: unknown; stale: boolean }
  | { ok: false; reason: InvalidReason }

const fail = (reason: InvalidReason): UnsealResult => ({ ok: false, reason })

interface CodecKey extends RingKey {
  encKeys: BoundedCache<string, Uint8Array>
  macKeys: BoundedCache<string, Uint8Array>
}

interface CachedResult {
  json: string
  stale: boolean
  /** iron's own expiration field, epoch ms, or 0 when the seal has none. */
  expiration: number
}

interface SealKeys {
  encSalt: string
  encKey: Uint8Array
  macSalt: string
  macKey: Uint8Array
  until: number
  left: number
}

/**
 * Seals and unseals JSON values in iron's `Fe26.2` format with a key ring.
 *
 * Uses synchronous `node:crypto` where the runtime has it and iron-webcrypto (WebCrypto)
 * elsewhere; both produce and accept the same strings, which iron-webcrypto also opens.
 * Expiry is not put in the seal (its `ttl` field is left empty): the session record inside
 * carries its own deadlines, checked against the injectable clock.
 *
 * Three bounded caches keep repeated work away: derived keys by salt (filled only after a MAC
 * verified, or by our own seals), and whole unseal results by the exact sealed string.
 */
export class IronCodec {
  readonly #keys: CodecKey[]
  readonly #node: boolean
  readonly #now: () => number
  readonly #results = new BoundedCache<string, CachedResult>(RESULT_CACHE_SIZE)
  #sealKeys: SealKeys | undefined

  constructor(keys: RingKey[], options: { now?: () => number; webCrypto?: boolean } = {}) {
    this.#keys = keys.map((k) => ({
      ...k,
      encKeys: new BoundedCache(KEY_CACHE_SIZE),
      macKeys: new BoundedCache(KEY_CACHE_SIZE),
    }))
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
    const k = this.#currentSealKeys(key)
    const iv = this.#nextIv()
    const cipher = c.createCipheriv('aes-256-cbc', k.encKey, iv)
    const encrypted = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()])
    const base = `${IRON_PREFIX}*${key.id}*${k.encSalt}*${iv.toString('base64url')}*${encrypted.toString('base64url')}*`
    const mac = c.createHmac('sha256', k.macKey).update(base).digest('base64url')
    return `${base}*${k.macSalt}*${mac}`
  }

  // One random fill serves many IVs: each fill is a system call that costs more than the rest
  // of a seal on some machines. Every IV is still fresh CSPRNG output, used once.
  // Created on first seal: Buffer exists only where node:crypto does (not on plain Workers).
  #ivPool: Buffer | undefined
  #ivOffset = 0

  #nextIv(): Buffer {
    if (!this.#ivPool || this.#ivOffset + IV_BYTES > this.#ivPool.length) {
      this.#ivPool = nodeCrypto!.randomFillSync(Buffer.allocUnsafeSlow(IV_POOL_BYTES))
      this.#ivOffset = 0
    }
    const iv = this.#ivPool.subarray(this.#ivOffset, this.#ivOffset + IV_BYTES)
    this.#ivOffset += IV_BYTES
    return iv
  }

  #currentSealKeys(key: CodecKey): SealKeys {
    const now = Date.now()
    let k = this.#sealKeys
    if (!k || k.left <= 0 || now >= k.until) {
      const c = nodeCrypto!
      const encSalt = c.randomBytes(SALT_BYTES).toString('hex')
      const macSalt = c.randomBytes(SALT_BYTES).toString('hex')
      k = {
        encSalt,
        encKey: c.pbkdf2Sync(key.secret, encSalt, 1, KEY_BYTES, 'sha1'),
        macSalt,
        macKey: c.pbkdf2Sync(key.secret, macSalt, 1, KEY_BYTES, 'sha1'),
        until: now + SALT_REUSE_MS,
        left: SALT_REUSE_SEALS,
      }
      // Cookies we seal come straight back: let their unseal find the keys.
      key.encKeys.set(encSalt, k.encKey)
      key.macKeys.set(macSalt, k.macKey)
      this.#sealKeys = k
    }
    k.left--
    return k
  }

  /**
   * Opens a sealed string. Never throws: a bad seal is `{ ok: false, reason }`.
   * The work spent on a forged string is bounded by one key derivation per ring key tried.
   */
  unseal(sealed: string): MaybePromise<UnsealResult> {
    const hit = this.#results.get(sealed)
    if (hit) {
      if (hit.expiration !== 0 && hit.expiration <= this.#now() - SKEW_MS) return fail('expired')
      return parse(hit.json, hit.stale)
    }
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
    if (!CANONICAL_MAC.test(mac) || !IV_CHARS.test(ivB64) || !B64URL.test(encB64)) {
      return fail('malformed')
    }
    // Whole AES blocks only: a length check costs nothing and spares the MAC work.
    if (encB64.length % 4 === 1 || ((encB64.length * 3) >> 2) % 16 !== 0) return fail('malformed')
    let exp = 0
    if (expiration !== '') {
      if (!/^[1-9]\d*$/.test(expiration)) return fail('malformed')
      exp = Number(expiration)
      if (exp <= this.#now() - SKEW_MS) return fail('expired')
    }
    // A plain-string secret seals with id ''; such cookies are tried against every key.
    const candidates = id === '' ? this.#keys : this.#keys.filter((k) => k.id === id)
    if (candidates.length === 0) return fail('unknown-key')
    const base = sealed.slice(0, sealed.length - macSalt.length - mac.length - 2)
    const done = (json: string | UnsealResult, key: CodecKey): UnsealResult => {
      if (typeof json !== 'string') return json
      const stale = key !== this.#keys[0]
      const result = parse(json, stale)
      if (result.ok) this.#results.set(sealed, { json, stale, expiration: exp })
      return result
    }
    if (!this.#node) return this.#unsealWeb(candidates, sealed, id, ivB64, encB64, done)
    const c = nodeCrypto!
    for (const key of candidates) {
      const cached = key.macKeys.get(macSalt)
      const macKey = cached ?? c.pbkdf2Sync(key.secret, macSalt, 1, KEY_BYTES, 'sha1')
      const digest = c.createHmac('sha256', macKey).update(base).digest('base64url')
      if (!timingSafeEqual(digest, mac)) continue
      if (!cached) key.macKeys.set(macSalt, macKey)
      return done(this.#decryptNode(key, encSalt, ivB64, encB64), key)
    }
    return fail('tampered')
  }

  // Runs only on strings whose MAC verified, so decoding leniently here is safe: the MAC covers
  // the exact characters.
  #decryptNode(
    key: CodecKey,
    encSalt: string,
    ivB64: string,
    encB64: string,
  ): string | UnsealResult {
    const c = nodeCrypto!
    const iv = Buffer.from(ivB64, 'base64url')
    const encrypted = Buffer.from(encB64, 'base64url')
    if (iv.length !== IV_BYTES || encrypted.length === 0 || encrypted.length % 16 !== 0) {
      return fail('invalid-data')
    }
    let encKey = key.encKeys.get(encSalt)
    if (!encKey) {
      encKey = c.pbkdf2Sync(key.secret, encSalt, 1, KEY_BYTES, 'sha1')
      key.encKeys.set(encSalt, encKey)
    }
    try {
      const decipher = c.createDecipheriv('aes-256-cbc', encKey, iv)
      return decipher.update(encrypted, undefined, 'utf8') + decipher.final('utf8')
    } catch {
      // Authentic but undecryptable: sealed by a holder of the key with other parameters.
      return fail('invalid-data')
    }
  }

  async #unsealWeb(
    candidates: CodecKey[],
    sealed: string,
    id: string,
    ivB64: string,
    encB64: string,
    done: (json: string | UnsealResult, key: CodecKey) => UnsealResult,
  ): Promise<UnsealResult> {
    const iv = fromBase64Url(ivB64)
    const encrypted = fromBase64Url(encB64)
    if (!iv || iv.length !== IV_BYTES || !encrypted || encrypted.length === 0)
      return fail('malformed')
    if (encrypted.length % 16 !== 0) return fail('malformed')
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
      return done(json, key)
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

  /** Entries in the unseal-result cache. */
  resultCacheSize(): number {
    return this.#results.size
  }
}

function parse(json: string, stale: boolean): UnsealResult {
  try {
    return { ok: true, value: JSON.parse(json), stale }
  } catch {
    return fail('invalid-data')
  }
}
