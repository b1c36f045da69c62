// Switching from h3's useSession (h3 2, and h3 1 as Nuxt 3/4 ship it): `data` opens as the
// session, `createdAt` is kept, the seal's ttl, `maxAge` and `idleTimeout` end it as h3 would,
// chunked cookies join, and every `h3` cookie is cleared once ours is written.
import { createCipheriv, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto'
import * as Iron from 'iron-webcrypto'
import { describe, expect, it } from 'vitest'
import { IronCodec } from '../src/crypto/iron.ts'
import { unsealStrong } from '../src/migrate/h3-keys.ts'
import { h3 } from '../src/migrate/index.ts'
import { runAsync } from '../src/util/steps.ts'
import { jarWith, switchedApp, visit } from './migrate/app.ts'
import { h3Cookie, h3v1Cookie } from './migrate/mint.ts'
import { OLD_SECRET, SECRET, testClock } from './support.ts'

const login = { userId: '42', theme: 'dark' }

describe('h3(): h3 useSession cookies', () => {
  it('opens an h3 2 cookie (8192 PBKDF2 rounds), keeps createdAt, clears h3', async () => {
    const before = Date.now()
    const old = await h3Cookie(login, { password: SECRET })
    const { app, onInvalid } = switchedApp({ migrateFrom: [h3()] })
    const jar = jarWith(old)
    const first = await visit(app, jar)
    expect(first.seen).toMatchObject({ isNew: false, data: login })
    expect(first.seen!.createdAt).toBeGreaterThanOrEqual(before)
    expect(first.seen!.createdAt).toBeLessThanOrEqual(Date.now())
    expect(onInvalid).not.toHaveBeenCalled()
    expect(first.cookies.get('h3')?.attributes['max-age']).toBe('0')
    expect([...jar.cookies.keys()]).toEqual(['sid'])
    const second = await visit(switchedApp().app, jar)
    expect(second.seen).toMatchObject({
      isNew: false,
      data: login,
      createdAt: first.seen!.createdAt,
    })
  })

  it('opens an h3 1 cookie with version 2 (as h3 2 does) and with version 1', async () => {
    const old = await h3v1Cookie(login, { password: SECRET })
    for (const version of [1, 2] as const) {
      const { app, onInvalid } = switchedApp({ migrateFrom: [h3({ version })] })
      expect((await visit(app, jarWith(old))).seen).toMatchObject({ isNew: false, data: login })
      expect(onInvalid).not.toHaveBeenCalled()
    }
  })

  it('version 1 does not spend 8192 rounds: an h3 2 cookie is tampered to it', async () => {
    const old = await h3Cookie(login, { password: SECRET })
    const { app, onInvalid } = switchedApp({ migrateFrom: [h3({ version: 1 })] })
    expect((await visit(app, jarWith(old))).seen?.isNew).toBe(true)
    expect(onInvalid).toHaveBeenCalledWith('tampered', expect.anything())
  })

  it('without migrateFrom its cookie is not read', async () => {
    const old = await h3Cookie(login, { password: SECRET })
    const { app, onInvalid } = switchedApp()
    expect((await visit(app, jarWith(old))).seen?.isNew).toBe(true)
    expect(onInvalid).not.toHaveBeenCalled()
  })

  it('the seal ttl from h3 maxAge ends it', async () => {
    const old = await h3Cookie(login, { password: SECRET, maxAge: 300 })
    const clock = testClock(Date.now())
    const { app, onInvalid } = switchedApp({ now: clock.now, migrateFrom: [h3()] })
    const live = await visit(app, jarWith(old))
    expect(live.seen!.expiresAt).toBeLessThanOrEqual(clock.now() + 300_000)
    expect(live.seen!.expiresAt).toBeGreaterThan(clock.now() + 290_000)
    // Past the ttl and iron's 60 s of clock skew the seal itself is refused.
    clock.advance(361)
    const jar = jarWith(old)
    expect((await visit(app, jar)).seen?.isNew).toBe(true)
    expect(onInvalid).toHaveBeenCalledWith('expired', expect.anything())
    expect(jar.cookies.size).toBe(0)
  })

  it('maxAge given to h3() ends a cookie h3 sealed without one, from its createdAt', async () => {
    const old = await h3v1Cookie(login, { password: SECRET })
    const clock = testClock(Date.now())
    const { app, onInvalid } = switchedApp({ now: clock.now, migrateFrom: [h3({ maxAge: 60 })] })
    expect((await visit(app, jarWith(old))).seen?.isNew).toBe(false)
    clock.advance(61)
    expect((await visit(app, jarWith(old))).seen?.isNew).toBe(true)
    expect(onInvalid).toHaveBeenCalledWith('expired', expect.anything())
    // Without it h3 set no end: the session lives for our maxAge from now.
    const open = switchedApp({ now: clock.now, maxAge: 900, migrateFrom: [h3()] })
    expect((await visit(open.app, jarWith(old))).seen?.expiresAt).toBe(clock.now() + 900_000)
  })

  it('idleTimeout given to h3() ends a session unseen that long', async () => {
    const old = await h3Cookie(login, { password: SECRET, idleTimeout: 100 })
    const clock = testClock(Date.now())
    const { app, onInvalid } = switchedApp({
      now: clock.now,
      migrateFrom: [h3({ idleTimeout: 30 })],
    })
    expect((await visit(app, jarWith(old))).seen?.isNew).toBe(false)
    clock.advance(31)
    expect((await visit(app, jarWith(old))).seen?.isNew).toBe(true)
    expect(onInvalid).toHaveBeenCalledWith('expired', expect.anything())
  })

  it('joins a chunked cookie and clears every chunk', async () => {
    const big = { userId: '42', notes: 'n'.repeat(6000) }
    const old = await h3Cookie(big, { password: SECRET })
    expect(old.get('h3')!.value).toMatch(/^__chunked__\d$/)
    const { app } = switchedApp({ chunk: true, migrateFrom: [h3()] })
    const jar = jarWith(old)
    const { seen, cookies } = await visit(app, jar)
    expect(seen).toMatchObject({ isNew: false, data: big })
    for (const name of old.keys()) expect(cookies.get(name)?.attributes['max-age']).toBe('0')
    expect([...jar.cookies.keys()].every((n) => n.startsWith('sid.'))).toBe(true)

    // A chunk missing: refused as malformed, and what is there is cleared.
    const broken = jarWith(old)
    broken.cookies.delete('h3.2')
    const other = switchedApp({ chunk: true, migrateFrom: [h3()] })
    expect((await visit(other.app, broken)).seen?.isNew).toBe(true)
    expect(other.onInvalid).toHaveBeenCalledWith('malformed', expect.anything())
    expect(broken.cookies.size).toBe(0)
  })

  it('a cookie under another password is tampered; given that password it opens', async () => {
    const old = await h3Cookie(login, { password: OLD_SECRET, name: 'nuxt' })
    const same = switchedApp({ migrateFrom: [h3({ cookieName: 'nuxt' })] })
    await visit(same.app, jarWith(old))
    expect(same.onInvalid).toHaveBeenCalledWith('tampered', expect.anything())
    const given = switchedApp({ migrateFrom: [h3({ cookieName: 'nuxt', secret: OLD_SECRET })] })
    expect((await visit(given.app, jarWith(old))).seen?.data).toEqual(login)
  })

  it('the WebCrypto path opens real h3 2 seals with 8192-round keys and refuses changed ones', async () => {
    const minted = await h3Cookie(login, { password: SECRET, maxAge: 300 })
    const sealed = decodeURIComponent(minted.get('h3')!.value)
    const keys = [{ id: '', secret: SECRET }]
    const open = (s: string, webCrypto: boolean, k = keys) =>
      runAsync(unsealStrong(s, k, Date.now(), (v) => v, webCrypto))
    // Through crypto.subtle, not node:crypto: PBKDF2 at h3's 8192 iterations, one key each.
    const subtle = crypto.subtle as unknown as Record<string, (...args: unknown[]) => unknown>
    const original = subtle.deriveKey!
    const iterations: unknown[] = []
    subtle.deriveKey = (...args: unknown[]) => {
      iterations.push((args[0] as { iterations: number }).iterations)
      return original.apply(crypto.subtle, args)
    }
    let opened: Awaited<ReturnType<typeof open>>
    try {
      opened = await open(sealed, true)
    } finally {
      delete subtle.deriveKey
    }
    expect(iterations).toEqual([8192, 8192])
    expect(opened).toMatchObject({
      ok: true,
      value: { data: login, createdAt: expect.any(Number) },
    })
    expect(await open(sealed, false)).toEqual(opened)
    // h3 writes hex salts; one character changed in any part the MAC covers (the expiration by
    // under a second), or in the MAC.
    const parts = sealed.split('*')
    for (const [index, at] of [
      [2, 3],
      [3, 0],
      [4, 5],
      [5, 10],
      [6, 3],
      [7, 10],
    ] as const) {
      const part = parts[index]!
      const c = part[at]!
      const swapped = /\d/.test(c) ? String((Number(c) + 1) % 10) : c === 'a' ? 'b' : 'a'
      const changed = [...parts]
      changed[index] = part.slice(0, at) + swapped + part.slice(at + 1)
      const forged = changed.join('*')
      for (const webCrypto of [true, false]) {
        expect(await open(forged, webCrypto)).toEqual({ ok: false, reason: 'tampered' })
      }
    }
    // A MAC verifies only with the password that made it; a ring of others is tried in turn.
    const ring = [
      { id: '', secret: OLD_SECRET },
      { id: '', secret: SECRET },
    ]
    expect(await open(sealed, true, ring)).toEqual(opened)
    expect(await open(sealed, true, ring.slice(0, 1))).toEqual({ ok: false, reason: 'tampered' })
  })

  it('an authentic 8192-round seal that does not decrypt is invalid-data on both paths', async () => {
    // Sealed by hand as h3 2 would, but with a last block whose padding byte is 0 (never PKCS#7).
    const key = (salt: string) => pbkdf2Sync(SECRET, salt, 8192, 32, 'sha1')
    const [encSalt, macSalt] = ['a1'.repeat(32), 'b2'.repeat(32)]
    const iv = randomBytes(16)
    const cipher = createCipheriv('aes-256-cbc', key(encSalt), iv).setAutoPadding(false)
    const encrypted = Buffer.concat([cipher.update(Buffer.alloc(32)), cipher.final()])
    const base = `Fe26.2**${encSalt}*${iv.toString('base64url')}*${encrypted.toString('base64url')}*`
    const mac = createHmac('sha256', key(macSalt)).update(base).digest('base64url')
    const sealed = `${base}*${macSalt}*${mac}`
    const keys = [{ id: '', secret: SECRET }]
    for (const webCrypto of [true, false]) {
      expect(await runAsync(unsealStrong(sealed, keys, Date.now(), (v) => v, webCrypto))).toEqual({
        ok: false,
        reason: 'invalid-data',
      })
    }
  })

  it('the WebCrypto path opens 8192-round seals too (where node:crypto is missing)', async () => {
    const payload = { id: 'x', createdAt: 1, data: { a: 1 } }
    const rounds = { ...Iron.defaults.encryption, iterations: 8192 }
    const sealed = await Iron.seal(payload, SECRET, {
      ...Iron.defaults,
      encryption: rounds,
      integrity: { ...Iron.defaults.integrity, iterations: 8192 },
    })
    const keys = [{ id: '', secret: SECRET }]
    const revive = (v: unknown) => v
    for (const webCrypto of [true, false]) {
      const opened = await runAsync(unsealStrong(sealed, keys, Date.now(), revive, webCrypto))
      expect(opened).toEqual({ ok: true, value: payload, stale: false })
      // One iteration (iron's default, IronCodec's) does not open it; another secret neither.
      expect((await new IronCodec(keys, { webCrypto }).unseal(sealed, false)).ok).toBe(false)
      const other = [{ id: '', secret: OLD_SECRET }]
      expect(await runAsync(unsealStrong(sealed, other, Date.now(), revive, webCrypto))).toEqual({
        ok: false,
        reason: 'tampered',
      })
    }
  })
})
