// commit() rebases the state on what it wrote: a second commit in the same request (Next's
// save() after save(), a handler that commits early) writes only what changed since.
import { describe, expect, it } from 'vitest'
import { SessionEngine } from '../src/core/engine.ts'
import { sessionRevocation } from '../src/core/revocation.ts'
import { loggingStore as logging, requestOf, SECRET } from './support.ts'

const loggingStore = () => logging({ patch: true })

const cookieOf = (headers: ReadonlyArray<readonly [string, string]>) =>
  headers[0]![1].split(';', 1)[0]!

describe('commit twice in one request', () => {
  it('store mode: after regenerate(), the second commit neither rewrites nor deletes again', async () => {
    const { store, calls } = loggingStore()
    const engine = new SessionEngine({ secret: SECRET, store })
    const first = await engine.load(requestOf(), undefined)
    first.session.cart = ['a']
    const login = cookieOf((await engine.commit(first, undefined)).headers)
    const oldId = first.session.id
    calls.length = 0

    const state = await engine.load(requestOf(login), undefined)
    await state.session.regenerate()
    state.session.userId = 'u1'
    const one = await engine.commit(state, undefined)
    const newId = state.session.id
    expect(calls).toEqual([`set ${newId}`, `delete ${oldId}`])
    expect(one.headers).toHaveLength(1)
    expect(one.token).toBe(cookieOf(one.headers).slice('sid='.length))

    calls.length = 0
    const two = await engine.commit(state, undefined)
    expect(calls).toEqual([])
    expect(two.headers).toEqual([])
    expect(two.token).toBe(one.token)

    // A later change is a patch of the new entry, never the old one.
    state.session.cart.push('b')
    await engine.commit(state, undefined)
    expect(calls).toEqual([`patch ${newId}`])
    const next = await engine.load(requestOf(cookieOf(one.headers)), undefined)
    expect(next.session.toJSON()).toEqual({ cart: ['a', 'b'], userId: 'u1' })
  })

  it('sealed mode with revocation: the old id is revoked once, not on every later commit', async () => {
    const map = new Map<string, unknown>()
    const revocation = sessionRevocation({ store: map })
    const revoked: string[] = []
    const revoke = revocation.revoke.bind(revocation)
    revocation.revoke = (id) => {
      revoked.push(id)
      return revoke(id)
    }
    const engine = new SessionEngine({ secret: SECRET, revocation })
    const first = await engine.load(requestOf(), undefined)
    first.session.userId = 'u1'
    const login = cookieOf((await engine.commit(first, undefined)).headers)
    const oldId = first.session.id

    const state = await engine.load(requestOf(login), undefined)
    await state.session.regenerate()
    const one = await engine.commit(state, undefined)
    expect(revoked).toEqual([oldId])
    state.session.n = 1
    const two = await engine.commit(state, undefined)
    expect(revoked).toEqual([oldId])
    // The second cookie carries both commits' data and the new id; the first cookie is not revoked.
    const later = await engine.load(requestOf(cookieOf(two.headers)), undefined)
    expect(later.session.toJSON()).toEqual({ userId: 'u1', n: 1 })
    expect(later.session.id).toBe(state.session.id)
    expect((await engine.load(requestOf(cookieOf(one.headers)), undefined)).isNew).toBe(false)
    expect((await engine.load(requestOf(login), undefined)).isNew).toBe(true)
  })

  it('a flash value written by the first commit stays pending through the second', async () => {
    const engine = new SessionEngine({ secret: SECRET })
    const state = await engine.load(requestOf(), undefined)
    state.session.flash('notice', 'saved')
    await engine.commit(state, undefined)
    state.session.other = 1
    const cookie = cookieOf((await engine.commit(state, undefined)).headers)
    const next = await engine.load(requestOf(cookie), undefined)
    expect(next.session.notice).toBe('saved')
    const after = cookieOf((await engine.commit(next, undefined)).headers)
    const gone = await engine.load(requestOf(after), undefined)
    expect(gone.session.toJSON()).toEqual({ other: 1 })
  })

  it('nothing changed after a commit: the second commit sends nothing', async () => {
    const engine = new SessionEngine({ secret: SECRET })
    const state = await engine.load(requestOf(), undefined)
    state.session.a = 1
    expect((await engine.commit(state, undefined)).headers).toHaveLength(1)
    expect((await engine.commit(state, undefined)).headers).toEqual([])
    expect(state.session.hasChanged).toBe(false)
  })

  it('destroy() after a commit deletes what that commit wrote and clears the cookie', async () => {
    const { store, calls, map } = loggingStore()
    const engine = new SessionEngine({ secret: SECRET, store })
    const state = await engine.load(requestOf(), undefined)
    state.session.a = 1
    const one = await engine.commit(state, undefined)
    const id = state.session.id
    expect(map.has(id)).toBe(true)
    state.session.destroy()
    const two = await engine.commit(state, undefined)
    expect(calls).toEqual([`set ${id}`, `delete ${id}`])
    expect(map.has(id)).toBe(false)
    expect(two.headers[0]![1]).toMatch(/^sid=; Max-Age=0;/)
    expect(two.token).toBeNull()
    expect(one.token).not.toBeNull()
  })

  it('commitSync gives the same rebased result on a synchronous engine', () => {
    const engine = new SessionEngine({ secret: SECRET, store: new Map() })
    const state = engine.loadSync(requestOf(), undefined)
    state.session.a = 1
    const one = engine.commitSync(state, undefined)
    expect(one.headers).toHaveLength(1)
    expect(engine.commitSync(state, undefined)).toEqual({
      headers: [],
      cookies: [],
      token: one.token,
    })
  })
})
