// The unseal-result cache: one frozen record per sealed string, shared by the requests that
// bring that string; each request copies what it reads of it, so nothing leaks between them.
import { describe, expect, it } from 'vitest'
import { SessionEngine } from '../src/core/engine.ts'
import { requestOf, SECRET } from './support.ts'

const URL = 'https://example.com/'

function setup() {
  const engine = new SessionEngine({ secret: SECRET })
  const codec = engine.codec!
  const open = (cookie: string) => engine.loadSync(requestOf(cookie, URL), undefined)
  const commit = (state: ReturnType<typeof engine.loadSync>) => {
    const { headers } = engine.commitSync(state, undefined)
    return headers.length === 0 ? undefined : headers[0]![1].split(';', 1)[0]!
  }
  return { engine, codec, open, commit }
}

describe('unseal-result cache', () => {
  it('a nested change in one request is not seen by the next one bringing the same cookie', async () => {
    const { engine, open, commit } = setup()
    const first = engine.loadSync(requestOf(undefined, URL), undefined)
    first.session.cart = { items: ['a'] }
    first.session.tags = ['x']
    const cookie = commit(first)!

    const a = await open(cookie)
    expect(a.session.cart).toEqual({ items: ['a'] })
    // A handler changes nested data, then fails: its response is never committed.
    a.session.cart.items.push('b')
    a.session.tags.length = 0
    const b = await open(cookie)
    expect(b.session.toJSON()).toEqual({ cart: { items: ['a'] }, tags: ['x'] })
    // And what a request reads is its own: plain, writable, tracked.
    b.session.cart.items.push('c')
    expect(b.session.hasChanged).toBe(true)
    expect(Object.isFrozen(b.session.cart)).toBe(false)
  })

  it('Object.getOwnPropertyDescriptor gives the request its copy too, never the cached object', async () => {
    const { engine, open, commit } = setup()
    const first = engine.loadSync(requestOf(undefined, URL), undefined)
    first.session.cart = { items: ['a'] }
    const cookie = commit(first)!
    const a = await open(cookie)
    const descriptor = Object.getOwnPropertyDescriptor(a.session, 'cart')!
    descriptor.value.items.push('b')
    expect(a.session.hasChanged).toBe(true)
    expect((await open(cookie)).session.toJSON()).toEqual({ cart: { items: ['a'] } })
  })

  it('holds an entry only for cookies we sealed or a committed request opened, and not superseded', async () => {
    const { engine, codec, open, commit } = setup()
    const first = engine.loadSync(requestOf(undefined, URL), undefined)
    first.session.n = 0
    let cookie = commit(first)!
    // Write-through: the cookie just sealed is remembered, for the client's next request.
    expect(codec.resultCacheSize()).toBe(1)
    // Reads: the cookie's result is kept, once.
    for (let i = 0; i < 3; i++) expect(commit(await open(cookie))).toBeUndefined()
    expect(codec.resultCacheSize()).toBe(1)
    // Writes: each one supersedes the cookie it brought, whose entry goes; the new one is kept.
    for (let i = 1; i <= 50; i++) {
      const state = await open(cookie)
      expect(state.session.n).toBe(i - 1)
      state.session.n = i
      cookie = commit(state)!
    }
    expect(codec.resultCacheSize()).toBe(1)
    // A cookie sealed elsewhere is kept when the request that opened it is committed without
    // resealing it, not before (a handler that fails never commits, and its cookie is
    // verified again next time).
    const other = setup()
    const read = await other.open(cookie)
    expect(read.session.n).toBe(50)
    expect(other.codec.resultCacheSize()).toBe(0)
    expect(other.commit(read)).toBeUndefined()
    expect(other.codec.resultCacheSize()).toBe(1)
  })
})
