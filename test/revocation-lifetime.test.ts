// How long revocation entries live: until no cookie they stop can still be valid. A logout entry
// covers the session's own deadline, a user-wide or deadline-less entry the list's maxAge, and
// renew() never outlives the list (issue 12, item 1).
import { Hono } from 'hono'
import { afterAll, describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { SessionConfigError } from '../src/core/errors.ts'
import { type SessionRevocation, sessionRevocation } from '../src/core/revocation.ts'
import type { SessionOptions, SessionRecord } from '../src/core/types.ts'
import { attackReport } from './attack-report.ts'
import { Jar, type Requestable, SECRET, setCookies, testClock } from './support.ts'

const report = attackReport()
afterAll(() => report.write())

const DAY = 86_400
const SKEW = 60

type Clock = ReturnType<typeof testClock>

/** An app on `clock`: login (with regenerate), renew, logout, and who the session is. */
function app(clock: Clock, options: SessionOptions = {}) {
  const a = new Hono()
    .use(session({ secret: SECRET, now: clock.now, ...options }))
    .post('/login/:user', async (c) => {
      await c.session.regenerate()
      c.session.userId = c.req.param('user')
      return c.text(c.session.id)
    })
    .post('/renew/:seconds', (c) => {
      c.session.renew(Number(c.req.param('seconds')))
      return c.json({ expiresAt: c.session.expiresAt.getTime() })
    })
    .post('/logout', (c) => {
      c.session = null
      return c.text('bye')
    })
    .get('/', (c) => c.json({ isNew: c.session.isNew, userId: c.session.userId ?? null }))
  a.onError((err, c) => c.text(`${err.name}: ${err.message}`, 500))
  return a
}

const whoIs = async (a: Requestable, jar: Jar) =>
  (await (await jar.request(a, '/')).json()) as { isNew: boolean; userId: string | null }

const copyOf = (jar: Jar) => {
  const copy = new Jar()
  for (const [k, v] of jar.cookies) copy.cookies.set(k, v)
  return copy
}

/** The one entry a Map-backed list holds. */
const onlyEntry = (map: Map<string, unknown>) => {
  expect(map.size).toBe(1)
  return [...map.values()][0] as SessionRecord<{ revokedAt: number }>
}

describe('a logged-out session stays refused as long as any copy of it could open', () => {
  const replay = report.count(
    'revocation: logged-out cookie replayed after the engine maxAge + 61 s',
    'renewed past maxAge, or sealed with a longer deadline; an entry that expired early let it back in',
  )

  it('renew(30 days) on a 1-day engine is capped to the list (1 day): the copy is dead when the entry ends', async () => {
    const clock = testClock()
    const revocation = sessionRevocation({ store: new Map(), now: clock.now })
    const a = app(clock, { maxAge: DAY, revocation })
    const jar = new Jar()
    await jar.request(a, '/login/alice', { method: 'POST' })
    const renewedAt = clock.now()
    const res = await jar.request(a, `/renew/${30 * DAY}`, { method: 'POST' })
    const stolen = copyOf(jar)
    await jar.request(a, '/logout', { method: 'POST' })
    for (const wait of [DAY - 1, 2, SKEW, 29 * DAY]) {
      clock.advance(wait)
      replay.run++
      expect(await whoIs(a, copyOf(stolen))).toEqual({ isNew: true, userId: null })
      replay.rejected++
    }
    // Capped: the list keeps entries for its maxAge (here the engine's, 1 day), no longer.
    expect(setCookies(res)[0]!.attributes['max-age']).toBe(String(DAY))
    expect(((await res.json()) as { expiresAt: number }).expiresAt).toBe(renewedAt + DAY * 1000)
  })

  it('with sessionRevocation({ maxAge: 30 days }), renew(30 days) is kept and its logout entry lives 30 days', async () => {
    const clock = testClock()
    const map = new Map<string, unknown>()
    const revocation = sessionRevocation({ store: map, maxAge: 30 * DAY, now: clock.now })
    const a = app(clock, { maxAge: DAY, revocation })
    const jar = new Jar()
    await jar.request(a, '/login/alice', { method: 'POST' })
    const res = await jar.request(a, `/renew/${30 * DAY}`, { method: 'POST' })
    expect(setCookies(res)[0]!.attributes['max-age']).toBe(String(30 * DAY))
    // More than the list allows is capped to it.
    const over = await copyOf(jar).request(a, `/renew/${31 * DAY}`, { method: 'POST' })
    expect(setCookies(over)[0]!.attributes['max-age']).toBe(String(30 * DAY))
    const stolen = copyOf(jar)
    await jar.request(a, '/logout', { method: 'POST' })
    const entry = onlyEntry(map)
    expect(entry.expiresAt - entry.createdAt).toBe((30 * DAY + SKEW) * 1000)
    // Past the engine's maxAge + 61 s (when the old entry was gone), and up to the deadline.
    for (const wait of [DAY + SKEW + 1, 28 * DAY, DAY - SKEW - 2]) {
      clock.advance(wait)
      replay.run++
      expect(await whoIs(a, copyOf(stolen))).toEqual({ isNew: true, userId: null })
      replay.rejected++
    }
    // The session's own deadline has passed: the cookie is expired on its own.
    clock.advance(2)
    expect(await whoIs(a, copyOf(stolen))).toEqual({ isNew: true, userId: null })
  })

  it('a seal with a deadline past the list maxAge (sealed before revocation was on) is stopped until that deadline', async () => {
    const clock = testClock()
    // Without a revocation list renew() has no cap: a 30-day cookie of a 1-day engine.
    const before = app(clock, { maxAge: DAY })
    const jar = new Jar()
    await jar.request(before, '/login/alice', { method: 'POST' })
    await jar.request(before, `/renew/${30 * DAY}`, { method: 'POST' })
    const deadline = clock.now() + 30 * DAY * 1000

    // The next deploy adds the list; the same cookie still opens, and logs out.
    const map = new Map<string, unknown>()
    const a = app(clock, {
      maxAge: DAY,
      revocation: sessionRevocation({ store: map, now: clock.now }),
    })
    expect(await whoIs(a, jar)).toEqual({ isNew: false, userId: 'alice' })
    const stolen = copyOf(jar)
    clock.advance(60)
    await jar.request(a, '/logout', { method: 'POST' })
    const entry = onlyEntry(map)
    for (const wait of [DAY + SKEW + 1, 28 * DAY]) {
      clock.advance(wait)
      replay.run++
      expect(await whoIs(a, copyOf(stolen))).toEqual({ isNew: true, userId: null })
      replay.rejected++
    }
    expect(entry.expiresAt).toBe(deadline + SKEW * 1000)
  })

  it('a copy refreshed by a rolling request after the cookie that logs out still dies (the entry covers maxAge from the logout)', async () => {
    const clock = testClock()
    const map = new Map<string, unknown>()
    const revocation = sessionRevocation({ store: map, now: clock.now })
    const a = app(clock, { maxAge: 3600, rolling: true, revocation })
    const victim = new Jar()
    await victim.request(a, '/login/alice', { method: 'POST' })
    const thief = copyOf(victim)
    // 40 minutes on, the thief's request refreshes its copy: same session, deadline 40 min later.
    clock.advance(40 * 60)
    const refreshed = await thief.request(a, '/')
    expect(setCookies(refreshed)[0]!.attributes['max-age']).toBe('3600')
    // The victim logs out with the older cookie, whose own deadline is 20 minutes away.
    clock.advance(60)
    await victim.request(a, '/logout', { method: 'POST' })
    expect(onlyEntry(map).expiresAt).toBe(clock.now() + (3600 + SKEW) * 1000)
    // Past the victim's cookie's deadline, the thief's refreshed copy is still refused.
    for (const wait of [20 * 60, 18 * 60]) {
      clock.advance(wait)
      replay.run++
      expect(await whoIs(a, copyOf(thief))).toEqual({ isNew: true, userId: null })
      replay.rejected++
    }
  })
})

describe('entries written with no session in hand live the list maxAge', () => {
  const admin = report.count(
    'revocation: session revoked by a process with no engine, replayed 61 s later',
    'an admin list wrote 60-second entries',
  )

  it('an admin list (no engine, no maxAge) keeps revokeUser and revoke entries 400 days', async () => {
    const clock = testClock()
    const map = new Map<string, unknown>()
    // The web process: its own list object over the shared store, used by its engine.
    const web = app(clock, {
      maxAge: DAY,
      revocation: sessionRevocation({ store: map, now: clock.now }),
    })
    const alice = new Jar()
    await alice.request(web, '/login/alice', { method: 'POST' })
    const bob = new Jar()
    const bobId = await (await bob.request(web, '/login/bob', { method: 'POST' })).text()
    clock.advance(1)

    // The admin process: no engine uses its list.
    const adminList = sessionRevocation({ store: map, now: clock.now })
    await adminList.revokeUser('alice')
    await adminList.revoke(bobId)
    clock.advance(SKEW + 1)
    for (const jar of [alice, bob]) {
      admin.run++
      expect(await whoIs(web, copyOf(jar))).toEqual({ isNew: true, userId: null })
      admin.rejected++
    }
    expect(adminList.maxAge).toBe(400 * DAY)
    for (const entry of map.values() as Iterable<SessionRecord>) {
      expect(entry.expiresAt - entry.createdAt).toBe((400 * DAY + SKEW) * 1000)
    }
    // Kept until no cookie (at most 400 days old in a browser) can carry the session.
    clock.advance(399 * DAY)
    expect(adminList.isRevoked({ id: bobId, createdAt: 0 })).toBe(true)
    expect(adminList.isRevoked({ id: 'other', userId: 'alice', createdAt: 0 })).toBe(true)
    clock.advance(DAY)
    expect(adminList.isRevoked({ id: bobId, createdAt: 0 })).toBe(false)
    expect(adminList.isRevoked({ id: 'other', userId: 'alice', createdAt: 0 })).toBe(false)
  })

  it('with maxAge, an admin list keeps them that long', async () => {
    const clock = testClock()
    const map = new Map<string, unknown>()
    const adminList = sessionRevocation({ store: map, maxAge: 7 * DAY, now: clock.now })
    expect(adminList.maxAge).toBe(7 * DAY)
    await adminList.revokeUser(42)
    expect(onlyEntry(map).expiresAt - onlyEntry(map).createdAt).toBe((7 * DAY + SKEW) * 1000)
    clock.advance(7 * DAY + SKEW - 1)
    expect(adminList.isRevoked({ id: 'x', userId: 42, createdAt: 0 })).toBe(true)
    clock.advance(1)
    expect(adminList.isRevoked({ id: 'x', userId: 42, createdAt: 0 })).toBe(false)
  })

  it('without maxAge, a list used by engines keeps entries the longest of their maxAge (and caps renew there)', async () => {
    const clock = testClock()
    const map = new Map<string, unknown>()
    const revocation = sessionRevocation({ store: map, now: clock.now })
    const short = app(clock, { maxAge: 3600, revocation })
    app(clock, { maxAge: DAY, revocation })
    expect(revocation.maxAge).toBe(DAY)
    const jar = new Jar()
    await jar.request(short, '/login/alice', { method: 'POST' })
    const res = await jar.request(short, `/renew/${7 * DAY}`, { method: 'POST' })
    expect(setCookies(res)[0]!.attributes['max-age']).toBe(String(DAY))
    await revocation.revokeUser('alice')
    expect(onlyEntry(map).expiresAt - onlyEntry(map).createdAt).toBe((DAY + SKEW) * 1000)
  })

  it('revoke(id, { expiresAt }) keeps the entry until that deadline when it is later than maxAge', async () => {
    const clock = testClock()
    const map = new Map<string, unknown>()
    const revocation = sessionRevocation({ store: map, maxAge: DAY, now: clock.now })
    const later = clock.now() + 10 * DAY * 1000
    await revocation.revoke('a'.repeat(32), { expiresAt: later })
    await revocation.revoke('b'.repeat(32), { expiresAt: clock.now() + 1000 })
    const a = map.get(`sid:${'a'.repeat(32)}`) as SessionRecord
    const b = map.get(`sid:${'b'.repeat(32)}`) as SessionRecord
    expect(a.expiresAt).toBe(later + SKEW * 1000)
    expect(b.expiresAt).toBe(clock.now() + (DAY + SKEW) * 1000)
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '1' as unknown as number]) {
      await expect(revocation.revoke('c'.repeat(32), { expiresAt: bad })).rejects.toThrow(TypeError)
    }
  })
})

describe('the list maxAge and the engines that use it', () => {
  const issuesOf = (fn: () => unknown) => {
    try {
      fn()
    } catch (err) {
      expect(err).toBeInstanceOf(SessionConfigError)
      return (err as SessionConfigError).issues
    }
    throw new Error('no error')
  }

  it('an engine whose maxAge is longer than the list maxAge is refused at creation', () => {
    const revocation = sessionRevocation({ store: new Map(), maxAge: DAY })
    const issues = issuesOf(() => session({ secret: SECRET, maxAge: 2 * DAY, revocation }))
    expect(issues.map((i) => i.path)).toEqual(['maxAge'])
    expect(issues[0]!.message).toContain('86400')
    // Equal or shorter is fine.
    expect(() => session({ secret: SECRET, maxAge: DAY, revocation })).not.toThrow()
    expect(() => session({ secret: SECRET, maxAge: 60, revocation })).not.toThrow()
    expect(revocation.maxAge).toBe(DAY)
  })

  it('maxAge is checked like the other durations', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '1d', null]) {
      const issues = issuesOf(() =>
        sessionRevocation({ store: new Map(), maxAge: bad as unknown as number }),
      )
      expect(issues.map((i) => i.path)).toEqual(['maxAge'])
    }
  })

  it('a custom list without a maxAge is refused', () => {
    const list = {
      userKey: 'userId',
      synchronous: true,
      retainFor() {},
      revoke() {},
      revokeUser: async () => {},
      isRevoked: () => false,
    } as unknown as SessionRevocation
    expect(issuesOf(() => session({ secret: SECRET, revocation: list }))).toEqual([
      { path: 'revocation.maxAge', message: 'must be a number of seconds' },
    ])
  })
})
