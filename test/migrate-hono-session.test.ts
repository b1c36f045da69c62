// Switching from hono-session: its `sid` cookie (the same name as ours) opens as a session, with
// its flash messages and `_expires`; its `sx` "exists" cookie is cleared.
import { describe, expect, it } from 'vitest'
import { honoSession } from '../src/migrate/index.ts'
import { jarWith, switchedApp, visit } from './migrate/app.ts'
import { honoSessionCookie } from './migrate/mint.ts'
import { OLD_SECRET, SECRET, testClock } from './support.ts'

const login = { userId: '42', roles: ['admin'] }

describe('honoSession(): hono-session cookies', () => {
  it('opens one as a session, re-seals it under the same name and clears sx', async () => {
    const old = await honoSessionCookie(login, { secret: SECRET })
    expect([...old.keys()]).toEqual(['sid', 'sx'])
    const { app, onInvalid } = switchedApp({ migrateFrom: [honoSession()] })
    const jar = jarWith(old)

    const first = await visit(app, jar)
    expect(first.seen).toMatchObject({ isNew: false, data: login })
    expect(onInvalid).not.toHaveBeenCalled()
    expect(first.cookies.get('sx')?.attributes['max-age']).toBe('0')
    const ours = first.cookies.get('sid')!.value
    expect(ours).not.toBe(old.get('sid')!.value)
    expect([...jar.cookies.keys()]).toEqual(['sid'])

    // Our cookie opens without the migrator: it is in our format now, and nothing is written.
    const plain = switchedApp()
    const second = await visit(plain.app, jar)
    expect(second.seen).toMatchObject({ isNew: false, data: login })
    expect(second.cookies.size).toBe(0)
    expect(plain.onInvalid).not.toHaveBeenCalled()
  })

  it('without migrateFrom it is refused as before: a seal under our secret that is not ours', async () => {
    const old = await honoSessionCookie(login, { secret: SECRET })
    const { app, onInvalid } = switchedApp()
    const { seen, cookies } = await visit(app, jarWith(old))
    expect(seen).toMatchObject({ isNew: true, data: {} })
    expect(onInvalid).toHaveBeenCalledWith('invalid-data', expect.anything())
    // Only our own cookie is cleared: sx is not ours to touch without migrateFrom.
    expect([...cookies.keys()]).toEqual(['sid'])
  })

  it('carries its flash messages over: read on this request, gone on the next', async () => {
    const old = await honoSessionCookie(login, { secret: SECRET }, { notice: 'Welcome back' })
    const { app } = switchedApp({ migrateFrom: [honoSession()] })
    const jar = jarWith(old)
    expect((await visit(app, jar)).seen?.data).toEqual({ ...login, notice: 'Welcome back' })
    expect((await visit(app, jar)).seen?.data).toEqual(login)
  })

  it('honours _expires: refused once its maxAge has passed, and that end is kept', async () => {
    const old = await honoSessionCookie(login, { secret: SECRET, maxAge: 120 })
    const clock = testClock(Date.now())
    const { app, onInvalid } = switchedApp({ now: clock.now, migrateFrom: [honoSession()] })
    const live = await visit(app, jarWith(old))
    expect(live.seen?.isNew).toBe(false)
    expect(live.seen!.expiresAt).toBeLessThanOrEqual(clock.now() + 120_000)
    expect(live.seen!.expiresAt).toBeGreaterThan(clock.now() + 110_000)

    clock.advance(121)
    const jar = jarWith(old)
    const late = await visit(app, jar)
    expect(late.seen).toMatchObject({ isNew: true, data: {} })
    expect(onInvalid).toHaveBeenCalledWith('expired', expect.anything())
    expect(jar.cookies.size).toBe(0)
  })

  it('a cookie sealed under another secret is tampered; the migrator may be given the old one', async () => {
    const old = await honoSessionCookie(login, { secret: OLD_SECRET })
    const same = switchedApp({ migrateFrom: [honoSession()] })
    await visit(same.app, jarWith(old))
    expect(same.onInvalid).toHaveBeenCalledWith('tampered', expect.anything())

    const given = switchedApp({ migrateFrom: [honoSession({ secret: OLD_SECRET })] })
    expect((await visit(given.app, jarWith(old))).seen?.data).toEqual(login)
  })

  it('under its own cookie name, that cookie and sx are cleared once ours is written', async () => {
    const old = await honoSessionCookie(login, { secret: SECRET, cookieName: 'hono' })
    const { app } = switchedApp({ migrateFrom: [honoSession({ cookieName: 'hono' })] })
    const jar = jarWith(old)
    const { cookies } = await visit(app, jar)
    expect(cookies.get('hono')?.attributes['max-age']).toBe('0')
    expect(cookies.get('sx')?.attributes['max-age']).toBe('0')
    expect([...jar.cookies.keys()]).toEqual(['sid'])
  })

  it('never takes one of our own refused seals for its payload (expired, other purpose)', async () => {
    const clock = testClock(Date.now())
    const ours = switchedApp({ now: clock.now, maxAge: 60 })
    const jar = jarWith()
    await jar.request(ours.app, '/visit')
    const sealed = jar.cookies.get('sid')!
    clock.advance(61)
    const { app, onInvalid } = switchedApp({
      now: clock.now,
      maxAge: 60,
      migrateFrom: [honoSession()],
    })
    const expired = await visit(app, jar)
    expect(expired.seen).toMatchObject({ isNew: true, data: {} })
    expect(onInvalid).toHaveBeenCalledWith('expired', expect.anything())

    // Sealed for another purpose under the same secret: refused as such, not migrated.
    const other = switchedApp({ purpose: 'other', migrateFrom: [honoSession()] })
    const replay = jarWith()
    replay.cookies.set('sid', sealed)
    expect((await visit(other.app, replay)).seen?.isNew).toBe(true)
    expect(other.onInvalid).toHaveBeenCalledWith('wrong-purpose', expect.anything())
  })
})
