// A revocation store whose get() answers something that is not the entry set() was given (the
// JSON text it stored, a database row): the list cannot read what it revokes, so it fails
// closed, refusing every session the key names, and the developer hears about it once, by shape
// only. Before, such an entry read as "not revoked": revoke() and revokeUser() silently did nothing.
import { Hono } from 'hono'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { sessionRevocation } from '../src/core/revocation.ts'
import type { InvalidReason, SessionRecord, SessionStore } from '../src/core/types.ts'
import { muteConsole } from './quiet-console.ts'
import { Jar, SECRET } from './support.ts'

type Shape = (record: SessionRecord) => unknown

/** A db-object store keeping records as JSON text, answering `get` through `shape`. */
function storeAnswering(shape: Shape): SessionStore & { rows: Map<string, string> } {
  const rows = new Map<string, string>()
  return {
    rows,
    get: async (key) => {
      const text = rows.get(key)
      return text === undefined ? undefined : shape(JSON.parse(text))
    },
    set: async (key, record) => {
      rows.set(key, JSON.stringify(record))
    },
    delete: async (key) => {
      rows.delete(key)
    },
  }
}

function createApp(store: SessionStore) {
  const revocation = sessionRevocation({ store })
  const reasons: InvalidReason[] = []
  const app = new Hono()
    .use(session({ secret: SECRET, revocation, onInvalid: (reason) => reasons.push(reason) }))
    .post('/login/:user', async (c) => {
      await c.session.regenerate()
      c.session.userId = c.req.param('user')
      return c.text(c.session.id)
    })
    .get('/', (c) => c.json({ isNew: c.session.isNew, userId: c.session.userId ?? null }))
  return { app, reasons, revocation }
}

async function login(app: Hono<any>, user: string) {
  const jar = new Jar()
  const id = await (await jar.request(app, `/login/${user}`, { method: 'POST' })).text()
  return { jar, id }
}

const me = async (app: Hono<any>, jar: Jar) =>
  (await (await jar.request(app, '/')).json()) as { isNew: boolean; userId: string | null }

const cases: Array<[string, Shape, RegExp]> = [
  ['the JSON string it stored', (record) => JSON.stringify(record), /returned string, not/],
  [
    'a row { data: "<json>" }',
    (record) => ({ data: JSON.stringify(record.data), expiresAt: record.expiresAt }),
    /returned \{ data: string, expiresAt: number \}, not/,
  ],
  ['a number', () => 1, /returned number, not/],
]

describe('a revocation store whose get() answers the wrong shape', () => {
  let muted: ReturnType<typeof muteConsole>
  beforeEach(() => {
    muted = muteConsole()
  })
  afterEach(() => muted.restore())
  const warnings = () =>
    (console.warn as unknown as { mock: { calls: unknown[][] } }).mock.calls.map((c) =>
      String(c[0]),
    )

  for (const [what, shape, described] of cases) {
    it(`${what}: revoke() still refuses the session, others stay, one warning`, async () => {
      const store = storeAnswering(shape)
      const { app, reasons, revocation } = createApp(store)
      const alice = await login(app, 'alice')
      const bob = await login(app, 'bob')
      expect(await me(app, alice.jar)).toEqual({ isNew: false, userId: 'alice' })
      // Nothing stored yet: no warning, nothing refused.
      expect(warnings()).toEqual([])

      await revocation.revoke(alice.id)
      expect(store.rows.has(`sid:${alice.id}`)).toBe(true)
      const stolen = alice.jar.header()
      for (let i = 0; i < 3; i++) {
        // The refused cookie is cleared each time: replay the one the login gave.
        const res = await app.request('http://localhost/', { headers: { cookie: stolen } })
        expect(await res.json()).toEqual({ isNew: true, userId: null })
      }
      expect(reasons).toEqual(['revoked', 'revoked', 'revoked'])
      expect(await me(app, bob.jar)).toEqual({ isNew: false, userId: 'bob' })

      const warned = warnings()
      expect(warned).toHaveLength(1)
      expect(warned[0]).toMatch(described)
      expect(warned[0]).toMatch(/revoking every session its key names/)
      // The shape, never the content (ids, timestamps).
      expect(warned[0]).not.toContain(alice.id)
    })
  }

  it('a user entry it cannot read ends every session of that user, before and after', async () => {
    const store = storeAnswering((record) => JSON.stringify(record))
    const { app, reasons, revocation } = createApp(store)
    const alice = await login(app, 'alice')
    const bob = await login(app, 'bob')
    await revocation.revokeUser('alice', { except: alice.id })
    // Which session it spares (and when it was written) cannot be read: none is spared.
    expect(await me(app, alice.jar)).toEqual({ isNew: true, userId: null })
    const again = await login(app, 'alice')
    expect(await me(app, again.jar)).toEqual({ isNew: true, userId: null })
    expect(await me(app, bob.jar)).toEqual({ isNew: false, userId: 'bob' })
    expect(reasons).toEqual(['revoked', 'revoked'])
    expect(warnings()).toHaveLength(1)
  })

  it('a store answering the entry it was given (null when empty) is read as before', async () => {
    const store = storeAnswering((record) => record)
    const { app, reasons, revocation } = createApp(store)
    const alice = await login(app, 'alice')
    const bob = await login(app, 'bob')
    await revocation.revokeUser('alice', { except: alice.id })
    expect(await me(app, alice.jar)).toEqual({ isNew: false, userId: 'alice' })
    const after = await login(app, 'alice')
    expect(await me(app, after.jar)).toEqual({ isNew: false, userId: 'alice' })
    await revocation.revoke(bob.id)
    expect(await me(app, bob.jar)).toEqual({ isNew: true, userId: null })
    expect(reasons).toEqual(['revoked'])
    expect(warnings()).toEqual([])
  })
})
