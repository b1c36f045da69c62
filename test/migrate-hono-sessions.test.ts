// Switching from hono-sessions (CookieStore): its `session` cookie opens as a session, entry
// values become keys, flash entries stay flash, `_expire` ends it; the old cookie is cleared.
import { Hono } from 'hono'
import * as Iron from 'iron-webcrypto'
import { describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { honoSessions } from '../src/migrate/index.ts'
import { jarWith, switchedApp, visit } from './migrate/app.ts'
import { honoSessionsCookie } from './migrate/mint.ts'
import { OLD_SECRET, SECRET, testClock } from './support.ts'

const login = { userId: '42', cart: { items: [1, 2] } }

describe('honoSessions(): hono-sessions CookieStore cookies', () => {
  it('opens one as a session, writes ours and clears `session`', async () => {
    const old = await honoSessionsCookie(login, { encryptionKey: SECRET, expireAfterSeconds: 600 })
    const { app, onInvalid } = switchedApp({ migrateFrom: [honoSessions()] })
    const jar = jarWith(old)
    const first = await visit(app, jar)
    expect(first.seen).toMatchObject({ isNew: false, data: login })
    expect(onInvalid).not.toHaveBeenCalled()
    expect(first.cookies.get('session')?.attributes['max-age']).toBe('0')
    expect([...jar.cookies.keys()]).toEqual(['sid'])
    const plain = switchedApp()
    expect((await visit(plain.app, jar)).seen).toMatchObject({ isNew: false, data: login })
  })

  it('without migrateFrom its cookie is not read at all', async () => {
    const old = await honoSessionsCookie(login, { encryptionKey: SECRET })
    const { app, onInvalid } = switchedApp()
    const { seen, cookies } = await visit(app, jarWith(old))
    expect(seen).toMatchObject({ isNew: true, data: {} })
    expect(onInvalid).not.toHaveBeenCalled()
    expect(cookies.size).toBe(0)
  })

  it('flash entries are read on this request and gone on the next', async () => {
    const old = await honoSessionsCookie(login, { encryptionKey: SECRET }, { notice: 'Saved' })
    const { app } = switchedApp({ migrateFrom: [honoSessions()] })
    const jar = jarWith(old)
    expect((await visit(app, jar)).seen?.data).toEqual({ ...login, notice: 'Saved' })
    expect((await visit(app, jar)).seen?.data).toEqual(login)
  })

  it('honours _expire (expireAfterSeconds): an expired cookie is refused and cleared', async () => {
    const old = await honoSessionsCookie(login, { encryptionKey: SECRET, expireAfterSeconds: 60 })
    const clock = testClock(Date.now())
    const { app, onInvalid } = switchedApp({ now: clock.now, migrateFrom: [honoSessions()] })
    const live = await visit(app, jarWith(old))
    expect(live.seen!.expiresAt).toBeLessThanOrEqual(clock.now() + 60_000)
    expect(live.seen!.expiresAt).toBeGreaterThan(clock.now() + 50_000)
    clock.advance(61)
    const jar = jarWith(old)
    expect((await visit(app, jar)).seen?.isNew).toBe(true)
    expect(onInvalid).toHaveBeenCalledWith('expired', expect.anything())
    expect(jar.cookies.size).toBe(0)
  })

  it('a cookie under another encryptionKey is tampered, and opens given that key', async () => {
    const old = await honoSessionsCookie(login, {
      encryptionKey: OLD_SECRET,
      sessionCookieName: 'app',
    })
    const same = switchedApp({ migrateFrom: [honoSessions({ cookieName: 'app' })] })
    await visit(same.app, jarWith(old))
    expect(same.onInvalid).toHaveBeenCalledWith('tampered', expect.anything())
    const given = switchedApp({
      migrateFrom: [honoSessions({ cookieName: 'app', secret: OLD_SECRET })],
    })
    const jar = jarWith(old)
    expect((await visit(given.app, jar)).seen?.data).toEqual(login)
    expect([...jar.cookies.keys()]).toEqual(['sid'])
  })

  it('an entry named __proto__ stays a key: it never becomes the data object prototype', async () => {
    // What hono-sessions' CookieStore seals (a JSON string), made by hand to hold that key.
    const payload = '{"_data":{"__proto__":{"value":{"admin":true},"flash":false}},"_expire":null}'
    const sealed = await Iron.seal(payload, SECRET, Iron.defaults)
    const app = new Hono()
      .use(session({ secret: SECRET, migrateFrom: [honoSessions()] }))
      .get('/', (c) =>
        c.json({
          admin: c.session.admin ?? null,
          isNew: c.session.isNew,
          keys: Object.keys(c.session.toJSON()),
        }),
      )
    const res = await app.request('https://example.com/', {
      headers: { cookie: `session=${sealed}` },
    })
    // Kept as the own key JSON.parse made (as our own payloads keep it), not as a prototype.
    expect(await res.json()).toEqual({ admin: null, isNew: false, keys: ['__proto__'] })
  })
})
