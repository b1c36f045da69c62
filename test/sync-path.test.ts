// The engine answers synchronously when nothing it uses waits (sealed mode on node:crypto, a Map
// store, a Map revocation list), and says so in `engine.synchronous`; anything asynchronous gets
// a promise, and both give the same session.
import { describe, expect, it } from 'vitest'
import { SessionEngine } from '../src/core/engine.ts'
import { SessionStoreError } from '../src/core/errors.ts'
import { sessionRevocation } from '../src/core/revocation.ts'
import type { SessionOptions, SessionStore } from '../src/core/types.ts'
import { SECRET } from './support.ts'

const URL = 'https://example.com/'
const isPromise = (v: unknown) => v instanceof Promise

const asyncStore = (): SessionStore => {
  const map = new Map<string, unknown>()
  return {
    get: async (id) => map.get(id),
    set: async (id, record) => void map.set(id, record),
    delete: async (id) => void map.delete(id),
  }
}

/** Logs in through `engine`, then reads back and changes a key: says which calls were sync. */
async function roundTrip(options: SessionOptions) {
  const engine = new SessionEngine({ secret: SECRET, ...options })
  const fresh = await engine.load(undefined, undefined, URL)
  fresh.session.userId = 'u1'
  const [[, setCookie]] = (await engine.commitHeaders(fresh, undefined)) as [[string, string]]
  const cookie = setCookie.split(';', 1)[0]!
  const loading = engine.load(cookie, undefined, URL)
  const state = await loading
  const data = state.session.toJSON()
  state.session.n = 1
  const committing = engine.commitHeaders(state, undefined)
  const headers = await committing
  return {
    synchronous: engine.synchronous,
    loadSync: !isPromise(loading),
    commitSync: !isPromise(committing),
    data,
    wrote: headers.length,
  }
}

describe('engine.synchronous and the synchronous answers behind it', () => {
  const cases: [string, SessionOptions, boolean][] = [
    ['sealed mode', {}, true],
    ['a Map store', { store: new Map() }, true],
    [
      'sealed mode with a Map revocation list',
      { revocation: sessionRevocation({ store: new Map() }) },
      true,
    ],
    ['an async store', { store: asyncStore() }, false],
    [
      'sealed mode with an async revocation list',
      { revocation: sessionRevocation({ store: asyncStore() }) },
      false,
    ],
    [
      'a custom encoder',
      {
        encoder: {
          encode: async (record) => Buffer.from(JSON.stringify(record)).toString('base64url'),
          decode: async (value) => JSON.parse(Buffer.from(value, 'base64url').toString()),
        },
      },
      false,
    ],
  ]
  for (const [label, options, sync] of cases) {
    it(`${label}: ${sync ? 'synchronous' : 'asynchronous'}, same session either way`, async () => {
      const r = await roundTrip(options)
      expect(r.synchronous).toBe(sync)
      if (sync) {
        expect(r.loadSync).toBe(true)
        expect(r.commitSync).toBe(true)
      } else {
        expect(r.loadSync && r.commitSync).toBe(false)
      }
      expect(r.data).toEqual({ userId: 'u1' })
      expect(r.wrote).toBe(1)
    })
  }

  it('a request without a cookie opens synchronously even with an async store', () => {
    const engine = new SessionEngine({ secret: SECRET, store: asyncStore() })
    expect(isPromise(engine.load(undefined, undefined, URL))).toBe(false)
  })

  it('a store that throws synchronously makes load throw SessionStoreError at once', () => {
    const engine = new SessionEngine({
      secret: SECRET,
      store: {
        get() {
          throw new Error('down')
        },
        set() {},
        delete() {},
      },
    })
    const signed = new SessionEngine({ secret: SECRET, store: new Map() })
    const state = signed.load(undefined, undefined, URL) as Awaited<ReturnType<typeof signed.load>>
    state.session.a = 1
    const [[, setCookie]] = signed.commitHeaders(state, undefined) as [[string, string]]
    expect(() => engine.load(setCookie.split(';', 1)[0], undefined, URL)).toThrow(SessionStoreError)
  })
})
