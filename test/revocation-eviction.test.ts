// A memoryStore under a revocation list: the list's entries (written with WriteMeta.keep) are
// never evicted by the store's `max`, so a revoked session stays revoked however many logins
// (device entries) or other writes come after. Before, the LRU bound counted revocations like
// sessions and dropped the oldest first: after `max` more writes, a logged-out cookie opened again.
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { sessionRevocation } from '../src/core/revocation.ts'
import type { InvalidReason, SessionRecord } from '../src/core/types.ts'
import { memoryStore } from '../src/stores/memory.ts'
import { Jar, SECRET, testClock } from './support.ts'

function createApp(max: number) {
  const clock = testClock()
  const store = memoryStore({ max, now: clock.now, sweepInterval: 0 })
  const revocation = sessionRevocation({ store, now: clock.now, maxAge: 3600 })
  const reasons: InvalidReason[] = []
  const app = new Hono()
    .use(
      session({
        secret: SECRET,
        revocation,
        maxAge: 3600,
        now: clock.now,
        onInvalid: (reason) => reasons.push(reason),
      }),
    )
    .post('/login/:user', async (c) => {
      await c.session.regenerate()
      c.session.userId = c.req.param('user')
      return c.text(c.session.id)
    })
    .post('/logout', (c) => {
      c.session = null
      return c.text('bye')
    })
    .get('/', (c) => c.json({ userId: c.session.userId ?? null }))
  return { app, store, revocation, reasons, clock }
}

const me = async (app: Hono<any>, jar: Jar) =>
  ((await (await jar.request(app, '/')).json()) as { userId: string | null }).userId

async function login(app: Hono<any>, user: string) {
  const jar = new Jar()
  const id = await (await jar.request(app, `/login/${user}`, { method: 'POST' })).text()
  return { jar, id }
}

/** A copy of a jar's cookies as they are now (what a thief keeps), a new jar per replay. */
function copy(jar: Jar): () => Jar {
  const kept = new Map(jar.cookies)
  return () => {
    const stolen = new Jar()
    for (const [k, v] of kept) stolen.cookies.set(k, v)
    return stolen
  }
}

describe('memoryStore({ max }) as a revocation list keeps its revocations', () => {
  it('a logged-out cookie stays refused after many more logins than max', async () => {
    const { app, store, reasons } = createApp(4)
    const alice = await login(app, 'alice')
    const stolen = copy(alice.jar)
    await alice.jar.request(app, '/logout', { method: 'POST' })
    expect(await me(app, stolen())).toBeNull()
    reasons.length = 0
    // Each login registers a device entry, which the LRU bound does evict.
    for (let i = 0; i < 12; i++) await login(app, `user${i}`)
    expect(store.size).toBeLessThanOrEqual(4 + 1)
    expect(await me(app, stolen())).toBeNull()
    expect(reasons).toEqual(['revoked'])
  })

  it('revokeUser() holds past max too', async () => {
    const { app, revocation, reasons } = createApp(3)
    const bob = copy((await login(app, 'bob')).jar)
    expect(await me(app, bob())).toBe('bob')
    await revocation.revokeUser('bob')
    for (let i = 0; i < 10; i++) await login(app, `user${i}`)
    expect(await me(app, bob())).toBeNull()
    expect(reasons).toEqual(['revoked'])
  })

  it('sessions are still bounded: kept entries are not counted and do not push them out', async () => {
    const clock = testClock()
    const store = memoryStore({ max: 2, now: clock.now, sweepInterval: 0 })
    const record = (): SessionRecord => ({
      data: { n: 1 },
      createdAt: clock.now(),
      expiresAt: clock.now() + 60_000,
    })
    for (let i = 0; i < 5; i++)
      store.set(`kept${i}`, record(), undefined, { now: clock.now(), keep: true })
    store.set('a', record())
    store.set('b', record())
    store.set('c', record())
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
  })

  it('a later write without keep makes the entry an ordinary one again', async () => {
    const clock = testClock()
    const store = memoryStore({ max: 1, now: clock.now, sweepInterval: 0 })
    const record: SessionRecord = {
      data: {},
      createdAt: clock.now(),
      expiresAt: clock.now() + 60_000,
    }
    store.set('x', record, undefined, { now: clock.now(), keep: true })
    store.set('x', record)
    store.set('y', record)
    expect(store.get('x')).toBeUndefined()
    expect(store.size).toBe(1)
  })
})
