// HMAC-SHA256 and AES-256-CBC on node:crypto without a new native object per message.
//
// Node's createHmac / createCipheriv / createDecipheriv cost 3-7 µs each on Node 20, several
// times the cryptography they do on a cookie. The same results come cheaper from primitives
// that can be kept: a one-shot hash (HMAC is two of them, RFC 2104), one CBC cipher and one CBC
// decipher per key, each steered to the message's own IV (NIST SP 800-38A §6.2: CBC chains
// through the previous ciphertext block, which for the first block is the IV). Outputs are
// byte for byte those of createHmac and createCipheriv; the tests compare them on random inputs.
import type { Cipher, Decipher } from 'node:crypto'

type NodeCrypto = typeof import('node:crypto')

/**
 * `node:crypto` where the runtime has it (Node, Bun, Deno), read without a static import so
 * the package still loads on runtimes that only have WebCrypto (Workers, browsers).
 */
export const nodeCrypto: NodeCrypto | undefined = (() => {
  try {
    return (globalThis as any).process?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined
  } catch {
    return undefined
  }
})()

const BLOCK = 16
const HMAC_BLOCK = 64
// Messages up to this many characters use the shared scratch buffer; longer ones (never a
// cookie: those stop at 4096 bytes) take createHmac.
const MAX_FAST_CHARS = 8192
const oneShotHash =
  nodeCrypto && typeof nodeCrypto.hash === 'function' ? nodeCrypto.hash : undefined

// One scratch buffer serves every key: the work below is synchronous, so no two calls overlap.
let scratch: Buffer | undefined
/** The key whose ipad bytes 0-63 of `scratch` hold: consecutive digests under it skip the copy. */
let scratchKey: HmacSha256 | undefined
// Views of the scratch buffers by length, kept: a new view costs more than a short hash, and
// cookies of one app come in a few lengths.
let hashView: Buffer | undefined
let decodedView: Buffer | undefined

/** HMAC-SHA256 under one key, answered as unpadded base64url. Needs `node:crypto`. */
export class HmacSha256 {
  readonly #key: Uint8Array
  readonly #ipad: Buffer | undefined
  /** opad-XORed key in bytes 0-63, the inner digest written into bytes 64-95. */
  readonly #outer: Buffer | undefined

  constructor(key: Uint8Array | string) {
    const c = nodeCrypto!
    let k: Uint8Array = typeof key === 'string' ? Buffer.from(key, 'utf8') : key
    this.#key = k
    if (!oneShotHash) return
    // RFC 2104 §2: keys longer than the block are hashed first.
    if (k.length > HMAC_BLOCK) k = c.createHash('sha256').update(k).digest()
    this.#ipad = Buffer.alloc(HMAC_BLOCK, 0x36)
    this.#outer = Buffer.alloc(HMAC_BLOCK + 32, 0x5c)
    for (let i = 0; i < k.length; i++) {
      this.#ipad[i]! ^= k[i]!
      this.#outer[i]! ^= k[i]!
    }
  }

  digest(message: string): string {
    if (!oneShotHash || message.length > MAX_FAST_CHARS) {
      return nodeCrypto!.createHmac('sha256', this.#key).update(message).digest('base64url')
    }
    scratch ??= Buffer.allocUnsafeSlow(HMAC_BLOCK + 3 * MAX_FAST_CHARS)
    if (scratchKey !== this) {
      this.#ipad!.copy(scratch, 0)
      scratchKey = this
    }
    const n = HMAC_BLOCK + scratch.write(message, HMAC_BLOCK, 'utf8')
    if (hashView?.length !== n) hashView = scratch.subarray(0, n)
    // Out as a 'binary' (latin1) string, one character per byte, and copied back in: the one-shot
    // hash answers strings without allocating a Buffer, and latin1 costs less than hex both ways.
    const inner = oneShotHash('sha256', hashView, 'binary') as string
    this.#outer!.write(inner, HMAC_BLOCK, 'binary')
    return oneShotHash('sha256', this.#outer!, 'base64url') as string
  }
}

/** One AES-256 key for CBC with PKCS#7 padding. Needs `node:crypto`. */
export class AesCbc {
  readonly #key: Uint8Array
  #cbcDecipher: Decipher | undefined
  #cbc: Cipher | undefined
  /**
   * The CBC cipher's chaining value: its last ciphertext block (zero before the first), at
   * `#chainAt` of the last output: no view of it is made (each costs an allocation, dear on Bun).
   */
  #chain: Uint8Array = new Uint8Array(BLOCK)
  #chainAt = 0

  constructor(key: Uint8Array) {
    this.#key = key
  }

  /** The raw key, for the WebCrypto path and tests. */
  get key(): Uint8Array {
    return this.#key
  }

  /**
   * Encrypts UTF-8 `text` under the IV at `ivAt` of `iv`. The kept CBC cipher would chain from
   * its last block; its first input block is XORed with that block and with the IV, so the
   * cipher computes E(P1 XOR iv) as a fresh one would, and the rest chains on as usual.
   */
  encrypt(text: string, iv: Uint8Array, ivAt = 0): Buffer {
    const length = Buffer.byteLength(text, 'utf8')
    const pad = BLOCK - (length % BLOCK)
    const input = Buffer.allocUnsafe(length + pad)
    input.write(text, 0, 'utf8')
    for (let i = length; i < input.length; i++) input[i] = pad
    if (!this.#cbc) {
      this.#cbc = nodeCrypto!.createCipheriv('aes-256-cbc', this.#key, this.#chain)
      this.#cbc.setAutoPadding(false)
    }
    const chain = this.#chain
    const at = this.#chainAt
    for (let i = 0; i < BLOCK; i++) input[i]! ^= chain[at + i]! ^ iv[ivAt + i]!
    const out = this.#cbc.update(input)
    this.#chain = out
    this.#chainAt = out.length - BLOCK
    return out
  }

  /**
   * Decrypts CBC `encrypted` under `iv`; undefined when the padding is wrong. A kept CBC
   * decipher turns each block into D(C_i) XOR C_(i-1), chaining from the last block it was fed:
   * fed `iv` first (its output thrown away), it chains from `iv` as a fresh decipher would.
   * Call it only on authenticated input (the MAC verified), so padding errors tell an attacker
   * nothing. With `iv` undefined, `encrypted` already starts with the IV block.
   */
  decrypt(encrypted: Uint8Array, iv: Uint8Array | undefined): string | undefined {
    if (iv !== undefined && iv.length !== BLOCK) return undefined
    const input = iv === undefined ? encrypted : Buffer.concat([iv, encrypted])
    if (input.length <= BLOCK || input.length % BLOCK !== 0) return undefined
    if (!this.#cbcDecipher) {
      this.#cbcDecipher = nodeCrypto!.createDecipheriv(
        'aes-256-cbc',
        this.#key,
        new Uint8Array(BLOCK),
      )
      this.#cbcDecipher.setAutoPadding(false)
    }
    const out = this.#cbcDecipher.update(input)
    if (out.length !== input.length) return undefined
    const pad = out[out.length - 1]!
    if (pad < 1 || pad > BLOCK || out.length - pad < BLOCK) return undefined
    for (let i = out.length - pad; i < out.length - 1; i++) if (out[i] !== pad) return undefined
    return out.toString('utf8', BLOCK, out.length - pad)
  }
}

// Runs only on strings whose MAC verified, so decoding leniently here is safe: the MAC covers
// the exact characters.
/** The plaintext of an iron seal's IV and ciphertext parts; undefined when it does not decrypt. */
export function decryptNode(encKey: AesCbc, ivB64: string, encB64: string): string | undefined {
  let result: string | undefined
  if (encB64.length <= MAX_SEALED_CHARS) {
    // IV then ciphertext, decoded into one buffer kept for the purpose: this runs synchronously,
    // one cookie at a time, and the decipher takes them in one call.
    decoded ??= Buffer.allocUnsafeSlow(BLOCK + MAX_SEALED_CHARS)
    if (decoded.write(ivB64, 0, 'base64url') !== BLOCK) return undefined
    const length = BLOCK + decoded.write(encB64, BLOCK, 'base64url')
    if (decodedView?.length !== length) decodedView = decoded.subarray(0, length)
    result = encKey.decrypt(decodedView, undefined)
  } else {
    result = encKey.decrypt(Buffer.from(encB64, 'base64url'), Buffer.from(ivB64, 'base64url'))
  }
  // Undefined when authentic but undecryptable: sealed by a key holder with other parameters.
  return result
}

// A chunked session is at most 10 cookies of 4096 bytes; longer ones are decoded the slow way.
const MAX_SEALED_CHARS = 40_960
let decoded: Buffer | undefined
