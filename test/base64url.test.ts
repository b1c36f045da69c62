// src/crypto/random.ts's base64url (btoa/atob underneath) against Buffer's, and its strictness:
// one spelling per byte string, so a MAC or token has exactly one valid form.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromBase64Url, isBase64Url, toBase64Url } from '../src/crypto/random.ts'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

describe('base64url', () => {
  it('encodes as Buffer does and decodes back, for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = toBase64Url(bytes)
        expect(text).toBe(Buffer.from(bytes).toString('base64url'))
        expect(isBase64Url(text)).toBe(true)
        expect(fromBase64Url(text)).toEqual(new Uint8Array(bytes))
      }),
      { seed: 4101, numRuns: 500 },
    )
  })

  it('refuses non-zero leftover bits, a length of 4n+1, padding and other alphabets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), (bytes) => {
        const text = toBase64Url(bytes)
        if (text.length % 4 === 0) return
        // The last character carries 4 (length 4n+2) or 2 (4n+3) spare bits: set each one.
        const last = ALPHABET.indexOf(text.at(-1)!)
        const spare = text.length % 4 === 2 ? 4 : 2
        for (let bit = 0; bit < spare; bit++) {
          const alias = text.slice(0, -1) + ALPHABET[last | (1 << bit)]
          if (alias !== text) expect(fromBase64Url(alias)).toBeUndefined()
        }
      }),
      { seed: 4102, numRuns: 300 },
    )
    expect(fromBase64Url('')).toEqual(new Uint8Array(0))
    for (const bad of ['A', 'AAAAA', 'QQ==', 'QQ=', 'Q+8', 'Q/8', 'QQ QQ', 'Qé']) {
      expect(fromBase64Url(bad)).toBeUndefined()
    }
  })
})
