// The one contract every built-in store passes, against its real backend. A store's own test
// file calls `describeStore(name, { make, userIndex })`; store-specific behaviour (faults, LRU,
// traversal, prune) is tested beside it, not here. `make({ now })` hands the store an injected
// clock, so expiry and last-seen times can be moved without waiting.
import { Hono } from 'hono'
import { afterEach, describe, expect, it } from 'vitest'
import { session } from '../../src/adapters/hono.ts'
import { sessionDeadline } from '../../src/core/record.ts'
import type {
  InvalidReason,
  SessionOptions,
  SessionRecord,
  SessionStore,
  UserSessionIndex,
} from '../../src/core/types.ts'
import { type MetaStore, USER_AGENT_MAX, type UserKeyed } from '../../src/stores/_shared.ts'
import { Jar, SECRET, testClock } from '../support.ts'
import { type DeviceOptions, describeDevices, type IndexedStore } from './devices-contract.ts'

/** One fresh store over an empty namespace of its backend. */
export interface StoreUnderTest {
  store: SessionStore & Partial<UserSessionIndex<any>>
  /** Remaining backend TTL in seconds for `id` (undefined = no TTL / not supported). */
  ttlSeconds?(id: string): Promise<number | undefined>
  close(): Promise<void>
}

/**
 * What `make` passes to the store under test: its `now` option (absent: `Date.now`) and, for
 * stores with a per-user index, `listData` and `touchAfter`.
 */
export interface MakeOptions extends DeviceOptions {}

type Op = 'get' | 'set' | 'patch' | 'delete'

/**
 * The store as the engine sees it, with every call counted; `this` stays the real store, and
 * the write metadata and `userKey` pass through.
 */
function counted(store: SessionStore) {
  const real = store as MetaStore & Partial<UserKeyed>
  const calls: Record<Op, number> = { get: 0, set: 0, patch: 0, delete: 0 }
  const wrapped: MetaStore & Partial<UserKeyed> = {
    get: (id, ctx) => {
      calls.get++
      return real.get(id, ctx)
    },
    set: (id, record, ctx, meta) => {
      calls.set++
      return real.set(id, record, ctx, meta)
    },
    delete: (id, ctx) => {
      calls.delete++
      return real.delete(id, ctx)
    },
  }
  if ('userKey' in real) Object.assign(wrapped, { userKey: real.userKey })
  if (typeof real.patch === 'function') {
    wrapped.patch = (id, record, patch, ctx, meta) => {
      calls.patch++
      return real.patch!(id, record, patch, ctx, meta)
    }
  }
  const reset = () => {
    for (const op of Object.keys(calls) as Op[]) calls[op] = 0
  }
  return { wrapped, calls, reset }
}

/** A promise the test resolves by hand, to hold a handler between load and commit. */
function gate() {
  let open!: () => void
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { open, opened }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A record that lives `seconds` from now. */
function record(data: Record<string, unknown>, seconds = 600): SessionRecord {
  const now = Date.now()
  return { data, createdAt: now, expiresAt: now + seconds * 1000 }
}

// Ids of the shape the engine makes (32 base64url characters), unique per call.
let counter = 0
function newId(): string {
  counter++
  return `contract${String(counter).padStart(8, '0')}${Math.random().toString(36).slice(2, 10)}`
    .padEnd(32, 'x')
    .slice(0, 32)
}

// `null` and `undefined` both mean "nothing stored" (Map.get vs database drivers).
function expectNone(value: unknown): void {
  expect(value ?? undefined).toBeUndefined()
}

/** What a store handed back, as a plain value (rows, JSON strings and Maps all compare). */
async function read(store: SessionStore, id: string): Promise<unknown> {
  return await store.get(id, undefined)
}

const MAX_AGE = 600

function createApp(
  store: SessionStore,
  gates: Record<string, Promise<void>> = {},
  more: Omit<SessionOptions, 'secret' | 'store'> = {},
) {
  const app = new Hono()
    .use(session({ secret: SECRET, store, maxAge: MAX_AGE, ...more }))
    .get('/login/:user', (c) => {
      c.session.userId = c.req.param('user')
      return c.text(c.session.id)
    })
    .get('/relogin/:user', async (c) => {
      await c.session.regenerate()
      c.session.userId = c.req.param('user')
      return c.text(c.session.id)
    })
    .get('/me', (c) => c.json({ isNew: c.session.isNew, id: c.session.id, ...c.session.toJSON() }))
    .get('/peek', (c) => c.text(c.session.userId ?? 'anon'))
    .get('/set/:key/:value', async (c) => {
      const { key, value } = c.req.param()
      c.session[key] = value
      await gates[`${key}=${value}`]
      return c.text('ok')
    })
    .get('/del/:key', (c) => {
      delete c.session[c.req.param('key')]
      return c.text('ok')
    })
    .get('/destroy', (c) => {
      c.session.destroy()
      return c.text('bye')
    })
    .get('/logout', (c) => {
      c.session = null
      return c.text('bye')
    })
  app.onError((err, c) => c.text(`${(err as { code?: string }).code ?? String(err)}`, 500))
  return app
}

/**
 * Defines the shared store contract as one `describe(name)` block. `make` is called once per
 * test and must hand back a store over a fresh, empty namespace.
 */
export function describeStore(
  name: string,
  options: {
    make: (options?: MakeOptions) => Promise<StoreUnderTest>
    userIndex: boolean
    /**
     * The backend drops a record at its deadline by itself (a Redis TTL): past it, a read finds
     * nothing and the engine can only say `not-found`. Otherwise the record stays until the
     * engine, `prune()` or a sweep deletes it, and the engine says `expired`.
     */
    expiresItself: boolean
  },
): void {
  describe(name, () => {
    let current: StoreUnderTest | undefined

    async function open(make?: MakeOptions): Promise<StoreUnderTest> {
      current = await options.make(make)
      return current
    }

    afterEach(async () => {
      const sut = current
      current = undefined
      await sut?.close()
    })

    describe('direct API', () => {
      it('a missing id reads as null or undefined', async () => {
        const { store } = await open()
        expectNone(await read(store, newId()))
      })

      it('set then get returns an equal record', async () => {
        const { store } = await open()
        const id = newId()
        const rec: SessionRecord = {
          data: { userId: 'u1', cart: { items: ['a', 'b'], total: 2.5 }, ok: true, none: null },
          createdAt: Date.now() - 1000,
          expiresAt: Date.now() + 600_000,
          idleExpiresAt: Date.now() + 300_000,
          flash: ['notice'],
        }
        rec.data.notice = 'hello'
        await store.set(id, rec, undefined)
        expect(await read(store, id)).toEqual(rec)
        // A second set replaces the whole record.
        const next = record({ other: 1 })
        await store.set(id, next, undefined)
        expect(await read(store, id)).toEqual(next)
      })

      it('flash values by key (the form written since 0.2.0) survive set, get and patch', async () => {
        const { store } = await open()
        const id = newId()
        const flash = { notice: ['saved', 'emailed'], error: [{ field: 'name', list: [] }] }
        const rec: SessionRecord = {
          data: { userId: 'u1' },
          createdAt: Date.now() - 1000,
          expiresAt: Date.now() + 600_000,
          flash,
        }
        await store.set(id, rec, undefined)
        expect(await read(store, id)).toEqual(rec)
        if (!store.patch) return
        const next = { ...rec, data: { userId: 'u1', n: 1 }, flash: { notice: ['kept'] } }
        await store.patch(id, next, { set: ['n'], deleted: [] }, undefined)
        expect(await read(store, id)).toEqual(next)
      })

      it('records under different ids are independent', async () => {
        const { store } = await open()
        const a = newId()
        const b = newId()
        await store.set(a, record({ who: 'a' }), undefined)
        await store.set(b, record({ who: 'b' }), undefined)
        expect(await read(store, a)).toMatchObject({ data: { who: 'a' } })
        expect(await read(store, b)).toMatchObject({ data: { who: 'b' } })
        await store.delete(a, undefined)
        expectNone(await read(store, a))
        expect(await read(store, b)).toMatchObject({ data: { who: 'b' } })
      })

      it('delete removes the record; deleting a missing id is not an error', async () => {
        const { store } = await open()
        const id = newId()
        await store.set(id, record({ a: 1 }), undefined)
        await store.delete(id, undefined)
        expectNone(await read(store, id))
        await store.delete(id, undefined)
        await store.delete(newId(), undefined)
      })

      if (!options.userIndex) {
        it('has no device API: no per-user index to list, end or touch by', async () => {
          const { store } = await open()
          for (const method of [
            'listSessions',
            'destroySession',
            'destroyUserSessions',
            'allSessions',
            'touch',
          ]) {
            expect(method in store).toBe(false)
          }
        })
      }

      it('has patch (every built-in store merges concurrent changes)', async () => {
        const { store } = await open()
        expect(typeof store.patch).toBe('function')
      })

      it('patch copies only the changed keys, removes deleted ones, takes timestamps and flash from the new record', async () => {
        const { store } = await open()
        if (!store.patch) return
        const id = newId()
        const before: SessionRecord = {
          data: { keep: 'stored', change: 'old', drop: 1, other: 'stored-only' },
          createdAt: Date.now() - 5000,
          expiresAt: Date.now() + 60_000,
          flash: ['drop'],
        }
        await store.set(id, before, undefined)
        // The request's view is stale for `keep` and `other`: only `change`/`added` are its own.
        const mine: SessionRecord = {
          data: { keep: 'stale view', change: 'new', added: { deep: [1, 2] } },
          createdAt: before.createdAt,
          expiresAt: Date.now() + 120_000,
          idleExpiresAt: Date.now() + 90_000,
          flash: ['added'],
        }
        await store.patch(id, mine, { set: ['change', 'added'], deleted: ['drop'] }, undefined)
        expect(await read(store, id)).toEqual({
          data: { keep: 'stored', change: 'new', added: { deep: [1, 2] }, other: 'stored-only' },
          createdAt: before.createdAt,
          expiresAt: mine.expiresAt,
          idleExpiresAt: mine.idleExpiresAt,
          flash: ['added'],
        })
        // A later patch without flash drops the flash list.
        const later: SessionRecord = {
          data: { change: 'newer' },
          createdAt: before.createdAt,
          expiresAt: mine.expiresAt,
        }
        await store.patch(id, later, { set: ['change'], deleted: [] }, undefined)
        expect(await read(store, id)).toEqual({
          data: { keep: 'stored', change: 'newer', added: { deep: [1, 2] }, other: 'stored-only' },
          createdAt: before.createdAt,
          expiresAt: mine.expiresAt,
        })
      })

      it('patch of an id with nothing stored does nothing', async () => {
        const { store } = await open()
        if (!store.patch) return
        const id = newId()
        await store.patch(id, record({ a: 1 }), { set: ['a'], deleted: [] }, undefined)
        expectNone(await read(store, id))
        // Nor after a delete: a session ended elsewhere is never brought back.
        await store.set(id, record({ a: 1 }), undefined)
        await store.delete(id, undefined)
        await store.patch(id, record({ a: 2 }), { set: ['a'], deleted: [] }, undefined)
        expectNone(await read(store, id))
      })
    })

    describe('TTL', () => {
      it('the backend TTL matches the record deadline (earlier of absolute and idle)', async () => {
        const sut = await open()
        const id = newId()
        const now = Date.now()
        const rec: SessionRecord = {
          data: { a: 1 },
          createdAt: now,
          expiresAt: now + 3600_000,
          idleExpiresAt: now + 900_000,
        }
        await sut.store.set(id, rec, undefined)
        const ttl = await sut.ttlSeconds?.(id)
        if (sut.ttlSeconds) {
          expect(ttl).toBeTypeOf('number')
          expect(Math.abs(ttl! - (sessionDeadline(rec) - Date.now()) / 1000)).toBeLessThanOrEqual(1)
        }
        if (sut.ttlSeconds && sut.store.patch) {
          // A patch moves the TTL with the record's new deadline.
          const moved = { ...rec, idleExpiresAt: Date.now() + 1800_000 }
          await sut.store.patch(id, moved, { set: [], deleted: [] }, undefined)
          const after = await sut.ttlSeconds(id)
          expect(
            Math.abs(after! - (sessionDeadline(moved) - Date.now()) / 1000),
          ).toBeLessThanOrEqual(1)
        }
      })

      const after = options.expiresItself
        ? 'is gone from the backend, so the app is told not-found'
        : 'is still read back, so the app is told expired; then it is deleted'
      it(`a record past its deadline ${after}`, async () => {
        const { store } = await open()
        const id = newId()
        const now = Date.now()
        // The idle deadline is the earlier one: it is what must expire the record.
        const rec: SessionRecord = {
          data: { a: 1 },
          createdAt: now,
          expiresAt: now + 3600_000,
          idleExpiresAt: now + 1500,
        }
        await store.set(id, rec, undefined)
        expect(await read(store, id)).toEqual(rec)
        // And one through the app, on real clocks, ending after one second.
        const reasons: InvalidReason[] = []
        const app = createApp(store, {}, { maxAge: 1, onInvalid: (r) => reasons.push(r) })
        const jar = new Jar()
        const sessionId = await (await jar.request(app, '/login/u1')).text()
        expect(await read(store, sessionId)).toMatchObject({ data: { userId: 'u1' } })
        // Backends with whole-second TTLs may round 1.5 s up to 2 s.
        await sleep(2200)
        if (options.expiresItself) expectNone(await read(store, id))
        else expect(await read(store, id)).toEqual(rec)
        const me = await (await jar.request(app, '/me')).json()
        expect(me).toMatchObject({ isNew: true })
        expect(me.userId).toBeUndefined()
        expect(reasons).toEqual([options.expiresItself ? 'not-found' : 'expired'])
        // The engine deleted what it refused: no expired entry lingers.
        expectNone(await read(store, sessionId))
      }, 10_000)
    })

    describe('through a Hono app', () => {
      it('logs in and reads the session back', async () => {
        const { store } = await open()
        const app = createApp(store)
        const jar = new Jar()
        const id = await (await jar.request(app, '/login/u1')).text()
        expect(await read(store, id)).toMatchObject({ data: { userId: 'u1' } })
        const me = await (await jar.request(app, '/me')).json()
        expect(me).toEqual({ isNew: false, id, userId: 'u1' })
      })

      it('store calls per request: new = 1 set; unchanged = 1 get; changed = 1 get + 1 patch', async () => {
        const { store } = await open()
        const { wrapped, calls, reset } = counted(store)
        const app = createApp(wrapped)
        const jar = new Jar()
        await jar.request(app, '/login/u1')
        expect(calls).toEqual({ get: 0, set: 1, patch: 0, delete: 0 })

        reset()
        const res = await jar.request(app, '/peek')
        expect(await res.text()).toBe('u1')
        expect(res.headers.getSetCookie()).toEqual([])
        expect(calls).toEqual({ get: 1, set: 0, patch: 0, delete: 0 })

        reset()
        await jar.request(app, '/set/theme/dark')
        const write = store.patch ? { set: 0, patch: 1 } : { set: 1, patch: 0 }
        expect(calls).toEqual({ get: 1, delete: 0, ...write })
        expect(await (await jar.request(app, '/me')).json()).toMatchObject({
          userId: 'u1',
          theme: 'dark',
        })
      })

      it('regenerate leaves exactly one entry reachable: the new id, never the old', async () => {
        const { store } = await open()
        const { wrapped, calls, reset } = counted(store)
        const app = createApp(wrapped)
        const jar = new Jar()
        const oldId = await (await jar.request(app, '/login/u1')).text()
        const oldCookie = jar.header()
        reset()
        const newId = await (await jar.request(app, '/relogin/u2')).text()
        expect(newId).not.toBe(oldId)
        expect(calls).toEqual({ get: 1, set: 1, patch: 0, delete: 1 })
        expectNone(await read(store, oldId))
        expect(await read(store, newId)).toMatchObject({ data: { userId: 'u2' } })
        expect(await (await jar.request(app, '/peek')).text()).toBe('u2')
        const replay = await app.request('http://localhost/peek', {
          headers: { cookie: oldCookie },
        })
        expect(await replay.text()).toBe('anon')
      })

      for (const route of ['/destroy', '/logout']) {
        it(`${route} deletes the entry and the old cookie no longer works`, async () => {
          const { store } = await open()
          const { wrapped, calls, reset } = counted(store)
          const app = createApp(wrapped)
          const jar = new Jar()
          const id = await (await jar.request(app, '/login/u1')).text()
          const cookie = jar.header()
          reset()
          await jar.request(app, route)
          expect(calls).toEqual({ get: 1, set: 0, patch: 0, delete: 1 })
          expectNone(await read(store, id))
          const replay = await app.request('http://localhost/peek', { headers: { cookie } })
          expect(await replay.text()).toBe('anon')
        })
      }

      it('two overlapping requests that change different keys both survive', async () => {
        const { store } = await open()
        const a = gate()
        const b = gate()
        const app = createApp(store, { 'theme=dark': a.opened, 'lang=fr': b.opened })
        const jar = new Jar()
        const id = await (await jar.request(app, '/login/u1')).text()
        const cookie = jar.header()
        // Both load the same record before either commits.
        const first = app.request('http://localhost/set/theme/dark', { headers: { cookie } })
        const second = app.request('http://localhost/set/lang/fr', { headers: { cookie } })
        await sleep(20)
        a.open()
        expect((await first).status).toBe(200)
        b.open()
        expect((await second).status).toBe(200)
        expect(await (await jar.request(app, '/me')).json()).toEqual({
          isNew: false,
          id,
          userId: 'u1',
          theme: 'dark',
          lang: 'fr',
        })
      })
    })

    describe('injected clock and write metadata', () => {
      // Starts at the real time, so backends that expire by their own clock keep the entry.
      const clocked = async () => {
        const clock = testClock(Date.now())
        const sut = await open({ now: clock.now })
        return { clock, store: sut.store as MetaStore & Partial<UserSessionIndex & UserKeyed> }
      }

      it('expiry follows the injected clock: reads, and a patch after the deadline', async () => {
        const { clock, store } = await clocked()
        const id = newId()
        const t = clock.now()
        const rec: SessionRecord = {
          data: { a: 1 },
          createdAt: t,
          expiresAt: t + 3600_000,
          idleExpiresAt: t + 60_000,
        }
        await store.set(id, rec)
        clock.advance(59.999)
        expect(await read(store, id)).toEqual(rec)
        clock.advance(0.001)
        // Past the deadline by the injected clock, every backend (which expires by the real
        // clock, if at all) still holds it and hands it back: the engine refuses it.
        expect(await read(store, id)).toEqual(rec)
        // The same record patched once its deadline has passed does not come back: nothing
        // is merged into it (it is gone, or still the expired record).
        await store.patch?.(id, { ...rec, data: { a: 2 } }, { set: ['a'], deleted: [] })
        expect((await read(store, id)) ?? rec).toEqual(rec)
      })

      it('a session past its deadline by the engine clock is refused as expired, and deleted', async () => {
        const { clock, store } = await clocked()
        const reasons: InvalidReason[] = []
        const app = createApp(store, {}, { now: clock.now, onInvalid: (r) => reasons.push(r) })
        const jar = new Jar()
        const id = await (await jar.request(app, '/login/u1')).text()
        clock.advance(MAX_AGE - 0.001)
        expect(await (await jar.request(app, '/peek')).text()).toBe('u1')
        clock.advance(0.001)
        expect(await (await jar.request(app, '/peek')).text()).toBe('anon')
        expect(reasons).toEqual(['expired'])
        expectNone(await read(store, id))
      })

      if (!options.userIndex) return

      const ua = (agent: string) => ({
        req: { header: (name: string) => (name === 'user-agent' ? agent : undefined) },
      })

      it('names its user key for the engine', async () => {
        const { store } = await clocked()
        expect(store.userKey).toBe('userId')
      })

      it('lastSeenAt: the store clock for direct calls, meta.now when the engine gives one', async () => {
        const { clock, store } = await clocked()
        const id = newId()
        const t0 = clock.now()
        const rec = (data: Record<string, unknown>): SessionRecord => ({
          data,
          createdAt: t0,
          expiresAt: t0 + 3600_000,
        })
        const seen = async () => {
          const list = await store.listSessions!('u1')
          expect(list.map((s) => s.id)).toEqual([id])
          return list[0]!
        }
        await store.set(id, rec({ userId: 'u1' }))
        expect(await seen()).toEqual({
          id,
          userId: 'u1',
          createdAt: t0,
          lastSeenAt: t0,
          expiresAt: t0 + 3600_000,
          data: { userId: 'u1' },
        })
        clock.advance(30)
        await store.patch!(id, rec({ userId: 'u1', theme: 'dark' }), {
          set: ['theme'],
          deleted: [],
        })
        expect((await seen()).lastSeenAt).toBe(t0 + 30_000)

        // The engine's clock and user agent win over the store's clock and the context.
        const t1 = t0 + 45_000
        await store.set(id, rec({ userId: 'u1' }), ua('Ctx/1'), {
          now: t1,
          userId: 'u1',
          userAgent: 'Meta/1',
        })
        expect(await seen()).toMatchObject({ lastSeenAt: t1, userAgent: 'Meta/1' })
        // Meta without a user agent keeps the recorded one; the context is not read.
        await store.patch!(
          id,
          rec({ userId: 'u1', theme: 'light' }),
          { set: ['theme'], deleted: [] },
          ua('Ctx/2'),
          { now: t1 + 1000, userId: 'u1' },
        )
        expect(await seen()).toMatchObject({ lastSeenAt: t1 + 1000, userAgent: 'Meta/1' })
        // A direct call: the store's clock, the user agent kept.
        clock.advance(60)
        await store.set(id, rec({ userId: 'u1' }))
        expect(await seen()).toMatchObject({ lastSeenAt: t0 + 90_000, userAgent: 'Meta/1' })
        expect(await read(store, id)).toEqual(rec({ userId: 'u1' }))
      })

      it('listSessions drops sessions past their deadline by the injected clock', async () => {
        const { clock, store } = await clocked()
        const t = clock.now()
        const short = newId()
        const long = newId()
        await store.set(short, { data: { userId: 'u1' }, createdAt: t, expiresAt: t + 10_000 })
        await store.set(long, { data: { userId: 'u1' }, createdAt: t, expiresAt: t + 60_000 })
        clock.advance(10)
        expect((await store.listSessions!('u1')).map((s) => s.id)).toEqual([long])
        expect(await store.destroyUserSessions!('u1')).toBe(1)
      })

      it(`records at most ${USER_AGENT_MAX} characters of user agent, from meta or a request`, async () => {
        const { clock, store } = await clocked()
        const id = newId()
        const t = clock.now()
        const rec: SessionRecord = { data: { userId: 'u1' }, createdAt: t, expiresAt: t + 60_000 }
        const long = `${'A'.repeat(USER_AGENT_MAX - 1)}😀tail`
        await store.set(id, rec, undefined, { now: t, userAgent: long })
        // The cut never splits the surrogate pair that straddles the limit.
        const [info] = await store.listSessions!('u1')
        expect(info!.userAgent).toBe('A'.repeat(USER_AGENT_MAX - 1))

        const app = createApp(store)
        await new Jar().request(app, '/login/u2', { headers: { 'user-agent': 'B'.repeat(2000) } })
        const [viaApp] = await store.listSessions!('u2')
        expect(viaApp!.userAgent).toBe('B'.repeat(USER_AGENT_MAX))
      })
    })

    if (options.userIndex) {
      describe('per-user index', () => {
        function indexed(sut: StoreUnderTest): SessionStore & UserSessionIndex {
          const { store } = sut
          expect(typeof store.listSessions).toBe('function')
          expect(typeof store.destroyUserSessions).toBe('function')
          return store as SessionStore & UserSessionIndex
        }

        it('lists a user’s sessions, newest first, with times and user agent', async () => {
          const store = indexed(await open())
          const app = createApp(store)
          const phone = new Jar()
          const laptop = new Jar()
          const t0 = Date.now()
          const phoneId = await (
            await phone.request(app, '/login/u1', { headers: { 'user-agent': 'Phone/1.0' } })
          ).text()
          await sleep(15)
          const t1 = Date.now()
          const laptopId = await (await laptop.request(app, '/login/u1')).text()
          const t2 = Date.now()

          const list = await store.listSessions('u1')
          expect(list.map((s) => s.id)).toEqual([laptopId, phoneId])
          const [newest, oldest] = list
          expect(oldest!.userAgent).toBe('Phone/1.0')
          expect(newest!.userAgent ?? undefined).toBeUndefined()
          for (const [info, from, to] of [
            [oldest!, t0, t1],
            [newest!, t1, t2],
          ] as const) {
            expect(info.createdAt).toBeGreaterThanOrEqual(from)
            expect(info.createdAt).toBeLessThanOrEqual(to)
            expect(info.lastSeenAt).toBeGreaterThanOrEqual(info.createdAt)
            expect(info.lastSeenAt).toBeLessThanOrEqual(to)
            expect(info.expiresAt).toBe(info.createdAt + MAX_AGE * 1000)
          }
          expect(await store.listSessions('nobody')).toEqual([])
        })

        it('a change updates last seen and user agent', async () => {
          const store = indexed(await open())
          const app = createApp(store)
          const jar = new Jar()
          await jar.request(app, '/login/u1', { headers: { 'user-agent': 'Old/1.0' } })
          const [before] = await store.listSessions('u1')
          await sleep(15)
          await jar.request(app, '/set/theme/dark', { headers: { 'user-agent': 'New/2.0' } })
          const [after] = await store.listSessions('u1')
          expect(after!.id).toBe(before!.id)
          expect(after!.createdAt).toBe(before!.createdAt)
          expect(after!.lastSeenAt).toBeGreaterThan(before!.lastSeenAt)
          expect(after!.userAgent).toBe('New/2.0')
        })

        it('destroyUserSessions(except) logs out the other devices only', async () => {
          const store = indexed(await open())
          const app = createApp(store)
          const current = new Jar()
          const other = new Jar()
          const third = new Jar()
          const bystander = new Jar()
          const currentId = await (await current.request(app, '/login/u1')).text()
          const otherId = await (await other.request(app, '/login/u1')).text()
          await third.request(app, '/login/u1')
          const bystanderId = await (await bystander.request(app, '/login/u2')).text()

          expect(await store.destroyUserSessions('u1', { except: currentId })).toBe(2)
          expect((await store.listSessions('u1')).map((s) => s.id)).toEqual([currentId])

          // The other device's very next request is a fresh session.
          const me = (await (await other.request(app, '/me')).json()) as Record<string, unknown>
          expect(me.isNew).toBe(true)
          expect(me.userId).toBeUndefined()
          expect(me.id).not.toBe(otherId)
          expect(await (await third.request(app, '/peek')).text()).toBe('anon')
          expectNone(await read(store, otherId))

          // The current device and other users carry on.
          expect(await (await current.request(app, '/me')).json()).toEqual({
            isNew: false,
            id: currentId,
            userId: 'u1',
          })
          expect(await (await bystander.request(app, '/peek')).text()).toBe('u2')
          expect((await store.listSessions('u2')).map((s) => s.id)).toEqual([bystanderId])

          // Without except, every session of the user goes.
          expect(await store.destroyUserSessions('u1')).toBe(1)
          expect(await (await current.request(app, '/peek')).text()).toBe('anon')
          expect(await store.listSessions('u1')).toEqual([])
          expect(await store.destroyUserSessions('u1')).toBe(0)
          expect(await (await bystander.request(app, '/peek')).text()).toBe('u2')
        })

        it('logout and regenerate remove the id from the index', async () => {
          const store = indexed(await open())
          const app = createApp(store)
          const a = new Jar()
          const b = new Jar()
          const oldId = await (await a.request(app, '/login/u1')).text()
          const bId = await (await b.request(app, '/login/u1')).text()
          const newId = await (await a.request(app, '/relogin/u1')).text()
          expect((await store.listSessions('u1')).map((s) => s.id).sort()).toEqual(
            [newId, bId].sort(),
          )
          expect((await store.listSessions('u1')).map((s) => s.id)).not.toContain(oldId)
          await a.request(app, '/logout')
          expect((await store.listSessions('u1')).map((s) => s.id)).toEqual([bId])
          await b.request(app, '/destroy')
          expect(await store.listSessions('u1')).toEqual([])
        })

        it('a session follows its user key: switched user, removed key', async () => {
          const store = indexed(await open())
          const app = createApp(store)
          const jar = new Jar()
          const id = await (await jar.request(app, '/login/u1')).text()
          // Same id, different user, through patch (or set).
          await jar.request(app, '/set/userId/u2')
          expect(await store.listSessions('u1')).toEqual([])
          expect((await store.listSessions('u2')).map((s) => s.id)).toEqual([id])
          await jar.request(app, '/del/userId')
          expect(await store.listSessions('u2')).toEqual([])
          expect(await store.destroyUserSessions('u2')).toBe(0)
          expect(((await read(store, id)) as SessionRecord | undefined)?.data).toEqual({})
        })

        it('direct set and delete keep the index in step', async () => {
          const store = indexed(await open())
          const a = newId()
          const b = newId()
          await store.set(a, record({ userId: 'u9' }), undefined)
          await store.set(b, record({ userId: 'u9' }), undefined)
          expect((await store.listSessions('u9')).map((s) => s.id).sort()).toEqual([a, b].sort())
          await store.delete(a, undefined)
          expect((await store.listSessions('u9')).map((s) => s.id)).toEqual([b])
          expect(await store.destroyUserSessions('u9', { except: b })).toBe(0)
          expect(await read(store, b)).toMatchObject({ data: { userId: 'u9' } })
        })
      })

      describeDevices(async (make) => {
        const { store } = await open(make)
        return store as IndexedStore
      })
    }
  })
}
