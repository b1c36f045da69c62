// A custom store whose get() answers something that is not the record set() was given (the
// JSON text it stored, a database row, a number): each request is safe (a fresh session,
// onInvalid('invalid-data')), and the developer hears about it once per store, by shape only.
import { Hono } from 'hono'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import type { InvalidReason, SessionRecord, SessionStore } from '../src/core/types.ts'
import { muteConsole } from './quiet-console.ts'
import { Jar, SECRET } from './support.ts'

// In the session data: it must never reach the console.
const SECRET_VALUE = 'pw-7f3a9c-do-not-log'

type Shape = (record: SessionRecord, id: string) => unknown

/** A db-object store that keeps the record as JSON text and answers `get` through `shape`. */
function storeAnswering(shape: Shape): SessionStore & { rows: Map<string, string> } {
  const rows = new Map<string, string>()
  return {
    rows,
    get: async (id) => {
      const text = rows.get(id)
      return text === undefined ? undefined : shape(JSON.parse(text), id)
    },
    set: async (id, record) => {
      rows.set(id, JSON.stringify(record))
    },
    delete: async (id) => {
      rows.delete(id)
    },
  }
}

function createApp(store: SessionStore) {
  const reasons: InvalidReason[] = []
  const app = new Hono()
    .use(session({ secret: SECRET, store, onInvalid: (reason) => reasons.push(reason) }))
    .get('/login', (c) => {
      c.session.userId = 'u1'
      c.session.password = SECRET_VALUE
      return c.text(c.session.id)
    })
    .get('/me', (c) => c.json({ isNew: c.session.isNew, userId: c.session.userId ?? null }))
  return { app, reasons }
}

const cases: Array<[string, Shape, RegExp]> = [
  ['the JSON string it stored', (record) => JSON.stringify(record), /returned string, not/],
  [
    'a row object { id, data: "<json>" }',
    (record, id) => ({ id, data: JSON.stringify(record) }),
    /returned \{ id: string, data: string \}, not/,
  ],
  ['a number', () => 42, /returned number, not/],
  [
    'a row with Date timestamps',
    (record) => ({ ...record, createdAt: new Date(record.createdAt), expiresAt: new Date(0) }),
    /returned \{ data: object, createdAt: Date, expiresAt: Date \}, not/,
  ],
]

describe('a store whose get() answers the wrong shape', () => {
  let muted: ReturnType<typeof muteConsole>
  beforeEach(() => {
    muted = muteConsole()
  })
  afterEach(() => muted.restore())

  const warnings = () => (console.warn as unknown as { mock: { calls: unknown[][] } }).mock.calls

  for (const [what, shape, described] of cases) {
    it(`${what}: a fresh session and invalid-data on every request, one warning naming the shape`, async () => {
      const store = storeAnswering(shape)
      const { app, reasons } = createApp(store)
      const jar = new Jar()
      const id = await (await jar.request(app, '/login')).text()
      expect(store.rows.has(id)).toBe(true)
      const cookie = jar.header()
      for (let i = 0; i < 5; i++) {
        // The refused cookie is cleared each time: replay the one the login gave.
        const res = await app.request('http://localhost/me', { headers: { cookie } })
        expect(res.status).toBe(200)
        expect(await res.json()).toEqual({ isNew: true, userId: null })
      }
      expect(reasons).toEqual(Array(5).fill('invalid-data'))

      expect(muted.calls()).toEqual({ error: 0, warn: 1, log: 0, info: 0, debug: 0 })
      const message = String(warnings()[0]![0])
      expect(message).toMatch(/store\.get\(\)/)
      expect(message).toMatch(described)
      expect(message).toContain("refused as 'invalid-data'")
      expect(message).toContain('not the record set() was given ({ data, createdAt, expiresAt, … }')
      // The shape, never the content.
      expect(message).not.toContain(SECRET_VALUE)
      expect(message).not.toContain('u1')
      expect(message).not.toContain(id)
    })
  }

  it('warns once per store: a second store over the same mistake warns again, a shared one does not', async () => {
    const first = storeAnswering((record) => JSON.stringify(record))
    const second = storeAnswering((record) => JSON.stringify(record))
    // Two apps (two engines) over `first`, one over `second`.
    for (const store of [first, first, second]) {
      const { app } = createApp(store)
      const jar = new Jar()
      await jar.request(app, '/login')
      for (let i = 0; i < 3; i++) await jar.request(app, '/me')
    }
    expect(muted.calls().warn).toBe(2)
  })

  it('a store that answers records (or nothing) never warns', async () => {
    const store = storeAnswering((record) => record)
    const { app, reasons } = createApp(store)
    const jar = new Jar()
    await jar.request(app, '/login')
    expect(await (await jar.request(app, '/me')).json()).toEqual({ isNew: false, userId: 'u1' })
    store.rows.clear()
    expect(await (await jar.request(app, '/me')).json()).toEqual({ isNew: true, userId: null })
    expect(reasons).toEqual(['not-found'])
    expect(muted.calls().warn).toBe(0)
  })
})
