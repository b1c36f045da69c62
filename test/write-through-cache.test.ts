// Write-through: a seal of ours is remembered by the unseal-result cache, so the client's next
// request (which brings exactly that string) is opened without a MAC or a decryption. What a
// hit answers must still be refused when the session expired or was revoked, nothing forged
// may get in, and the cache keeps its bound however many sessions are written.
import { describe, expect, it } from 'vitest'
import { SessionEngine } from '../src/core/engine.ts'
import type { SessionOptions } from '../src/core/types.ts'
import { RESULT_CACHE_SIZE } from '../src/crypto/iron.ts'
import { AesCbc } from '../src/crypto/node-crypto.ts'
import { sessionRevocation } from '../src/index.ts'
import { requestOf, SECRET, testClock } from './support.ts'

function setup(options: SessionOptions = {}) {
  const engine = new SessionEngine({ secret: SECRET, ...options })
  const codec = engine.codec!
  const open = (cookie?: string) => engine.loadSync(requestOf(cookie), undefined)
  const commit = (state: ReturnType<typeof open>) => {
    const { headers } = engine.commitSync(state, undefined)
    return headers.length === 0 ? undefined : headers[0]![1].split(';', 1)[0]!
  }
  return { engine, codec, open, commit }
}

/** Counts AES-CBC decryptions (the real ones run) while `fn` runs. */
function decryptions(fn: () => void): number {
  const original = AesCbc.prototype.decrypt
  let n = 0
  AesCbc.prototype.decrypt = function (this: AesCbc, ...args) {
    n++
    return original.apply(this, args)
  }
  try {
    fn()
  } finally {
    AesCbc.prototype.decrypt = original
  }
  return n
}

describe('write-through result cache', () => {
  it('the cookie a write sets opens on the next request without a decryption', () => {
    const { codec, open, commit } = setup()
    const login = open()
    login.session.userId = 'u1'
    let cookie = commit(login)!
    expect(codec.resultCacheSize()).toBe(1)
    // A write loop: each request brings the cookie the previous one set, and changes it.
    const n = decryptions(() => {
      for (let i = 1; i <= 20; i++) {
        const state = open(cookie)
        expect(state.isNew).toBe(false)
        expect(state.session.userId).toBe('u1')
        expect(state.session.n).toBe(i === 1 ? undefined : i - 1)
        state.session.n = i
        cookie = commit(state)!
      }
    })
    expect(n).toBe(0)
    // One entry: each write replaced the cookie it superseded.
    expect(codec.resultCacheSize()).toBe(1)
    // A read keeps the opened result; later reads are plain hits.
    expect(commit(open(cookie))).toBeUndefined()
    expect(open(cookie).session.n).toBe(20)
    // And the cookie is a real seal: an engine that never saw it opens it with the crypto.
    const other = setup()
    expect(decryptions(() => expect(other.open(cookie).session.n).toBe(20))).toBe(1)
  })

  it('keeps its bound under 100k written sessions', () => {
    const { codec, open, commit } = setup()
    for (let i = 0; i < 100_000; i++) {
      const state = open()
      state.session.userId = `u${i}`
      commit(state)
    }
    expect(codec.resultCacheSize()).toBeLessThanOrEqual(RESULT_CACHE_SIZE)
    expect(codec.resultCacheSize()).toBeGreaterThanOrEqual(RESULT_CACHE_SIZE / 2)
  }, 60_000)

  it('a remembered cookie is still refused once the session expired', () => {
    const clock = testClock()
    const invalid: string[] = []
    const { open, commit } = setup({
      now: clock.now,
      maxAge: 60,
      onInvalid: (reason) => invalid.push(reason),
    })
    const login = open()
    login.session.userId = 'u1'
    const cookie = commit(login)!
    clock.advance(61)
    const state = open(cookie)
    expect(state.isNew).toBe(true)
    expect(state.session.userId).toBeUndefined()
    expect(invalid).toEqual(['expired'])
  })

  it('a remembered cookie is refused once its user is revoked', async () => {
    const revocation = sessionRevocation({ store: new Map() })
    const { open, commit } = setup({ revocation })
    const login = open()
    login.session.userId = 'u1'
    const cookie = commit(login)!
    expect(open(cookie).session.userId).toBe('u1')
    await revocation.revokeUser('u1')
    expect(open(cookie).isNew).toBe(true)
  })

  it('a forged string with a remembered MAC is refused, and nothing forged gets in', () => {
    const invalid: string[] = []
    const { codec, open, commit } = setup({ onInvalid: (reason) => invalid.push(reason) })
    const login = open()
    login.session.userId = 'u1'
    const cookie = commit(login)!
    const [name, value] = cookie.split('=') as [string, string]
    const parts = value.split('*')
    // The ciphertext changed, the MAC kept: the cache is indexed by the MAC, a hit needs it all.
    const enc = parts[4]!
    parts[4] = `${enc[0] === 'A' ? 'B' : 'A'}${enc.slice(1)}`
    const forged = `${name}=${parts.join('*')}`
    for (let i = 0; i < 3; i++) {
      const state = open(forged)
      expect(state.isNew).toBe(true)
      commit(state)
    }
    expect(invalid).toEqual(['tampered', 'tampered', 'tampered'])
    expect(codec.resultCacheSize()).toBe(1)
    expect(open(cookie).session.userId).toBe('u1')
  })

  it('a write of plain values is remembered as what its unseal opens: the next read is a plain hit', async () => {
    const { codec, open, commit } = setup()
    const login = open()
    Object.assign(login.session, { profile: { name: 'Ada', tags: ['a'] }, n: 1 })
    let cookie = commit(login)!
    // An object of the request's own: its JSON is kept, and parsed by the next request.
    expect(codec.lookup(cookie.slice(4))).toBeUndefined()
    const other = setup()
    const viaCrypto = async (c: string) => await other.codec.unseal(c.slice(4))
    // Strings, numbers (-0 as JSON writes it), booleans, null, an undefined key JSON leaves
    // out, `__proto__` as a key, and an object still shared from the opened record.
    const state = open(cookie)
    state.session.n = -0
    state.session.ok = true
    state.session.none = null
    state.session.gone = undefined
    // As a key read from a request body would arrive: a string, not the literal accessor.
    const proto = '__proto__'
    state.session[proto] = 'a key'
    cookie = commit(state)!
    const hit = codec.lookup(cookie.slice(4))
    expect(hit?.ok).toBe(true)
    expect(hit).toStrictEqual(await viaCrypto(cookie))
    if (!hit?.ok) return
    expect(Object.is(hit.value.data.n, 0)).toBe(true)
    expect(Object.isFrozen(hit.value.data)).toBe(true)
    expect(Object.hasOwn(hit.value.data, '__proto__')).toBe(true)
    expect(Object.hasOwn(hit.value.data, 'gone')).toBe(false)
    // The next request opens the hit; its reads are its own to change.
    const next = open(cookie)
    expect(next.session.profile).toEqual({ name: 'Ada', tags: ['a'] })
    next.session.profile.tags.push('b')
    expect(codec.lookup(cookie.slice(4))).toStrictEqual(await viaCrypto(cookie))
  })

  it('what the app changes after save() does not reach the remembered copy', async () => {
    const { engine, open } = setup()
    const state = open()
    state.session.cart = { items: ['a'] }
    const token = (await engine.save(state, undefined))!
    // The app goes on changing the values it holds, nested ones included.
    state.session.cart.items.push('late')
    state.session.other = 1
    const next = open(`sid=${token}`)
    expect(next.session.toJSON()).toEqual({ cart: { items: ['a'] } })
    // And what a request reads of a remembered seal is its own to change.
    next.session.cart.items.push('b')
    expect(open(`sid=${token}`).session.toJSON()).toEqual({ cart: { items: ['a'] } })
  })
})
