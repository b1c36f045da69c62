import { Hono } from 'hono'
import * as Iron from 'iron-webcrypto'
import { describe, expect, it, vi } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import type { InvalidReason, SessionOptions, SessionStore } from '../src/core/types.ts'
import { IronCodec } from '../src/crypto/iron.ts'
import { Jar, OLD_SECRET, payloadOf, SECRET, setCookies } from './support.ts'

const NEW = 'newest-secret-0123456789-abcdefghijklmnopqrstuvw'
const OLD = OLD_SECRET
const OLDEST = 'oldest-secret-0123456789-abcdefghijklmnopqrstuvw'

function app(options: SessionOptions) {
  const onInvalid = vi.fn<(reason: InvalidReason) => void>()
  const a = new Hono()
    .use(session({ ...options, onInvalid }))
    .get('/login', (c) => {
      c.session.userId = 'u1'
      return c.text('ok')
    })
    .get('/me', (c) => c.text(c.session.userId ?? 'anon'))
  return { app: a, onInvalid }
}

/** Logs in on an app with `options` and returns the jar holding its cookie. */
async function loggedIn(options: SessionOptions): Promise<Jar> {
  const jar = new Jar()
  await jar.request(app(options).app, '/login')
  expect(jar.cookies.get('sid')).toBeTruthy()
  return jar
}

const opensWith = async (value: string, keys: { id: string; secret: string }[]) =>
  new IronCodec(keys).unseal(value)

describe('key rotation in sealed mode', () => {
  it('secret [NEW, OLD] reads a cookie sealed with OLD and re-seals it with NEW at once', async () => {
    const jar = await loggedIn({ secret: OLD })
    const oldValue = jar.cookies.get('sid')!
    const { app: rotated, onInvalid } = app({ secret: [NEW, OLD] })

    const res = await jar.request(rotated, '/me')
    expect(await res.text()).toBe('u1')
    expect(onInvalid).not.toHaveBeenCalled()
    const [cookie] = setCookies(res)
    expect(cookie?.name).toBe('sid')
    expect(cookie!.value).not.toBe(oldValue)

    const withNew = await opensWith(cookie!.value, [{ id: '', secret: NEW }])
    expect(withNew.ok).toBe(true)
    expect(payloadOf((withNew as { value: unknown }).value).d).toEqual({ userId: 'u1' })
    expect((await opensWith(cookie!.value, [{ id: '', secret: OLD }])).ok).toBe(false)

    // The re-sealed cookie now reads on an app that no longer knows OLD.
    expect(await (await jar.request(app({ secret: NEW }).app, '/me')).text()).toBe('u1')
  })

  it('the re-sealed cookie keeps the session deadline (rotation is not a renewal)', async () => {
    const jar = await loggedIn({ secret: OLD, maxAge: 600 })
    const before = payloadOf(await Iron.unseal(jar.cookies.get('sid')!, OLD, Iron.defaults))
    await jar.request(app({ secret: [NEW, OLD], maxAge: 600 }).app, '/me')
    const after = payloadOf(await Iron.unseal(jar.cookies.get('sid')!, NEW, Iron.defaults))
    expect(after.c).toBe(before.c)
    expect(after.e).toBe(before.e)
    expect(after.s).toBe(before.s)
  })

  it('an unchanged session sealed with the newest key gets no Set-Cookie', async () => {
    const jar = await loggedIn({ secret: [NEW, OLD] })
    const res = await jar.request(app({ secret: [NEW, OLD] }).app, '/me')
    expect(await res.text()).toBe('u1')
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('after one re-seal, later requests carry no Set-Cookie', async () => {
    const jar = await loggedIn({ secret: OLD })
    const rotated = app({ secret: [NEW, OLD] }).app
    expect(setCookies(await jar.request(rotated, '/me'))).toHaveLength(1)
    const again = await jar.request(rotated, '/me')
    expect(await again.text()).toBe('u1')
    expect(again.headers.getSetCookie()).toEqual([])
  })

  it('every key in an array ring opens; a key dropped from the ring does not', async () => {
    const jar = await loggedIn({ secret: OLDEST })
    expect(await (await jar.request(app({ secret: [NEW, OLD, OLDEST] }).app, '/me')).text()).toBe(
      'u1',
    )
    const dropped = await loggedIn({ secret: OLDEST })
    const { app: ring, onInvalid } = app({ secret: [NEW, OLD] })
    expect(await (await dropped.request(ring, '/me')).text()).toBe('anon')
    expect(onInvalid).toHaveBeenCalledWith('tampered', expect.anything())
  })

  it('object ids: the largest numeric id seals, older ids open and are re-sealed', async () => {
    const jar = await loggedIn({ secret: { '1': OLD } })
    expect(jar.cookies.get('sid')!.split('*')[1]).toBe('1')
    const res = await jar.request(app({ secret: { '1': OLD, '2': NEW } }).app, '/me')
    expect(await res.text()).toBe('u1')
    const [cookie] = setCookies(res)
    expect(cookie!.value.split('*')[1]).toBe('2')
    const opened = await opensWith(cookie!.value, [{ id: '2', secret: NEW }])
    expect(opened).toMatchObject({ ok: true, stale: false })
  })

  it('object ids compare as numbers: 10 is newer than 9', async () => {
    const jar = await loggedIn({ secret: { '9': OLD, '10': NEW } })
    expect(jar.cookies.get('sid')!.split('*')[1]).toBe('10')
    expect(
      payloadOf(await Iron.unseal(jar.cookies.get('sid')!, { '10': NEW }, Iron.defaults)),
    ).toEqual(expect.objectContaining({ d: { userId: 'u1' } }))
  })

  it('object ids that are not all numeric: the first one is the newest', async () => {
    const jar = await loggedIn({ secret: { previous: OLD } })
    const res = await jar.request(app({ secret: { current: NEW, previous: OLD } }).app, '/me')
    expect(await res.text()).toBe('u1')
    const [cookie] = setCookies(res)
    expect(cookie!.value.split('*')[1]).toBe('current')
    expect(payloadOf(await Iron.unseal(cookie!.value, { current: NEW }, Iron.defaults)).d).toEqual({
      userId: 'u1',
    })
  })

  it('object ids: a cookie under the newest id is left alone', async () => {
    const ring = { '2': NEW, '1': OLD }
    const jar = await loggedIn({ secret: ring })
    const res = await jar.request(app({ secret: ring }).app, '/me')
    expect(await res.text()).toBe('u1')
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('object ids: a cookie under an id the ring lacks is refused as unknown-key', async () => {
    const jar = await loggedIn({ secret: { '3': OLDEST } })
    const { app: ring, onInvalid } = app({ secret: { '2': NEW, '1': OLD } })
    expect(await (await jar.request(ring, '/me')).text()).toBe('anon')
    expect(onInvalid).toHaveBeenCalledWith('unknown-key', expect.anything())
  })

  it('a plain-string cookie (no id) is opened by an id ring holding its secret', async () => {
    const jar = await loggedIn({ secret: OLD })
    const res = await jar.request(app({ secret: { '2': NEW, '1': OLD } }).app, '/me')
    expect(await res.text()).toBe('u1')
    expect(setCookies(res)[0]!.value.split('*')[1]).toBe('2')
  })
})

describe('key rotation in store mode', () => {
  function countingStore() {
    const map = new Map<string, any>()
    const store: SessionStore = {
      get: vi.fn((id: string) => map.get(id)),
      set: vi.fn((id: string, rec: unknown) => {
        map.set(id, rec)
      }),
      delete: vi.fn((id: string) => {
        map.delete(id)
      }),
    }
    return { map, store }
  }

  it('an id signed with the old key is accepted and re-signed, with no store write', async () => {
    const { map, store } = countingStore()
    const jar = await loggedIn({ secret: OLD, store })
    expect(store.set).toHaveBeenCalledTimes(1)
    const oldValue = jar.cookies.get('sid')!
    const [id] = oldValue.split('.')
    expect(map.has(id!)).toBe(true)

    const res = await jar.request(app({ secret: [NEW, OLD], store }).app, '/me')
    expect(await res.text()).toBe('u1')
    const [cookie] = setCookies(res)
    expect(cookie!.value).not.toBe(oldValue)
    expect(cookie!.value.split('.')[0]).toBe(id)
    expect(store.set).toHaveBeenCalledTimes(1)
    expect(store.delete).not.toHaveBeenCalled()
    expect([...map.keys()]).toEqual([id])

    // The new signature verifies with NEW alone.
    expect(await (await jar.request(app({ secret: NEW, store }).app, '/me')).text()).toBe('u1')
    // And the old one does not.
    const stale = new Jar()
    stale.cookies.set('sid', oldValue)
    expect(await (await stale.request(app({ secret: NEW, store }).app, '/me')).text()).toBe('anon')
  })

  it('an id signed with the newest key is not re-signed', async () => {
    const { store } = countingStore()
    const jar = await loggedIn({ secret: [NEW, OLD], store })
    const res = await jar.request(app({ secret: [NEW, OLD], store }).app, '/me')
    expect(await res.text()).toBe('u1')
    expect(res.headers.getSetCookie()).toEqual([])
    expect(store.set).toHaveBeenCalledTimes(1)
  })

  it('an id signed with a key outside the ring is refused before the store is asked', async () => {
    const { store } = countingStore()
    const jar = await loggedIn({ secret: SECRET, store })
    const { app: ring, onInvalid } = app({ secret: [NEW, OLD], store })
    ;(store.get as ReturnType<typeof vi.fn>).mockClear()
    expect(await (await jar.request(ring, '/me')).text()).toBe('anon')
    expect(store.get).not.toHaveBeenCalled()
    expect(onInvalid).toHaveBeenCalledWith('tampered', expect.anything())
  })
})
