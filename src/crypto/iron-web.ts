// The iron path where node:crypto is missing (plain Workers, browsers): Fe26.2 on crypto.subtle,
// producing and accepting the same strings as the node:crypto path and iron-webcrypto.
//
// iron's parameters (https://github.com/hapijs/iron): keys by PBKDF2-SHA1, one iteration, 32
// bytes, the salt taken as a UTF-8 string (hex from iron, base64url from us); AES-256-CBC with a
// 16-byte IV; HMAC-SHA256 over the string up to the MAC salt.
import { BoundedCache } from '../util/cache.ts'
import type { Steps } from '../util/steps.ts'
import {
  joinSeal,
  KEY_CACHE_SIZE,
  macBase,
  SALT_REUSE_MS,
  SALT_REUSE_SEALS,
  type SealParts,
} from './iron-format.ts'
import { fromBase64Url, type RingKey, randomBytes, timingSafeEqual, toBase64Url } from './random.ts'
import { encoder, hmacSign } from './subtle.ts'

const IV_BYTES = 16
// Derived keys are kept and our own salts reused as on the node:crypto path (iron-format.ts).

const AES = { name: 'AES-CBC', length: 256 }
const HMAC = { name: 'HMAC', hash: 'SHA-256', length: 256 }
const decoder = new TextDecoder()

interface SealKeys {
  encSalt: string
  encKey: CryptoKey
  macSalt: string
  macKey: CryptoKey
  until: number
  left: number
}

/** What one ring key has derived on this path. */
interface WebKeys {
  /** The secret imported for PBKDF2 (imported once). */
  secret: Promise<CryptoKey>
  encKeys: BoundedCache<string, CryptoKey>
  macKeys: BoundedCache<string, CryptoKey>
  seal: SealKeys | undefined
}

// By ring key object: the codec's keys live as long as the codec, and so do their caches.
const derived = new WeakMap<RingKey, WebKeys>()

function webKeys(key: RingKey): WebKeys {
  let keys = derived.get(key)
  if (!keys) {
    keys = {
      secret: pbkdf2Secret(key.secret),
      encKeys: new BoundedCache(KEY_CACHE_SIZE),
      macKeys: new BoundedCache(KEY_CACHE_SIZE),
      seal: undefined,
    }
    derived.set(key, keys)
  }
  return keys
}

/** `secret` imported as the input of PBKDF2. */
export const pbkdf2Secret = (secret: string): Promise<CryptoKey> =>
  crypto.subtle.importKey('raw', encoder.encode(secret), 'PBKDF2', false, ['deriveKey'])

/**
 * iron's key for `salt`: PBKDF2-SHA1 over `secret` (from `pbkdf2Secret`), 32 bytes, for AES-CBC
 * or HMAC; one iteration as iron's default, more for seals that asked for them (h3 2: 8192).
 */
export function* deriveKey(
  secret: Promise<CryptoKey>,
  salt: string,
  mac: boolean,
  iterations = 1,
): Steps<CryptoKey> {
  const params = { name: 'PBKDF2', salt: encoder.encode(salt), iterations, hash: 'SHA-1' }
  const usage: KeyUsage[] = mac ? ['sign'] : ['encrypt', 'decrypt']
  return (yield crypto.subtle.deriveKey(
    params,
    (yield secret) as CryptoKey,
    mac ? HMAC : AES,
    false,
    usage,
  )) as CryptoKey
}

/** A seal's JSON: `encrypted` under `encKey` and `iv`. Throws on a bad padding. */
export function* decryptWeb(
  encKey: CryptoKey,
  iv: Uint8Array<ArrayBuffer>,
  encrypted: Uint8Array<ArrayBuffer>,
): Steps<string> {
  const plain = (yield crypto.subtle.decrypt(
    { name: 'AES-CBC', iv },
    encKey,
    encrypted,
  )) as ArrayBuffer
  return decoder.decode(plain)
}

function* sealKeys(keys: WebKeys, saltBytes: number): Steps<SealKeys> {
  const now = Date.now()
  let k = keys.seal
  if (!k || k.left <= 0 || now >= k.until) {
    const encSalt = toBase64Url(randomBytes(saltBytes))
    const macSalt = toBase64Url(randomBytes(saltBytes))
    k = {
      encSalt,
      encKey: yield* deriveKey(keys.secret, encSalt, false),
      macSalt,
      macKey: yield* deriveKey(keys.secret, macSalt, true),
      until: now + SALT_REUSE_MS,
      left: SALT_REUSE_SEALS,
    }
    // Cookies we seal come straight back: let their unseal find the keys.
    keys.encKeys.set(encSalt, k.encKey)
    keys.macKeys.set(macSalt, k.macKey)
    keys.seal = k
  }
  k.left--
  return k
}

/** Seals `json` with `key` through WebCrypto, with salts of `saltBytes` random bytes. */
export function* webSeal(json: string, key: RingKey, saltBytes: number): Steps<string> {
  const k = yield* sealKeys(webKeys(key), saltBytes)
  const iv = randomBytes(IV_BYTES)
  const encrypted = (yield crypto.subtle.encrypt(
    { name: 'AES-CBC', iv },
    k.encKey,
    encoder.encode(json),
  )) as ArrayBuffer
  const base = macBase(key.id, k.encSalt, toBase64Url(iv), toBase64Url(new Uint8Array(encrypted)))
  return joinSeal(base, k.macSalt, yield* hmacSign(k.macKey, base))
}

/**
 * Opens the seal `parts` (whose MAC covers `base`) with the first of `candidates` whose MAC
 * verifies: the JSON inside and that key, or why not. The caller already checked the string's
 * shape and iron expiry. A forgery costs one MAC key derivation per candidate and caches nothing.
 */
export function* webUnseal<K extends RingKey>(
  candidates: K[],
  parts: SealParts,
  base: string,
): Steps<{ json: string; key: K } | 'malformed' | 'invalid-data' | 'tampered'> {
  // parseSeal checked the lengths (a 16-byte IV, whole AES blocks); these refuse spare bits set.
  const iv = fromBase64Url(parts.ivB64)
  const encrypted = fromBase64Url(parts.encB64)
  if (!iv || !encrypted) return 'malformed'
  // Any WebCrypto failure is the seal's, as when iron-webcrypto ran here: a typed outcome, no throw.
  try {
    for (const key of candidates) {
      const keys = webKeys(key)
      const cached = keys.macKeys.get(parts.macSalt)
      const macKey = cached ?? (yield* deriveKey(keys.secret, parts.macSalt, true))
      if (!timingSafeEqual(yield* hmacSign(macKey, base), parts.mac)) continue
      if (!cached) keys.macKeys.set(parts.macSalt, macKey)
      let encKey = keys.encKeys.get(parts.encSalt)
      if (!encKey) {
        encKey = yield* deriveKey(keys.secret, parts.encSalt, false)
        keys.encKeys.set(parts.encSalt, encKey)
      }
      // A bad padding throws: authentic but undecryptable, sealed by a key holder with other
      // parameters.
      return { json: yield* decryptWeb(encKey, iv, encrypted), key }
    }
  } catch {
    return 'invalid-data'
  }
  return 'tampered'
}
