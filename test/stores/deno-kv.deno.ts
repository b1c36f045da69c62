// denoKvStore on Deno's real KV (SQLite under `Deno.openKv`): the shared store contract, the
// versionstamp-checked patch racing a second connection to the same database, bounded retries,
// `expireIn`, and the KV calls one request costs. Written for vitest's API but run by Deno:
// test/runtimes/deno.ts maps `vitest` to test/runtimes/vitest-shim.ts (`npm run test:deno`).
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { session } from '../../src/adapters/hono.ts'
import { SessionConfigError } from '../../src/core/errors.ts'
import type { SessionRecord } from '../../src/core/types.ts'
import {
  type DenoKvLike,
  type DenoKvStoreOptions,
  denoKvStore,
  PATCH_ATTEMPTS,
} from '../../src/stores/deno-kv.ts'
import { Jar, SECRET } from '../support.ts'
import { describeStore } from './contract.ts'

// Typed here rather than through Deno's lib, so `tsc -p tsconfig.json` checks this file too.
interface DenoKv extends DenoKvLike {
  close(): void
}
const Deno = (
  globalThis as unknown as {
    Deno: {
      openKv(path?: string): Promise<DenoKv>
    }
  }
).Deno

describeStore('denoKvStore (Deno.openKv)', {
  async make({ now } = {}) {
    const kv = await Deno.openKv(':memory:')
    // Deno KV exposes no expiry to read back (ttlSeconds): `expireIn` is checked below.
    return { store: denoKvStore({ kv, now }), close: async () => kv.close() }
  },
  userIndex: false,
  // Deno KV deletes expired keys lazily (locally, within about a minute).
  expiresItself: false,
})

const rec = (data: Record<string, unknown>, at = Date.now(), seconds = 600): SessionRecord => ({
  data,
  createdAt: at,
  expiresAt: at + seconds * 1000,
})

let ids = 0
const newId = () => `denokv${String(++ids).padStart(6, '0')}`.padEnd(32, 'k')

/** The kv with its calls counted (and atomic commits, by outcome); methods run on the real kv. */
function counted<Kv extends DenoKvLike>(kv: Kv) {
  const calls: Record<string, number> = {}
  const bump = (name: string) => {
    calls[name] = (calls[name] ?? 0) + 1
  }
  const proxy = new Proxy(kv, {
    get(target, name) {
      const value = Reflect.get(target, name, target)
      if (typeof value !== 'function') return value
      if (name !== 'atomic') {
        return (...args: unknown[]) => {
          bump(String(name))
          return value.apply(target, args)
        }
      }
      return () => {
        const op = target.atomic()
        const commit = op.commit.bind(op)
        op.commit = async () => {
          const result = await commit()
          bump(result.ok ? 'commit' : 'conflict')
          return result
        }
        return op
      }
    },
  })
  const take = () => {
    const out = { ...calls }
    for (const k of Object.keys(calls)) delete calls[k]
    return out
  }
  return { proxy, calls, take }
}

describe('denoKvStore specifics', () => {
  it('bad options throw one SessionConfigError naming each', async () => {
    let error: unknown
    try {
      denoKvStore({ kv: {}, prefix: 'sess', expireIn: 5 } as unknown as DenoKvStoreOptions)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(SessionConfigError)
    expect((error as SessionConfigError).issues.map((i) => i.path).sort()).toEqual([
      '',
      'kv',
      'prefix',
    ])
    const kv = await Deno.openKv(':memory:')
    expect(() =>
      denoKvStore({ kv, prefix: ['app', 1, 2n, true, new Uint8Array([1])] }),
    ).not.toThrow()
    kv.close()
  })

  it('writes with expireIn = milliseconds until the deadline, under [...prefix, id]', async () => {
    const kv = await Deno.openKv(':memory:')
    try {
      const seen: unknown[] = []
      const spy = new Proxy(kv, {
        get(target, name) {
          const value = Reflect.get(target, name, target)
          if (name === 'set') {
            return (key: unknown, v: unknown, options: unknown) => {
              seen.push({ key, options })
              return target.set(key as never, v, options as never)
            }
          }
          if (name === 'atomic') {
            return () => {
              const op = target.atomic()
              const set = op.set.bind(op)
              op.set = (key, v, options) => {
                seen.push({ key, options, atomic: true })
                return set(key, v, options)
              }
              return op
            }
          }
          return typeof value === 'function' ? value.bind(target) : value
        },
      })
      const t = 1_900_000_000_000
      const store = denoKvStore({ kv: spy, prefix: ['app', 'sess'], now: () => t })
      const id = newId()
      await store.set(id, { ...rec({ a: 1 }, t, 3600), idleExpiresAt: t + 900_000 })
      await store.patch(id, rec({ b: 2 }, t, 1800), { set: ['b'], deleted: [] })
      expect(seen).toEqual([
        { key: ['app', 'sess', id], options: { expireIn: 900_000 } },
        { key: ['app', 'sess', id], options: { expireIn: 1_800_000 }, atomic: true },
      ])
      expect((await kv.get(['app', 'sess', id])).value).toMatchObject({ data: { a: 1, b: 2 } })
    } finally {
      kv.close()
    }
  })

  it('a patch never merges into a session past its deadline: the expired record stays as it was', async () => {
    const kv = await Deno.openKv(':memory:')
    try {
      let t = Date.now()
      const store = denoKvStore({ kv, now: () => t })
      const id = newId()
      const stored = rec({ a: 1 }, t, 10)
      await store.set(id, stored)
      t += 10_000
      await store.patch(id, rec({ b: 2 }, t, 60), { set: ['b'], deleted: [] })
      expect(await store.get(id)).toEqual(stored)
    } finally {
      kv.close()
    }
  })

  it('patches racing from two instances (each with its own queue) all land: versionstamp check, retried', async () => {
    // Two stores over one kv are two instances of the app sharing Deno Deploy's KV: nothing
    // in-process orders their patches, only the atomic check does.
    const { proxy, calls } = counted(await Deno.openKv(':memory:'))
    try {
      const first = denoKvStore({ kv: proxy })
      const second = denoKvStore({ kv: proxy })
      const id = newId()
      await first.set(id, rec({ start: true }))
      const patch = (store: typeof first, key: string) =>
        store.patch(id, rec({ [key]: key }), { set: [key], deleted: [] })
      const keys: string[] = []
      const jobs: Promise<void>[] = []
      for (let i = 0; i < 10; i++) {
        keys.push(`a${i}`, `b${i}`)
        jobs.push(patch(first, `a${i}`), patch(second, `b${i}`))
      }
      await Promise.all(jobs)
      const stored = (await first.get(id)) as SessionRecord
      expect(Object.keys(stored.data).sort()).toEqual(['start', ...keys].sort())
      // The race happened: some commits were refused and retried.
      expect(calls.conflict ?? 0).toBeGreaterThan(0)
      expect(calls.commit).toBe(20)
    } finally {
      proxy.close()
    }
  })

  it(`a patch that loses ${PATCH_ATTEMPTS} races in a row rejects with a clear error`, async () => {
    const kv = await Deno.openKv(':memory:')
    try {
      const id = newId()
      const key = ['sess', id]
      let commits = 0
      // Another writer that always gets in between this store's read and its commit.
      const contested = new Proxy(kv, {
        get(target, name) {
          if (name === 'get') {
            return async (k: typeof key) => {
              const entry = await target.get(k)
              await target.set(k, rec({ other: Math.random() }))
              return entry
            }
          }
          if (name === 'atomic') {
            return () => {
              const op = target.atomic()
              const commit = op.commit.bind(op)
              op.commit = () => {
                commits++
                return commit()
              }
              return op
            }
          }
          const value = Reflect.get(target, name, target)
          return typeof value === 'function' ? value.bind(target) : value
        },
      })
      const store = denoKvStore({ kv: contested })
      await kv.set(key, rec({ start: 1 }))
      const patching = store.patch(id, rec({ mine: 1 }), { set: ['mine'], deleted: [] })
      await expect(patching).rejects.toThrow(`gave up after ${PATCH_ATTEMPTS} attempts`)
      expect(commits).toBe(PATCH_ATTEMPTS)
      expect(((await kv.get(key)).value as SessionRecord).data.mine).toBeUndefined()
    } finally {
      kv.close()
    }
  })
})

describe('Deno KV calls per request', () => {
  it('login 1 set; read 1 get; change 2 gets + 1 atomic commit; logout 1 get + 1 delete', async () => {
    const kv = await Deno.openKv(':memory:')
    try {
      const { proxy, take } = counted(kv)
      const app = new Hono()
        .use(session({ secret: SECRET, store: denoKvStore({ kv: proxy }) }))
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
      const jar = new Jar()
      await jar.request(app, '/login')
      expect(take()).toEqual({ set: 1 })
      expect(await (await jar.request(app, '/peek')).text()).toBe('u1')
      expect(take()).toEqual({ get: 1 })
      await jar.request(app, '/set/dark')
      // The load, then the patch's read and its checked commit.
      expect(take()).toEqual({ get: 2, commit: 1 })
      await jar.request(app, '/login')
      expect(take()).toEqual({ get: 1, set: 1, delete: 1 })
      await jar.request(app, '/logout')
      expect(take()).toEqual({ get: 1, delete: 1 })
      expect(await (await jar.request(app, '/peek')).text()).toBe('anon')
    } finally {
      kv.close()
    }
  })
})
