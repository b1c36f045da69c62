// The WebCrypto path (src/crypto/iron-web.ts: Fe26.2 on crypto.subtle, no iron-webcrypto) against
// iron-webcrypto and the node:crypto path, both ways, on random payloads and on forgeries.
import { createCipheriv, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto'
import fc from 'fast-check'
import * as Iron from 'iron-webcrypto'
import { afterEach, describe, expect, it } from 'vitest'
import { IronCodec } from '../src/crypto/iron.ts'
import { OLD_SECRET, SECRET } from './support.ts'

const NEW_SECRET = 'new-secret-0123456789-abcdefghijklmnopqrstuvwxyz'
const plain = (secret: string) => [{ id: '', secret }]
const web = (keys: { id: string; secret: string }[]) => new IronCodec(keys, { webCrypto: true })
const node = (keys: { id: string; secret: string }[]) => new IronCodec(keys)
const ironUnseal = (sealed: string, password: Parameters<typeof Iron.unseal>[1]) =>
  Iron.unseal(sealed, password, Iron.defaults)
const opened = (value: unknown, stale = false) => ({ ok: true, value, stale })
const refused = (reason: string) => ({ ok: false, reason })

// Payloads as the engine seals them: JSON objects, strings of any UTF-16 code units.
const payload = fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }), {
  maxKeys: 8,
})
const RUNS = { seed: 7311, numRuns: 40 }

/** Counts `crypto.subtle.deriveKey` calls until the test ends. */
function countDerivations(): { calls: number } {
  const counter = { calls: 0 }
  const subtle = crypto.subtle as unknown as Record<string, (...args: unknown[]) => unknown>
  const original = subtle.deriveKey!
  subtle.deriveKey = (...args: unknown[]) => {
    counter.calls++
    return original.apply(crypto.subtle, args)
  }
  restore = () => delete subtle.deriveKey
  return counter
}
let restore: (() => void) | undefined
afterEach(() => {
  restore?.()
  restore = undefined
})

/** `sealed` with one character of part `index` (an offset into it) replaced. */
function mutate(sealed: string, index: number, at: number): string {
  const parts = sealed.split('*')
  const part = parts[index]!
  const alphabet = /^[0-9a-f]+$/.test(part)
    ? '0123456789abcdef'
    : 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef'
  const c = part[at]!
  const other = alphabet[(alphabet.indexOf(c) + 1) % alphabet.length] ?? 'A'
  parts[index] = part.slice(0, at) + other + part.slice(at + 1)
  return parts.join('*')
}

describe('the WebCrypto path reads and writes the same Fe26.2 as iron-webcrypto and node:crypto', () => {
  it('random payloads sealed on the WebCrypto path open in iron-webcrypto and on node:crypto', async () => {
    const sealer = web(plain(SECRET))
    await fc.assert(
      fc.asyncProperty(payload, async (value) => {
        const sealed = await sealer.seal(value)
        expect(await ironUnseal(sealed, SECRET)).toEqual(value)
        expect(await node(plain(SECRET)).unseal(sealed)).toEqual(opened(value))
        // A fresh WebCrypto codec too: nothing cached from the seal.
        expect(await web(plain(SECRET)).unseal(sealed)).toEqual(opened(value))
      }),
      RUNS,
    )
  })

  it('random payloads sealed by iron-webcrypto (hex salts, ttl) and node:crypto open on WebCrypto', async () => {
    const nodeSealer = node(plain(SECRET))
    const opener = web(plain(SECRET))
    await fc.assert(
      fc.asyncProperty(payload, fc.boolean(), async (value, ttl) => {
        const fromIron = await Iron.seal(value, SECRET, {
          ...Iron.defaults,
          ttl: ttl ? 3_600_000 : 0,
        })
        const [, , encSalt, , , expiration, macSalt] = fromIron.split('*')
        expect(encSalt).toMatch(/^[0-9a-f]{64}$/)
        expect(macSalt).toMatch(/^[0-9a-f]{64}$/)
        expect(expiration).toMatch(ttl ? /^\d+$/ : /^$/)
        expect(await opener.unseal(fromIron)).toEqual(opened(value))
        expect(await opener.unseal(await nodeSealer.seal(value))).toEqual(opened(value))
      }),
      RUNS,
    )
  })

  it('seals carry base64url salts of 128 bits, reused across seals, with a fresh IV each', async () => {
    const codec = web(plain(SECRET))
    const a = (await codec.seal({ n: 1 })).split('*')
    const b = (await codec.seal({ n: 1 })).split('*')
    expect(a[2]).toMatch(/^[\w-]{22}$/)
    expect(a[6]).toMatch(/^[\w-]{22}$/)
    expect(a[2]).not.toBe(a[6])
    expect([b[2], b[6]]).toEqual([a[2], a[6]])
    expect(b[3]).not.toBe(a[3])
    expect(b[4]).not.toBe(a[4])
    expect(a[5]).toBe('')
  })
})

describe('the WebCrypto path refuses what it must', () => {
  // Parts: 2 encryption salt, 3 IV, 4 ciphertext, 6 MAC salt, 7 MAC.
  const cases = [
    ['MAC', 7, 5],
    ['IV', 3, 0],
    ['ciphertext', 4, 3],
    ['encryption salt', 2, 1],
    ['MAC salt', 6, 1],
  ] as const

  for (const [name, index, at] of cases) {
    it(`a changed ${name} is tampered, on both paths, for our seals and iron-webcrypto's`, async () => {
      const value = { d: { userId: '42' } }
      const seals = [
        await web(plain(SECRET)).seal(value),
        await node(plain(SECRET)).seal(value),
        await Iron.seal(value, SECRET, Iron.defaults),
      ]
      for (const sealed of seals) {
        const forged = mutate(sealed, index, at)
        expect(forged).not.toBe(sealed)
        await expect(ironUnseal(forged, SECRET)).rejects.toThrow('Bad hmac value')
        // A codec that already opened the genuine seal (keys cached) refuses it too.
        const warm = web(plain(SECRET))
        expect(await warm.unseal(sealed)).toEqual(opened(value))
        expect(await warm.unseal(forged)).toEqual(refused('tampered'))
        expect(await web(plain(SECRET)).unseal(forged)).toEqual(refused('tampered'))
        expect(await node(plain(SECRET)).unseal(forged)).toEqual(refused('tampered'))
      }
    })
  }

  it('a seal under another secret is tampered; iron-webcrypto refuses ours under another', async () => {
    const value = { u: 1 }
    for (const sealed of [
      await web(plain(OLD_SECRET)).seal(value),
      await Iron.seal(value, OLD_SECRET, Iron.defaults),
    ]) {
      expect(await web(plain(SECRET)).unseal(sealed)).toEqual(refused('tampered'))
    }
    await expect(ironUnseal(await web(plain(SECRET)).seal(value), OLD_SECRET)).rejects.toThrow(
      'Bad hmac value',
    )
  })

  it('an authentic seal that does not decrypt is invalid-data, on both paths', async () => {
    // MAC'd with the right key over a ciphertext made under another encryption key: the padding
    // (or, rarely, the JSON) is wrong once decrypted.
    const encSalt = 'a'.repeat(22)
    const macSalt = 'b'.repeat(22)
    const iv = randomBytes(16)
    const cipher = createCipheriv('aes-256-cbc', randomBytes(32), iv)
    const encrypted = Buffer.concat([cipher.update('{"d":{}}'), cipher.final()])
    const base = `Fe26.2**${encSalt}*${iv.toString('base64url')}*${encrypted.toString('base64url')}*`
    const macKey = pbkdf2Sync(SECRET, macSalt, 1, 32, 'sha1')
    const mac = createHmac('sha256', macKey).update(base).digest('base64url')
    const sealed = `${base}*${macSalt}*${mac}`
    expect(await web(plain(SECRET)).unseal(sealed)).toEqual(refused('invalid-data'))
    expect(await node(plain(SECRET)).unseal(sealed)).toEqual(refused('invalid-data'))
  })

  it('a forged cookie costs one key derivation per candidate key and is never cached', async () => {
    const codec = web([
      { id: '', secret: SECRET },
      { id: '', secret: OLD_SECRET },
    ])
    const genuine = (await web(plain(SECRET)).seal({ u: 1 })).split('*')
    const derivations = countDerivations()
    for (let i = 0; i < 3; i++) {
      // A well-formed seal with a MAC salt nobody used, under a plain secret: both keys tried.
      const forged = [...genuine.slice(0, 6), `forged${i}`, genuine[7]].join('*')
      expect(await codec.unseal(forged)).toEqual(refused('tampered'))
      expect(await codec.unseal(forged)).toEqual(refused('tampered'))
    }
    // Two candidates, each seal sent twice: no MAC key was kept after a failed MAC.
    expect(derivations.calls).toBe(3 * 2 * 2)
  })

  it('derived keys are cached by salt: a second seal under the same salts derives nothing', async () => {
    const salts = {
      encryption: { ...Iron.defaults.encryption, salt: 'c'.repeat(64) },
      integrity: { ...Iron.defaults.integrity, salt: 'd'.repeat(64) },
    }
    const first = await Iron.seal({ n: 1 }, SECRET, { ...Iron.defaults, ...salts })
    const second = await Iron.seal({ n: 2 }, SECRET, { ...Iron.defaults, ...salts })
    const codec = web(plain(SECRET))
    const derivations = countDerivations()
    expect(await codec.unseal(first)).toEqual(opened({ n: 1 }))
    expect(derivations.calls).toBe(2)
    expect(await codec.unseal(second)).toEqual(opened({ n: 2 }))
    // Our own seal: its keys were derived when it was made.
    expect(await codec.unseal(await codec.seal({ n: 3 }))).toEqual(opened({ n: 3 }))
    expect(derivations.calls).toBe(4)
    expect(await codec.unseal(await codec.seal({ n: 4 }))).toEqual(opened({ n: 4 }))
    expect(derivations.calls).toBe(4)
  })
})

describe('the WebCrypto path with key rotation and password ids', () => {
  const value = { d: { role: 'admin' } }

  it('plain secrets in a ring: every key is a candidate, older ones answer stale', async () => {
    const codec = web([
      { id: '', secret: NEW_SECRET },
      { id: '', secret: SECRET },
      { id: '', secret: OLD_SECRET },
    ])
    for (const [secret, stale] of [
      [NEW_SECRET, false],
      [SECRET, true],
      [OLD_SECRET, true],
    ] as const) {
      for (const sealed of [
        await Iron.seal(value, secret, Iron.defaults),
        await node(plain(secret)).seal(value),
        await web(plain(secret)).seal(value),
      ]) {
        expect(await codec.unseal(sealed)).toEqual(opened(value, stale))
      }
    }
    const other = 'other-secret-0123456789-abcdefghijklmnopqrstuvwxyz'
    expect(await codec.unseal(await web(plain(other)).seal(value))).toEqual(refused('tampered'))
  })

  it('password ids: written into our seals, read from iron-webcrypto and node seals', async () => {
    const ring = [
      { id: '2', secret: NEW_SECRET },
      { id: '1', secret: OLD_SECRET },
    ]
    const codec = web(ring)
    const sealed = await codec.seal(value)
    expect(sealed.split('*')[1]).toBe('2')
    expect(await ironUnseal(sealed, { '2': NEW_SECRET })).toEqual(value)
    await expect(ironUnseal(sealed, { '2': OLD_SECRET })).rejects.toThrow('Bad hmac value')
    expect(await node(ring).unseal(sealed)).toEqual(opened(value))

    for (const older of [
      await Iron.seal(value, { id: '1', secret: OLD_SECRET }, Iron.defaults),
      await node([{ id: '1', secret: OLD_SECRET }]).seal(value),
    ]) {
      expect(await codec.unseal(older)).toEqual(opened(value, true))
    }
    // The id picks the key: the right secret under another id is not tried.
    const misfiled = await Iron.seal(value, { id: '1', secret: NEW_SECRET }, Iron.defaults)
    expect(await codec.unseal(misfiled)).toEqual(refused('tampered'))
    const unknown = await Iron.seal(value, { id: '9', secret: NEW_SECRET }, Iron.defaults)
    expect(await codec.unseal(unknown)).toEqual(refused('unknown-key'))
  })
})
