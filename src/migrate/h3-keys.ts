// h3 2's seals: iron's Fe26.2 with keys derived by 8192 PBKDF2 iterations (iron's default is
// one, which IronCodec uses). Opened here, apart from the codec, so the core carries none of it.

import type { UnsealFailure, UnsealResult } from '../crypto/iron.ts'
import { parseSeal, type SealParts } from '../crypto/iron-format.ts'
import { decryptWeb, deriveKey, pbkdf2Secret } from '../crypto/iron-web.ts'
import { AesCbc, decryptNode, HmacSha256, nodeCrypto } from '../crypto/node-crypto.ts'
import { fromBase64Url, type RingKey, timingSafeEqual } from '../crypto/random.ts'
import { hmacSign } from '../crypto/subtle.ts'
import type { Steps } from '../util/steps.ts'

const ITERATIONS = 8192
const KEY_BYTES = 32
const SKEW_MS = 60_000

/**
 * Opens `sealed` made with 8192-iteration keys: `revive`d JSON, or why not. The shape is checked
 * before any derivation; a forgery costs one (8192-iteration) MAC key per ring key tried. Uses
 * node:crypto where there is one, crypto.subtle elsewhere or when `webCrypto`.
 */
export function* unsealStrong<T>(
  sealed: string,
  keys: readonly RingKey[],
  now: number,
  revive: (parsed: unknown) => T | undefined,
  webCrypto = nodeCrypto === undefined,
): Steps<UnsealResult<T>> {
  const fail = (reason: UnsealFailure): UnsealResult<T> => ({ ok: false, reason })
  const parts = parseSeal(sealed, now - SKEW_MS)
  if (typeof parts === 'string') return fail(parts)
  const candidates = parts.id === '' ? keys : keys.filter((k) => k.id === parts.id)
  if (candidates.length === 0) return fail('unknown-key')
  const base = sealed.slice(0, sealed.length - parts.macSalt.length - parts.mac.length - 2)
  let json: string | undefined
  const c = nodeCrypto
  if (c && !webCrypto) {
    const derive = (secret: string, salt: string) =>
      c.pbkdf2Sync(secret, salt, ITERATIONS, KEY_BYTES, 'sha1')
    const key = candidates.find((k) =>
      timingSafeEqual(new HmacSha256(derive(k.secret, parts.macSalt)).digest(base), parts.mac),
    )
    if (!key) return fail('tampered')
    json = decryptNode(new AesCbc(derive(key.secret, parts.encSalt)), parts.ivB64, parts.encB64)
  } else {
    const opened = yield* webOpen(parts, base, candidates)
    if (typeof opened === 'string') return fail(opened)
    json = opened.json
  }
  if (json === undefined) return fail('invalid-data')
  let value: T | undefined
  try {
    value = revive(JSON.parse(json))
  } catch {
    return fail('invalid-data')
  }
  return value === undefined ? fail('invalid-data') : { ok: true, value, stale: false }
}

/**
 * The WebCrypto path: the JSON inside `parts` (whose MAC covers `base`), opened with the first
 * candidate whose MAC verifies, or why not. Nothing is cached: an h3 cookie is opened once, then
 * replaced by ours.
 */
function* webOpen(
  parts: SealParts,
  base: string,
  candidates: readonly RingKey[],
): Steps<{ json: string } | 'malformed' | 'invalid-data' | 'tampered'> {
  const iv = fromBase64Url(parts.ivB64)
  const encrypted = fromBase64Url(parts.encB64)
  if (!iv || !encrypted) return 'malformed'
  // Any WebCrypto failure (a bad padding: authentic but undecryptable) is the seal's, never a throw.
  try {
    for (const key of candidates) {
      const secret = pbkdf2Secret(key.secret)
      const macKey = yield* deriveKey(secret, parts.macSalt, true, ITERATIONS)
      if (!timingSafeEqual(yield* hmacSign(macKey, base), parts.mac)) continue
      const encKey = yield* deriveKey(secret, parts.encSalt, false, ITERATIONS)
      return { json: yield* decryptWeb(encKey, iv, encrypted) }
    }
  } catch {
    return 'invalid-data'
  }
  return 'tampered'
}
