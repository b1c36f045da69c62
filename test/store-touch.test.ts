// The engine's side of last seen on reads: after a request that read a stored session and changed
// nothing, it calls the store's optional `touch(id, ctx, meta)` (the store throttles); never after
// a write, for a new session, or for a store without `touch`. A failing touch does not fail the
// read (only the last-seen time is at stake).
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import type { SessionStore, WriteMeta } from '../src/core/types.ts'
import { Jar, SECRET, testClock } from './support.ts'

function touchingStore(touch?: (id: string, meta: WriteMeta) => unknown) {
  const map = new Map<string, unknown>()
  const touches: { id: string; now: number; userId?: string; userAgent?: string; ctx: boolean }[] =
    []
  const store: SessionStore = {
    get: (id) => map.get(id),
    set: (id, record) => void map.set(id, record),
    delete: (id) => void map.delete(id),
    touch(id, ctx, meta) {
      const { now, userId, userAgent } = meta
      touches.push({ id, now, userId, userAgent, ctx: ctx !== undefined })
      return touch?.(id, meta)
    },
  }
  return { store, touches }
}

function app(store: SessionStore, now: () => number) {
  const errors: unknown[] = []
  const hono = new Hono()
    .use(session({ secret: SECRET, store, now }))
    .get('/login', (c) => {
      c.session.userId = 'u1'
      c.session.prefs = { theme: 'dark' }
      return c.text(c.session.id)
    })
    .get('/peek', (c) => c.text(c.session.userId ?? 'anon'))
    // Reads an object value: tracked, compared at commit, unchanged.
    .get('/prefs', (c) => c.text(c.session.prefs?.theme ?? 'none'))
    .get('/change', (c) => {
      c.session.n = (c.session.n ?? 0) + 1
      return c.text('ok')
    })
  hono.onError((err, c) => {
    errors.push(err)
    return c.text('error', 500)
  })
  return { hono, errors }
}

describe('touch on unchanged reads', () => {
  it('is called with the id, the engine’s time, the owner and the user agent', async () => {
    const clock = testClock()
    const { store, touches } = touchingStore()
    const { hono } = app(store, clock.now)
    const jar = new Jar()
    const id = await (await jar.request(hono, '/login')).text()
    expect(touches).toEqual([])
    clock.advance(5)
    await jar.request(hono, '/peek', { headers: { 'user-agent': 'Phone/1' } })
    expect(touches).toEqual([
      { id, now: clock.now(), userId: 'u1', userAgent: 'Phone/1', ctx: true },
    ])
    // An object value read and left as it was: still an unchanged read.
    await jar.request(hono, '/prefs')
    expect(touches).toHaveLength(2)
    expect(touches[1]!.userAgent).toBeUndefined()
  })

  it('is not called after a write, nor for a new session', async () => {
    const clock = testClock()
    const { store, touches } = touchingStore()
    const { hono } = app(store, clock.now)
    const jar = new Jar()
    await jar.request(hono, '/login')
    await jar.request(hono, '/change')
    await new Jar().request(hono, '/peek')
    expect(touches).toEqual([])
  })

  it('is awaited before the response; a failing one does not fail the read', async () => {
    const clock = testClock()
    let done = false
    const slow = touchingStore(async () => {
      await new Promise((r) => setTimeout(r, 20))
      done = true
    })
    const ok = app(slow.store, clock.now)
    const jar = new Jar()
    await jar.request(ok.hono, '/login')
    expect(await (await jar.request(ok.hono, '/peek')).text()).toBe('u1')
    expect(done).toBe(true)

    // Only the last-seen time is at stake: the read answers, sync throw or rejection alike.
    for (const fail of [
      () => Promise.reject(new Error('index down')),
      () => {
        throw new Error('index down')
      },
    ]) {
      const failing = touchingStore(fail)
      const bad = app(failing.store, clock.now)
      const other = new Jar()
      await other.request(bad.hono, '/login')
      expect(await (await other.request(bad.hono, '/peek')).text()).toBe('u1')
      expect(await (await other.request(bad.hono, '/prefs')).text()).toBe('dark')
      expect(failing.touches).toHaveLength(2)
      expect(bad.errors).toEqual([])
    }
  })
})
