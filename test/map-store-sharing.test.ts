// A Map store keeps the records it writes deep-frozen and lets every request that reads one
// share it (no copy per read). What the request changes is its own until commit; the Map's
// record is replaced, never changed in place; a record the app put in the Map itself is the
// app's, read through a copy and never frozen.
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { session } from '../src/adapters/hono.ts'
import { SessionEngine } from '../src/core/engine.ts'
import { Jar, requestOf, SECRET } from './support.ts'

type Cart = { items: { sku: string; qty: number }[] }

function createApp(map: Map<string, any>) {
  let midway: unknown
  const app = new Hono()
    .use(session({ secret: SECRET, store: map }))
    .get('/login', (c) => {
      c.session.userId = 'u1'
      c.session.cart = { items: [{ sku: 'a', qty: 1 }] }
      return c.text(c.session.id)
    })
    .get('/add', (c) => {
      const cart = c.session.cart as Cart
      cart.items.push({ sku: 'b', qty: 1 })
      cart.items[0]!.qty++
      // What the Map holds while the handler runs: the record as the last commit left it.
      midway = structuredClone(map.get(c.session.id)?.data)
      return c.text('ok')
    })
    .get('/add-then-fail', (c) => {
      ;(c.session.cart as Cart).items[0]!.qty = 99
      c.session.userId = 'someone else'
      throw new Error('half way')
    })
    .get('/cart', (c) => c.json(c.session.cart))
  app.onError((_err, c) => c.text('failed', 500))
  return { app, midway: () => midway }
}

describe('Map store: records shared between requests', () => {
  it('a nested change reaches the Map at commit, never before', async () => {
    const map = new Map<string, any>()
    const { app, midway } = createApp(map)
    const jar = new Jar()
    const id = await (await jar.request(app, '/login')).text()
    const before = map.get(id)
    expect(Object.isFrozen(before)).toBe(true)
    expect(Object.isFrozen(before.data.cart.items[0])).toBe(true)

    expect((await jar.request(app, '/add')).status).toBe(200)
    expect(midway()).toEqual({ userId: 'u1', cart: { items: [{ sku: 'a', qty: 1 }] } })
    // A new record in the Map; the one before it is as it was (a request may still share it).
    const after = map.get(id)
    expect(after).not.toBe(before)
    expect(after.data.cart).toEqual({
      items: [
        { sku: 'a', qty: 2 },
        { sku: 'b', qty: 1 },
      ],
    })
    expect(before.data.cart).toEqual({ items: [{ sku: 'a', qty: 1 }] })
    expect(await (await jar.request(app, '/cart')).json()).toEqual(after.data.cart)
  })

  it('a handler that throws after changing nested and top-level values leaves the record as it was', async () => {
    const map = new Map<string, any>()
    const { app } = createApp(map)
    const jar = new Jar()
    const id = await (await jar.request(app, '/login')).text()
    const before = map.get(id)
    const snapshot = structuredClone(before)

    expect((await jar.request(app, '/add-then-fail')).status).toBe(500)
    expect(map.get(id)).toBe(before)
    expect(structuredClone(map.get(id))).toEqual(snapshot)
    expect(await (await jar.request(app, '/cart')).json()).toEqual({
      items: [{ sku: 'a', qty: 1 }],
    })
  })

  it('requests that share one record are isolated from each other', () => {
    const engine = new SessionEngine({ secret: SECRET, store: new Map() })
    const first = engine.loadSync(requestOf(undefined), undefined)
    first.session.cart = { items: [{ sku: 'a', qty: 1 }] }
    first.session.tags = ['x']
    const cookie = engine.commitSync(first, undefined).headers[0]![1].split(';', 1)[0]!

    // Two requests in flight with the same cookie: each changes its own values.
    const a = engine.loadSync(requestOf(cookie), undefined)
    const b = engine.loadSync(requestOf(cookie), undefined)
    ;(a.session.cart as Cart).items[0]!.qty = 5
    ;(a.session.tags as string[]).push('y')
    expect(b.session.cart).toEqual({ items: [{ sku: 'a', qty: 1 }] })
    expect(b.session.tags).toEqual(['x'])
    // Committing one does not reach the other, nor do values the app keeps after a commit.
    const tags = a.session.tags as string[]
    engine.commitSync(a, undefined)
    tags.push('after commit')
    expect(b.session.tags).toEqual(['x'])
    const c = engine.loadSync(requestOf(cookie), undefined)
    expect(c.session.cart).toEqual({ items: [{ sku: 'a', qty: 5 }] })
    expect(c.session.tags).toEqual(['x', 'y'])
    // And a value read is the request's own, which it may change freely.
    expect(Object.isFrozen(c.session.tags)).toBe(false)
  })

  it("flash values read from a shared record are the request's own", () => {
    const engine = new SessionEngine({ secret: SECRET, store: new Map() })
    const first = engine.loadSync(requestOf(undefined), undefined)
    first.session.flash('notice', { text: 'hi' })
    const cookie = engine.commitSync(first, undefined).headers[0]![1].split(';', 1)[0]!
    const a = engine.loadSync(requestOf(cookie), undefined)
    const [notice] = a.session.flash('notice') as { text: string }[]
    notice!.text = 'changed'
    const b = engine.loadSync(requestOf(cookie), undefined)
    expect(b.session.flash('notice')).toEqual([{ text: 'hi' }])
  })

  it('a record the app put in the Map is read through a copy and nothing of it is frozen', async () => {
    const map = new Map<string, any>()
    const { app } = createApp(map)
    const jar = new Jar()
    const id = await (await jar.request(app, '/login')).text()
    // The app replaces the record with one of its own (as a migration script might).
    const cart: Cart = { items: [{ sku: 'z', qty: 1 }] }
    const own = { ...structuredClone(map.get(id)), data: { userId: 'u1', cart, extra: { n: 1 } } }
    map.set(id, own)

    expect((await jar.request(app, '/add')).status).toBe(200)
    // Written as a new record merged into the app's: the request changed a copy, and nothing
    // of the app's is frozen.
    expect(cart).toEqual({ items: [{ sku: 'z', qty: 1 }] })
    expect(Object.isFrozen(own.data.extra)).toBe(false)
    expect(Object.isFrozen(cart.items[0])).toBe(false)
    const written = map.get(id)
    expect(written).not.toBe(own)
    expect(Object.isFrozen(written.data.extra)).toBe(false)
    expect(written.data).toEqual({
      userId: 'u1',
      extra: { n: 1 },
      cart: {
        items: [
          { sku: 'z', qty: 2 },
          { sku: 'b', qty: 1 },
        ],
      },
    })
  })

  it("a schema fills its defaults into a shared record's session without changing the record", () => {
    const map = new Map<string, any>()
    const writer = new SessionEngine({ secret: SECRET, store: map })
    const first = writer.loadSync(requestOf(undefined), undefined)
    first.session.userId = 'u1'
    const cookie = writer.commitSync(first, undefined).headers[0]![1].split(';', 1)[0]!
    const id = first.id!
    const kept = map.get(id)

    // A later release adds a key with a default: sessions written before open with it.
    const schema = z.object({
      userId: z.string().optional(),
      prefs: z.object({ theme: z.string() }).default({ theme: 'dark' }),
    })
    const reader = new SessionEngine({ secret: SECRET, store: map, schema })
    const state = reader.loadSync(requestOf(cookie), undefined)
    expect(state.isNew).toBe(false)
    expect(state.session.prefs).toEqual({ theme: 'dark' })
    expect(map.get(id)).toBe(kept)
    expect(kept.data).toEqual({ userId: 'u1' })
  })

  it('a value a write leaves untouched goes into the new record as the same frozen one, which later changes never reach', () => {
    const map = new Map<string, any>()
    const engine = new SessionEngine({ secret: SECRET, store: map })
    const first = engine.loadSync(requestOf(undefined), undefined)
    first.session.userId = 'u1'
    first.session.cart = { items: [{ sku: 'a', qty: 1 }] }
    const cookie = engine.commitSync(first, undefined).headers[0]![1].split(';', 1)[0]!
    const id = first.id!
    const kept = map.get(id)

    // A handler that holds the session without reading the cart, while others write.
    const holder = engine.loadSync(requestOf(cookie), undefined)
    const other = engine.loadSync(requestOf(cookie), undefined)
    other.session.userId = 'u2'
    engine.commitSync(other, undefined)
    const second = map.get(id)
    expect(second.data.cart).toBe(kept.data.cart)
    expect(Object.isFrozen(second.data.cart.items[0])).toBe(true)

    const later = engine.loadSync(requestOf(cookie), undefined)
    ;(later.session.cart as Cart).items[0]!.qty = 7
    ;(later.session.cart as Cart).items.push({ sku: 'b', qty: 1 })
    engine.commitSync(later, undefined)
    expect(map.get(id).data.cart).toEqual({
      items: [
        { sku: 'a', qty: 7 },
        { sku: 'b', qty: 1 },
      ],
    })
    expect(second.data).toEqual({ userId: 'u2', cart: { items: [{ sku: 'a', qty: 1 }] } })
    expect(kept.data).toEqual({ userId: 'u1', cart: { items: [{ sku: 'a', qty: 1 }] } })
    expect(holder.session.cart).toEqual({ items: [{ sku: 'a', qty: 1 }] })
    expect(holder.session.userId).toBe('u1')
  })

  it('a regenerated id writes untouched shared values into its new record, and a later change is its own', () => {
    const map = new Map<string, any>()
    const engine = new SessionEngine({ secret: SECRET, store: map })
    const first = engine.loadSync(requestOf(undefined), undefined)
    first.session.cart = { items: [{ sku: 'a', qty: 1 }] }
    const cookie = engine.commitSync(first, undefined).headers[0]![1].split(';', 1)[0]!
    const kept = map.get(first.id!)

    const state = engine.loadSync(requestOf(cookie), undefined)
    state.session.regenerate()
    const next = engine.commitSync(state, undefined).headers[0]![1].split(';', 1)[0]!
    expect(map.has(first.id!)).toBe(false)
    expect(map.get(state.id!).data.cart).toBe(kept.data.cart)

    const later = engine.loadSync(requestOf(next), undefined)
    ;(later.session.cart as Cart).items[0]!.qty = 3
    engine.commitSync(later, undefined)
    expect(map.get(state.id!).data.cart).toEqual({ items: [{ sku: 'a', qty: 3 }] })
    expect(kept.data.cart).toEqual({ items: [{ sku: 'a', qty: 1 }] })
  })

  it('nested changes after save() reach the Map at the final commit, not the saved record', async () => {
    const map = new Map<string, any>()
    const engine = new SessionEngine({ secret: SECRET, store: map })
    const first = engine.loadSync(requestOf(undefined), undefined)
    first.session.cart = { items: [{ sku: 'a', qty: 1 }] }
    first.session.tags = ['x']
    const cookie = engine.commitSync(first, undefined).headers[0]![1].split(';', 1)[0]!
    const id = first.id!

    const state = engine.loadSync(requestOf(cookie), undefined)
    state.session.userId = 'u1'
    await state.session.save()
    const saved = map.get(id)
    // The cart was not read before the save: the saved record shares the earlier one's.
    expect(saved.data).toEqual({
      userId: 'u1',
      cart: { items: [{ sku: 'a', qty: 1 }] },
      tags: ['x'],
    })
    const cart = state.session.cart as Cart
    cart.items[0]!.qty = 2
    ;(state.session.tags as string[]).push('y')
    expect(saved.data.cart).toEqual({ items: [{ sku: 'a', qty: 1 }] })
    engine.commitSync(state, undefined)
    expect(map.get(id).data).toEqual({
      userId: 'u1',
      cart: { items: [{ sku: 'a', qty: 2 }] },
      tags: ['x', 'y'],
    })
    expect(saved.data).toEqual({
      userId: 'u1',
      cart: { items: [{ sku: 'a', qty: 1 }] },
      tags: ['x'],
    })
  })

  it('a value JSON would drop is refused on a write that shares the rest', () => {
    const engine = new SessionEngine({ secret: SECRET, store: new Map() })
    const first = engine.loadSync(requestOf(undefined), undefined)
    first.session.cart = { items: [{ sku: 'a', qty: 1 }] }
    const cookie = engine.commitSync(first, undefined).headers[0]![1].split(';', 1)[0]!
    const state = engine.loadSync(requestOf(cookie), undefined)
    ;(state.session.cart as any).at = new Date(0)
    expect(() => engine.commitSync(state, undefined)).toThrow(/cart\.at.*a Date/)
  })
})
