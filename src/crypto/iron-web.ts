// The iron path where node:crypto is missing (plain Workers, browsers): iron-webcrypto itself,
// producing and accepting the same strings as the node:crypto path.
import * as Iron from 'iron-webcrypto'
import type { Steps } from '../util/steps.ts'
import { fromBase64Url, type RingKey } from './random.ts'

const IV_BYTES = 16

/** Seals `json` with `key` through WebCrypto, with salts of `saltBytes` random bytes. */
export function* webSeal(json: string, key: RingKey, saltBytes: number): Steps<string> {
  return (yield Iron.seal(json, { id: key.id, secret: key.secret }, {
    ...Iron.defaults,
    encryption: { ...Iron.defaults.encryption, saltBits: saltBytes * 8 },
    integrity: { ...Iron.defaults.integrity, saltBits: saltBytes * 8 },
    encode: (v: unknown) => v as string,
  } as Iron.SealOptions)) as string
}

/**
 * Opens `sealed` with the first of `candidates` whose MAC verifies: the JSON inside and that
 * key, or why not. The caller already checked the string's shape and iron expiry.
 */
export function* webUnseal<K extends RingKey>(
  candidates: K[],
  sealed: string,
  id: string,
  ivB64: string,
  encB64: string,
): Steps<{ json: string; key: K } | 'malformed' | 'invalid-data' | 'tampered'> {
  const iv = fromBase64Url(ivB64)
  const encrypted = fromBase64Url(encB64)
  if (!iv || iv.length !== IV_BYTES || !encrypted || encrypted.length === 0) return 'malformed'
  if (encrypted.length % 16 !== 0) return 'malformed'
  for (const key of candidates) {
    try {
      const json = (yield Iron.unseal(sealed, { [id || 'default']: key.secret }, {
        ...Iron.defaults,
        // Our own clock decides expiry (checked by the caller); iron's would ignore an injected one.
        timestampSkewSec: Number.MAX_SAFE_INTEGER / 1000,
        decode: (s: string) => s,
      } as Iron.SealOptions)) as string
      return { json, key }
    } catch (err) {
      if (err instanceof Error && err.message === 'Bad hmac value') continue
      return 'invalid-data'
    }
  }
  return 'tampered'
}
