// The bounded cache behind the key and result caches: generational LRU eviction, and deletes
// that empty it (one client's write loop) without losing what the older generation holds.
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { BoundedCache, smallKey } from '../src/util/cache.ts'

describe('BoundedCache', () => {
  it('never holds more than its bound, and keeps what was used recently', () => {
    const cache = new BoundedCache<number, number>(4)
    for (let i = 0; i < 4; i++) cache.set(i, i)
    // A hit in the old generation moves the entry to the young one.
    expect(cache.get(0)).toBe(0)
    for (let i = 4; i < 7; i++) cache.set(i, i)
    expect(cache.size).toBeLessThanOrEqual(4)
    expect(cache.get(0)).toBe(0)
    expect(cache.get(1)).toBeUndefined()
  })

  it('deleting the last young entry keeps the old generation and keeps working', () => {
    const cache = new BoundedCache<string, number>(4)
    for (const key of ['a', 'b', 'c']) cache.set(key, 1)
    // 'a' and 'b' are the old generation now, 'c' the only young entry.
    cache.delete('c')
    expect(cache.get('c')).toBeUndefined()
    expect(cache.size).toBe(2)
    // A write loop: each request drops the entry it superseded and adds the next one.
    let last = 'd'
    cache.set(last, 0)
    for (let i = 1; i <= 50; i++) {
      cache.delete(last)
      last = `k${i}`
      cache.set(last, i)
      expect(cache.get(last)).toBe(i)
    }
    expect(cache.get('a')).toBe(1)
    expect(cache.get('b')).toBe(1)
    expect(cache.size).toBe(3)
  })

  it('setting a key it holds replaces the value in either generation, never a second entry', () => {
    const cache = new BoundedCache<string, number>(4)
    for (const key of ['a', 'b', 'c']) cache.set(key, 1)
    // 'a' and 'b' old, 'c' young.
    cache.set('c', 2)
    cache.set('a', 2)
    expect(cache.size).toBe(3)
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([2, 1, 2])
    // The young generation full: a key it holds is replaced in place, not rotated away.
    cache.set('d', 1)
    const before = cache.size
    cache.set('d', 3)
    expect(cache.size).toBe(before)
    expect(cache.get('d')).toBe(3)
  })
})

describe('smallKey', () => {
  // A MAC's 43 base64url characters, as the result cache keys them.
  const mac = 'q1w2e3r4t5y6u7i8o9p0AaSsDdFfGgHhJjKkLlZzXx0'
  const sealed = `Fe26.2**salt*iv*data**salt2*${mac}`
  const key = (s: string) => smallKey(s, s.length, s.length - 43)

  it('is a small non-negative integer, the same for the same characters', () => {
    const k = key(sealed)
    expect(Number.isInteger(k)).toBe(true)
    expect(k).toBeGreaterThanOrEqual(0)
    expect(k).toBeLessThan(2 ** 30)
    expect(key(`${sealed}`)).toBe(k)
  })

  it('changes with each sampled character, and reads nothing before `stop`', () => {
    const k = key(sealed)
    // Sampled: the last character, then every sixth one before it, within the MAC.
    for (const back of [1, 7, 13, 19, 25, 31, 37]) {
      const i = sealed.length - back
      const changed = sealed.slice(0, i) + (sealed[i] === 'A' ? 'B' : 'A') + sealed.slice(i + 1)
      expect(key(changed)).not.toBe(k)
    }
    // Everything before the MAC (and the characters between samples) is the caller's to compare.
    expect(key(`Fe26.2*other*${mac}`)).toBe(k)
  })

  it('spreads random MACs over distinct keys', () => {
    const keys = new Set<number>()
    for (let n = 0; n < 10_000; n++) keys.add(key(randomBytes(32).toString('base64url')))
    // 10,000 random MACs over 2^30 keys: a few collisions at the most.
    expect(keys.size).toBeGreaterThan(9_990)
  })
})
