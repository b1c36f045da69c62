// Session fixation and id adoption, end to end through Hono's app.request, in sealed mode and in
// store mode with a Map: regenerate() on login, a planted anonymous cookie, forged and unknown
// store ids, and how unpredictable new ids are.
import { Hono } from 'hono'
import * as Iron from 'iron-webcrypto'
import { afterAll, describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { SessionEngine } from '../src/core/engine.ts'
import type { InvalidReason, SessionOptions } from '../src/core/types.ts'
import { attackReport } from './attack-report.ts'
import { failOnConsoleOutput } from './quiet-console.ts'
import { Jar, OLD_SECRET, payloadOf, requestOf, SECRET, setCookies } from './support.ts'

type Mode = 'sealed' | 'store'
type Data = { userId?: string; cart?: string[] }
type Me = { id: string; isNew: boolean; data: Data }

const ID = /^[A-Za-z0-9_-]{32}$/
const STORE_COOKIE = /^([A-Za-z0-9_-]{32})\.([A-Za-z0-9_-]{43})$/
const CLEARED =
  'sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax'
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

const report = attackReport()
afterAll(() => report.write())

failOnConsoleOutput()

/** A Map that remembers every key written and deleted, as the store of a Hono app. */
class RecordingMap extends Map<string, unknown> {
  writes: string[] = []
  deletes: string[] = []
  override set(key: string, value: unknown): this {
    this.writes.push(key)
    return super.set(key, value)
  }
  override delete(key: string): boolean {
    this.deletes.push(key)
    return super.delete(key)
  }
}

function createApp(mode: Mode, extra: SessionOptions = {}) {
  const store = new RecordingMap()
  const reasons: InvalidReason[] = []
  const app = new Hono()
    .use(
      session<Data>({
        secret: SECRET,
        ...(mode === 'store' ? { store } : {}),
        ...extra,
        onInvalid: (reason) => void reasons.push(reason),
      }),
    )
    // Anonymous state worth keeping: what an attacker does to get a real session.
    .post('/cart', (c) => {
      c.session.cart = [...(c.session.cart ?? []), 'item']
      return c.text(c.session.id)
    })
    .post('/login', async (c) => {
      await c.session.regenerate()
      c.session.userId = 'victim'
      return c.text(c.session.id)
    })
    .post('/login-without-regenerate', (c) => {
      c.session.userId = 'victim'
      return c.text(c.session.id)
    })
    .get('/me', (c) =>
      c.json({ id: c.session.id, isNew: c.session.isNew, data: c.session.toJSON() }),
    )
    .get('/id', (c) => c.text(c.session.id))
  app.onError((err, c) => c.text(`${err.name}: ${err.message}`, 500))
  return { app, store, reasons }
}

const me = async (app: Hono<any>, jar: Jar) => (await (await jar.request(app, '/me')).json()) as Me

/** A jar holding exactly `cookie` (a `sid` value), as if planted in the browser. */
function jarWith(cookie: string): Jar {
  const jar = new Jar()
  jar.cookies.set('sid', cookie)
  return jar
}

/** A correctly signed store-mode cookie for `id`, made with the key but never stored by the app. */
async function signedFor(id?: string): Promise<string> {
  const engine = new SessionEngine({ secret: SECRET, store: new Map() })
  const state = await engine.load(requestOf(), undefined)
  if (id !== undefined) state.id = id
  state.session.cart = ['elsewhere']
  const setCookie = (await engine.commit(state, undefined)).cookies[0]?.header
  return setCookie!.slice('sid='.length, setCookie!.indexOf(';'))
}

const randomB64 = (n: number) => {
  const bytes = new Uint8Array(n)
  crypto.getRandomValues(bytes)
  return Array.from(bytes, (b) => B64URL[b & 63]).join('')
}
/** 43 random base64url characters whose last one has its two spare bits clear (canonical). */
const randomMac = () => {
  const s = randomB64(43)
  return s.slice(0, 42) + B64URL[B64URL.indexOf(s[42]!) & ~3]
}

describe('regenerate() on login', () => {
  for (const mode of ['sealed', 'store'] as const) {
    it(`${mode}: login after regenerate() gets a new id; the data stays`, async () => {
      const { app, store } = createApp(mode)
      const jar = new Jar()
      const anonId = await (await jar.request(app, '/cart', { method: 'POST' })).text()
      const anonCookie = jar.cookies.get('sid')!
      expect(anonId).toMatch(ID)

      const res = await jar.request(app, '/login', { method: 'POST' })
      const loginId = await res.text()
      expect(loginId).toMatch(ID)
      expect(loginId).not.toBe(anonId)
      const [cookie, ...more] = setCookies(res)
      expect(more).toEqual([])
      expect(cookie!.value).not.toBe(anonCookie)
      expect(cookie!.attributes).toMatchObject({ path: '/', httponly: '', samesite: 'Lax' })

      expect(await me(app, jar)).toEqual({
        id: loginId,
        isNew: false,
        data: { cart: ['item'], userId: 'victim' },
      })
      if (mode === 'store') {
        expect(cookie!.value.startsWith(`${loginId}.`)).toBe(true)
        expect([...store.keys()]).toEqual([loginId])
        expect(store.deletes).toEqual([anonId])
      }
    })
  }

  it('store: the old id is dead in the store; its cookie replayed gets a fresh session with another id and no data', async () => {
    const count = report.count(
      'fixation: old cookie replayed after regenerate() (store)',
      'entry deleted; replay gets a fresh session',
    )
    const { app, store, reasons } = createApp('store')
    for (let i = 0; i < 20; i++) {
      count.run++
      const jar = new Jar()
      const anonId = await (await jar.request(app, '/cart', { method: 'POST' })).text()
      const anonCookie = jar.cookies.get('sid')!
      const loginId = await (await jar.request(app, '/login', { method: 'POST' })).text()
      expect(store.has(anonId)).toBe(false)
      expect(store.get(loginId)).toMatchObject({ data: { cart: ['item'], userId: 'victim' } })
      const writes = store.writes.length

      reasons.length = 0
      const replay = await app.request('http://localhost/me', {
        headers: { cookie: `sid=${anonCookie}` },
      })
      expect(replay.status).toBe(200)
      const seen = (await replay.json()) as Me
      expect(seen.isNew).toBe(true)
      expect(seen.data).toEqual({})
      expect(seen.id).toMatch(ID)
      expect([anonId, loginId]).not.toContain(seen.id)
      expect(reasons).toEqual(['not-found'])
      // The refused cookie is cleared, and nothing is written for it.
      expect(replay.headers.getSetCookie()).toEqual([CLEARED])
      expect(store.writes.length).toBe(writes)
      expect(store.has(anonId)).toBe(false)
      count.rejected++
    }
  })
})

describe('a planted anonymous cookie sees nothing of the victim’s login', () => {
  for (const mode of ['sealed', 'store'] as const) {
    it(`${mode}: the attacker’s cookie, replayed after the victim logged in with regenerate(), has no userId`, async () => {
      const count = report.count(
        `fixation: planted anonymous cookie replayed after the victim's login (${mode})`,
        mode === 'store'
          ? 'planted id deleted on login: replay is not-found'
          : "replay opens the attacker's own anonymous seal, never the victim's",
      )
      const { app, store, reasons } = createApp(mode)
      for (let i = 0; i < 20; i++) {
        count.run++
        // The attacker gets a real anonymous session from the site...
        const attacker = new Jar()
        const plantedId = await (await attacker.request(app, '/cart', { method: 'POST' })).text()
        const planted = attacker.cookies.get('sid')!
        // ...and plants its cookie in the victim's browser, who then uses it and logs in.
        const victim = jarWith(planted)
        expect(await me(app, victim)).toEqual({
          id: plantedId,
          isNew: false,
          data: { cart: ['item'] },
        })
        const victimId = await (await victim.request(app, '/login', { method: 'POST' })).text()
        expect(victimId).not.toBe(plantedId)
        expect(victim.cookies.get('sid')).not.toBe(planted)
        // The victim keeps using the session after logging in.
        await victim.request(app, '/cart', { method: 'POST' })
        expect(await me(app, victim)).toEqual({
          id: victimId,
          isNew: false,
          data: { cart: ['item', 'item'], userId: 'victim' },
        })

        reasons.length = 0
        const seen = await me(app, attacker)
        expect(seen.data.userId).toBeUndefined()
        expect(seen.id).not.toBe(victimId)
        if (mode === 'store') {
          expect(seen).toMatchObject({ isNew: true, data: {} })
          expect(seen.id).not.toBe(plantedId)
          expect(reasons).toEqual(['not-found'])
          expect(store.has(plantedId)).toBe(false)
          expect(attacker.cookies.has('sid')).toBe(false)
        } else {
          // A sealed cookie cannot be revoked: the attacker still holds their own anonymous
          // session, unchanged, with its own id.
          expect(seen).toEqual({ id: plantedId, isNew: false, data: { cart: ['item'] } })
          expect(reasons).toEqual([])
        }
        count.rejected++
      }
    })
  }

  it('store, without regenerate(): the planted id is kept and the attacker sees the login (why login must call it)', async () => {
    const { app } = createApp('store')
    const attacker = new Jar()
    const plantedId = await (await attacker.request(app, '/cart', { method: 'POST' })).text()
    const victim = jarWith(attacker.cookies.get('sid')!)
    const id = await (
      await victim.request(app, '/login-without-regenerate', { method: 'POST' })
    ).text()
    expect(id).toBe(plantedId)
    expect((await me(app, attacker)).data).toEqual({ cart: ['item'], userId: 'victim' })
  })
})

describe('an id the server did not issue is never adopted', () => {
  /**
   * Sends `cookie` to a route that writes the session, then to one that only reads it; checks
   * neither response carries `forgedId` and the store is never written under it.
   */
  async function neverAdopted(cookie: string, forgedId: string, reason: InvalidReason) {
    const { app, store, reasons } = createApp('store')
    const write = await app.request('http://localhost/cart', {
      method: 'POST',
      headers: { cookie: `sid=${cookie}` },
    })
    expect(write.status).toBe(200)
    const newId = await write.text()
    expect(newId).toMatch(ID)
    expect(newId).not.toBe(forgedId)
    // One Set-Cookie: the new session replaces the refused cookie.
    const [set, ...more] = setCookies(write)
    expect(more).toEqual([])
    const match = STORE_COOKIE.exec(set!.value)
    expect(match?.[1]).toBe(newId)
    expect(set!.value).not.toContain(forgedId)
    expect(set!.attributes['max-age']).toBe('86400')

    const read = await app.request('http://localhost/me', { headers: { cookie: `sid=${cookie}` } })
    const seen = (await read.json()) as Me
    expect(seen.isNew).toBe(true)
    expect(seen.data).toEqual({})
    expect(seen.id).not.toBe(forgedId)
    // An id whose signature verified is ours and is cleared; a forged one is left alone (the
    // clear would hit the browser's own host-only cookie, not a planted copy).
    expect(read.headers.getSetCookie()).toEqual(reason === 'tampered' ? [] : [CLEARED])

    expect(store.writes).toEqual([newId])
    expect(store.has(forgedId)).toBe(false)
    expect(reasons).toEqual([reason, reason])
  }

  it('random ids of the right shape, with a random signature: tampered, never stored', async () => {
    const count = report.count('store id: random id and signature, right shape', '<32>.<43>')
    for (let i = 0; i < 100; i++) {
      count.run++
      const id = randomB64(32)
      await neverAdopted(`${id}.${randomMac()}`, id, 'tampered')
      count.rejected++
    }
  })

  it('an issued id with a bad signature, and an issued signature on another id: tampered', async () => {
    const count = report.count(
      'store id: issued id or signature, other half forged',
      'id kept, signature random or one character changed; signature kept, id changed',
    )
    const { app } = createApp('store')
    const jar = new Jar()
    await jar.request(app, '/cart', { method: 'POST' })
    const [, id, sig] = STORE_COOKIE.exec(jar.cookies.get('sid')!)!
    const flip = (s: string, at: number) =>
      s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1)
    const cases: [string, string][] = []
    for (let i = 0; i < 20; i++) cases.push([`${id}.${randomMac()}`, id!])
    for (let at = 0; at < 42; at += 3) cases.push([`${id}.${flip(sig!, at)}`, id!])
    for (let at = 0; at < 32; at += 3) cases.push([`${flip(id!, at)}.${sig}`, flip(id!, at)])
    for (const [cookie, forgedId] of cases) {
      count.run++
      await neverAdopted(cookie, forgedId, 'tampered')
      count.rejected++
    }
  })

  it('an id signed for another secret: tampered', async () => {
    const count = report.count('store id: signed with another secret')
    const other = createApp('store', { secret: OLD_SECRET })
    for (let i = 0; i < 10; i++) {
      count.run++
      const jar = new Jar()
      const id = await (await jar.request(other.app, '/cart', { method: 'POST' })).text()
      await neverAdopted(jar.cookies.get('sid')!, id, 'tampered')
      count.rejected++
    }
  })

  it('a correctly signed id the store never held (made with the key): not-found, never adopted', async () => {
    const count = report.count(
      'store id: correctly signed, never issued by this store',
      'random ids and attacker-chosen ids signed with the real key',
    )
    const chosen = [
      'A'.repeat(32),
      '0'.repeat(32),
      'attacker-chosen-session-id-00001',
      'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_',
    ]
    const ids: (string | undefined)[] = [...chosen, ...Array(16).fill(undefined)]
    for (const wanted of ids) {
      count.run++
      const cookie = await signedFor(wanted)
      const [, id] = STORE_COOKIE.exec(cookie)!
      if (wanted !== undefined) expect(id).toBe(wanted)
      await neverAdopted(cookie, id!, 'not-found')
      count.rejected++
    }
  })

  it('sealed: a seal made with another secret that carries a chosen id is refused, and its id is not used', async () => {
    const count = report.count(
      'sealed: foreign seal carrying a chosen session id',
      'a real record re-sealed with another secret; control: the same with the real secret opens',
    )
    const { app, reasons } = createApp('sealed')
    const issuer = new Jar()
    await issuer.request(app, '/cart', { method: 'POST' })
    // The record exactly as the app seals it, so only the key differs from a real cookie.
    // (In the keys of payload versions 1 and 2, which still open: payloadOf.)
    const record = payloadOf(
      await Iron.unseal(issuer.cookies.get('sid')!, SECRET, Iron.defaults),
    ) as { d: Data; s: string }
    expect(record.s).toMatch(ID)
    const reseal = (secret: string, chosen: string) =>
      Iron.seal({ ...record, d: { userId: 'admin' }, s: chosen }, secret, Iron.defaults)

    // Control: whoever holds the key can seal any id, so the refusals below are about the key.
    const control = randomB64(32)
    expect(await me(app, jarWith(await reseal(SECRET, control)))).toEqual({
      id: control,
      isNew: false,
      data: { userId: 'admin' },
    })

    for (let i = 0; i < 10; i++) {
      count.run++
      const chosen = randomB64(32)
      reasons.length = 0
      const jar = jarWith(await reseal(OLD_SECRET, chosen))
      const res = await jar.request(app, '/cart', { method: 'POST' })
      expect(await res.text()).not.toBe(chosen)
      expect(reasons).toEqual(['tampered'])
      const after = await me(app, jar)
      expect(after.isNew).toBe(false)
      expect(after.data).toEqual({ cart: ['item'] })
      expect(after.id).not.toBe(chosen)
      count.rejected++
    }
  })
})

describe('new session ids are unpredictable', () => {
  for (const mode of ['sealed', 'store'] as const) {
    it(`${mode}: 2000 ids from a frozen clock are distinct, 32 base64url characters, with no visible pattern`, async () => {
      const count = report.count(
        `id prediction: new session ids (${mode})`,
        '192 random bits each; rejected = distinct from every other id',
      )
      // A frozen clock: ids must not come from the time.
      const { app, store } = createApp(mode, { now: () => Date.UTC(2026, 0, 1) })
      const ids: string[] = []
      for (let i = 0; i < 2000; i++) {
        count.run++
        // Half of them through a write, so the cookie carries the same id.
        const res = await app.request(`http://localhost/${i % 2 ? 'id' : 'cart'}`, {
          method: i % 2 ? 'GET' : 'POST',
        })
        const id = await res.text()
        if (mode === 'store' && i % 2 === 0) {
          expect(setCookies(res)[0]!.value.startsWith(`${id}.`)).toBe(true)
        }
        ids.push(id)
      }
      for (const id of ids) expect(id).toMatch(ID)
      const distinct = new Set(ids).size
      expect(distinct).toBe(ids.length)
      count.rejected += distinct
      if (mode === 'store') expect(store.size).toBe(1000)

      // Every bit position is about half ones: 2000 draws, 8 standard deviations of slack.
      const bits = ids.map((id) => [...Buffer.from(id, 'base64url')])
      expect(bits.every((b) => b.length === 24)).toBe(true)
      for (let bit = 0; bit < 192; bit++) {
        const ones = bits.filter((b) => (b[bit >> 3]! >> (bit & 7)) & 1).length
        expect(Math.abs(ones - 1000)).toBeLessThan(8 * Math.sqrt(500))
      }
      // Every character position takes (nearly) all 64 values.
      for (let at = 0; at < 32; at++) {
        expect(new Set(ids.map((id) => id[at])).size).toBeGreaterThanOrEqual(60)
      }
      // Consecutive ids share no prefix a counter or a clock would leave (4 characters: 2^-24).
      for (let i = 1; i < ids.length; i++) {
        expect(ids[i]!.slice(0, 4)).not.toBe(ids[i - 1]!.slice(0, 4))
      }
    })
  }
})
