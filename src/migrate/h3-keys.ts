// h3 2's seals: iron's Fe26.2 with keys derived by 8192 PBKDF2 iterations (iron's default is
// one, which IronCodec uses). Opened here, apart from the codec, so the core carries none of it.

import * as Iron from 'iron-webcrypto'
import type { UnsealFailure, UnsealResult } from '../crypto/iron.ts'
import { parseSeal } from '../crypto/iron-format.ts'
import { AesCbc, decryptNode, HmacSha256, nodeCrypto } from '../crypto/node-crypto.ts'
import { type RingKey, timingSafeEqual } from '../crypto/random.ts'
import { type Steps, wait } from '../util/steps.ts'

const ITERATIONS = 8192
const KEY_BYTES = 32
const SKEW_MS = 60_000

/**
 * Opens `sealed` made with 8192-iteration keys: `revive`d JSON, or why not. The shape is checked
 * before any derivation; a forgery costs one (8192-iteration) MAC key per ring key tried. Uses
 * node:crypto where there is one, WebCrypto (iron-webcrypto) elsewhere or when `webCrypto`.
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
  let json: string | undefined
  const c = nodeCrypto
  if (c && !webCrypto) {
    const base = sealed.slice(0, sealed.length - parts.macSalt.length - parts.mac.length - 2)
    const derive = (secret: string, salt: string) =>
      c.pbkdf2Sync(secret, salt, ITERATIONS, KEY_BYTES, 'sha1')
    const key = candidates.find((k) =>
      timingSafeEqual(new HmacSha256(derive(k.secret, parts.macSalt)).digest(base), parts.mac),
    )
    if (!key) return fail('tampered')
    json = decryptNode(new AesCbc(derive(key.secret, parts.encSalt)), parts.ivB64, parts.encB64)
  } else {
    const opened = yield* webOpen(sealed, parts.id, candidates)
    if (opened === 'tampered') return fail(opened)
    json = opened
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

const rounds = { iterations: ITERATIONS }
const WEB_OPTIONS = {
  ...Iron.defaults,
  encryption: { ...Iron.defaults.encryption, ...rounds },
  integrity: { ...Iron.defaults.integrity, ...rounds },
  // The caller's clock decided expiry (parseSeal above).
  timestampSkewSec: Number.MAX_SAFE_INTEGER / 1000,
  decode: (s: string) => s,
} as Iron.SealOptions

/** The WebCrypto path (no node:crypto): the JSON inside, undefined if it does not decrypt. */
function* webOpen(
  sealed: string,
  id: string,
  candidates: readonly RingKey[],
): Steps<string | undefined | 'tampered'> {
  for (const key of candidates) {
    try {
      const password = { [id || 'default']: key.secret }
      return (yield* wait(Iron.unseal(sealed, password, WEB_OPTIONS))) as string
    } catch (err) {
      if (err instanceof Error && err.message === 'Bad hmac value') continue
      return undefined
    }
  }
  return 'tampered'
}
