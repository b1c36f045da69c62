// Revocation for sealed sessions: revoke(id), revokeUser(userId), and logout/regenerate revoking
// the old cookie, honoured by every app instance that shares the revocation store.
import { Hono } from 'hono'
import { describe, expect, it, vi } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { SessionConfigError, SessionStoreError } from '../src/core/errors.ts'
import { type SessionRevocation, sessionRevocation } from '../src/core/revocation.ts'
import type { InvalidReason, SessionOptions, SessionStore } from '../src/core/types.ts'
import { memoryStore } from '../src/stores/memory.ts'
import { Jar, type Requestable, SECRET, setCookies, testClock } from './support.ts'

type Body = { id: string; isNew: boolean; data: Record<string, unknown> }

/** One app instance; several share a secret and a revocation list like servers behind a balancer. */
function instance(revocation: SessionRevocation, options: SessionOptions = {}) {
  const onInvalid = vi.fn<(reason: InvalidReason) => void>()
  const errors: unknown[] = []
  const app = new Hono()
    .use(session({ secret: SECRET, revocation, onInvalid, ...options }))
    .post('/login/:user', async (c) => {
      await c.session.regenerate()
      c.session.userId = c.req.param('user')
      return c.text(c.session.id)
    })
    .post('/logout', (c) => {
      c.session = null
      return c.text('bye')
    })
    .post('/revoke-others', async (c) => {
      await revocation.revokeUser(c.session.userId, { except: c.session.id })
      return c.text('ok')
    })
    .get('/', (c) => c.json({ id: c.session.id, isNew: c.session.isNew, data: c.session.toJSON() }))
  app.onError((err, c) => {
    errors.push(err)
    return c.text(err.name, 500)
  })
  return { app, onInvalid, errors }
}

const state = async (app: Requestable, jar: Jar) =>
  (await (await jar.request(app, '/')).json()) as Body

/** A copy of the jar's cookies, as an attacker who stole them would hold. */
const steal = (jar: Jar) => {
  const copy = new Jar()
  for (const [k, v] of jar.cookies) copy.cookies.set(k, v)
  return copy
}

async function login(app: Requestable, user: string): Promise<{ jar: Jar; id: string }> {
  const jar = new Jar()
  const id = await (await jar.request(app, `/login/${user}`, { method: 'POST' })).text()
  return { jar, id }
}

describe('revoke(sessionId)', () => {
  it('refuses that session on its next request, on every instance, and nothing else', async () => {
    const revocation = sessionRevocation({ store: new Map() })
    const a = instance(revocation)
    const b = instance(revocation)
    const alice = await login(a.app, 'alice')
    const bob = await login(a.app, 'bob')
    expect((await state(b.app, alice.jar)).data).toEqual({ userId: 'alice' })

    await revocation.revoke(alice.id)
    const after = await state(b.app, steal(alice.jar))
    expect(after).toMatchObject({ isNew: true, data: {} })
    expect(b.onInvalid).toHaveBeenCalledWith('revoked', expect.anything())
    // The refused cookie is cleared, as any refused cookie is.
    const res = await steal(alice.jar).request(a.app, '/')
    expect(setCookies(res).map((c) => [c.name, c.attributes['max-age']])).toEqual([['sid', '0']])
    // Bob's session is untouched.
    expect((await state(b.app, bob.jar)).data).toEqual({ userId: 'bob' })
  })

  it('takes the id a session reports as session.id', async () => {
    const revocation = sessionRevocation({ store: new Map() })
    const a = instance(revocation)
    const alice = await login(a.app, 'alice')
    expect((await state(a.app, alice.jar)).id).toBe(alice.id)
    expect(alice.id).toMatch(/^[A-Za-z0-9_-]{32}$/)
  })

  it('rejects an empty id with a TypeError', async () => {
    const revocation = sessionRevocation({ store: new Map() })
    await expect(revocation.revoke('')).rejects.toThrow(TypeError)
    await expect(revocation.revokeUser('')).rejects.toThrow(TypeError)
  })
})

describe('logout and regenerate revoke the cookie the request brought', () => {
  it('a copy of a logged-out cookie no longer works anywhere', async () => {
    const revocation = sessionRevocation({ store: new Map() })
    const a = instance(revocation)
    const b = instance(revocation)
    const alice = await login(a.app, 'alice')
    const stolen = steal(alice.jar)
    const res = await alice.jar.request(a.app, '/logout', { method: 'POST' })
    expect(setCookies(res).map((c) => [c.name, c.attributes['max-age']])).toEqual([['sid', '0']])
    const replayed = await state(b.app, stolen)
    expect(replayed).toMatchObject({ isNew: true, data: {} })
    expect(b.onInvalid).toHaveBeenCalledWith('revoked', expect.anything())
  })

  it('the cookie from before regenerate() is dead; the new one works', async () => {
    const revocation = sessionRevocation({ store: new Map() })
    const a = instance(revocation)
    const first = await login(a.app, 'alice')
    const before = steal(first.jar)
    // Log in again on the same browser: regenerate() issues a new id.
    const second = await (await first.jar.request(a.app, '/login/alice', { method: 'POST' })).text()
    expect(second).not.toBe(first.id)
    expect((await state(a.app, first.jar)).data).toEqual({ userId: 'alice' })
    expect((await state(a.app, before)).isNew).toBe(true)
    expect(a.onInvalid).toHaveBeenCalledWith('revoked', expect.anything())
  })

  it('without a revocation list a logged-out cookie copy still opens (what revocation is for)', async () => {
    const a = new Hono()
      .use(session({ secret: SECRET }))
      .post('/login', (c) => {
        c.session.userId = 'alice'
        return c.text('ok')
      })
      .post('/logout', (c) => {
        c.session = null
        return c.text('bye')
      })
      .get('/', (c) => c.json({ isNew: c.session.isNew, data: c.session.toJSON() }))
    const jar = new Jar()
    await jar.request(a, '/login', { method: 'POST' })
    const stolen = steal(jar)
    await jar.request(a, '/logout', { method: 'POST' })
    expect(await (await stolen.request(a, '/')).json()).toEqual({
      isNew: false,
      data: { userId: 'alice' },
    })
  })
})

describe('revokeUser(userId)', () => {
  it('refuses every session of the user created until then, but not later logins', async () => {
    const clock = testClock()
    const revocation = sessionRevocation({ store: new Map(), now: clock.now })
    const a = instance(revocation, { now: clock.now })
    const b = instance(revocation, { now: clock.now })
    const laptop = await login(a.app, 'alice')
    const phone = await login(b.app, 'alice')
    const bob = await login(a.app, 'bob')
    clock.advance(1)
    await revocation.revokeUser('alice')
    expect((await state(a.app, laptop.jar)).isNew).toBe(true)
    expect((await state(a.app, phone.jar)).isNew).toBe(true)
    expect((await state(b.app, bob.jar)).data).toEqual({ userId: 'bob' })
    clock.advance(1)
    const again = await login(b.app, 'alice')
    expect((await state(a.app, again.jar)).data).toEqual({ userId: 'alice' })
  })

  it('except keeps the session that asked ("log out my other devices")', async () => {
    const clock = testClock()
    const revocation = sessionRevocation({ store: new Map(), now: clock.now })
    const a = instance(revocation, { now: clock.now })
    const laptop = await login(a.app, 'alice')
    const phone = await login(a.app, 'alice')
    clock.advance(1)
    expect((await phone.jar.request(a.app, '/revoke-others', { method: 'POST' })).status).toBe(200)
    expect((await state(a.app, phone.jar)).data).toEqual({ userId: 'alice' })
    expect((await state(a.app, laptop.jar)).isNew).toBe(true)
  })

  it('a session logged in after an anonymous visit counts from its login (regenerate restarts it)', async () => {
    const clock = testClock()
    const revocation = sessionRevocation({ store: new Map(), now: clock.now })
    const a = instance(revocation, { now: clock.now })
    const jar = new Jar()
    // An anonymous session from long ago, then revokeUser, then this browser logs in.
    const anon = new Hono()
      .use(session({ secret: SECRET, revocation, now: clock.now }))
      .post('/visit', (c) => {
        c.session.seen = true
        return c.text('ok')
      })
    await jar.request(anon, '/visit', { method: 'POST' })
    clock.advance(3600)
    await revocation.revokeUser('alice')
    clock.advance(1)
    await jar.request(a.app, '/login/alice', { method: 'POST' })
    expect((await state(a.app, jar)).data).toEqual({ seen: true, userId: 'alice' })
  })

  it('uses the userKey option to find the user in the data', async () => {
    const clock = testClock()
    const revocation = sessionRevocation({ store: new Map(), userKey: 'account', now: clock.now })
    const app = new Hono()
      .use(session({ secret: SECRET, revocation, now: clock.now }))
      .post('/login', (c) => {
        c.session.account = 'acme'
        return c.text('ok')
      })
      .get('/', (c) => c.json({ isNew: c.session.isNew }))
    const jar = new Jar()
    await jar.request(app, '/login', { method: 'POST' })
    clock.advance(1)
    await revocation.revokeUser('acme')
    expect(await (await jar.request(app, '/')).json()).toEqual({ isNew: true })
  })
})

describe('entries', () => {
  it('expire once no cookie they stop can be valid: maxAge (the longest of its apps) plus 60 s', async () => {
    const clock = testClock()
    const map = new Map<string, unknown>()
    const revocation = sessionRevocation({ store: map, now: clock.now })
    instance(revocation, { now: clock.now, maxAge: 3600 })
    instance(revocation, { now: clock.now, maxAge: 600 })
    await revocation.revoke('x'.repeat(32))
    const entry = map.get(`sid:${'x'.repeat(32)}`) as { createdAt: number; expiresAt: number }
    expect(entry.expiresAt - entry.createdAt).toBe(3600_000 + 60_000)
    expect(revocation.isRevoked({ id: 'x'.repeat(32), createdAt: 0 })).toBe(true)
    clock.advance(3660)
    // A Map has no TTL: an entry past its time is ignored.
    expect(revocation.isRevoked({ id: 'x'.repeat(32), createdAt: 0 })).toBe(false)
  })

  it('a Map is swept of expired entries as new revocations arrive, and keeps the live ones', async () => {
    const clock = testClock()
    const map = new Map<string, unknown>()
    const revocation = sessionRevocation({ store: map, now: clock.now })
    instance(revocation, { now: clock.now, maxAge: 60 })
    for (let i = 0; i < 200; i++) await revocation.revoke(`old${i}`.padEnd(32, 'x'))
    clock.advance(121)
    for (let i = 0; i < 100; i++) await revocation.revoke(`new${i}`.padEnd(32, 'x'))
    // The sweep ran on the 256th write: the 200 expired ones are gone, the new ones are kept.
    expect(map.size).toBe(100)
    expect(revocation.isRevoked({ id: 'new0'.padEnd(32, 'x'), createdAt: 0 })).toBe(true)
  })

  it('work with an async store, which is asked once per key, both lookups at once', async () => {
    const map = new Map<string, unknown>()
    const pending: string[] = []
    const store: SessionStore = {
      get: async (id) => {
        pending.push(id)
        await new Promise((r) => setTimeout(r, 5))
        return map.get(id)
      },
      set: async (id, record) => void map.set(id, record),
      delete: async (id) => void map.delete(id),
    }
    const revocation = sessionRevocation({ store })
    const a = instance(revocation)
    const alice = await login(a.app, 'alice')
    pending.length = 0
    expect((await state(a.app, alice.jar)).data).toEqual({ userId: 'alice' })
    expect(pending.sort()).toEqual([`sid:${alice.id}`, 'user:alice'])
    await revocation.revoke(alice.id)
    expect((await state(a.app, alice.jar)).isNew).toBe(true)
  })
})

describe('a failing revocation store', () => {
  const failing = (op: 'get' | 'set'): SessionStore => ({
    get: () => {
      if (op === 'get') throw new Error('connection refused')
      return undefined
    },
    set: async () => {
      if (op === 'set') throw new Error('connection refused')
    },
    delete: () => undefined,
  })

  it('a lookup that fails gives a 500 with SessionStoreError, never a session it could not check', async () => {
    const ok = instance(sessionRevocation({ store: new Map() }))
    const alice = await login(ok.app, 'alice')
    const down = instance(sessionRevocation({ store: failing('get') }))
    const res = await alice.jar.request(down.app, '/')
    expect(res.status).toBe(500)
    expect(down.errors[0]).toBeInstanceOf(SessionStoreError)
    expect((down.errors[0] as SessionStoreError).operation).toBe('get')
    // Wrapped once: the store's own error is the cause, its message said once.
    expect((down.errors[0] as Error).message).toBe('Session store get failed: connection refused')
    expect((down.errors[0] as Error).cause).not.toBeInstanceOf(SessionStoreError)
    expect(((down.errors[0] as Error).cause as Error).message).toBe('connection refused')
    expect(setCookies(res)).toEqual([])
  })

  it('a logout whose revocation cannot be written fails with 500 and keeps the cookie', async () => {
    const down = instance(sessionRevocation({ store: failing('set') }))
    const alice = await login(down.app, 'alice')
    const res = await alice.jar.request(down.app, '/logout', { method: 'POST' })
    expect(res.status).toBe(500)
    expect(down.errors[0]).toBeInstanceOf(SessionStoreError)
    expect((down.errors[0] as Error).message).toBe('Session store set failed: connection refused')
    expect(((down.errors[0] as Error).cause as Error).message).toBe('connection refused')
    expect(setCookies(res)).toEqual([])
  })
})

describe('configuration', () => {
  const issues = (fn: () => unknown) => {
    try {
      fn()
    } catch (err) {
      expect(err).toBeInstanceOf(SessionConfigError)
      return (err as SessionConfigError).issues.map((i) => i.path)
    }
    throw new Error('no error')
  }

  it('revocation with a store is refused: deleting the entry already revokes', () => {
    const revocation = sessionRevocation({ store: new Map() })
    expect(issues(() => session({ secret: SECRET, store: new Map(), revocation }))).toEqual([
      'revocation',
    ])
  })

  it('revocation with a custom encoder is refused', () => {
    const revocation = sessionRevocation({ store: new Map() })
    const encoder = { encode: () => 'x', decode: () => null }
    expect(issues(() => session({ secret: SECRET, encoder, revocation }))).toEqual(['revocation'])
  })

  it('something that is not a revocation list is refused', () => {
    expect(issues(() => session({ secret: SECRET, revocation: {} as never }))).toEqual([
      'revocation',
    ])
  })

  it('sessionRevocation() checks its store and userKey', () => {
    expect(issues(() => sessionRevocation({ store: {} as never }))).toEqual(['store'])
    expect(issues(() => sessionRevocation({ store: new Map(), userKey: '' }))).toEqual(['userKey'])
  })
})

describe('user ids and same-millisecond logins', () => {
  it('numeric user ids: revokeUser(42) and revokeUser("42") both stop a session of userId 42', async () => {
    for (const given of [42, '42'] as const) {
      // The revocation comes 1 ms after the login (one created in the same ms would survive).
      let now = 1_800_000_000_000
      const clock = () => now
      const revocation = sessionRevocation({ store: new Map(), now: clock })
      const a = new Hono()
        .use(session({ secret: SECRET, revocation, now: clock }))
        .post('/login', (c) => {
          c.session.userId = 42
          return c.text(c.session.id)
        })
        .get('/', (c) => c.json({ isNew: c.session.isNew, userId: c.session.userId ?? null }))
      const jar = new Jar()
      await jar.request(a, '/login', { method: 'POST' })
      expect(await (await jar.request(a, '/')).json()).toEqual({ isNew: false, userId: 42 })
      // Same millisecond as the login: a session created until the revocation is revoked.
      await revocation.revokeUser(given)
      now += 1
      expect(await (await jar.request(a, '/')).json()).toEqual({ isNew: true, userId: null })
    }
  })

  it('revokeUser refuses what is not a user id, with a TypeError naming it', async () => {
    const revocation = sessionRevocation({ store: new Map() })
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '', null, {}, true] as unknown[]) {
      await expect(revocation.revokeUser(bad as string)).rejects.toThrow(TypeError)
    }
  })

  it('revokeUser(u, { except }) then regenerate() in the same request: the new session survives', async () => {
    // A real clock: the request runs within a millisecond or two of the revocation.
    const clock = () => Date.now()
    const revocation = sessionRevocation({ store: new Map(), now: clock })
    const app = new Hono()
      .use(session({ secret: SECRET, revocation, now: clock }))
      .post('/login', (c) => {
        c.session.userId = 'u1'
        return c.text('ok')
      })
      .post('/elevate', async (c) => {
        await revocation.revokeUser('u1', { except: c.session.id })
        await c.session.regenerate()
        return c.text('ok')
      })
      .get('/', (c) => c.json({ isNew: c.session.isNew, userId: c.session.userId ?? null }))
    const jar = new Jar()
    await jar.request(app, '/login', { method: 'POST' })
    const other = steal(jar)
    await jar.request(app, '/elevate', { method: 'POST' })
    for (let i = 0; i < 20; i++) {
      expect(await (await jar.request(app, '/')).json()).toEqual({ isNew: false, userId: 'u1' })
    }
    // The copy from before is dead: it was created earlier and regenerate() revoked its id.
    expect(await (await other.request(app, '/')).json()).toEqual({ isNew: true, userId: null })
  })
})

describe('seals without a session id', () => {
  it('are refused when revocation is configured: they could never be revoked', async () => {
    const Iron = await import('iron-webcrypto')
    const now = Date.now()
    const payload = { d: { userId: 'admin' }, c: now, e: now + 60_000, p: 'sid' }
    const forged = await Iron.seal(payload, SECRET, Iron.defaults)
    const revocation = sessionRevocation({ store: new Map() })
    const onInvalid = vi.fn()
    const app = new Hono()
      .use(session({ secret: SECRET, revocation, onInvalid }))
      .get('/', (c) => c.json({ isNew: c.session.isNew }))
    const res = await app.request('/', { headers: { cookie: `sid=${forged}` } })
    expect(await res.json()).toEqual({ isNew: true })
    expect(onInvalid).toHaveBeenCalledWith('invalid-data', expect.anything())
    // Without revocation the same seal opens: it is authentic, and nothing needs its id.
    const plain = new Hono()
      .use(session({ secret: SECRET }))
      .get('/', (c) => c.json({ isNew: c.session.isNew }))
    expect(
      await (await plain.request('/', { headers: { cookie: `sid=${forged}` } })).json(),
    ).toEqual({ isNew: false })
  })
})

// A memoryStore under the list: its entries (written with WriteMeta.keep) are never evicted by
// the store's `max`, so a revoked session stays revoked however many logins (device entries) or
// other writes come after. Before, the LRU bound counted revocations like sessions and dropped
// the oldest first: after `max` more writes, a logged-out cookie opened again.
describe('memoryStore({ max }) as the list keeps its revocations', () => {
  function overMemoryStore(max: number) {
    const clock = testClock()
    const store = memoryStore({ max, now: clock.now, sweepInterval: 0 })
    const revocation = sessionRevocation({ store, now: clock.now, maxAge: 3600 })
    return { store, revocation, ...instance(revocation, { maxAge: 3600, now: clock.now }) }
  }

  it('a logged-out cookie stays refused after many more logins than max', async () => {
    const { app, store, onInvalid } = overMemoryStore(4)
    const alice = await login(app, 'alice')
    const stolen = steal(alice.jar)
    await alice.jar.request(app, '/logout', { method: 'POST' })
    // Each login registers a device entry, which the LRU bound does evict.
    for (let i = 0; i < 12; i++) await login(app, `user${i}`)
    expect(store.size).toBeLessThanOrEqual(4 + 1)
    expect((await state(app, stolen)).data).toEqual({})
    expect(onInvalid.mock.calls).toEqual([['revoked', expect.anything()]])
  })

  it('revokeUser() holds past max too', async () => {
    const { app, revocation, onInvalid } = overMemoryStore(3)
    const bob = await login(app, 'bob')
    const stolen = steal(bob.jar)
    await revocation.revokeUser('bob')
    for (let i = 0; i < 10; i++) await login(app, `user${i}`)
    expect((await state(app, stolen)).data).toEqual({})
    expect(onInvalid.mock.calls).toEqual([['revoked', expect.anything()]])
  })

  it('sessions are still bounded: kept entries are not counted and do not push them out', () => {
    const clock = testClock()
    const store = memoryStore({ max: 2, now: clock.now, sweepInterval: 0 })
    const record = () => ({
      data: { n: 1 },
      createdAt: clock.now(),
      expiresAt: clock.now() + 60_000,
    })
    const keep = () => ({ now: clock.now(), keep: true as const })
    for (let i = 0; i < 5; i++) store.set(`kept${i}`, record(), undefined, keep())
    for (const id of ['a', 'b', 'c']) store.set(id, record())
    expect(store.get('a')).toBeUndefined()
    expect(store.get('b')).toBeDefined()
    expect(store.get('c')).toBeDefined()
    for (let i = 0; i < 5; i++) expect(store.get(`kept${i}`)).toBeDefined()
    expect(store.size).toBe(7)
    store.delete('kept0')
    expect(store.get('kept0')).toBeUndefined()
    // They leave once expired, like any other entry.
    clock.advance(61)
    expect(store.prune()).toBe(6)
    expect(store.size).toBe(0)
    // A later write without keep makes an entry an ordinary one again.
    store.set('x', record(), undefined, keep())
    store.set('x', record())
    for (const id of ['y', 'z']) store.set(id, record())
    expect(store.get('x')).toBeUndefined()
    expect(store.size).toBe(2)
  })
})
