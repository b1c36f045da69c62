import { BoundedCache, smallKey } from '../util/cache.ts'
import { deepFreeze } from '../util/freeze.ts'
import { runAsync, type Steps } from '../util/steps.ts'
import {
  joinSeal,
  KEY_CACHE_SIZE,
  macBase,
  parseSeal,
  SALT_REUSE_MS,
  SALT_REUSE_SEALS,
  type SealParts,
} from './iron-format.ts'
import { webSeal, webUnseal } from './iron-web.ts'
import { AesCbc, decryptNode, HmacSha256, nodeCrypto } from './node-crypto.ts'
import { type RingKey, timingSafeEqual } from './random.ts'

// iron's defaults (one PBKDF2-SHA1 iteration, AES-256-CBC, HMAC-SHA256) but for the salts: 128
// random bits (NIST SP 800-132's minimum) instead of 256, in base64url rather than hex, which
// take 84 characters less in every cookie. iron reads the salt as a string of any length and
// characters, so iron-webcrypto still opens these seals, and we open its 256-bit hex ones.
const SALT_BYTES = 16
const IV_BYTES = 16
const KEY_BYTES = 32
const SKEW_MS = 60_000

// Unseal results kept, keyed by the exact sealed string: added after a full unseal, or by our
// own seal (its JSON, opened without crypto when the client brings it back).
export const RESULT_CACHE_SIZE = 10_000
// IVs drawn per random fill (4 KiB / 16 bytes = 256 seals).
const IV_POOL_BYTES = 4096

const MAC_CHARS = 43

/** Why a sealed string did not open (a subset of the core's `InvalidReason`). */
export type UnsealFailure = 'malformed' | 'tampered' | 'unknown-key' | 'expired' | 'invalid-data'

/**
 * What `unseal` found: the value with whether an older key sealed it, or why it failed. A
 * value may be handed to every request that brings the same string: it is deep-frozen.
 */
export type UnsealResult<T = unknown> =
  | { readonly ok: true; readonly value: T; readonly stale: boolean }
  | { readonly ok: false; readonly reason: UnsealFailure }

type InvalidResult = { readonly ok: false; readonly reason: UnsealFailure }
const fail = (reason: UnsealFailure): InvalidResult => ({ ok: false, reason })

/** iron's key for `salt` on node:crypto: PBKDF2-SHA1, one iteration, 32 bytes. */
const derive = (secret: string, salt: string): Buffer =>
  nodeCrypto!.pbkdf2Sync(secret, salt, 1, KEY_BYTES, 'sha1')

interface CodecKey extends RingKey {
  /** Derived encryption keys by salt (node:crypto path). */
  encKeys: BoundedCache<string, AesCbc>
  /** Derived MAC keys by salt (node:crypto path). */
  macKeys: BoundedCache<string, HmacSha256>
}

interface CachedResult<T> {
  /** The whole sealed string: the cache is indexed by a slot of its MAC, a hit needs the exact string. */
  sealed: string
  /** The checked result; undefined for a seal of ours not opened yet (see `json`). */
  result: UnsealResult<T> | undefined
  /** What we sealed into `sealed` ourselves: its unseal without the crypto. */
  json: string | undefined
  /** iron's own expiration field, epoch ms, or 0 when the seal has none. */
  expiration: number
}

interface SealKeys {
  encSalt: string
  encKey: AesCbc
  macSalt: string
  macKey: HmacSha256
  until: number
  left: number
}

/**
 * The result cache's key for a sealed string: seven characters of its MAC (about 40 random
 * bits) as a small integer. Hashing a 43-character slice cost a string per lookup and most of a
 * cache miss. Strings that share a slot share an entry (the later one keeps it).
 */
const slotOf = (sealed: string): number =>
  smallKey(sealed, sealed.length, sealed.length - MAC_CHARS)

/** The iron expiration of a string that opened (0: none): the field before the MAC salt. */
function expirationOf(sealed: string): number {
  // Found from the end: the string opened, so its shape is known.
  const end = sealed.lastIndexOf('*', sealed.length - MAC_CHARS - 2)
  return Number(sealed.slice(sealed.lastIndexOf('*', end - 1) + 1, end)) || 0
}

/**
 * Seals and unseals JSON values in iron's `Fe26.2` format with a key ring.
 *
 * Uses synchronous `node:crypto` where the runtime has it and `crypto.subtle` (iron-web.ts)
 * elsewhere; both produce and accept the same strings, which iron-webcrypto also opens.
 * Expiry is not put in the seal (its `ttl` field is left empty): the session record inside
 * carries its own deadlines, checked against the injectable clock.
 *
 * Three bounded caches keep repeated work away: derived keys by salt (filled only after a MAC
 * verified, or by our own seals), and whole unseal results by the exact sealed string. A cached
 * result is revived once (`revive` validates and converts the parsed JSON), deep-frozen, and
 * handed out as is: readers copy what they change.
 */
export class IronCodec<T = unknown> {
  readonly #keys: CodecKey[]
  readonly #node: boolean
  readonly #now: () => number
  readonly #revive: (parsed: unknown) => T | undefined
  readonly #results = new BoundedCache<number, CachedResult<T>>(RESULT_CACHE_SIZE)
  /** The entry of a seal of ours that `lookup()` found last, for `unsealingFresh`. */
  #ownSeal: CachedResult<T> | undefined
  #sealKeys: SealKeys | undefined

  /**
   * @param options.revive turns the parsed JSON into the value `unseal` answers, or undefined
   *   when it is not one (`invalid-data`); defaults to the parsed JSON itself
   */
  constructor(
    keys: RingKey[],
    options: {
      now?: () => number
      webCrypto?: boolean
      revive?: (parsed: unknown) => T | undefined
    } = {},
  ) {
    this.#keys = keys.map((k) => ({
      ...k,
      encKeys: new BoundedCache(KEY_CACHE_SIZE),
      macKeys: new BoundedCache(KEY_CACHE_SIZE),
    }))
    this.#node = nodeCrypto !== undefined && !options.webCrypto
    this.#now = options.now ?? Date.now
    this.#revive = options.revive ?? ((parsed) => parsed as T)
  }

  /** Seals `value` (JSON-serialisable) with the newest key. */
  seal(value: unknown): Promise<string> {
    return runAsync(this.sealing(value))
  }

  /**
   * Opens a sealed string. Never rejects: a bad seal is `{ ok: false, reason }`. See `unsealing`.
   */
  unseal(sealed: string, keep = true): Promise<UnsealResult<T>> {
    return runAsync(this.unsealing(sealed, keep))
  }

  /**
   * `seal` as steps: synchronous on node:crypto. With `remember`, the string is kept in the
   * result cache (write-through): the client's next request brings it back, and opening it then
   * costs no MAC and no decryption. `copy`: a value equal to `value`'s JSON round trip that
   * nothing else holds, revived and kept as the result (the next request is a plain hit);
   * without it, the JSON is kept and parsed then. Only our own seals get in this way.
   */
  *sealing(value: unknown, remember = false, copy?: unknown): Steps<string> {
    const json = JSON.stringify(value)
    const key = this.#keys[0]!
    let sealed: string
    // The result cache's slot, from the MAC: read off the flat digest, not the joined string
    // (on Bun, reading a character of a joined string first copies it whole).
    let slot: number
    if (!this.#node) {
      sealed = yield* webSeal(json, key, SALT_BYTES)
      slot = slotOf(sealed)
    } else {
      const k = this.#currentSealKeys(key)
      const at = this.#nextIv()
      const ivs = this.#ivs!
      const encrypted = k.encKey.encrypt(json, ivs, at)
      const base = macBase(
        key.id,
        k.encSalt,
        ivs.toString('base64url', at, at + IV_BYTES),
        encrypted.toString('base64url'),
      )
      const mac = k.macKey.digest(base)
      sealed = joinSeal(base, k.macSalt, mac)
      slot = smallKey(mac, MAC_CHARS, 0)
    }
    if (remember) {
      const opened = copy === undefined ? undefined : this.#revive(copy)
      const result = opened && deepFreeze({ ok: true as const, value: opened, stale: false })
      const entry = { sealed, result, json: result ? undefined : json, expiration: 0 }
      this.#results.set(slot, entry)
    }
    return sealed
  }

  // One random fill serves many IVs: each fill is a system call that costs more than the rest
  // of a seal on some machines. Every IV is still fresh CSPRNG output, used once.
  // Created on first seal: Buffer exists only where node:crypto does (not on plain Workers).
  #ivs: Buffer | undefined
  #ivOffset = 0

  /** Where the next IV starts in `#ivs` (no view of it is made: on Bun that costs). */
  #nextIv(): number {
    if (!this.#ivs || this.#ivOffset + IV_BYTES > this.#ivs.length) {
      this.#ivs = nodeCrypto!.randomFillSync(Buffer.allocUnsafeSlow(IV_POOL_BYTES))
      this.#ivOffset = 0
    }
    this.#ivOffset += IV_BYTES
    return this.#ivOffset - IV_BYTES
  }

  #currentSealKeys(key: CodecKey): SealKeys {
    const now = Date.now()
    let k = this.#sealKeys
    if (!k || k.left <= 0 || now >= k.until) {
      const c = nodeCrypto!
      const encSalt = c.randomBytes(SALT_BYTES).toString('base64url')
      const macSalt = c.randomBytes(SALT_BYTES).toString('base64url')
      k = {
        encSalt,
        encKey: new AesCbc(derive(key.secret, encSalt)),
        macSalt,
        macKey: new HmacSha256(derive(key.secret, macSalt)),
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
   * Opens a sealed string. Never throws: a bad seal is `{ ok: false, reason }`. A result opened
   * now is cached (deep-frozen) unless `keep` is false; then the caller may `keep()` it later.
   * The work spent on a forged string is bounded by one key derivation per ring key tried.
   */
  *unsealing(sealed: string, keep = true): Steps<UnsealResult<T>> {
    return this.lookup(sealed) ?? (yield* this.unsealingFresh(sealed, keep))
  }

  /**
   * `unsealing` for a string `lookup()` did not find: verifies it in full, or, for a seal of
   * ours the cache remembers (`sealing(value, true)`), parses and revives the JSON sealed into it.
   */
  *unsealingFresh(sealed: string, keep = true): Steps<UnsealResult<T>> {
    const result = this.unsealFresh(sealed, keep)
    if (result) return result
    // WebCrypto, for a seal unsealFresh found well-formed and unexpired (so parsed again against
    // 0, which refuses no expiration: no cost beside crypto.subtle's).
    const parsed = parseSeal(sealed, 0) as SealParts
    const { id, macSalt, mac } = parsed
    const candidates = this.#keys.filter((k) => id === '' || k.id === id)
    if (candidates.length === 0) return fail('unknown-key')
    const base = sealed.slice(0, sealed.length - macSalt.length - mac.length - 2)
    const opened = yield* webUnseal(candidates, parsed, base)
    if (typeof opened === 'string') return fail(opened)
    const { json, key } = opened
    return typeof json === 'string' ? this.#open(sealed, parsed.expiration, json, key, keep) : json
  }

  /**
   * `unsealingFresh` without steps, as a cold read on node:crypto takes it (no generator, and
   * nothing allocated but what it answers); undefined when only WebCrypto can open the seal.
   */
  unsealFresh(sealed: string, keep = true): UnsealResult<T> | undefined {
    // A seal of ours that `lookup()` just found (handed over here, so the cache is not asked twice).
    const ownSeal = this.#ownSeal
    this.#ownSeal = undefined
    if (ownSeal?.sealed === sealed) {
      return this.#open(sealed, 0, ownSeal.json!, this.#keys[0]!, keep)
    }
    const parsed = parseSeal(sealed, this.#now() - SKEW_MS)
    if (typeof parsed === 'string') return fail(parsed)
    const { id, encSalt, macSalt, mac } = parsed
    if (!this.#node) return undefined
    const base = sealed.slice(0, sealed.length - macSalt.length - mac.length - 2)
    // Our own current seal: its keys are at hand, no cache lookup (nor salt hashing) needed.
    const own = this.#sealKeys
    let known = false
    for (const key of this.#keys) {
      // A plain-string secret seals with id ''; such cookies are tried against every key.
      if (id !== '' && key.id !== id) continue
      known = true
      const ours = own !== undefined && key === this.#keys[0]
      const cached = ours && macSalt === own.macSalt ? own.macKey : key.macKeys.get(macSalt)
      const macKey = cached ?? new HmacSha256(derive(key.secret, macSalt))
      if (!timingSafeEqual(macKey.digest(base), mac)) continue
      if (!cached) key.macKeys.set(macSalt, macKey)
      const encKey = ours && encSalt === own.encSalt ? own.encKey : this.#encKey(key, encSalt)
      const json = decryptNode(encKey, parsed.ivB64, parsed.encB64)
      // Undefined when authentic but undecryptable: sealed by a key holder with other parameters.
      return json === undefined
        ? fail('invalid-data')
        : this.#open(sealed, parsed.expiration, json, key, keep)
    }
    return fail(known ? 'tampered' : 'unknown-key')
  }

  /** The derived encryption key for `salt`; derived (and kept) when the MAC already verified. */
  #encKey(key: CodecKey, salt: string): AesCbc {
    let encKey = key.encKeys.get(salt)
    if (!encKey) {
      encKey = new AesCbc(derive(key.secret, salt))
      key.encKeys.set(salt, encKey)
    }
    return encKey
  }

  /** Parses and revives an authentic payload; keeps the result for `sealed` when `keep`. */
  #open(
    sealed: string,
    expiration: number,
    json: string,
    key: CodecKey,
    keep: boolean,
  ): UnsealResult<T> {
    let value: T | undefined
    try {
      value = this.#revive(JSON.parse(json))
    } catch {
      return fail('invalid-data')
    }
    if (value === undefined) return fail('invalid-data')
    const result = { ok: true as const, value, stale: key !== this.#keys[0] }
    if (keep) this.#keep(sealed, expiration, result)
    return result
  }

  #keep(sealed: string, expiration: number, result: UnsealResult<T>): void {
    deepFreeze(result)
    this.#results.set(slotOf(sealed), { sealed, result, json: undefined, expiration })
  }

  /**
   * The cached result for exactly `sealed` (iron expiry re-checked), or undefined: what a
   * request that brings a cookie seen before costs, without starting any steps.
   */
  lookup(sealed: string): UnsealResult<T> | undefined {
    const hit = this.#results.get(slotOf(sealed))
    if (!hit || hit.sealed !== sealed) return undefined
    if (!hit.result) {
      // A seal of ours not opened yet: `unsealingFresh`, called next, opens it without crypto
      // (as a fresh result, which the caller checks like any other).
      this.#ownSeal = hit
      return undefined
    }
    if (hit.expiration !== 0 && hit.expiration <= this.#now() - SKEW_MS) return fail('expired')
    return hit.result
  }

  /** Until when (epoch ms) `sealed`, a string that opened, opens by its own iron expiration. */
  sealUntil(sealed: string): number {
    const expiration = expirationOf(sealed)
    return expiration === 0 ? Infinity : expiration + SKEW_MS
  }

  /**
   * Caches a result `unseal(sealed, false)` answered, once the caller knows the string is still
   * current (a request that did not reseal it).
   */
  keep(sealed: string, result: UnsealResult<T>): void {
    if (!result.ok) return
    this.#keep(sealed, expirationOf(sealed), result)
  }

  /**
   * Drops the cached result for `sealed`, if any (a cookie the server has just superseded);
   * `sealed` must be a string that opened.
   */
  forget(sealed: string): void {
    // By its slot alone: a string sharing it loses its entry too, which costs it one full unseal.
    this.#results.delete(slotOf(sealed))
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
