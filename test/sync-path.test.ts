// The engine can answer synchronously when nothing it uses waits (sealed mode on node:crypto, a
// Map store, a Map revocation list), and says so in `engine.synchronous`; then loadSync() and
// commitSync() work and give the same session as load() and commit(). Anywhere else they refuse.
import { describe, expect, it } from 'vitest'
import { SessionEngine } from '../src/core/engine.ts'
import { SessionError, SessionStoreError } from '../src/core/errors.ts'
import { sessionRevocation } from '../src/core/revocation.ts'
import type { SessionOptions, SessionRevocation, SessionStore } from '../src/core/types.ts'
import { requestOf, SECRET } from './support.ts'

const URL = 'https://example.com/'

const asyncStore = (): SessionStore => {
  const map = new Map<string, unknown>()
  return {
    get: async (id) => map.get(id),
    set: async (id, record) => void map.set(id, record),
    delete: async (id) => void map.delete(id),
  }
}

/** Logs in through `engine`, reads back and changes a key: async, and (where the engine is
 * synchronous) once more through loadSync/commitSync; says what each gave and what the change
 * left (`wrote`: the key as the next request opens it, with the cookie the client then holds:
 * a store write under the same id and deadline sets no cookie). */
const nextCookie = (commit: { headers: readonly (readonly [string, string])[] }, held: string) =>
  commit.headers[0]?.[1].split(';', 1)[0] ?? held
async function roundTrip(options: SessionOptions) {
  const engine = new SessionEngine({ secret: SECRET, ...options })
  const viaAsync = async () => {
    const fresh = await engine.load(requestOf(undefined, URL), undefined)
    fresh.session.userId = 'u1'
    const cookie = (await engine.commit(fresh, undefined)).headers[0]![1].split(';', 1)[0]!
    const state = await engine.load(requestOf(cookie, URL), undefined)
    const data = state.session.toJSON()
    state.session.n = 1
    const next = nextCookie(await engine.commit(state, undefined), cookie)
    return { data, wrote: (await engine.load(requestOf(next, URL), undefined)).session.n }
  }
  const viaSync = () => {
    try {
      const fresh = engine.loadSync(requestOf(undefined, URL), undefined)
      fresh.session.userId = 'u1'
      const cookie = engine.commitSync(fresh, undefined).headers[0]![1].split(';', 1)[0]!
      const state = engine.loadSync(requestOf(cookie, URL), undefined)
      const data = state.session.toJSON()
      state.session.n = 1
      const next = nextCookie(engine.commitSync(state, undefined), cookie)
      return { data, wrote: engine.loadSync(requestOf(next, URL), undefined).session.n }
    } catch (err) {
      return err as SessionError
    }
  }
  return { synchronous: engine.synchronous, ...(await viaAsync()), sync: viaSync() }
}

describe('engine.synchronous, loadSync and commitSync', () => {
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
      expect(r.data).toEqual({ userId: 'u1' })
      expect(r.wrote).toBe(1)
      if (sync) expect(r.sync).toEqual({ data: { userId: 'u1' }, wrote: 1 })
      else {
        expect(r.sync).toBeInstanceOf(SessionError)
        expect((r.sync as SessionError).code).toBe('ERR_SESSION_ASYNC')
      }
    })
  }

  it('loadSync refuses an engine that may wait, whatever the request carries', () => {
    const engine = new SessionEngine({ secret: SECRET, store: asyncStore() })
    expect(() => engine.loadSync(requestOf(undefined, URL), undefined)).toThrow(
      expect.objectContaining({ code: 'ERR_SESSION_ASYNC' }),
    )
  })

  it('a part that claims to be synchronous but waits makes loadSync throw, never hang', async () => {
    const liar: SessionRevocation = {
      userKey: 'userId',
      synchronous: true,
      maxAge: 86_400,
      retainFor() {},
      revoke: async () => {},
      revokeUser: async () => {},
      isRevoked: async () => false,
    }
    const engine = new SessionEngine({ secret: SECRET, revocation: liar })
    expect(engine.synchronous).toBe(true)
    const fresh = await engine.load(requestOf(undefined, URL), undefined)
    fresh.session.a = 1
    const cookie = (await engine.commit(fresh, undefined)).headers[0]![1].split(';', 1)[0]!
    expect(() => engine.loadSync(requestOf(cookie, URL), undefined)).toThrow(
      expect.objectContaining({ code: 'ERR_SESSION_ASYNC' }),
    )
    // The async path waits for the same list and opens the session.
    expect((await engine.load(requestOf(cookie, URL), undefined)).session.a).toBe(1)
  })

  it('a store that throws synchronously makes load reject with SessionStoreError', async () => {
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
    const state = signed.loadSync(requestOf(undefined, URL), undefined)
    state.session.a = 1
    const setCookie = signed.commitSync(state, undefined).headers[0]![1]
    await expect(
      engine.load(requestOf(setCookie.split(';', 1)[0], URL), undefined),
    ).rejects.toThrow(SessionStoreError)
  })
})
