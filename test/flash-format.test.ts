// Where flash values travel: the sealed payload's version 3 (an array: flash values by key in
// its last place), versions 2 (`f` holds values by key, apart from `d`) and 1 still read (0.1.0:
// `f` lists keys of `d`), and 0.1.0 store records.
import { Hono } from 'hono'
import * as Iron from 'iron-webcrypto'
import { describe, expect, it, vi } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import type { InvalidReason, SessionOptions, SessionStore } from '../src/core/types.ts'
import { memoryStore } from '../src/stores/memory.ts'
import { Jar, payloadOf, SECRET } from './support.ts'

const unseal = async (cookie: string) =>
  (await Iron.unseal(cookie, SECRET, Iron.defaults)) as Record<string, unknown>
const seal = (payload: unknown) => Iron.seal(payload, SECRET, Iron.defaults)

function createApp(options: SessionOptions = { secret: SECRET }) {
  const app = new Hono()
  app.use(session(options))
  app.post('/seed', (c) => {
    c.session.userId = 'u1'
    return c.body(null, 204)
  })
  app.post('/flash', (c) => {
    c.session.flash('notice', 'hi')
    return c.body(null, 204)
  })
  app.post('/flash-twice', (c) => {
    c.session.flash('notice', 'one')
    c.session.flash('notice', 'two')
    return c.body(null, 204)
  })
  app.post('/reflash-and-write', (c) => {
    c.session.reflash()
    c.session.visits = 1
    return c.body(null, 204)
  })
  app.get('/', (c) =>
    c.json({
      isNew: c.session.isNew,
      data: c.session.toJSON(),
      flash: c.session.flash(),
      notice: c.session.notice ?? null,
    }),
  )
  app.get('/untouched', (c) => c.body(null, 204))
  return app
}

const cookieValue = (jar: Jar) => jar.cookies.get('sid')!

describe('the sealed payload', () => {
  it('is version 3: an array of the data, times, id; no purpose for the default, no flash', async () => {
    const app = createApp()
    const jar = new Jar()
    await jar.request(app, '/seed', { method: 'POST' })
    const payload = await unseal(cookieValue(jar))
    expect(Array.isArray(payload)).toBe(true)
    const [d, created, expires, sid, ...rest] = payload as unknown as unknown[]
    expect(d).toEqual({ userId: 'u1' })
    expect(typeof created).toBe('number')
    expect(expires).toBe(86_400_000)
    expect(sid).toMatch(/^[A-Za-z0-9_-]{32}$/)
    expect(rest).toEqual([])
  })

  it('with flash values keeps them by key in its last place, none among the data', async () => {
    const app = createApp()
    const jar = new Jar()
    await jar.request(app, '/seed', { method: 'POST' })
    await jar.request(app, '/flash-twice', { method: 'POST' })
    const payload = payloadOf(await unseal(cookieValue(jar)))
    expect(payload.f).toEqual({ notice: ['one', 'two'] })
    expect(payload.d).toEqual({ userId: 'u1' })
    expect(((await unseal(cookieValue(jar))) as unknown as unknown[]).slice(4, 6)).toEqual([0, 0])
  })

  it('costs fewer bytes than versions 1 and 2 of the same session, which still open', async () => {
    const app = createApp()
    const jar = new Jar()
    await jar.request(app, '/seed', { method: 'POST' })
    await jar.request(app, '/flash', { method: 'POST' })
    const v3 = await unseal(cookieValue(jar))
    const { d, c, e, p, s } = payloadOf(v3)
    // 0.1.0's toCompact: the value among the data, its key listed in `f`; version 2 apart.
    const v1 = { d: { ...d, notice: 'hi' }, c, e, p, f: ['notice'], s }
    const v2 = { d, c, e, p, v: 2, f: { notice: ['hi'] }, s }
    expect(JSON.stringify(v3).length).toBeLessThan(JSON.stringify(v2).length)
    expect(JSON.stringify(v3).length).toBeLessThan(JSON.stringify(v1).length)
    for (const old of [v1, v2]) {
      const res = await app.request('http://localhost/', {
        headers: { cookie: `sid=${await seal(old)}` },
      })
      expect(await res.json()).toEqual({
        isNew: false,
        data: { userId: 'u1' },
        flash: { notice: ['hi'] },
        notice: 'hi',
      })
    }
  })

  it('refuses a version 3 payload whose places hold the wrong types', async () => {
    const onInvalid = vi.fn<(reason: InvalidReason) => void>()
    const app = createApp({ secret: SECRET, onInvalid })
    const created = Date.now() - Date.UTC(2026, 0, 1)
    const bad = [
      [[], created, 60_000, 'id'], // data must be an object
      [{ u: 1 }, String(created), 60_000, 'id'],
      [{ u: 1 }, created, null, 'id'],
      [{ u: 1 }, created, 60_000, 7],
      [{ u: 1 }, created, 60_000, 'id', 'soon'],
      [{ u: 1 }, created, 60_000, 'id', 0, ['sid']],
      [{ u: 1 }, created, 60_000, 'id', 0, 0, { notice: 'hi' }],
    ]
    for (const payload of bad) {
      const res = await app.request('http://localhost/', {
        headers: { cookie: `sid=${await seal(payload)}` },
      })
      expect(((await res.json()) as { isNew: boolean }).isNew).toBe(true)
    }
    expect(onInvalid.mock.calls.map(([reason]) => reason)).toEqual(bad.map(() => 'invalid-data'))
    // Another purpose than the default's is refused; the same places, well typed, open.
    const other = await app.request('http://localhost/', {
      headers: { cookie: `sid=${await seal([{ u: 1 }, created, 60_000, 'id', 0, 'billing'])}` },
    })
    expect(((await other.json()) as { isNew: boolean }).isNew).toBe(true)
    const good = await app.request('http://localhost/', {
      headers: {
        cookie: `sid=${await seal([{ u: 1 }, created, 60_000, 'id', 0, 0, { notice: ['hi'] }])}`,
      },
    })
    expect(await good.json()).toEqual({
      isNew: false,
      data: { u: 1 },
      flash: { notice: ['hi'] },
      notice: 'hi',
    })
  })

  it('refuses a payload whose `f` does not match its version', async () => {
    const onInvalid = vi.fn<(reason: InvalidReason) => void>()
    const app = createApp({ secret: SECRET, onInvalid })
    const base = { d: { userId: 'u1' }, c: Date.now(), e: Date.now() + 60_000, p: 'sid' }
    const bad = [
      { ...base, f: { notice: ['hi'] } }, // version 1 lists keys
      { ...base, v: 1, f: { notice: ['hi'] } },
      { ...base, v: 2, f: ['notice'] }, // version 2 holds values by key
      { ...base, v: 2, f: { notice: 'hi' } },
      { ...base, v: 2 },
      { ...base, v: 3, f: { notice: ['hi'] } },
    ]
    for (const payload of bad) {
      const res = await app.request('http://localhost/', {
        headers: { cookie: `sid=${await seal(payload)}` },
      })
      expect(((await res.json()) as { isNew: boolean }).isNew).toBe(true)
    }
    expect(onInvalid.mock.calls.map(([reason]) => reason)).toEqual(bad.map(() => 'invalid-data'))
    // The same payload with a matching `f` opens.
    const good = await app.request('http://localhost/', {
      headers: { cookie: `sid=${await seal({ ...base, v: 2, f: { notice: ['hi'] } })}` },
    })
    expect(((await good.json()) as { flash: unknown }).flash).toEqual({ notice: ['hi'] })
  })
})

describe('a store record as 0.1.0 kept it (flash keys listed, values among the data)', () => {
  /** A store the test also reads and writes directly, as a Map does. */
  type Direct = SessionStore & { get(id: string): any; set(id: string, record: unknown): unknown }
  const stores: [string, () => Direct][] = [
    ['a Map (set)', () => new Map<string, any>() as unknown as Direct],
    ['memoryStore (patch)', () => memoryStore() as unknown as Direct],
  ]
  for (const [name, makeStore] of stores) {
    async function legacy() {
      const store = makeStore()
      const app = createApp({ secret: SECRET, store })
      const jar = new Jar()
      await jar.request(app, '/seed', { method: 'POST' })
      const id = cookieValue(jar).split('.')[0]!
      const record = store.get(id)
      await store.set(id, {
        data: { userId: 'u1', notice: 'hi' },
        createdAt: record.createdAt,
        expiresAt: record.expiresAt,
        flash: ['notice'],
      })
      return { store, app, jar, id }
    }

    it(`${name}: opens with the flash value apart from the data; the write drops it from the entry`, async () => {
      const { store, app, jar, id } = await legacy()
      expect(await (await jar.request(app, '/')).json()).toEqual({
        isNew: false,
        data: { userId: 'u1' },
        flash: { notice: ['hi'] },
        notice: 'hi',
      })
      const after = store.get(id)
      expect(after.data).toEqual({ userId: 'u1' })
      expect(after.flash).toBeUndefined()
      expect(await (await jar.request(app, '/')).json()).toMatchObject({ flash: {}, notice: null })
    })

    it(`${name}: reflash() with a write moves the value out of the entry's data, kept as a flash value`, async () => {
      const { store, app, jar, id } = await legacy()
      await jar.request(app, '/reflash-and-write', { method: 'POST' })
      const after = store.get(id)
      expect(after.data).toEqual({ userId: 'u1', visits: 1 })
      expect(after.flash).toEqual({ notice: ['hi'] })
      expect(await (await jar.request(app, '/')).json()).toMatchObject({
        data: { userId: 'u1', visits: 1 },
        flash: { notice: ['hi'] },
      })
    })

    it(`${name}: an untouched request leaves the entry as it was`, async () => {
      const { store, app, jar, id } = await legacy()
      const before = JSON.stringify(store.get(id))
      await jar.request(app, '/untouched')
      expect(JSON.stringify(store.get(id))).toBe(before)
    })
  }
})
