import { createHmac, timingSafeEqual } from 'node:crypto'
import { Hono } from 'hono'
import { describe, expect, it, vi } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import type {
  InvalidReason,
  SessionEncoder,
  SessionOptions,
  SessionRecord,
} from '../src/core/types.ts'
import { Jar, OLD_SECRET, SECRET, setCookies, testClock } from './support.ts'

// Standard base64 on purpose: '+', '/' and '=' must survive the trip through the cookie.
const sign = (payload: string, secret: string) =>
  createHmac('sha256', secret).update(payload).digest('base64')

function encodeValue(record: SessionRecord, secret: string): string {
  const payload = Buffer.from(JSON.stringify(record)).toString('base64')
  return `${payload}.${sign(payload, secret)}`
}

function decodeValue(value: string, secret: string): SessionRecord | null {
  const [payload, mac, extra] = value.split('.')
  if (payload === undefined || mac === undefined || extra !== undefined) return null
  const expected = Buffer.from(sign(payload, secret))
  const given = Buffer.from(mac)
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null
  return JSON.parse(Buffer.from(payload, 'base64').toString('utf8'))
}

const syncEncoder = (): SessionEncoder => ({
  encode: vi.fn(encodeValue),
  decode: vi.fn(decodeValue),
})

const asyncEncoder = (): SessionEncoder => ({
  encode: vi.fn(async (record: SessionRecord, secret: string) => {
    await new Promise((r) => setTimeout(r, 1))
    return encodeValue(record, secret)
  }),
  decode: vi.fn(async (value: string, secret: string) => {
    await Promise.resolve()
    return decodeValue(value, secret)
  }),
})

function createApp(options: SessionOptions) {
  const onInvalid = vi.fn<(reason: InvalidReason, ctx: unknown) => void>()
  const app = new Hono()
    .use(session({ secret: SECRET, ...options, onInvalid }))
    .get('/login', (c) => {
      c.session.userId = 'u1'
      c.session.cart = { items: ['a'] }
      return c.text('ok')
    })
    .get('/me', (c) => c.json({ isNew: c.session.isNew, data: c.session.toJSON() }))
    .get('/add-then-throw', (c) => {
      c.session.cart.items.push('boom')
      throw new Error('handler failed')
    })
  app.onError((_err, c) => c.text('error', 500))
  return { app, onInvalid }
}

const me = async (jar: Jar, app: Hono<any>) =>
  (await (await jar.request(app, '/me')).json()) as {
    isNew: boolean
    data: Record<string, unknown>
  }

for (const [kind, make] of [
  ['sync', syncEncoder],
  ['async', asyncEncoder],
] as const) {
  describe(`a ${kind} custom encoder`, () => {
    it('replaces iron: the cookie is what encode returned, and decode reads it back', async () => {
      const clock = testClock()
      const encoder = make()
      const { app } = createApp({ encoder, now: clock.now, maxAge: 600 })
      const jar = new Jar()
      const res = await jar.request(app, '/login')
      const [cookie] = setCookies(res)
      expect(cookie!.value.startsWith('Fe26')).toBe(false)

      expect(encoder.encode).toHaveBeenCalledTimes(1)
      const [record, secret] = (encoder.encode as ReturnType<typeof vi.fn>).mock.calls[0]!
      expect(secret).toBe(SECRET)
      expect(record).toMatchObject({
        data: { userId: 'u1', cart: { items: ['a'] } },
        createdAt: clock.now(),
        expiresAt: clock.now() + 600_000,
      })
      const encoded = await (encoder.encode as ReturnType<typeof vi.fn>).mock.results[0]!.value
      // The value is made cookie-safe, and decoded back before decode sees it.
      expect(decodeURIComponent(cookie!.value)).toBe(encoded)
      expect(cookie!.value).not.toMatch(/[;,\s"]/)

      expect(await me(jar, app)).toEqual({
        isNew: false,
        data: { userId: 'u1', cart: { items: ['a'] } },
      })
      expect(encoder.decode).toHaveBeenCalledWith(encoded, SECRET)
    })

    it('gets the newest secret of a ring', async () => {
      const encoder = make()
      const { app } = createApp({ encoder, secret: [SECRET, OLD_SECRET] })
      await new Jar().request(app, '/login')
      expect((encoder.encode as ReturnType<typeof vi.fn>).mock.calls[0]![1]).toBe(SECRET)
    })

    it('an unchanged read writes nothing', async () => {
      const encoder = make()
      const { app } = createApp({ encoder })
      const jar = new Jar()
      await jar.request(app, '/login')
      const res = await jar.request(app, '/me')
      expect(res.headers.getSetCookie()).toEqual([])
      expect(encoder.encode).toHaveBeenCalledTimes(1)
    })

    it('a value decode refuses (null) is a fresh session', async () => {
      const { app, onInvalid } = createApp({ encoder: make() })
      const jar = new Jar()
      await jar.request(app, '/login')
      const value = decodeURIComponent(jar.cookies.get('sid')!)
      // Sealed by another secret, so the HMAC does not match.
      const other = encodeURIComponent(
        encodeValue(JSON.parse(Buffer.from(value.split('.')[0]!, 'base64').toString()), OLD_SECRET),
      )
      jar.cookies.set('sid', other)
      expect(await me(jar, app)).toEqual({ isNew: true, data: {} })
      expect(onInvalid).toHaveBeenCalledTimes(1)
      expect(onInvalid.mock.calls[0]![0]).toBe('tampered')
    })

    it('the record’s absolute expiry is still enforced', async () => {
      const clock = testClock()
      const { app, onInvalid } = createApp({ encoder: make(), now: clock.now, maxAge: 60 })
      const jar = new Jar()
      await jar.request(app, '/login')
      clock.advance(59)
      expect((await me(jar, app)).isNew).toBe(false)
      clock.advance(1)
      expect(await me(jar, app)).toEqual({ isNew: true, data: {} })
      expect(onInvalid.mock.calls.map((c) => c[0])).toEqual(['expired'])
    })

    it('the record’s idle deadline is still enforced', async () => {
      const clock = testClock()
      const { app, onInvalid } = createApp({ encoder: make(), now: clock.now, idleTimeout: 30 })
      const jar = new Jar()
      await jar.request(app, '/login')
      clock.advance(31)
      expect(await me(jar, app)).toEqual({ isNew: true, data: {} })
      expect(onInvalid.mock.calls.map((c) => c[0])).toEqual(['expired'])
    })
  })
}

describe('a custom decode that misbehaves', () => {
  const record = (now: number, extra: Partial<SessionRecord> = {}): SessionRecord => ({
    data: { userId: 'u1' },
    createdAt: now - 1000,
    expiresAt: now + 60_000,
    ...extra,
  })

  async function readWith(decode: SessionEncoder['decode'], options: SessionOptions = {}) {
    const { app, onInvalid } = createApp({ encoder: { encode: () => 'x', decode }, ...options })
    const res = await app.request('http://localhost/me', { headers: { cookie: 'sid=anything' } })
    expect(res.status).toBe(200)
    return { body: await res.json(), reasons: onInvalid.mock.calls.map((c) => c[0]) }
  }

  it('a decode that returns a valid record is used (the refusals below are about the record)', async () => {
    const clock = testClock()
    expect(await readWith(() => record(clock.now()), { now: clock.now })).toEqual({
      body: { isNew: false, data: { userId: 'u1' } },
      reasons: [],
    })
  })

  it('throws: a fresh session', async () => {
    expect(
      await readWith(() => {
        throw new Error('bad token')
      }),
    ).toEqual({ body: { isNew: true, data: {} }, reasons: ['tampered'] })
  })

  it('rejects: a fresh session', async () => {
    expect(await readWith(() => Promise.reject(new Error('bad token')))).toEqual({
      body: { isNew: true, data: {} },
      reasons: ['tampered'],
    })
  })

  it('returns null or undefined: a fresh session', async () => {
    for (const decode of [() => null, () => undefined, async () => null]) {
      expect(await readWith(decode)).toEqual({
        body: { isNew: true, data: {} },
        reasons: ['tampered'],
      })
    }
  })

  it('returns something that is not a record: invalid-data', async () => {
    const clock = testClock()
    for (const value of [
      'a string',
      42,
      { data: { a: 1 } },
      { data: 'x', createdAt: 1, expiresAt: 2 },
      { ...record(clock.now()), expiresAt: 'tomorrow' },
    ]) {
      expect(await readWith(() => value as unknown as SessionRecord, { now: clock.now })).toEqual({
        body: { isNew: true, data: {} },
        reasons: ['invalid-data'],
      })
    }
  })

  it('returns data JSON cannot copy (a cycle, a BigInt): invalid-data, not a 500', async () => {
    const clock = testClock()
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic.self = cyclic
    for (const data of [{ cyclic }, { big: 10n }]) {
      expect(
        await readWith(() => ({ ...record(clock.now()), data }) as SessionRecord, {
          now: clock.now,
        }),
      ).toEqual({ body: { isNew: true, data: {} }, reasons: ['invalid-data'] })
    }
  })

  it('returns a record already past its deadline: expired', async () => {
    const clock = testClock()
    const now = clock.now()
    for (const expired of [
      record(now, { expiresAt: now - 1 }),
      record(now, { expiresAt: now }),
      record(now, { idleExpiresAt: now - 1 }),
    ]) {
      expect(await readWith(() => expired, { now: clock.now })).toEqual({
        body: { isNew: true, data: {} },
        reasons: ['expired'],
      })
    }
  })

  it('a handler that mutates nested data and throws leaves decode’s object untouched', async () => {
    // A decoder may hand back the same object for the same cookie (a cache).
    const clock = testClock()
    const cached = {
      data: { userId: 'u1', cart: { items: ['a'] } },
      createdAt: clock.now(),
      expiresAt: clock.now() + 60_000,
    }
    const snapshot = structuredClone(cached)
    const { app } = createApp({
      encoder: { encode: () => 'x', decode: () => cached },
      now: clock.now,
    })
    const headers = { cookie: 'sid=cached' }
    expect((await app.request('http://localhost/add-then-throw', { headers })).status).toBe(500)
    expect(cached).toEqual(snapshot)
    expect(await (await app.request('http://localhost/me', { headers })).json()).toEqual({
      isNew: false,
      data: { userId: 'u1', cart: { items: ['a'] } },
    })
  })
})
