// migrateFrom as an option: what it accepts (and the messages for what it does not), the `until`
// window with its one warning, store mode, the synchronous path, several entries, and the
// adapters that read cookies by name (Next's proxy).

import { Elysia } from 'elysia'
import { NextRequest } from 'next/server.js'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { session as elysiaSession } from '../src/adapters/elysia.ts'
import { withSession } from '../src/adapters/fetch.ts'
import { nextSession } from '../src/adapters/next.ts'
import { sessionEngine } from '../src/core/engine.ts'
import { SessionConfigError } from '../src/core/errors.ts'
import { h3, honoSession, honoSessions, ironSession } from '../src/migrate/index.ts'
import { jarWith, switchedApp, visit } from './migrate/app.ts'
import { cookieHeader, h3Cookie, ironSessionCookie } from './migrate/mint.ts'
import { requestOf, SECRET, setCookies, testClock } from './support.ts'

const login = { userId: '42' }

function configError(make: () => unknown): SessionConfigError {
  try {
    make()
  } catch (err) {
    expect(err).toBeInstanceOf(SessionConfigError)
    return err as SessionConfigError
  }
  throw new Error('expected a SessionConfigError')
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('migrateFrom options', () => {
  it('names, or objects, instead of migrators: one error saying where migrators come from', () => {
    const err = configError(() =>
      sessionEngine({ secret: SECRET, migrateFrom: ['iron-session', { from: 'h3' }] as never }),
    )
    const message = 'must come from sealed-session/migrate'
    expect(err.issues).toEqual([
      { path: 'migrateFrom.0', message },
      { path: 'migrateFrom.1', message },
    ])
    expect(
      configError(() => sessionEngine({ secret: SECRET, migrateFrom: h3() as never })).issues,
    ).toEqual([{ path: 'migrateFrom', message: 'must be an array' }])
  })

  it('each factory checks its own options, naming every bad one', () => {
    const err = configError(() =>
      h3({
        cookieName: 'a b',
        maxAge: -1,
        idleTimeout: 'x',
        version: 3,
        until: 'soon',
        secret: 'short',
        bogus: 1,
      } as never),
    )
    expect(err.issues.map((i) => i.path)).toEqual([
      'h3().cookieName',
      'h3().maxAge',
      'h3().idleTimeout',
      'h3().version',
      'h3().until',
      'h3().secret',
      'h3()',
    ])
    expect(err.message).toContain('h3(): unknown option "bogus"')
    expect(configError(() => ironSession({ maxAge: 60 } as never)).message).toContain(
      'ironSession(): unknown option "maxAge"',
    )
    expect(configError(() => honoSession({ existsCookieName: 'a;b' })).issues[0]?.path).toBe(
      'honoSession().existsCookieName',
    )
    expect(configError(() => honoSessions('session' as never)).issues[0]?.message).toBe(
      'options must be an object',
    )
  })

  it('only with the cookie transport', () => {
    const err = configError(() =>
      sessionEngine({ secret: SECRET, transport: 'header', migrateFrom: [h3()] }),
    )
    expect(err.issues).toEqual([
      { path: 'migrateFrom', message: 'only applies to the cookie transport' },
    ])
  })

  it('until already passed: one warning at start-up, and the old cookies are not read', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const migrator = ironSession({ cookieName: 'iron', until: new Date(Date.now() - 1000) })
    expect(warn).not.toHaveBeenCalled()
    const { app, onInvalid } = switchedApp({ migrateFrom: [migrator] })
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0]![0]).toContain('ironSession() no longer reads iron-session cookies')
    const old = await ironSessionCookie(login, { password: SECRET, cookieName: 'iron' })
    const jar = jarWith(old)
    const { seen, cookies } = await visit(app, jar)
    expect(seen?.isNew).toBe(true)
    expect(onInvalid).not.toHaveBeenCalled()
    expect(cookies.size).toBe(0)
    await visit(app, jar)
    expect(warn).toHaveBeenCalledTimes(1)
  })

  it('until passing while the app runs: read before, ignored after, warned once', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const clock = testClock(Date.now())
    const until = new Date(clock.now() + 60_000).toISOString()
    const { app } = switchedApp({ now: clock.now, migrateFrom: [h3({ until })] })
    const old = await h3Cookie(login, { password: SECRET })
    expect((await visit(app, jarWith(old))).seen?.isNew).toBe(false)
    clock.advance(60)
    expect((await visit(app, jarWith(old))).seen?.isNew).toBe(true)
    expect((await visit(app, jarWith(old))).seen?.isNew).toBe(true)
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0]![0]).toContain(`its until (${until}) has passed`)
  })

  it('tries the entries in order, each under its own cookie', async () => {
    const iron = await ironSessionCookie({ from: 'iron' }, { password: SECRET, cookieName: 'iron' })
    const fromH3 = await h3Cookie({ from: 'h3' }, { password: SECRET })
    const { app } = switchedApp({ migrateFrom: [ironSession({ cookieName: 'iron' }), h3()] })
    expect((await visit(app, jarWith(fromH3))).seen?.data).toEqual({ from: 'h3' })
    const both = jarWith(iron, fromH3)
    expect((await visit(app, both)).seen?.data).toEqual({ from: 'iron' })
    // Only the cookie that was read is cleared; the other library's stays for its own entry.
    expect([...both.cookies.keys()].sort()).toEqual(['h3', 'sid'])
  })

  it('store mode: the migrated session is written to the store under a new id', async () => {
    const store = new Map<string, unknown>()
    const old = await ironSessionCookie(login, { password: SECRET, cookieName: 'iron' })
    const { app } = switchedApp({ store, migrateFrom: [ironSession({ cookieName: 'iron' })] })
    const jar = jarWith(old)
    const first = await visit(app, jar)
    expect(first.seen).toMatchObject({ isNew: false, data: login })
    expect(store.size).toBe(1)
    const [id, record] = [...store][0]!
    expect(first.seen?.id).toBe(id)
    expect((record as { data: unknown }).data).toEqual(login)
    expect([...jar.cookies.keys()]).toEqual(['sid'])
    // The next request reads the store, without the old cookie.
    expect((await visit(app, jar)).seen).toMatchObject({ isNew: false, data: login, id })
  })

  it('stays synchronous on node:crypto: loadSync opens an old cookie', async () => {
    const engine = sessionEngine({
      secret: SECRET,
      migrateFrom: [h3(), ironSession({ cookieName: 'iron' })],
    })
    expect(engine.synchronous).toBe(true)
    const old = await h3Cookie(login, { password: SECRET })
    const handle = engine.loadSync(requestOf(cookieHeader(old)), undefined)
    expect(handle.session.toJSON()).toEqual(login)
    const commit = engine.commitSync(handle, undefined)
    expect(commit.cookies.map((c) => [c.name, c.maxAge > 0])).toEqual([
      ['sid', true],
      ['h3', false],
    ])
    expect(commit.token).toBe(commit.cookies[0]!.value)
  })

  it("Next's proxy reads the old cookie under its own name and clears it", async () => {
    const old = await ironSessionCookie(login, { password: SECRET, cookieName: 'iron' })
    const session = nextSession({
      secret: SECRET,
      migrateFrom: [ironSession({ cookieName: 'iron' })],
    })
    const request = new NextRequest('https://example.com/', {
      headers: { cookie: cookieHeader(old) },
    })
    const res = await session.proxy(request)
    const cookies = new Map(setCookies(res).map((c) => [c.name, c]))
    expect(cookies.get('iron')?.attributes['max-age']).toBe('0')
    const sid = cookies.get('sid')!
    // Our cookie holds the carried-over data.
    const engine = sessionEngine({ secret: SECRET })
    const opened = await engine.load(requestOf(`sid=${sid.value}`), undefined)
    expect(opened.session.toJSON()).toEqual(login)
  })

  it('Elysia and fetch handlers migrate too: our cookie set, the old one cleared', async () => {
    const old = await ironSessionCookie(login, { password: SECRET, cookieName: 'iron' })
    const options = { secret: SECRET, migrateFrom: [ironSession({ cookieName: 'iron' })] }
    const elysia = new Elysia()
      .use(elysiaSession(options))
      .get('/', ({ session }) => JSON.stringify(session.toJSON()))
    const fetchHandler = withSession(options, (_req, s) => new Response(JSON.stringify(s.toJSON())))
    for (const handle of [(r: Request) => elysia.handle(r), fetchHandler]) {
      const res = await handle(
        new Request('https://example.com/', { headers: { cookie: cookieHeader(old) } }),
      )
      expect(JSON.parse(await res.text())).toEqual(login)
      const cookies = new Map(setCookies(res).map((c) => [c.name, c]))
      expect([...cookies.keys()].sort()).toEqual(['iron', 'sid'])
      expect(cookies.get('iron')!.attributes['max-age']).toBe('0')
    }
  })
})
