// The device API every store with a per-user index passes (called by `describeStore` when
// `userIndex`): listings with data, ending one device with an owner check, the refusal of a bare
// id as `destroyUserSessions` options, last seen moved by reads (throttled, injected clock), and
// `allSessions()`.
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { session } from '../../src/adapters/hono.ts'
import type {
  SessionInfo,
  SessionOptions,
  SessionRecord,
  SessionStore,
  UserSessionIndex,
  WriteMeta,
} from '../../src/core/types.ts'
import { Jar, SECRET, testClock } from '../support.ts'

/** The store options the device tests set, beside the clock. */
export interface DeviceOptions {
  now?: () => number
  listData?: (data: Record<string, unknown>) => unknown
  touchAfter?: number
}

/** A store with the device API. */
export type IndexedStore = Omit<SessionStore, 'touch'> &
  UserSessionIndex<any> & { touch?(id: string, ctx?: unknown, meta?: WriteMeta): unknown }
type Indexed = IndexedStore

let counter = 0
const newId = () =>
  `devices${String(++counter).padStart(8, '0')}${Math.random().toString(36).slice(2, 10)}`
    .padEnd(32, 'x')
    .slice(0, 32)

const MAX_AGE = 600

function deviceApp(store: SessionStore, more: Omit<SessionOptions, 'secret' | 'store'> = {}) {
  return new Hono()
    .use(session({ secret: SECRET, store, maxAge: MAX_AGE, ...more }))
    .get('/login/:user', (c) => {
      const user = c.req.param('user')
      c.session.userId = /^\d+$/.test(user) ? Number(user) : user
      c.session.label = c.req.header('x-label') ?? 'unnamed'
      c.session._csrf = 'secret-token'
      return c.text(c.session.id)
    })
    .get('/anon', (c) => {
      c.session.cart = 1
      return c.text(c.session.id)
    })
    .get('/peek', (c) => c.text(String(c.session.userId ?? 'anon')))
    .get('/cart', (c) => c.json(c.session.label ?? null))
}

async function all(store: Indexed, options?: { pageSize?: number }): Promise<SessionInfo[]> {
  const out: SessionInfo[] = []
  for await (const info of store.allSessions(options)) out.push(info)
  return out
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1)

/** The device tests over `open`, which makes a fresh store (closed after each test). */
export function describeDevices(open: (options?: DeviceOptions) => Promise<Indexed>): void {
  describe('devices', () => {
    it('listSessions entries carry the data (internal keys left out) and the user id', async () => {
      const store = await open()
      const app = deviceApp(store)
      const phone = await (
        await new Jar().request(app, '/login/u1', { headers: { 'x-label': 'Phone' } })
      ).text()
      const list = await store.listSessions('u1')
      expect(list).toHaveLength(1)
      expect(list[0]).toMatchObject({ id: phone, userId: 'u1' })
      expect(list[0]!.data).toEqual({ userId: 'u1', label: 'Phone' })
      expect(Object.keys(list[0]!.data)).not.toContain('_csrf')
    })

    it('numeric user ids: listed, ended and reported by their string form', async () => {
      const store = await open()
      const app = deviceApp(store)
      const a = await (await new Jar().request(app, '/login/42')).text()
      const t = Date.now()
      const b = newId()
      await store.set(b, { data: { userId: '42' }, createdAt: t, expiresAt: t + 60_000 }, undefined)
      for (const user of [42, '42']) {
        const list = await store.listSessions(user)
        expect(list.map((s) => s.id).sort()).toEqual([a, b].sort())
        expect(list.every((s) => s.userId === '42')).toBe(true)
      }
      expect(await store.destroySession(42, b)).toBe(true)
      expect(await store.destroyUserSessions('42')).toBe(1)
      expect(await store.listSessions(42)).toEqual([])
    })

    it('listData picks what a listing shows; it never sees internal keys', async () => {
      const seen: string[][] = []
      const store = await open({
        listData: (data) => {
          seen.push(Object.keys(data).sort())
          return { label: data.label }
        },
      })
      const app = deviceApp(store)
      await new Jar().request(app, '/login/u1', { headers: { 'x-label': 'Laptop' } })
      const [entry] = await store.listSessions('u1')
      expect(entry!.data).toEqual({ label: 'Laptop' })
      // (jsonb keeps keys in its own order, hence sorted.)
      expect(seen).toEqual([['label', 'userId']])
    })

    it('destroySession ends a device only when it is that user’s', async () => {
      const clock = testClock(Date.now())
      const store = await open({ now: clock.now })
      const app = deviceApp(store, { now: clock.now })
      const mine = new Jar()
      const theirs = new Jar()
      const mineId = await (await mine.request(app, '/login/u1')).text()
      const theirsId = await (await theirs.request(app, '/login/u2')).text()

      // Another user's session, an unknown id: refused, nothing ends.
      expect(await store.destroySession('u1', theirsId)).toBe(false)
      expect(await store.destroySession('u1', newId())).toBe(false)
      expect(await (await theirs.request(app, '/peek')).text()).toBe('u2')

      expect(await store.destroySession('u1', mineId)).toBe(true)
      expect(await (await mine.request(app, '/peek')).text()).toBe('anon')
      expect(await store.listSessions('u1')).toEqual([])
      // Already gone.
      expect(await store.destroySession('u1', mineId)).toBe(false)

      // Past its deadline by the store's clock: it was over already.
      const t = clock.now()
      const old = newId()
      await store.set(
        old,
        { data: { userId: 'u2' }, createdAt: t, expiresAt: t + 10_000 },
        undefined,
      )
      clock.advance(10)
      expect(await store.destroySession('u2', old)).toBe(false)
      expect(await (await theirs.request(app, '/peek')).text()).toBe('u2')
    })

    it('destroyUserSessions refuses a second argument that is not an options object', async () => {
      const store = await open()
      const app = deviceApp(store)
      const current = new Jar()
      const other = new Jar()
      const currentId = await (await current.request(app, '/login/u1')).text()
      await other.request(app, '/login/u1')
      // The slip this guards against: the id where `{ except: id }` belongs.
      for (const bad of [currentId, null, [currentId], 1, { except: 5 }]) {
        await expect(store.destroyUserSessions('u1', bad as never)).rejects.toThrow(TypeError)
      }
      expect(await store.listSessions('u1')).toHaveLength(2)
      expect(await store.destroyUserSessions('u1', { except: currentId })).toBe(1)
      expect(await (await current.request(app, '/peek')).text()).toBe('u1')
      expect(await (await other.request(app, '/peek')).text()).toBe('anon')
      expect(await store.destroyUserSessions('u1', {})).toBe(1)
    })

    it('user ids that are neither a string nor a number are a TypeError', async () => {
      const store = await open()
      for (const bad of [undefined, null, '', {}, Number.NaN]) {
        await expect(store.listSessions(bad as never)).rejects.toThrow(TypeError)
        await expect(store.destroySession(bad as never, newId())).rejects.toThrow(TypeError)
        await expect(store.destroyUserSessions(bad as never)).rejects.toThrow(TypeError)
      }
      await expect(store.destroySession('u1', 5 as never)).rejects.toThrow(TypeError)
    })

    describe('last seen on reads', () => {
      async function reading(touchAfter?: number) {
        const clock = testClock(Date.now())
        const store = await open(
          touchAfter === undefined ? { now: clock.now } : { now: clock.now, touchAfter },
        )
        const app = deviceApp(store, { now: clock.now })
        const jar = new Jar()
        const id = await (
          await jar.request(app, '/login/u1', { headers: { 'user-agent': 'A/1' } })
        ).text()
        const t0 = clock.now()
        const read = async (agent = 'A/1') => {
          const res = await jar.request(app, '/peek', { headers: { 'user-agent': agent } })
          expect(await res.text()).toBe('u1')
          expect(res.headers.getSetCookie()).toEqual([])
        }
        const seen = async () => {
          const [info] = await store.listSessions('u1')
          expect(info!.id).toBe(id)
          return { lastSeenAt: info!.lastSeenAt, userAgent: info!.userAgent }
        }
        return { clock, store, read, seen, t0, id }
      }

      it('moves at most once a minute by default, with the reading request’s user agent', async () => {
        const { clock, read, seen, t0 } = await reading()
        clock.advance(30)
        await read('B/2')
        expect(await seen()).toEqual({ lastSeenAt: t0, userAgent: 'A/1' })
        clock.advance(30)
        await read('B/2')
        expect(await seen()).toEqual({ lastSeenAt: t0 + 60_000, userAgent: 'B/2' })
        // Within the next minute: no move, whatever reads come.
        clock.advance(59)
        await read('C/3')
        await read('C/3')
        expect(await seen()).toEqual({ lastSeenAt: t0 + 60_000, userAgent: 'B/2' })
        clock.advance(1)
        await read('C/3')
        expect(await seen()).toEqual({ lastSeenAt: t0 + 120_000, userAgent: 'C/3' })
      })

      it('touchAfter sets the window, down to every read', async () => {
        const ten = await reading(10)
        ten.clock.advance(9)
        await ten.read()
        expect((await ten.seen()).lastSeenAt).toBe(ten.t0)
        ten.clock.advance(1)
        await ten.read()
        expect((await ten.seen()).lastSeenAt).toBe(ten.t0 + 10_000)

        const every = await reading(0.5)
        every.clock.advance(0.5)
        await every.read()
        expect((await every.seen()).lastSeenAt).toBe(every.t0 + 500)
        every.clock.advance(0.5)
        await every.read()
        expect((await every.seen()).lastSeenAt).toBe(every.t0 + 1000)
      })

      it('touchAfter: 0 moves it on writes only', async () => {
        const { clock, read, seen, t0 } = await reading(0)
        clock.advance(300)
        await read('B/2')
        expect(await seen()).toEqual({ lastSeenAt: t0, userAgent: 'A/1' })
      })

      it('a direct touch() records at once; an ended session is not brought back', async () => {
        const { clock, store, seen, t0, id } = await reading()
        clock.advance(5)
        await store.touch!(id, undefined)
        expect((await seen()).lastSeenAt).toBe(t0 + 5000)
        await store.destroySession('u1', id)
        clock.advance(120)
        await store.touch!(id, undefined, { now: clock.now(), userId: 'u1', userAgent: 'X/1' })
        expect(await store.listSessions('u1')).toEqual([])
        expect((await store.get(id, undefined)) ?? undefined).toBeUndefined()
      })
    })

    describe('allSessions', () => {
      it('iterates every live session, with and without a user, page by page', async () => {
        const clock = testClock(Date.now())
        const store = await open({ now: clock.now })
        const app = deviceApp(store, { now: clock.now })
        const a = await (
          await new Jar().request(app, '/login/u1', { headers: { 'user-agent': 'A/1' } })
        ).text()
        const b = await (await new Jar().request(app, '/login/7')).text()
        const anon = await (await new Jar().request(app, '/anon')).text()
        const t = clock.now()
        const short = newId()
        const rec: SessionRecord = { data: { userId: 'u1' }, createdAt: t, expiresAt: t + 10_000 }
        await store.set(short, rec, undefined)
        clock.advance(10)

        const expected = [
          { id: a, userId: 'u1', userAgent: 'A/1' },
          { id: b, userId: '7' },
          { id: anon, userId: undefined },
        ].sort(byId)
        for (const pageSize of [undefined, 1, 2]) {
          const list = (await all(store, pageSize ? { pageSize } : undefined)).sort(byId)
          expect(list.map(({ id, userId, userAgent }) => ({ id, userId, userAgent }))).toEqual(
            expected.map((e) => ({ userAgent: undefined, ...e })),
          )
          for (const info of list) {
            expect(info.createdAt).toBe(t)
            expect(info.lastSeenAt).toBe(t)
            expect(info.expiresAt).toBe(t + MAX_AGE * 1000)
            expect('userId' in info).toBe(true)
          }
        }
        await expect(all(store, { pageSize: 0 })).rejects.toThrow(TypeError)
      })

      it('an empty store iterates nothing', async () => {
        const store = await open()
        expect(await all(store)).toEqual([])
      })
    })
  })
}
