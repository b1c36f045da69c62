import { Hono } from 'hono'
import * as Iron from 'iron-webcrypto'
import { describe, expect, it, vi } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import type { InvalidReason, SessionOptions } from '../src/core/types.ts'
import { IronCodec } from '../src/crypto/iron.ts'
import { Jar, OLD_SECRET, payloadOf, SECRET, setCookies } from './support.ts'

const NEW_SECRET = 'new-secret-0123456789-abcdefghijklmnopqrstuvwxyz'

/** iron-webcrypto's unseal with its own defaults (JSON decode, 60 s skew). */
const ironUnseal = (sealed: string, password: Parameters<typeof Iron.unseal>[1]) =>
  Iron.unseal(sealed, password, Iron.defaults)

function app(options: SessionOptions) {
  const onInvalid = vi.fn<(reason: InvalidReason) => void>()
  const a = new Hono()
    .use(session({ ...options, onInvalid }))
    .post('/set', async (c) => {
      const body = (await c.req.json()) as Record<string, unknown>
      for (const [k, v] of Object.entries(body)) c.session[k] = v
      return c.text('ok')
    })
    .get('/read', (c) => c.json({ isNew: c.session.isNew, data: c.session.toJSON() }))
  return { app: a, onInvalid }
}

async function sealedCookie(options: SessionOptions, data: Record<string, unknown>) {
  const { app: a } = app(options)
  const res = await a.request('http://localhost/set', {
    method: 'POST',
    body: JSON.stringify(data),
  })
  const [cookie] = setCookies(res)
  expect(cookie?.name).toBe('sid')
  return cookie!.value
}

async function read(a: Hono<any>, value: string) {
  const res = await a.request('http://localhost/read', { headers: { cookie: `sid=${value}` } })
  expect(res.status).toBe(200)
  return {
    res,
    body: (await res.json()) as { isNew: boolean; data: Record<string, unknown> },
  }
}

describe('IronCodec and iron-webcrypto produce the same Fe26.2 strings', () => {
  const value = { d: { userId: '42', roles: ['admin'], n: 1.5, ok: true }, c: 1, e: 2 }

  it('iron-webcrypto unseals what IronCodec seals (node:crypto path)', async () => {
    const codec = new IronCodec([{ id: '', secret: SECRET }])
    const sealed = await codec.seal(value)
    expect(sealed.startsWith('Fe26.2**')).toBe(true)
    expect(await ironUnseal(sealed, SECRET)).toEqual(value)
  })

  it('iron-webcrypto unseals what IronCodec seals (WebCrypto path)', async () => {
    const codec = new IronCodec([{ id: '', secret: SECRET }], { webCrypto: true })
    expect(await ironUnseal(await codec.seal(value), SECRET)).toEqual(value)
  })

  it('IronCodec unseals what iron-webcrypto seals, on both paths', async () => {
    const sealed = await Iron.seal(value, SECRET, Iron.defaults)
    for (const webCrypto of [false, true]) {
      const codec = new IronCodec([{ id: '', secret: SECRET }], { webCrypto })
      expect(await codec.unseal(sealed)).toEqual({ ok: true, value, stale: false })
    }
  })

  it('iron-webcrypto refuses our seal under another secret, so it checks the MAC', async () => {
    const sealed = await new IronCodec([{ id: '', secret: SECRET }]).seal(value)
    await expect(ironUnseal(sealed, OLD_SECRET)).rejects.toThrow('Bad hmac value')
  })

  it('the WebCrypto path opens node seals and the node path opens WebCrypto seals', async () => {
    const keys = [{ id: '', secret: SECRET }]
    const node = new IronCodec(keys)
    const web = new IronCodec(keys, { webCrypto: true })
    const fromNode = await node.seal(value)
    const fromWeb = await web.seal(value)
    expect(fromNode).not.toBe(fromWeb)
    expect(await web.unseal(fromNode)).toEqual({ ok: true, value, stale: false })
    expect(await node.unseal(fromWeb)).toEqual({ ok: true, value, stale: false })
  })

  it('both paths agree on password ids and on which key is stale', async () => {
    const ring = [
      { id: '2', secret: NEW_SECRET },
      { id: '1', secret: OLD_SECRET },
    ]
    const oldOnly = [{ id: '1', secret: OLD_SECRET }]
    for (const [sealer, opener] of [
      [new IronCodec(oldOnly), new IronCodec(ring, { webCrypto: true })],
      [new IronCodec(oldOnly, { webCrypto: true }), new IronCodec(ring)],
    ] as const) {
      const sealed = await sealer.seal(value)
      expect(sealed.split('*')[1]).toBe('1')
      expect(await opener.unseal(sealed)).toEqual({ ok: true, value, stale: true })
    }
    for (const webCrypto of [false, true]) {
      const sealed = await new IronCodec(ring, { webCrypto }).seal(value)
      expect(sealed.split('*')[1]).toBe('2')
      expect(await ironUnseal(sealed, { '2': NEW_SECRET, '1': OLD_SECRET })).toEqual(value)
    }
  })

  it('both paths refuse a tampered seal as tampered', async () => {
    const sealed = await Iron.seal(value, SECRET, Iron.defaults)
    const parts = sealed.split('*')
    // Flip one hex digit of the encryption salt: still well formed, MAC no longer matches.
    parts[2] = (parts[2]![0] === 'a' ? 'b' : 'a') + parts[2]!.slice(1)
    for (const webCrypto of [false, true]) {
      const codec = new IronCodec([{ id: '', secret: SECRET }], { webCrypto })
      expect(await codec.unseal(parts.join('*'))).toEqual({ ok: false, reason: 'tampered' })
    }
  })

  it("refuses a seal whose iron ttl has already passed, with reason 'expired'", async () => {
    // Sealed with a clock two minutes behind and a one-second ttl: past even the 60 s skew.
    const sealed = await Iron.seal(value, SECRET, {
      ...Iron.defaults,
      ttl: 1000,
      localtimeOffsetMsec: -120_000,
    })
    expect(sealed.split('*')[5]).toMatch(/^\d+$/)
    for (const webCrypto of [false, true]) {
      const codec = new IronCodec([{ id: '', secret: SECRET }], { webCrypto })
      expect(await codec.unseal(sealed)).toEqual({ ok: false, reason: 'expired' })
    }
  })

  it('honours an iron ttl that has not passed, checked against the injected clock', async () => {
    const sealed = await Iron.seal(value, SECRET, { ...Iron.defaults, ttl: 60 * 60 * 1000 })
    const keys = [{ id: '', secret: SECRET }]
    expect(await new IronCodec(keys).unseal(sealed)).toEqual({ ok: true, value, stale: false })
    const later = () => Date.now() + 2 * 60 * 60 * 1000
    expect(await new IronCodec(keys, { now: later }).unseal(sealed)).toEqual({
      ok: false,
      reason: 'expired',
    })
  })
})

describe('a Hono app’s session cookie is plain Fe26.2', () => {
  it('iron-webcrypto opens the Set-Cookie value: d is the data the handler set', async () => {
    const data = { userId: '42', cart: { items: [1, 2, 3] }, note: 'héllo ✓' }
    const value = await sealedCookie({ secret: SECRET, maxAge: 3600 }, data)
    const opened = payloadOf(await ironUnseal(value, SECRET))
    expect(opened.d).toEqual(data)
    expect(typeof opened.c).toBe('number')
    expect(opened.e).toBe((opened.c as number) + 3600 * 1000)
    expect(typeof opened.s).toBe('string')
    // The purpose (by default the cookie name) travels inside, checked on every request.
    expect(opened.p).toBe('sid')
  })

  it('opens a cookie sealed by iron-webcrypto with the same secret', async () => {
    const now = Date.now()
    const sealed = await Iron.seal(
      { d: { userId: '7', tags: ['a'] }, c: now, e: now + 60_000, p: 'sid' },
      SECRET,
      Iron.defaults,
    )
    const { app: a, onInvalid } = app({ secret: SECRET })
    const { res, body } = await read(a, sealed)
    expect(body).toEqual({ isNew: false, data: { userId: '7', tags: ['a'] } })
    expect(onInvalid).not.toHaveBeenCalled()
    // Unchanged and sealed with the current key: nothing to write.
    expect(setCookies(res)).toEqual([])
  })

  it('a session written by iron-webcrypto survives a round trip through the app', async () => {
    const now = Date.now()
    const sealed = await Iron.seal(
      { d: { visits: 1 }, c: now, e: now + 60_000, p: 'sid' },
      SECRET,
      {
        ...Iron.defaults,
      },
    )
    const a = new Hono().use(session({ secret: SECRET })).get('/visit', (c) => {
      c.session.visits = (c.session.visits as number) + 1
      return c.text(String(c.session.visits))
    })
    const jar = new Jar()
    jar.cookies.set('sid', sealed)
    expect(await (await jar.request(a, '/visit')).text()).toBe('2')
    const reopened = payloadOf(await ironUnseal(jar.cookies.get('sid')!, SECRET))
    expect(reopened.d).toEqual({ visits: 2 })
    // createdAt travels unchanged.
    expect(reopened.c).toBe(now)
  })

  it('password ids: iron-webcrypto opens our cookie with its dictionary, by id', async () => {
    const value = await sealedCookie({ secret: { '2': NEW_SECRET, '1': OLD_SECRET } }, { u: 'x' })
    expect(value.split('*')[1]).toBe('2')
    expect(payloadOf(await ironUnseal(value, { '2': NEW_SECRET })).d).toEqual({ u: 'x' })
    expect(payloadOf(await ironUnseal(value, { '1': OLD_SECRET, '2': NEW_SECRET })).d).toEqual({
      u: 'x',
    })
    await expect(ironUnseal(value, { '1': OLD_SECRET })).rejects.toThrow('Cannot find password')
  })

  it('password ids: we open iron-webcrypto seals made with { id, secret }', async () => {
    const now = Date.now()
    const record = { d: { u: 'y' }, c: now, e: now + 60_000, p: 'sid' }
    const newest = await Iron.seal(record, { id: '2', secret: NEW_SECRET }, Iron.defaults)
    const older = await Iron.seal(record, { id: '1', secret: OLD_SECRET }, Iron.defaults)
    const { app: a } = app({ secret: { '2': NEW_SECRET, '1': OLD_SECRET } })

    const fresh = await read(a, newest)
    expect(fresh.body).toEqual({ isNew: false, data: { u: 'y' } })
    expect(setCookies(fresh.res)).toEqual([])

    const stale = await read(a, older)
    expect(stale.body).toEqual({ isNew: false, data: { u: 'y' } })
    const [resealed] = setCookies(stale.res)
    expect(resealed?.value.split('*')[1]).toBe('2')
    expect(payloadOf(await ironUnseal(resealed!.value, { '2': NEW_SECRET })).d).toEqual({ u: 'y' })
  })

  it('a seal under the right id but the wrong secret is refused', async () => {
    const now = Date.now()
    const forged = await Iron.seal(
      { d: { admin: true }, c: now, e: now + 60_000, p: 'sid' },
      { id: '2', secret: OLD_SECRET },
      Iron.defaults,
    )
    const { app: a, onInvalid } = app({ secret: { '2': NEW_SECRET, '1': OLD_SECRET } })
    const { body } = await read(a, forged)
    expect(body).toEqual({ isNew: true, data: {} })
    expect(onInvalid).toHaveBeenCalledWith('tampered', expect.anything())
  })

  it("an iron ttl that has passed gives a fresh session and onInvalid('expired')", async () => {
    const now = Date.now()
    const sealed = await Iron.seal(
      { d: { u: 'z' }, c: now, e: now + 3_600_000, p: 'sid' },
      SECRET,
      {
        ...Iron.defaults,
        ttl: 1000,
        localtimeOffsetMsec: -120_000,
      },
    )
    const { app: a, onInvalid } = app({ secret: SECRET })
    const { body } = await read(a, sealed)
    expect(body).toEqual({ isNew: true, data: {} })
    expect(onInvalid).toHaveBeenCalledTimes(1)
    expect(onInvalid.mock.calls[0]![0]).toBe('expired')
  })
})
