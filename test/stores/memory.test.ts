import { describe, expect, it } from 'vitest'
import { SessionConfigError } from '../../src/core/errors.ts'
import type { SessionRecord } from '../../src/core/types.ts'
import { memoryStore } from '../../src/stores/memory.ts'
import { testClock } from '../support.ts'
import { describeStore } from './contract.ts'

describeStore('memoryStore', {
  async make(options = {}) {
    const store = memoryStore(options)
    return { store, close: async () => store.close() }
  },
  userIndex: true,
  expiresItself: false,
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function rec(now: number, data: Record<string, unknown> = {}, seconds = 60): SessionRecord {
  return { data, createdAt: now, expiresAt: now + seconds * 1000 }
}

const id = (n: number) => `memory-store-id-${String(n).padStart(16, '0')}`

describe('memoryStore specifics', () => {
  it('holds at most `max` sessions, evicting the least recently used', () => {
    const clock = testClock()
    const store = memoryStore({ max: 3, now: clock.now, sweepInterval: 0 })
    for (const n of [1, 2, 3]) store.set(id(n), rec(clock.now(), { n }), undefined)
    // Reading 1 makes 2 the least recently used.
    expect(store.get(id(1), undefined)).toMatchObject({ data: { n: 1 } })
    store.set(id(4), rec(clock.now(), { n: 4 }), undefined)
    expect(store.size).toBe(3)
    expect(store.get(id(2), undefined)).toBeUndefined()
    for (const n of [1, 3, 4]) expect(store.get(id(n), undefined)).toMatchObject({ data: { n } })
    for (let n = 5; n < 50; n++) store.set(id(n), rec(clock.now(), { n }), undefined)
    expect(store.size).toBe(3)
    expect([47, 48, 49].map((n) => store.get(id(n), undefined))).toEqual([
      rec(clock.now(), { n: 47 }),
      rec(clock.now(), { n: 48 }),
      rec(clock.now(), { n: 49 }),
    ])
  })

  it('a patch counts as use for the LRU order', () => {
    const clock = testClock()
    const store = memoryStore({ max: 2, now: clock.now, sweepInterval: 0 })
    store.set(id(1), rec(clock.now(), { n: 1 }), undefined)
    store.set(id(2), rec(clock.now(), { n: 2 }), undefined)
    store.patch(id(1), rec(clock.now(), { m: 1 }), { set: ['m'], deleted: [] }, undefined)
    store.set(id(3), rec(clock.now(), { n: 3 }), undefined)
    expect(store.get(id(2), undefined)).toBeUndefined()
    expect(store.get(id(1), undefined)).toMatchObject({ data: { n: 1, m: 1 } })
  })

  it('an evicted session leaves the per-user index', async () => {
    const clock = testClock()
    const store = memoryStore({ max: 2, now: clock.now, sweepInterval: 0 })
    store.set(id(1), rec(clock.now(), { userId: 'u1' }), undefined)
    store.set(id(2), rec(clock.now(), { userId: 'u1' }), undefined)
    store.set(id(3), rec(clock.now(), { userId: 'u2' }), undefined)
    expect((await store.listSessions('u1')).map((s) => s.id)).toEqual([id(2)])
    expect(await store.destroyUserSessions('u1')).toBe(1)
    expect(store.size).toBe(1)
  })

  it('an expired session is still read (for the engine to refuse as expired) until swept', () => {
    const clock = testClock()
    const store = memoryStore({ now: clock.now, sweepInterval: 0 })
    const stored = rec(clock.now(), {}, 10)
    store.set(id(1), stored, undefined)
    clock.advance(9.999)
    expect(store.get(id(1), undefined)).toEqual(stored)
    clock.advance(0.001)
    expect(store.get(id(1), undefined)).toEqual(stored)
    expect(store.size).toBe(1)
    expect(store.prune()).toBe(1)
    expect(store.get(id(1), undefined)).toBeUndefined()
  })

  it('reading an expired session does not make it most recently used', () => {
    const clock = testClock()
    const store = memoryStore({ max: 2, now: clock.now, sweepInterval: 0 })
    store.set(id(1), rec(clock.now(), { n: 1 }, 10), undefined)
    store.set(id(2), rec(clock.now(), { n: 2 }, 100), undefined)
    clock.advance(10)
    expect(store.get(id(1), undefined)).toMatchObject({ data: { n: 1 } })
    store.set(id(3), rec(clock.now(), { n: 3 }, 100), undefined)
    expect(store.get(id(1), undefined)).toBeUndefined()
    expect(store.get(id(2), undefined)).toMatchObject({ data: { n: 2 } })
  })

  it('the idle deadline expires a session before its absolute one', () => {
    const clock = testClock()
    const store = memoryStore({ now: clock.now, sweepInterval: 0 })
    store.set(
      id(1),
      { ...rec(clock.now(), {}, 3600), idleExpiresAt: clock.now() + 5000 },
      undefined,
    )
    clock.advance(5)
    // Past the idle deadline: out of listings and patches, swept by prune().
    expect(store.prune()).toBe(1)
    expect(store.get(id(1), undefined)).toBeUndefined()
  })

  it('the sweep drops expired sessions without any read, and close() stops it', async () => {
    const clock = testClock()
    const store = memoryStore({ now: clock.now, sweepInterval: 0.02 })
    try {
      store.set(id(1), rec(clock.now(), { userId: 'u1' }, 10), undefined)
      store.set(id(2), rec(clock.now(), { userId: 'u1' }, 100), undefined)
      await sleep(60)
      expect(store.size).toBe(2)
      clock.advance(10)
      await sleep(60)
      expect(store.size).toBe(1)
      expect(store.get(id(2), undefined)).toBeDefined()

      store.close()
      clock.advance(100)
      await sleep(60)
      expect(store.size).toBe(1)
      // A write starts the sweep again.
      store.set(id(3), rec(clock.now(), {}, 10), undefined)
      clock.advance(10)
      await sleep(60)
      expect(store.size).toBe(0)
    } finally {
      store.close()
    }
  })

  it('prune() drops expired sessions and says how many', async () => {
    const clock = testClock()
    const store = memoryStore({ now: clock.now, sweepInterval: 0 })
    store.set(id(1), rec(clock.now(), { userId: 'u1' }, 10), undefined)
    store.set(id(2), rec(clock.now(), { userId: 'u1' }, 20), undefined)
    store.set(id(3), rec(clock.now(), {}, 30), undefined)
    clock.advance(20)
    expect(store.prune()).toBe(2)
    expect(store.prune()).toBe(0)
    expect(store.size).toBe(1)
    expect(await store.listSessions('u1')).toEqual([])
  })

  it('listSessions skips expired sessions; destroyUserSessions does not count them', async () => {
    const clock = testClock()
    const store = memoryStore({ now: clock.now, sweepInterval: 0 })
    store.set(id(1), rec(clock.now(), { userId: 'u1' }, 10), undefined)
    store.set(id(2), rec(clock.now(), { userId: 'u1' }, 100), undefined)
    clock.advance(10)
    expect((await store.listSessions('u1')).map((s) => s.id)).toEqual([id(2)])
    store.set(id(3), rec(clock.now(), { userId: 'u1' }, 5), undefined)
    clock.advance(5)
    expect(await store.destroyUserSessions('u1')).toBe(1)
  })

  it('a numeric user id is indexed under its string form', async () => {
    const store = memoryStore({ sweepInterval: 0, userKey: 'uid' })
    store.set(id(1), rec(Date.now(), { uid: 42 }), undefined)
    store.set(id(2), rec(Date.now(), { userId: 42 }), undefined)
    expect((await store.listSessions('42')).map((s) => s.id)).toEqual([id(1)])
  })

  it('bad options throw one SessionConfigError naming each field', () => {
    let error: unknown
    try {
      memoryStore({ max: 0, sweepInterval: -1, userKey: '' })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(SessionConfigError)
    expect((error as SessionConfigError).issues.map((i) => i.path)).toEqual([
      'max',
      'sweepInterval',
      'userKey',
    ])
    expect(() => memoryStore({ max: 1.5 })).toThrow(SessionConfigError)
  })
})
