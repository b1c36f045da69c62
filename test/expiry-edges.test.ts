// Expiry at its edges, to the millisecond, with injected clocks: the absolute and idle
// deadlines, two instances whose clocks disagree, iron's own expiration field (ttl) and its
// 60 s skew, and a createdAt in the reader's future. expiry.test.ts covers the ordinary cases.
import { Hono } from 'hono'
import * as Iron from 'iron-webcrypto'
import { afterAll, describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import type { InvalidReason, SessionOptions } from '../src/core/types.ts'
import { IronCodec } from '../src/crypto/iron.ts'
import { attackReport } from './attack-report.ts'
import { failOnConsoleOutput } from './quiet-console.ts'
import { SECRET, setCookies } from './support.ts'

type Mode = 'sealed' | 'store'
type Seen = { userId: string | null; isNew: boolean; createdAt: number; expiresAt: number }

const BASE = Date.UTC(2026, 0, 1)
const SECOND = 1000
const CLEARED =
  'sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax'
/** iron's timestamp skew, as our codec applies it to iron's expiration field (SKEW_MS). */
const IRON_SKEW_MS = 60_000

const report = attackReport()
afterAll(() => report.write())

failOnConsoleOutput()

/** A clock set by hand, in epoch milliseconds. */
function clockAt(t: number) {
  const clock = { t, now: () => clock.t }
  return clock
}

/** One instance of the app: its own clock, and in store mode the store it is given. */
function instance(
  mode: Mode,
  now: () => number,
  options: SessionOptions = {},
  store = new Map<string, unknown>(),
) {
  const reasons: InvalidReason[] = []
  const app = new Hono()
    .use(
      session({
        secret: SECRET,
        ...(mode === 'store' ? { store } : {}),
        ...options,
        now,
        onInvalid: (reason) => void reasons.push(reason),
      }),
    )
    .post('/login', (c) => {
      c.session.userId = 'u1'
      return c.text('ok')
    })
    .post('/write', (c) => {
      c.session.n = (c.session.n ?? 0) + 1
      return c.text('ok')
    })
    .get('/', (c) =>
      c.json({
        userId: c.session.userId ?? null,
        isNew: c.session.isNew,
        createdAt: c.session.createdAt.getTime(),
        expiresAt: c.session.expiresAt.getTime(),
      }),
    )
  app.onError((err, c) => c.text(`${err.name}: ${err.message}`, 500))

  /** The sid value a POST to `path` sets. */
  const post = async (path: string, cookie?: string) => {
    const res = await app.request(`http://localhost${path}`, {
      method: 'POST',
      headers: cookie ? { cookie: `sid=${cookie}` } : {},
    })
    expect(res.status).toBe(200)
    const [set] = setCookies(res)
    return { value: set?.value, maxAge: set?.attributes['max-age'] }
  }
  /** Reads the session `cookie` carries; what the handler saw, what was reported and set. */
  const read = async (cookie: string) => {
    reasons.length = 0
    const res = await app.request('http://localhost/', { headers: { cookie: `sid=${cookie}` } })
    expect(res.status).toBe(200)
    return {
      body: (await res.json()) as Seen,
      reasons: [...reasons],
      setCookie: res.headers.getSetCookie(),
    }
  }
  const login = async () => (await post('/login')).value!
  return { app, reasons, store, post, read, login }
}

/** Asserts `r` is a refusal for expiry: fresh, empty, reported once, the cookie cleared. */
/** Refused as expired; cleared when the request proved the cookie ours (`cleared`). */
function expectExpired(
  r: Awaited<ReturnType<ReturnType<typeof instance>['read']>>,
  cleared = true,
) {
  expect(r.body).toMatchObject({ userId: null, isNew: true })
  expect(r.reasons).toEqual(['expired'])
  expect(r.setCookie).toEqual(cleared ? [CLEARED] : [])
}

function expectAccepted(r: Awaited<ReturnType<ReturnType<typeof instance>['read']>>) {
  expect(r.body).toMatchObject({ userId: 'u1', isNew: false })
  expect(r.reasons).toEqual([])
}

describe('deadlines to the millisecond', () => {
  const replay = report.count(
    'expired replay: cookie replayed exactly at its deadline',
    'absolute and idle deadlines, sealed and store, fresh and cached unseal; accepted = 1 ms before',
  )

  for (const mode of ['sealed', 'store'] as const) {
    it(`${mode}: accepted 1 ms before the absolute deadline, refused exactly at it`, async () => {
      const clock = clockAt(BASE)
      const t = instance(mode, clock.now, { maxAge: 3600 })
      const cookie = await t.login()
      const deadline = BASE + 3600 * SECOND

      clock.t = deadline - 1
      replay.run++
      const before = await t.read(cookie)
      expectAccepted(before)
      expect(before.body.expiresAt).toBe(deadline)
      expect(before.setCookie).toEqual([])
      replay.accepted++

      // The same string again: in sealed mode this is the unseal cache's hit, which must
      // re-check the deadline.
      clock.t = deadline
      replay.run++
      expectExpired(await t.read(cookie))
      replay.rejected++
      if (mode === 'store') expect(t.store.size).toBe(0)

      // And later still, with nothing cached any more for it in store mode.
      clock.t = deadline + 1
      replay.run++
      const after = await t.read(cookie)
      expect(after.body).toMatchObject({ userId: null, isNew: true })
      expect(after.reasons).toEqual([mode === 'store' ? 'not-found' : 'expired'])
      replay.rejected++
    })

    it(`${mode}: a fresh instance (no cache) refuses exactly at the absolute deadline too`, async () => {
      const clock = clockAt(BASE)
      const writer = instance(mode, clock.now, { maxAge: 60 })
      const cookie = await writer.login()
      for (const [at, accepted] of [
        [BASE + 60 * SECOND - 1, true],
        [BASE + 60 * SECOND, false],
      ] as const) {
        clock.t = at
        replay.run++
        const reader = instance(mode, clock.now, { maxAge: 60 }, writer.store)
        const r = await reader.read(cookie)
        if (accepted) {
          expectAccepted(r)
          replay.accepted++
        } else {
          expectExpired(r)
          replay.rejected++
        }
      }
    })

    it(`${mode}: accepted 1 ms before the idle deadline, refused exactly at it (rolling: false)`, async () => {
      const clock = clockAt(BASE)
      const t = instance(mode, clock.now, { idleTimeout: 600, rolling: false })
      const cookie = await t.login()
      const idle = BASE + 600 * SECOND

      clock.t = idle - 1
      replay.run++
      const before = await t.read(cookie)
      expectAccepted(before)
      expect(before.body.expiresAt).toBe(idle)
      // A read is not activity without rolling: nothing written.
      expect(before.setCookie).toEqual([])
      replay.accepted++

      clock.t = idle
      replay.run++
      expectExpired(await t.read(cookie))
      replay.rejected++
    })

    it(`${mode}: with rolling, 1 ms before the idle deadline refreshes it; the pre-refresh cookie still ends at its own deadline`, async () => {
      const clock = clockAt(BASE)
      const t = instance(mode, clock.now, { idleTimeout: 600 })
      const cookie = await t.login()
      const idle = BASE + 600 * SECOND

      clock.t = idle - 1
      replay.run++
      const before = await t.read(cookie)
      expectAccepted(before)
      // This response refreshes the idle deadline, and expiresAt says where to.
      expect(before.body.expiresAt).toBe(idle - 1 + 600 * SECOND)
      expect(before.setCookie).toHaveLength(1)
      const refreshed = setCookies(
        new Response(null, { headers: [['set-cookie', before.setCookie[0]!]] }),
      )[0]!
      expect(refreshed.attributes['max-age']).toBe('600')
      replay.accepted++

      clock.t = idle
      replay.run++
      if (mode === 'sealed') {
        // The older seal carries the older idle deadline: a copy taken before the refresh dies.
        expect(refreshed.value).not.toBe(cookie)
        expectExpired(await t.read(cookie))
        replay.rejected++
        expectAccepted(await t.read(refreshed.value))
      } else {
        // Store mode: one record, refreshed in place; the cookie is the same id.
        expect(refreshed.value).toBe(cookie)
        const r = await t.read(cookie)
        expectAccepted(r)
        expect(r.body.expiresAt).toBe(idle - 1 + 600 * SECOND)
        replay.accepted++
      }
    })

    it(`${mode}: a write 1 ms before the deadline gets Max-Age=1 (rounded up), yet the server refuses from the deadline`, async () => {
      const clock = clockAt(BASE)
      const t = instance(mode, clock.now, { maxAge: 100 })
      const login = await t.post('/login')
      const cookie = login.value!
      const deadline = BASE + 100 * SECOND
      clock.t = deadline - 1
      const written = await t.post('/write', cookie)
      if (mode === 'sealed') expect(written.maxAge).toBe('1')
      else {
        // Store mode: the same id, to the same deadline: the login's cookie (Max-Age=100, to
        // the deadline) stays, and nothing is sent.
        expect(login.maxAge).toBe('100')
        expect(written.value).toBeUndefined()
      }
      // The browser may keep sending it for 999 ms more; the deadline inside decides.
      clock.t = deadline
      replay.run++
      expectExpired(await t.read(written.value ?? cookie))
      replay.rejected++
    })
  }
})

describe('clock skew between instances with the same secret', () => {
  const skewed = report.count(
    'clock skew: cookie from an instance whose clock differs by -120..+120 s',
    "deadlines are absolute epoch ms, so the reader's clock decides; accepted = before the writer's deadline on the reader's clock",
  )
  const MAX_AGE = 60
  // Writer's clock minus reader's clock, in seconds.
  const skews = [-120, -60, -30, -1, 0, 1, 30, 60, 120]

  for (const mode of ['sealed', 'store'] as const) {
    for (const skew of skews) {
      it(`${mode}: writer ${skew >= 0 ? '+' : ''}${skew} s: the reader accepts it until writer time + maxAge on its own clock`, async () => {
        // The write happens at real time BASE; the reader reads from then on.
        const store = new Map<string, unknown>()
        const writer = instance(mode, () => BASE + skew * SECOND, { maxAge: MAX_AGE }, store)
        const cookie = await writer.login()
        const deadline = BASE + (skew + MAX_AGE) * SECOND
        const clock = clockAt(BASE)
        const reader = instance(mode, clock.now, { maxAge: MAX_AGE }, store)

        // Points on the reader's clock, from the moment of the write; later ones only after
        // earlier ones (store mode deletes an expired entry when it reads it).
        const points = [...new Set([BASE, deadline - 1, deadline].filter((at) => at >= BASE))]
        for (const at of points) {
          clock.t = at
          skewed.run++
          const r = await reader.read(cookie)
          if (at < deadline) {
            expectAccepted(r)
            // The reader reports the writer's timestamps as they are.
            expect(r.body.createdAt).toBe(BASE + skew * SECOND)
            expect(r.body.expiresAt).toBe(deadline)
            skewed.accepted++
          } else {
            expectExpired(r)
            skewed.rejected++
          }
        }
        if (skew <= -MAX_AGE) {
          // A writer a whole maxAge behind writes cookies the reader refuses on arrival.
          expect(points).toEqual([BASE])
        }
      })
    }

    it(`${mode}: written on the fast instance (+30 s), read on the slow one: it lives 30 s longer than maxAge in real time`, async () => {
      const store = new Map<string, unknown>()
      const real = clockAt(BASE)
      const fast = instance(mode, () => real.t + 30 * SECOND, { maxAge: MAX_AGE }, store)
      const slow = instance(mode, real.now, { maxAge: MAX_AGE }, store)
      const cookie = await fast.login()
      real.t = BASE + (MAX_AGE + 30) * SECOND - 1
      expectAccepted(await slow.read(cookie))
      real.t = BASE + (MAX_AGE + 30) * SECOND
      expectExpired(await slow.read(cookie))
    })

    it(`${mode}: written on the slow instance, read on the fast one (+30 s): it ends 30 s early in real time`, async () => {
      const store = new Map<string, unknown>()
      const real = clockAt(BASE)
      const fast = instance(mode, () => real.t + 30 * SECOND, { maxAge: MAX_AGE }, store)
      const slow = instance(mode, real.now, { maxAge: MAX_AGE }, store)
      const cookie = await slow.login()
      real.t = BASE + (MAX_AGE - 30) * SECOND - 1
      expectAccepted(await fast.read(cookie))
      real.t = BASE + (MAX_AGE - 30) * SECOND
      expectExpired(await fast.read(cookie))
      // The writer itself would still accept it...
      const onWriter = await slow.read(cookie)
      if (mode === 'sealed') expectAccepted(onWriter)
      else {
        // ...but in store mode the fast instance deleted the shared entry when it read it.
        expect(onWriter.body).toMatchObject({ userId: null, isNew: true })
        expect(onWriter.reasons).toEqual(['not-found'])
        expect(store.size).toBe(0)
      }
    })
  }
})

describe("iron's own expiration field (ttl), with the 60 s skew", () => {
  const ttl = report.count(
    'iron expiration field: seal replayed around its ttl + 60 s skew',
    'iron-webcrypto seals with ttl; accepted = expiration within the skew (or ahead)',
  )

  /** A cookie the app issued, re-sealed by iron-webcrypto with `ttl` ms; its expiration. */
  async function withTtl(ms: number) {
    const t = instance('sealed', Date.now)
    const cookie = await t.login()
    // Our own seals leave iron's expiration empty: the record carries the deadlines.
    expect(cookie.split('*')[5]).toBe('')
    const record = await Iron.unseal(cookie, SECRET, Iron.defaults)
    const sealed = await Iron.seal(record, SECRET, { ...Iron.defaults, ttl: ms })
    const expiration = Number(sealed.split('*')[5])
    expect(Number.isSafeInteger(expiration)).toBe(true)
    return { sealed, expiration }
  }

  // iron's expiration is read before the MAC, so a refusal for it proves nothing about who made
  // the cookie (we never write one): it is not cleared.
  it('through the app: accepted until expiration + 60 s (exclusive), refused from it, cached or not', async () => {
    const { sealed, expiration } = await withTtl(10_000)
    const clock = clockAt(expiration - 5000)
    const t = instance('sealed', clock.now)
    for (const [at, accepted] of [
      [expiration - 5000, true],
      [expiration, true],
      [expiration + IRON_SKEW_MS - 1, true],
      // The same string was just opened and cached: the hit must re-check iron's expiration.
      [expiration + IRON_SKEW_MS, false],
    ] as const) {
      clock.t = at
      ttl.run++
      const r = await t.read(sealed)
      if (accepted) {
        expectAccepted(r)
        ttl.accepted++
      } else {
        expectExpired(r, false)
        ttl.rejected++
      }
    }
    // A fresh instance, nothing cached: the full check says the same at both edges.
    for (const [at, accepted] of [
      [expiration + IRON_SKEW_MS - 1, true],
      [expiration + IRON_SKEW_MS, false],
      [expiration + IRON_SKEW_MS + 1, false],
    ] as const) {
      ttl.run++
      const r = await instance('sealed', () => at).read(sealed)
      if (accepted) {
        expectAccepted(r)
        ttl.accepted++
      } else {
        expectExpired(r, false)
        ttl.rejected++
      }
    }
  })

  for (const webCrypto of [false, true]) {
    it(`IronCodec (${webCrypto ? 'WebCrypto' : 'node:crypto'}): the same edges, on the injected clock`, async () => {
      const { sealed, expiration } = await withTtl(1000)
      for (const [at, ok] of [
        [expiration + IRON_SKEW_MS - 1, true],
        [expiration + IRON_SKEW_MS, false],
      ] as const) {
        ttl.run++
        const codec = new IronCodec([{ id: '', secret: SECRET }], { now: () => at, webCrypto })
        const result = await codec.unseal(sealed)
        if (ok) {
          expect(result.ok).toBe(true)
          ttl.accepted++
        } else {
          expect(result).toEqual({ ok: false, reason: 'expired' })
          ttl.rejected++
        }
      }
    })
  }

  it('an expiration that is not a positive integer is malformed, not expired or accepted', async () => {
    const { sealed } = await withTtl(1000)
    const parts = sealed.split('*')
    const t = instance('sealed', Date.now)
    for (const bad of ['0', '-1', '1.5', '01', 'x', ' 1', '1e20']) {
      ttl.run++
      const forged = [...parts.slice(0, 5), bad, ...parts.slice(6)].join('*')
      const r = await t.read(forged)
      expect(r.body).toMatchObject({ userId: null, isNew: true })
      expect(r.reasons).toEqual(['malformed'])
      ttl.rejected++
    }
  })
})

describe('createdAt in the future', () => {
  for (const mode of ['sealed', 'store'] as const) {
    it(`${mode}: a record from an instance a year ahead is accepted: createdAt is never checked, and the session outlives maxAge on the reader by that year`, async () => {
      const year = 365 * 86_400 * SECOND
      const store = new Map<string, unknown>()
      const ahead = instance(mode, () => BASE + year, { maxAge: 3600 }, store)
      const cookie = await ahead.login()
      const clock = clockAt(BASE)
      const reader = instance(mode, clock.now, { maxAge: 3600 }, store)

      const now = await reader.read(cookie)
      expectAccepted(now)
      expect(now.body.createdAt).toBe(BASE + year)
      expect(now.body.expiresAt).toBe(BASE + year + 3600 * SECOND)
      expect(now.setCookie).toEqual([])
      // Deadlines are not capped at the reader's now + maxAge: 364 days later it still opens.
      clock.t = BASE + year - 86_400 * SECOND
      expectAccepted(await reader.read(cookie))
      clock.t = BASE + year + 3600 * SECOND
      expectExpired(await reader.read(cookie))
    })
  }
})
