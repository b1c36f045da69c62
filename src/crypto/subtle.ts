// What the WebCrypto paths (iron-web.ts, id-signer.ts) share. crypto.subtle is looked up per
// call, never kept: the runtime tests count calls through it.
import type { Steps } from '../util/steps.ts'
import { toBase64Url } from './random.ts'

/** UTF-8 out, for every WebCrypto input. */
export const encoder = new TextEncoder()

/** HMAC-SHA256 of `text` under `key` (a sign-capable HMAC key), as unpadded base64url. */
export function* hmacSign(key: CryptoKey, text: string): Steps<string> {
  return toBase64Url(
    new Uint8Array((yield crypto.subtle.sign('HMAC', key, encoder.encode(text))) as ArrayBuffer),
  )
}
