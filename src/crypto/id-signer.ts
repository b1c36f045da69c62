import { BoundedCache } from '../util/cache.ts'
import type { Steps } from '../util/steps.ts'
import { HmacSha256, nodeCrypto } from './node-crypto.ts'
import { isBase64Url, type RingKey, timingSafeEqual } from './random.ts'
import { encoder, hmacSign } from './subtle.ts'

// Signed ids kept in each direction; entries are added only for ids this ring signed.
const SIGNED_CACHE_SIZE = 10_000

/** What `verify` found in a signed value. */
export interface VerifiedId {
  readonly id: string
  /** Signed with an older key of the ring: sign it again with the newest. */
  readonly stale: boolean
}

/**
 * Signs store-mode session ids with the key ring, so a forged id is refused before any store
 * round trip. The cookie value is `<id>.<base64url HMAC-SHA256>`. Synchronous on `node:crypto`
 * (WebCrypto answers with promises, yielded to the caller's driver); values it signed or
 * verified are remembered (bounded), so a returning cookie costs no MAC.
 */
export class IdSigner {
  readonly #keys: RingKey[]
  readonly #purpose: string
  readonly #webKeys = new Map<string, Promise<CryptoKey>>()
  readonly #nodeKeys = new Map<string, HmacSha256>()
  /** Verified cookie value → what `verify` answered. */
  readonly #verified = new BoundedCache<string, VerifiedId>(SIGNED_CACHE_SIZE)
  /** Id → its value signed with the newest key. */
  readonly #signed = new BoundedCache<string, string>(SIGNED_CACHE_SIZE)

  /** @param purpose bound into every signature (`options.purpose`) */
  constructor(keys: RingKey[], purpose: string) {
    this.#keys = keys
    this.#purpose = purpose
  }

  // The prefix keeps these MACs apart from any other use of the same secret, and the purpose
  // apart from ids signed for another cookie or app. JSON keeps the two parts unambiguous.
  *#mac(secret: string, id: string): Steps<string> {
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
    return yield* hmacSign((yield key) as CryptoKey, message)
  }

  /** `<id>.<signature>` with the newest key, as steps: synchronous on node:crypto. */
  *signing(id: string): Steps<string> {
    const known = this.#signed.get(id)
    if (known !== undefined) return known
    const value = `${id}.${yield* this.#mac(this.#keys[0]!.secret, id)}`
    this.#signed.set(id, value)
    this.#verified.set(value, { id, stale: false })
    return value
  }

  /** What `verifying` answered for `value` before, if it is still remembered: no MAC, no steps. */
  known(value: string): VerifiedId | undefined {
    return this.#verified.get(value)
  }

  /**
   * The id inside a signed value (as steps) and whether it was signed with an older key;
   * undefined when the value is not an id this ring signed.
   */
  *verifying(value: string): Steps<VerifiedId | undefined> {
    const known = this.known(value)
    if (known !== undefined) return known
    const dot = value.indexOf('.')
    if (dot !== 32 || value.length !== 76) return undefined
    const id = value.slice(0, dot)
    const signature = value.slice(dot + 1)
    if (!isBase64Url(id) || !isBase64Url(signature)) return undefined
    for (let i = 0; i < this.#keys.length; i++) {
      const mac = yield* this.#mac(this.#keys[i]!.secret, id)
      if (!timingSafeEqual(mac, signature)) continue
      const verified = Object.freeze({ id, stale: i > 0 })
      this.#verified.set(value, verified)
      return verified
    }
    return undefined
  }
}
