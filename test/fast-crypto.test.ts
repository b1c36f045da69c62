// The node:crypto fast paths give byte for byte what createHmac / createCipheriv /
// createDecipheriv give, on random inputs, in any order of use.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AesCbc, decryptNode, HmacSha256 } from '../src/crypto/node-crypto.ts'

const SEED = 20261201

const reference = {
  hmac: (key: Uint8Array | string, message: string) =>
    createHmac('sha256', key).update(message).digest('base64url'),
  encrypt: (key: Uint8Array, iv: Uint8Array, text: string) => {
    const c = createCipheriv('aes-256-cbc', key, iv)
    return Buffer.concat([c.update(text, 'utf8'), c.final()])
  },
  decrypt: (key: Uint8Array, iv: Uint8Array, data: Uint8Array) => {
    const d = createDecipheriv('aes-256-cbc', key, iv)
    return d.update(data, undefined, 'utf8') + d.final('utf8')
  },
}

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })
// Unicode text of 0 to ~3000 characters, so lengths cross many block boundaries.
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 3000 }),
)

describe('HmacSha256', () => {
  it('equals createHmac for random 32-byte keys and messages', () => {
    fc.assert(
      fc.property(bytes(32), text, (key, message) => {
        expect(new HmacSha256(key).digest(message)).toBe(reference.hmac(key, message))
      }),
      { seed: SEED, numRuns: 300 },
    )
  })

  it('equals createHmac for string keys, longer than the 64-byte block too', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200 }), text, (key, message) => {
        expect(new HmacSha256(key).digest(message)).toBe(reference.hmac(key, message))
      }),
      { seed: SEED, numRuns: 200 },
    )
  })

  it('one key object serves many messages, interleaved with other keys', () => {
    const a = randomBytes(32)
    const b = randomBytes(32)
    const ha = new HmacSha256(a)
    const hb = new HmacSha256(b)
    for (let i = 0; i < 200; i++) {
      const m = 'x'.repeat(i) + String(i)
      expect(ha.digest(m)).toBe(reference.hmac(a, m))
      expect(hb.digest(m)).toBe(reference.hmac(b, m))
    }
  })

  it('a message longer than the scratch buffer is still right (createHmac fallback)', () => {
    const key = randomBytes(32)
    const long = 'é'.repeat(20_000)
    expect(new HmacSha256(key).digest(long)).toBe(reference.hmac(key, long))
  })
})

describe('AesCbc', () => {
  it('encrypt equals a fresh createCipheriv for random keys, IVs and texts', () => {
    fc.assert(
      fc.property(bytes(32), bytes(16), text, (key, iv, t) => {
        expect(new AesCbc(key).encrypt(t, iv).equals(reference.encrypt(key, iv, t))).toBe(true)
      }),
      { seed: SEED, numRuns: 300 },
    )
  })

  it('one kept cipher encrypts many messages in a row, each as a fresh one would', () => {
    fc.assert(
      fc.property(
        bytes(32),
        fc.array(fc.tuple(bytes(16), text), { maxLength: 30 }),
        (key, msgs) => {
          const aes = new AesCbc(key)
          for (const [iv, t] of msgs) {
            expect(aes.encrypt(t, iv).equals(reference.encrypt(key, iv, t))).toBe(true)
          }
        },
      ),
      { seed: SEED, numRuns: 100 },
    )
  })

  it('decrypt opens createCipheriv output and what encrypt wrote, in any order', () => {
    fc.assert(
      fc.property(
        bytes(32),
        fc.array(fc.tuple(bytes(16), text), { maxLength: 20 }),
        (key, msgs) => {
          const aes = new AesCbc(key)
          for (const [iv, t] of msgs) {
            expect(aes.decrypt(reference.encrypt(key, iv, t), iv)).toBe(t)
            expect(reference.decrypt(key, iv, aes.encrypt(t, iv))).toBe(t)
            expect(aes.decrypt(aes.encrypt(t, iv), iv)).toBe(t)
            // The joined form: IV block first, then the ciphertext.
            expect(aes.decrypt(Buffer.concat([iv, reference.encrypt(key, iv, t)]), undefined)).toBe(
              t,
            )
          }
        },
      ),
      { seed: SEED, numRuns: 100 },
    )
  })

  it('bad padding, partial blocks, an empty input or a short IV give undefined, never a throw', () => {
    const key = randomBytes(32)
    const iv = randomBytes(16)
    const aes = new AesCbc(key)
    // Two blocks: a change to the first block's last byte lands on the last plaintext byte.
    const good = reference.encrypt(key, iv, 'hello world, two blocks long')
    let refused = 0
    // Every change of the last block's last byte breaks PKCS#7 padding but one value (pad 1).
    for (let v = 0; v < 256; v++) {
      const bad = Buffer.from(good)
      bad[bad.length - 17]! ^= v
      const out = aes.decrypt(bad, iv)
      let expected: string | undefined
      try {
        expected = reference.decrypt(key, iv, bad)
      } catch {
        expected = undefined
      }
      expect(out).toBe(expected)
      if (out === undefined) refused++
    }
    expect(refused).toBeGreaterThan(200)
    expect(aes.decrypt(good.subarray(0, 15), iv)).toBeUndefined()
    expect(aes.decrypt(new Uint8Array(0), iv)).toBeUndefined()
    expect(aes.decrypt(good, iv.subarray(0, 8))).toBeUndefined()
  })
})

describe('decryptNode', () => {
  it('opens base64url IV and ciphertext of any length, under keys used in turn', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), bytes(16), text), { maxLength: 30 }),
        (msgs) => {
          const keys = [randomBytes(32), randomBytes(32), randomBytes(32)]
          const aes = keys.map((k) => new AesCbc(k))
          for (const [k, iv, t] of msgs) {
            const enc = reference.encrypt(keys[k]!, iv, t).toString('base64url')
            expect(decryptNode(aes[k]!, Buffer.from(iv).toString('base64url'), enc)).toBe(t)
          }
        },
      ),
      { seed: SEED, numRuns: 100 },
    )
  })
})
