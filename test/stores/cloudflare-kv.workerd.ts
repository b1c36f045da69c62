// cloudflareKvStore inside workerd, on Miniflare's KV: the shared store contract, KV's 60-second
// TTL minimum, the binding found per request in Hono's `c.env`, and the KV calls one request
// costs. Written for vitest's API but run in a Worker: test/runtimes/workerd.ts bundles it with
// `vitest` mapped to test/runtimes/vitest-shim.ts (`npm run test:workerd`). The binding comes from
// `cloudflare:workers`, as an app can read it at module scope.
import { env } from 'cloudflare:workers'
import { type Context, Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { session } from '../../src/adapters/hono.ts'
import { SessionConfigError } from '../../src/core/errors.ts'
import type { InvalidReason } from '../../src/core/types.ts'
import {
  type CloudflareKvStoreOptions,
  cloudflareKvStore,
  KV_MIN_TTL,
  type KVNamespaceLike,
} from '../../src/stores/cloudflare-kv.ts'
import { Jar, SECRET, testClock } from '../support.ts'
import { describeStore } from './contract.ts'

/** The binding, with `list()` for reading expirations back. */
interface KV extends KVNamespaceLike {
  list(options: { prefix: string }): Promise<{ keys: { name: string; expiration?: number }[] }>
}
const SESSIONS = (env as { SESSIONS: KV }).SESSIONS

let namespaces = 0
const freshPrefix = () => `t${++namespaces}-${Math.random().toString(36).slice(2, 8)}:`

/** Seconds from now until the key's expiration, as KV reports it. */
async function expiresIn(key: string): Promise<number | undefined> {
  const { keys } = await SESSIONS.list({ prefix: key })
  const expiration = keys.find((k) => k.name === key)?.expiration
  return expiration === undefined ? undefined : expiration - Date.now() / 1000
}

describeStore('cloudflareKvStore (Miniflare KV)', {
  async make({ now } = {}) {
    const prefix = freshPrefix()
    return {
      store: cloudflareKvStore({ namespace: SESSIONS, prefix, now }),
      ttlSeconds: (id) => expiresIn(prefix + id),
      close: async () => {},
    }
  },
  userIndex: false,
  // KV keeps every key at least 60 seconds: a record past its deadline is still read back.
  expiresItself: false,
})

/** The binding with every call counted. */
function counted(kv: KV) {
  const calls: Record<string, number> = {}
  const bump = (name: string) => {
    calls[name] = (calls[name] ?? 0) + 1
  }
  const wrapped: KV = {
    get(...args) {
      bump('get')
      return kv.get(...args)
    },
    put(...args) {
      bump('put')
      return kv.put(...args)
    },
    delete(...args) {
      bump('delete')
      return kv.delete(...args)
    },
    list: (...args) => kv.list(...args),
  }
  const take = () => {
    const out = { ...calls }
    for (const k of Object.keys(calls)) delete calls[k]
    return out
  }
  return { wrapped, take }
}

type Env = { Bindings: { SESSIONS: KV } }

function app(options: { store: ReturnType<typeof cloudflareKvStore>; more?: object }) {
  return new Hono<Env>()
    .use(session({ secret: SECRET, store: options.store, ...options.more }))
    .get('/login', async (c) => {
      await c.session.regenerate()
      c.session.userId = 'u1'
      return c.text(c.session.id)
    })
    .get('/peek', (c) => c.text(c.session.userId ?? 'anon'))
    .get('/set/:v', (c) => {
      c.session.theme = c.req.param('v')
      return c.text('ok')
    })
    .get('/logout', (c) => {
      c.session.destroy()
      return c.text('bye')
    })
}

describe('cloudflareKvStore specifics', () => {
  it('bad options throw one SessionConfigError naming each', () => {
    let error: unknown
    try {
      cloudflareKvStore({ namespace: {}, prefix: 1, ttl: 5 } as unknown as CloudflareKvStoreOptions)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(SessionConfigError)
    const paths = (error as SessionConfigError).issues.map((i) => i.path).sort()
    expect(paths).toEqual(['', 'namespace', 'prefix'])
    expect(() => cloudflareKvStore({} as CloudflareKvStoreOptions)).toThrow(/namespace/)
  })

  it(`a session with under ${KV_MIN_TTL} s left gets KV's minimum TTL, and the engine refuses it at its deadline`, async () => {
    const prefix = freshPrefix()
    const clock = testClock(Date.now())
    const reasons: InvalidReason[] = []
    const store = cloudflareKvStore({ namespace: SESSIONS, prefix, now: clock.now })
    const sessions = app({
      store,
      more: { maxAge: 10, now: clock.now, onInvalid: (r: InvalidReason) => reasons.push(r) },
    })
    const jar = new Jar()
    const id = await (await jar.request(sessions, '/login')).text()
    // KV refuses an expirationTtl under 60: the store asked for 60, not 10.
    const ttl = await expiresIn(prefix + id)
    expect(ttl).toBeGreaterThan(KV_MIN_TTL - 2)
    expect(ttl).toBeLessThanOrEqual(KV_MIN_TTL)
    clock.advance(9.999)
    expect(await (await jar.request(sessions, '/peek')).text()).toBe('u1')
    clock.advance(0.001)
    // KV still holds it (for another 50 s); the engine refuses it and deletes it.
    expect(await SESSIONS.get(prefix + id, 'text')).not.toBeNull()
    expect(await (await jar.request(sessions, '/peek')).text()).toBe('anon')
    expect(reasons).toEqual(['expired'])
    expect(await SESSIONS.get(prefix + id, 'text')).toBeNull()
  })

  it("finds the binding per request in Hono's c.env", async () => {
    const prefix = freshPrefix()
    const store = cloudflareKvStore<Context<Env>>({ namespace: (c) => c.env.SESSIONS, prefix })
    const sessions = app({ store })
    // What a Worker's fetch(request, env) hands Hono; Jar replays the cookie.
    const viaEnv = {
      request: (url: string, init?: RequestInit) => sessions.request(url, init, env),
    }
    const jar = new Jar()
    const id = await (await jar.request(viaEnv, '/login')).text()
    expect(JSON.parse((await SESSIONS.get(prefix + id, 'text'))!)).toMatchObject({
      data: { userId: 'u1' },
    })
    expect(await (await jar.request(viaEnv, '/peek')).text()).toBe('u1')
    // A direct call has no context to find it in: a clear error, not a crash inside the function.
    await expect(store.get(id)).rejects.toThrow(/no context to find the KV binding in/)
    await expect(store.get(id, { env: {} } as never)).rejects.toThrow(/did not return a KV binding/)
    expect(await store.get(id, { env } as never)).toMatchObject({ data: { userId: 'u1' } })
  })

  it('a value in KV that is not JSON is handed to the engine as is (refused as invalid-data)', async () => {
    const prefix = freshPrefix()
    const store = cloudflareKvStore({ namespace: SESSIONS, prefix })
    await SESSIONS.put(`${prefix}${'x'.repeat(32)}`, 'not json {')
    expect(await store.get('x'.repeat(32))).toBe('not json {')
  })

  it('a patch never merges into a session past its deadline: the expired record stays as it was', async () => {
    const clock = testClock(Date.now())
    const store = cloudflareKvStore({ namespace: SESSIONS, prefix: freshPrefix(), now: clock.now })
    const id = 'd'.repeat(32)
    const stored = { data: { a: 1 }, createdAt: clock.now(), expiresAt: clock.now() + 10_000 }
    await store.set(id, stored)
    clock.advance(10)
    const later = { data: { b: 2 }, createdAt: clock.now(), expiresAt: clock.now() + 600_000 }
    await store.patch!(id, later, { set: ['b'], deleted: [] })
    expect(await store.get(id)).toEqual(stored)
  })

  it('concurrent patches of one session in this isolate all land (one at a time per key)', async () => {
    const store = cloudflareKvStore({ namespace: SESSIONS, prefix: freshPrefix() })
    const id = 'e'.repeat(32)
    const at = Date.now()
    const rec = (data: Record<string, unknown>) => ({
      data,
      createdAt: at,
      expiresAt: at + 600_000,
    })
    await store.set(id, rec({ start: true }))
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`)
    await Promise.all(keys.map((k) => store.patch!(id, rec({ [k]: k }), { set: [k], deleted: [] })))
    const stored = (await store.get(id)) as { data: Record<string, unknown> }
    expect(Object.keys(stored.data).sort()).toEqual(['start', ...keys].sort())
  })

  it('merge: false has no patch; a change is one whole-record put', async () => {
    const { wrapped, take } = counted(SESSIONS)
    const store = cloudflareKvStore({ namespace: wrapped, prefix: freshPrefix(), merge: false })
    expect(store.patch).toBeUndefined()
    const sessions = app({ store })
    const jar = new Jar()
    await jar.request(sessions, '/login')
    take()
    await jar.request(sessions, '/set/dark')
    expect(take()).toEqual({ get: 1, put: 1 })
  })
})

describe('KV calls per request', () => {
  it('login 1 put; read 1 get; change 2 gets + 1 put; regenerate 1 get + 1 put + 1 delete; logout 1 get + 1 delete', async () => {
    const { wrapped, take } = counted(SESSIONS)
    const sessions = app({
      store: cloudflareKvStore({ namespace: wrapped, prefix: freshPrefix() }),
    })
    const jar = new Jar()
    await jar.request(sessions, '/login')
    expect(take()).toEqual({ put: 1 })
    await jar.request(sessions, '/peek')
    expect(take()).toEqual({ get: 1 })
    await jar.request(sessions, '/set/dark')
    // The load, then the patch's read-merge-write.
    expect(take()).toEqual({ get: 2, put: 1 })
    await jar.request(sessions, '/login')
    expect(take()).toEqual({ get: 1, put: 1, delete: 1 })
    await jar.request(sessions, '/logout')
    expect(take()).toEqual({ get: 1, delete: 1 })
  })

  it('rolling refresh with idleTimeout: 120 writes at most once per minute (KV takes one write per second per key)', async () => {
    const { wrapped, take } = counted(SESSIONS)
    const clock = testClock(Date.now())
    const store = cloudflareKvStore({ namespace: wrapped, prefix: freshPrefix(), now: clock.now })
    const sessions = app({ store, more: { idleTimeout: 120, now: clock.now } })
    const jar = new Jar()
    await jar.request(sessions, '/login')
    take()
    for (let i = 0; i < 5; i++) {
      clock.advance(10)
      await jar.request(sessions, '/peek')
    }
    expect(take()).toEqual({ get: 5 })
    clock.advance(20)
    await jar.request(sessions, '/peek')
    // 60 s after the write: half the idle window, one refresh.
    expect(take()).toEqual({ get: 2, put: 1 })
  })
})
