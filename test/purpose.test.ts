// Purpose binding: a value sealed or signed with the same secret for another cookie name or
// purpose is refused, so one secret shared by two apps (or two cookies) cannot be replayed
// from one to the other.

import { Hono } from 'hono'
import * as Iron from 'iron-webcrypto'
import { describe, expect, it, vi } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { SessionConfigError } from '../src/core/errors.ts'
import type { InvalidReason, SessionOptions } from '../src/core/types.ts'
import { Jar, payloadOf, type Requestable, SECRET, setCookies } from './support.ts'

function app(options: SessionOptions) {
  const onInvalid = vi.fn<(reason: InvalidReason) => void>()
  const a = new Hono()
    .use(session({ secret: SECRET, ...options, onInvalid }))
    .post('/login', (c) => {
      c.session.userId = 'admin'
      return c.text('ok')
    })
    .get('/', (c) => c.json({ isNew: c.session.isNew, data: c.session.toJSON() }))
  return { app: a, onInvalid }
}

/** The session cookie value the app sets on login. */
async function loginValue(a: Requestable, name = 'sid'): Promise<string> {
  const jar = new Jar()
  await jar.request(a, '/login', { method: 'POST' })
  const value = jar.cookies.get(name)
  if (!value) throw new Error(`no ${name} cookie`)
  return value
}

async function replay(a: Requestable, cookie: string) {
  const res = await a.request('http://localhost/', { headers: { cookie } })
  return { res, body: (await res.json()) as { isNew: boolean; data: Record<string, unknown> } }
}

describe('sealed mode', () => {
  it('the same purpose opens the cookie (the control for the refusals below)', async () => {
    const a = app({})
    const b = app({})
    const { body } = await replay(b.app, `sid=${await loginValue(a.app)}`)
    expect(body).toEqual({ isNew: false, data: { userId: 'admin' } })
    expect(b.onInvalid).not.toHaveBeenCalled()
  })

  it('a cookie sealed for another cookie name is refused as wrong-purpose', async () => {
    const admin = app({ cookieName: 'admin_sid' })
    const shop = app({ cookieName: 'shop_sid' })
    const value = await loginValue(admin.app, 'admin_sid')
    const { res, body } = await replay(shop.app, `shop_sid=${value}`)
    expect(body).toEqual({ isNew: true, data: {} })
    expect(shop.onInvalid).toHaveBeenCalledWith('wrong-purpose', expect.anything())
    // Refused once, so the browser stops sending it.
    expect(setCookies(res).map((c) => [c.name, c.value, c.attributes['max-age']])).toEqual([
      ['shop_sid', '', '0'],
    ])
  })

  it('a cookie sealed for another purpose under the same cookie name is refused', async () => {
    const one = app({ purpose: 'app-one' })
    const two = app({ purpose: 'app-two' })
    const { body } = await replay(two.app, `sid=${await loginValue(one.app)}`)
    expect(body.isNew).toBe(true)
    expect(two.onInvalid).toHaveBeenCalledWith('wrong-purpose', expect.anything())
    // And the other way round.
    const back = await replay(one.app, `sid=${await loginValue(two.app)}`)
    expect(back.body.isNew).toBe(true)
    expect(one.onInvalid).toHaveBeenCalledWith('wrong-purpose', expect.anything())
  })

  it('the purpose is sealed inside: iron-webcrypto sees it as `p`', async () => {
    const { app: a } = app({ purpose: 'billing' })
    const opened = payloadOf(await Iron.unseal(await loginValue(a), SECRET, Iron.defaults))
    expect(opened.p).toBe('billing')
  })

  it('an authentic seal that carries no purpose (any other iron user of the secret) is refused', async () => {
    const { app: a, onInvalid } = app({})
    const now = Date.now()
    const foreign = await Iron.seal(
      { d: { userId: 'admin' }, c: now, e: now + 60_000 },
      SECRET,
      Iron.defaults,
    )
    const { body } = await replay(a, `sid=${foreign}`)
    expect(body.isNew).toBe(true)
    expect(onInvalid).toHaveBeenCalledWith('wrong-purpose', expect.anything())
  })

  it('a purpose that is not a string inside an authentic seal is invalid-data', async () => {
    const { app: a, onInvalid } = app({})
    const now = Date.now()
    const odd = await Iron.seal(
      { d: { userId: 'admin' }, c: now, e: now + 60_000, p: ['sid'] },
      SECRET,
      Iron.defaults,
    )
    expect((await replay(a, `sid=${odd}`)).body.isNew).toBe(true)
    expect(onInvalid).toHaveBeenCalledWith('invalid-data', expect.anything())
  })
})

describe('store mode: the purpose is part of the id signature', () => {
  it('an id signed for another purpose is refused before the store is asked', async () => {
    const shared = new Map<string, unknown>()
    const one = app({ store: shared, purpose: 'app-one' })
    const value = await loginValue(one.app)
    expect(shared.size).toBe(1)
    const get = vi.fn((id: string) => shared.get(id))
    const store = { get, set: shared.set.bind(shared), delete: shared.delete.bind(shared) }
    const two = app({ store, purpose: 'app-two' })
    const { body } = await replay(two.app, `sid=${value}`)
    expect(body.isNew).toBe(true)
    expect(two.onInvalid).toHaveBeenCalledWith('tampered', expect.anything())
    expect(get).not.toHaveBeenCalled()
    // The same store and purpose read it: the refusal was the purpose, not the id.
    const three = app({ store, purpose: 'app-one' })
    expect((await replay(three.app, `sid=${value}`)).body.data).toEqual({ userId: 'admin' })
  })

  it('the default purpose is the cookie name', async () => {
    const shared = new Map<string, unknown>()
    const a = app({ store: shared, cookieName: 'a_sid' })
    const b = app({ store: shared, cookieName: 'b_sid' })
    const value = await loginValue(a.app, 'a_sid')
    expect((await replay(b.app, `b_sid=${value}`)).body.isNew).toBe(true)
    expect(b.onInvalid).toHaveBeenCalledWith('tampered', expect.anything())
    const explicit = app({ store: shared, cookieName: 'b_sid', purpose: 'a_sid' })
    expect((await replay(explicit.app, `b_sid=${value}`)).body.isNew).toBe(false)
  })
})

describe('the purpose option', () => {
  for (const [label, purpose] of [
    ['empty', ''],
    ['not a string', 42],
    ['over 200 characters', 'x'.repeat(201)],
  ] as const) {
    it(`${label}: SessionConfigError naming purpose`, () => {
      let err: unknown
      try {
        session({ secret: SECRET, purpose: purpose as string })
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(SessionConfigError)
      expect((err as SessionConfigError).issues.map((i) => i.path)).toEqual(['purpose'])
    })
  }
})
