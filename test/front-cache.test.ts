// The front cache: a Cookie header seen before, whole, opens its session with one lookup (no
// header parse, no codec lookup). What it answers must be what the full path would answer:
// expiry on time, every header its own session, nothing with a revocation list.
import { describe, expect, it, vi } from 'vitest'
import { SessionEngine } from '../src/core/engine.ts'
import { sessionRevocation } from '../src/core/revocation.ts'
import type { InvalidReason, SessionOptions } from '../src/core/types.ts'
import { requestOf, SECRET, testClock } from './support.ts'

const URL = 'https://example.com/'

function setup(options: SessionOptions = {}) {
  const onInvalid = vi.fn<(reason: InvalidReason) => void>()
  const engine = new SessionEngine({ secret: SECRET, onInvalid, ...options })
  const codec = engine.codec!
  const lookups = vi.spyOn(codec, 'lookup')
  const open = (header: string | undefined) => engine.loadSync(requestOf(header, URL), undefined)
  const commit = (state: ReturnType<typeof engine.loadSync>) => {
    const { headers } = engine.commitSync(state, undefined)
    return headers.length === 0 ? undefined : headers[0]![1].split(';', 1)[0]!
  }
  const login = (data: Record<string, unknown>) => {
    const state = open(undefined)
    Object.assign(state.session, data)
    return commit(state)!
  }
  return { engine, open, commit, login, lookups, onInvalid }
}

describe('front cache', () => {
  it('answers a header seen before without asking the codec again', () => {
    const { open, commit, login, lookups } = setup()
    const header = `theme=dark; ${login({ userId: 'ada' })}; lang=en`
    for (let i = 0; i < 5; i++) {
      const state = open(header)
      expect(state.isNew).toBe(false)
      expect(state.session.userId).toBe('ada')
      expect(commit(state)).toBeUndefined()
    }
    // The first read asks the codec (the login's write-through entry, a whole result for plain
    // data); the rest are answered by the header alone.
    expect(lookups).toHaveBeenCalledTimes(1)
    // A fresh string with the same text is the same header.
    expect(open(`${header} `.trimEnd()).session.userId).toBe('ada')
    expect(lookups).toHaveBeenCalledTimes(1)
  })

  it('stays bounded, whatever headers come: 2,048 entries of at most 2,048 characters', () => {
    const { engine, open, commit, login } = setup()
    const cookie = login({ userId: 'ada' })
    for (let i = 0; i < 2; i++) commit(open(cookie))
    // One session with ever-new other cookies: one slot, whatever comes before or after it.
    for (let i = 0; i < 300; i++) {
      for (const header of [`n=${i}; ${cookie}`, `${cookie}; n=${i}`]) {
        const state = open(header)
        expect(state.session.userId).toBe('ada')
        commit(state)
      }
    }
    expect(engine.frontCacheSize()).toBe(1)
    // Many sessions: bounded.
    for (let i = 0; i < 3000; i++) {
      const header = `theme=dark; ${login({ userId: `u${i}` })}`
      for (let j = 0; j < 2; j++) expect(commit(open(header))).toBeUndefined()
    }
    expect(engine.frontCacheSize()).toBeGreaterThan(1000)
    expect(engine.frontCacheSize()).toBeLessThanOrEqual(2048)
    const long = `pad=${'x'.repeat(2048)}; ${cookie}`
    const before = engine.frontCacheSize()
    for (let i = 0; i < 3; i++) expect(open(long).session.userId).toBe('ada')
    expect(engine.frontCacheSize()).toBe(before)
    // None in store mode.
    expect(new SessionEngine({ secret: SECRET, store: new Map() }).frontCacheSize()).toBe(0)
  })

  it('keeps the header of a read, not of a request that resealed its cookie', () => {
    const { engine, open, commit, login } = setup()
    let cookie = login({ n: 0 })
    // A write supersedes the cookie it came with: that header does not come back.
    for (let i = 1; i <= 50; i++) {
      const state = open(`theme=dark; ${cookie}`)
      state.session.n = i
      cookie = commit(state)!
    }
    expect(engine.frontCacheSize()).toBe(0)
    // Opened and not committed (the handler threw): not kept either.
    open(`theme=dark; ${cookie}`)
    expect(engine.frontCacheSize()).toBe(0)
    // A read that wrote nothing keeps it; a save() that wrote, then a commit with nothing more
    // to write, does not.
    const read = open(`theme=dark; ${cookie}`)
    expect(read.session.n).toBe(50)
    expect(commit(read)).toBeUndefined()
    expect(engine.frontCacheSize()).toBe(1)
    const saved = open(`lang=en; ${cookie}`)
    saved.session.n = 51
    void saved.session.save()
    expect(open(commit(saved)).session.n).toBe(51)
    expect(engine.frontCacheSize()).toBe(1)
    expect(open(`theme=dark; ${cookie}`).session.n).toBe(50)
  })

  it('hands each request its own data, as the codec cache does', () => {
    const { open, commit, login } = setup()
    const header = login({ cart: { items: ['a'] } })
    for (let i = 0; i < 2; i++) commit(open(header))
    const a = open(header)
    a.session.cart.items.push('b')
    const b = open(header)
    expect(b.session.toJSON()).toEqual({ cart: { items: ['a'] } })
    expect(b.session.hasChanged).toBe(false)
  })

  it('shows all the data to every way of looking at a cached session, whatever was read first', () => {
    const { open, commit, login } = setup()
    const data = { userId: 'ada', n: 3, ok: true, tags: ['x'], nothing: null }
    const header = login(data)
    for (let i = 0; i < 2; i++) commit(open(header))
    const looks: Array<(s: Record<string, any>) => unknown> = [
      (s) => Object.keys(s),
      (s) => ({ ...s }),
      (s) => JSON.parse(JSON.stringify(s)),
      (s) => s.toJSON(),
      (s) => 'tags' in s,
      (s) => Object.getOwnPropertyDescriptor(s, 'n')?.value,
      (s) => {
        const keys: string[] = []
        for (const key in s) keys.push(key)
        return keys
      },
    ]
    const expected = [Object.keys(data), data, data, data, true, 3, Object.keys(data)]
    for (const first of [undefined, 'userId', 'tags', 'nothing', 'absent', 'toString']) {
      for (const [i, look] of looks.entries()) {
        const state = open(header)
        if (first) void state.session[first]
        expect(look(state.session)).toEqual(expected[i])
        expect(state.session.toString).toBeUndefined()
        expect(commit(state)).toBeUndefined()
      }
    }
    // What Object.prototype has is not data, read first or not.
    for (const key of ['toString', 'hasOwnProperty', '__proto__', 'constructor']) {
      expect(open(header).session[key]).toBeUndefined()
    }
    // A change after a read of a shared string is seen and written.
    const state = open(header)
    expect(state.session.userId).toBe('ada')
    delete state.session.n
    state.session.userId = 'bob'
    expect(state.session.toJSON()).toEqual({ userId: 'bob', ok: true, tags: ['x'], nothing: null })
    const next = commit(state)!
    expect(open(next).session.toJSON()).toEqual({
      userId: 'bob',
      ok: true,
      tags: ['x'],
      nothing: null,
    })
  })

  it('refuses a session it holds once the session expired, as the full path does', () => {
    const clock = testClock()
    const { open, commit, login, onInvalid } = setup({ now: clock.now, maxAge: 60 })
    const header = login({ userId: 'ada' })
    for (let i = 0; i < 3; i++) expect(commit(open(header))).toBeUndefined()
    clock.advance(61)
    const late = open(header)
    expect(late.isNew).toBe(true)
    expect(late.session.userId).toBeUndefined()
    expect(onInvalid).toHaveBeenCalledWith('expired', undefined)
    // The response clears the refused cookie.
    expect(commit(late)).toBe('sid=')
  })

  it('gives every header its own session, also when headers share a slot', () => {
    const { open, commit, login } = setup()
    // The same length and the same last 60 characters: whatever part of a header picks its
    // slot, these pick the same one.
    const tail = `; consent=${'x'.repeat(50)}`
    const headers = Array.from(
      { length: 20 },
      (_, i) => `${login({ userId: `u${100 + i}` })}${tail}`,
    )
    expect(new Set(headers.slice(0, 20).map((h) => h.length)).size).toBe(1)
    for (let round = 0; round < 3; round++) {
      for (const [i, header] of headers.entries()) {
        const state = open(header)
        expect(state.session.userId).toBe(i < 20 ? `u${100 + i}` : 'one')
        expect(commit(state)).toBeUndefined()
      }
    }
  })

  it('opens a header carrying two values of the cookie as the full path does, every time', () => {
    const { open, commit, login, lookups } = setup()
    const a = login({ userId: 'a' })
    const b = login({ userId: 'b' })
    const header = `${a}; ${b}`
    for (let i = 0; i < 4; i++) {
      const state = open(header)
      expect(state.session.userId).toBe('a')
      commit(state)
    }
    // Parsed every time: the codec is asked on each request.
    expect(lookups).toHaveBeenCalledTimes(4)
  })

  it('is not used with a revocation list: a revoked session is refused on its next request', async () => {
    const revocation = sessionRevocation({ store: new Map() })
    const { open, commit, login, onInvalid } = setup({ revocation })
    const header = login({ userId: 'ada' })
    for (let i = 0; i < 3; i++) expect(open(header).session.userId).toBe('ada')
    const state = open(header)
    await revocation.revoke(state.session.id)
    const after = open(header)
    expect(after.isNew).toBe(true)
    expect(after.session.userId).toBeUndefined()
    expect(onInvalid).toHaveBeenCalledWith('revoked', undefined)
    expect(commit(after)).toBe('sid=')
  })
})
