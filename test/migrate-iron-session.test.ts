// Switching from iron-session 8: cookies its getIronSession().save() wrote open as sessions,
// expire when their ttl says, and are re-sealed in our format at once, the old cookie cleared.
import { describe, expect, it } from 'vitest'
import { sessionRevocation } from '../src/core/revocation.ts'
import { IronCodec } from '../src/crypto/iron.ts'
import { ironSession } from '../src/migrate/index.ts'
import { jarWith, switchedApp, visit } from './migrate/app.ts'
import { ironSessionCookie } from './migrate/mint.ts'
import { OLD_SECRET, SECRET, testClock } from './support.ts'

const NEWER = 'newer-secret-0123456789-abcdefghijklmnopqrstuvwxy'
const login = { userId: '42', user: { name: 'Ada', admin: true } }

describe('ironSession(): iron-session 8 cookies', () => {
  it('opens one as a session, seals it in our format and clears the old cookie', async () => {
    const clock = testClock(Date.now())
    const old = await ironSessionCookie(login, { password: SECRET, cookieName: 'iron' })
    const { app, onInvalid } = switchedApp({
      now: clock.now,
      migrateFrom: [ironSession({ cookieName: 'iron' })],
    })
    const jar = jarWith(old)

    const first = await visit(app, jar)
    expect(first.seen).toMatchObject({ isNew: false, data: login })
    expect(onInvalid).not.toHaveBeenCalled()
    // Read it, write ours, clear the old one.
    expect(first.cookies.get('iron')?.attributes['max-age']).toBe('0')
    expect(first.cookies.get('sid')?.value).toMatch(/^Fe26\.2\*\*/)
    expect([...jar.cookies.keys()]).toEqual(['sid'])

    // The next request carries our cookie only, and it opens on an app that migrates nothing.
    const plain = switchedApp({ now: clock.now })
    const second = await visit(plain.app, jar)
    expect(second.seen).toMatchObject({ isNew: false, data: login })
    expect(second.cookies.size).toBe(0)
    expect(plain.onInvalid).not.toHaveBeenCalled()
  })

  it('without migrateFrom the cookie is refused as before', async () => {
    const old = await ironSessionCookie(login, { password: SECRET, cookieName: 'sid' })
    const { app, onInvalid } = switchedApp()
    const { seen } = await visit(app, jarWith(old))
    expect(seen).toMatchObject({ isNew: true, data: {} })
    // Under our cookie name it is a value we cannot read (the `~2` suffix is no MAC of ours).
    expect(onInvalid).toHaveBeenCalledWith('malformed', expect.anything())
  })

  it('under the same cookie name as ours there is nothing to clear but ours, rewritten', async () => {
    const old = await ironSessionCookie(login, { password: SECRET, cookieName: 'sid' })
    const { app } = switchedApp({ migrateFrom: [ironSession()] })
    const jar = jarWith(old)
    const { seen, cookies } = await visit(app, jar)
    expect(seen).toMatchObject({ isNew: false, data: login })
    expect([...cookies.keys()]).toEqual(['sid'])
    expect(cookies.get('sid')!.value).not.toContain('~2')
  })

  it('honours its password ring: the newest id seals, older ids still open', async () => {
    const ring = { 1: OLD_SECRET, 2: SECRET }
    const byOld = await ironSessionCookie(
      { userId: 'old' },
      { password: { 1: OLD_SECRET }, cookieName: 'iron' },
    )
    const byRing = await ironSessionCookie(
      { userId: 'new' },
      { password: ring, cookieName: 'iron' },
    )
    expect(byOld.get('iron')!.value).toMatch(/^Fe26\.2\*1\*/)
    expect(byRing.get('iron')!.value).toMatch(/^Fe26\.2\*2\*/)

    // The same ring as session()'s secret.
    const same = switchedApp({ secret: ring, migrateFrom: [ironSession({ cookieName: 'iron' })] })
    expect((await visit(same.app, jarWith(byOld))).seen?.data).toEqual({ userId: 'old' })
    expect((await visit(same.app, jarWith(byRing))).seen?.data).toEqual({ userId: 'new' })

    // Our own new secret, the old ring given to the migrator.
    const own = switchedApp({
      secret: NEWER,
      migrateFrom: [ironSession({ cookieName: 'iron', secret: ring })],
    })
    const jar = jarWith(byOld)
    expect((await visit(own.app, jar)).seen?.data).toEqual({ userId: 'old' })
    // Re-sealed with NEWER: only that opens it now.
    const ours = jar.cookies.get('sid')!
    expect((await new IronCodec([{ id: '', secret: NEWER }]).unseal(ours)).ok).toBe(true)
    expect((await new IronCodec([{ id: '', secret: SECRET }]).unseal(ours)).ok).toBe(false)
  })

  it('a plain password is id 1 of its ring: a plain secret, or a list of them, opens it', async () => {
    const old = await ironSessionCookie(login, { password: OLD_SECRET, cookieName: 'iron' })
    const { app, onInvalid } = switchedApp({
      secret: [SECRET, OLD_SECRET],
      migrateFrom: [ironSession({ cookieName: 'iron' })],
    })
    expect((await visit(app, jarWith(old))).seen?.data).toEqual(login)
    expect(onInvalid).not.toHaveBeenCalled()
  })

  it('an id its ring does not hold is unknown-key; another password is tampered; both cleared', async () => {
    const byId3 = await ironSessionCookie(login, { password: { 3: SECRET }, cookieName: 'iron' })
    const byOther = await ironSessionCookie(login, { password: OLD_SECRET, cookieName: 'iron' })
    for (const [old, reason] of [
      [byId3, 'unknown-key'],
      [byOther, 'tampered'],
    ] as const) {
      const { app, onInvalid } = switchedApp({
        secret: { 1: SECRET },
        migrateFrom: [ironSession({ cookieName: 'iron' })],
      })
      const jar = jarWith(old)
      const { seen, cookies } = await visit(app, jar)
      expect(seen).toMatchObject({ isNew: true, data: {} })
      expect(onInvalid).toHaveBeenCalledWith(reason, expect.anything())
      expect(cookies.get('iron')?.attributes['max-age']).toBe('0')
      expect(jar.cookies.has('iron')).toBe(false)
    }
  })

  it('a tampered cookie is refused and cleared, never opened', async () => {
    const old = await ironSessionCookie(login, { password: SECRET, cookieName: 'iron' })
    const value = old.get('iron')!.value
    const parts = value.split('*')
    // One character of the ciphertext changed (the MAC no longer matches).
    parts[4] = (parts[4]![0] === 'A' ? 'B' : 'A') + parts[4]!.slice(1)
    const { app, onInvalid } = switchedApp({ migrateFrom: [ironSession({ cookieName: 'iron' })] })
    const jar = jarWith()
    jar.cookies.set('iron', parts.join('*'))
    const { seen, cookies } = await visit(app, jar)
    expect(seen?.isNew).toBe(true)
    expect(onInvalid).toHaveBeenCalledWith('tampered', expect.anything())
    expect(cookies.get('iron')?.attributes['max-age']).toBe('0')
    // A seal without iron-session's version suffix is not one of its cookies.
    jar.cookies.set('iron', value.slice(0, -2))
    await visit(app, jar)
    expect(onInvalid).toHaveBeenLastCalledWith('malformed', expect.anything())
  })

  it('its ttl is the session end: an expired cookie is refused, a live one keeps that end', async () => {
    const old = await ironSessionCookie(login, { password: SECRET, cookieName: 'iron', ttl: 600 })
    const clock = testClock(Date.now())
    const sealedUntil = Number(old.get('iron')!.value.split('*')[5])
    const { app, onInvalid } = switchedApp({
      now: clock.now,
      migrateFrom: [ironSession({ cookieName: 'iron' })],
    })

    // Still live: carried over with the seal's end, not a fresh day.
    const live = await visit(app, jarWith(old))
    expect(live.seen?.expiresAt).toBe(sealedUntil)
    const maxAge = Number(live.cookies.get('sid')!.attributes['max-age'])
    expect(maxAge).toBeGreaterThan(590)
    expect(maxAge).toBeLessThanOrEqual(600)

    clock.advance(601)
    const jar = jarWith(old)
    const late = await visit(app, jar)
    expect(late.seen).toMatchObject({ isNew: true, data: {} })
    expect(onInvalid).toHaveBeenCalledWith('expired', expect.anything())
    expect(jar.cookies.has('iron')).toBe(false)
  })

  it('a 14-day iron-session cookie gets no more than our maxAge', async () => {
    const clock = testClock(Date.now())
    const old = await ironSessionCookie(login, { password: SECRET, cookieName: 'iron' })
    const { app } = switchedApp({
      now: clock.now,
      maxAge: 3600,
      migrateFrom: [ironSession({ cookieName: 'iron' })],
    })
    const { seen, cookies } = await visit(app, jarWith(old))
    expect(seen?.expiresAt).toBe(clock.now() + 3600_000)
    expect(cookies.get('sid')!.attributes['max-age']).toBe('3600')
  })

  it('with revocation: a fresh internal id, revokeUser() reaches old cookies, logout clears them', async () => {
    const clock = testClock(Date.now())
    const revocation = sessionRevocation({ store: new Map(), now: clock.now })
    const old = await ironSessionCookie(login, { password: SECRET, cookieName: 'iron' })
    const { app, onInvalid } = switchedApp({
      now: clock.now,
      revocation,
      migrateFrom: [ironSession({ cookieName: 'iron' })],
    })

    const a = jarWith(old)
    const first = await visit(app, a)
    expect(first.seen?.id).toMatch(/^[A-Za-z0-9_-]{32}$/)
    // Our cookie carries that id, and logging out revokes it.
    expect((await visit(app, a)).seen?.id).toBe(first.seen?.id)
    const copy = a.cookies.get('sid')!
    await a.request(app, '/logout', { method: 'POST' })
    const replay = jarWith()
    replay.cookies.set('sid', copy)
    expect((await visit(app, replay)).seen?.isNew).toBe(true)
    expect(onInvalid).toHaveBeenLastCalledWith('revoked', expect.anything())

    // revokeUser() after the switch stops every old cookie of that user: it predates the revocation.
    clock.advance(1)
    await revocation.revokeUser('42')
    clock.advance(1)
    const b = jarWith(old)
    const refused = await visit(app, b)
    expect(refused.seen?.isNew).toBe(true)
    expect(onInvalid).toHaveBeenLastCalledWith('revoked', expect.anything())
    expect(b.cookies.has('iron')).toBe(false)
  })

  it('a logout on the request that migrates clears the old cookie too', async () => {
    const old = await ironSessionCookie(login, { password: SECRET, cookieName: 'iron' })
    const { app } = switchedApp({ migrateFrom: [ironSession({ cookieName: 'iron' })] })
    const jar = jarWith(old)
    await jar.request(app, '/logout', { method: 'POST' })
    expect(jar.cookies.size).toBe(0)
    expect((await visit(app, jar)).seen?.isNew).toBe(true)
  })

  it('never takes one of our own seals for its data, even with its suffix appended', async () => {
    const clock = testClock(Date.now())
    const ours = switchedApp({ now: clock.now, maxAge: 60 })
    const jar = jarWith()
    await jar.request(ours.app, '/visit')
    clock.advance(61)
    jar.cookies.set('sid', `${jar.cookies.get('sid')}~2`)
    const { app, onInvalid } = switchedApp({ now: clock.now, migrateFrom: [ironSession()] })
    const { seen } = await visit(app, jar)
    expect(seen).toMatchObject({ isNew: true, data: {} })
    // Not its payload: the reason stays our own check's.
    expect(onInvalid).toHaveBeenCalledWith('malformed', expect.anything())
  })
})
