// Many instances: three app server processes on their own ports share the secret and one
// Redis. A browser whose requests rotate over them (request i to server i % 3) keeps its
// session; a logout on one is honoured by the others on the next request, and so is "log out
// everywhere" for a user.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RedisServer, startRedis } from '../servers/redis.ts'
import { Browser, idOf, storedRecord, writeResult } from './clients.ts'
import { type AppServer, startAppServers } from './processes.ts'

const BROWSERS = 6
const ROUNDS = 30

function instanceScenarios(mode: 'store' | 'sealed') {
  let redis: RedisServer
  let servers: AppServer[] = []
  const figures: Record<string, unknown> = { mode }

  beforeAll(async () => {
    redis = await startRedis()
    servers = await startAppServers(3, { redisPort: redis.port, mode })
  }, 60_000)

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()))
    await redis?.stop()
    writeResult(`instances-${mode}`, figures)
  })

  const on = (i: number) => servers[i % 3]!.base

  it('a browser rotating over the three servers keeps its session', async () => {
    const started = Date.now()
    await Promise.all(
      Array.from({ length: BROWSERS }, async (_, b) => {
        const browser = new Browser()
        const cookies = new Set<string>()
        for (let i = 0; i < ROUNDS; i++) {
          // Offset per browser, so every server both writes and reads every session.
          const res = await browser.text(on(i + b), 'POST', '/inc')
          expect(res, `browser ${b}, request ${i}`).toEqual({ status: 200, body: String(i + 1) })
          cookies.add(browser.cookie!)
        }
        // Written on one server, read on the other two.
        expect(await browser.text(on(b), 'POST', `/put/colour/blue${b}`)).toEqual({
          status: 200,
          body: 'ok',
        })
        for (const i of [b + 1, b + 2]) {
          expect(await browser.text(on(i), 'GET', '/get/colour')).toEqual({
            status: 200,
            body: `blue${b}`,
          })
          expect(await browser.text(on(i), 'GET', '/count')).toEqual({
            status: 200,
            body: String(ROUNDS),
          })
        }
        if (mode === 'store') {
          // One id for the whole session, and the record in Redis says what the servers said.
          expect(cookies.size).toBe(1)
          const record = await storedRecord(redis.port, browser.cookie!)
          expect(record?.data).toEqual({ count: ROUNDS, colour: `blue${b}` })
        } else {
          // Sealed: every write re-seals, so each answer brought a new cookie.
          expect(cookies.size).toBe(ROUNDS)
        }
      }),
    )
    figures.rotate = {
      browsers: BROWSERS,
      requests: BROWSERS * (ROUNDS + 5),
      ms: Date.now() - started,
    }
  })

  it('a logout on one server is honoured by the others: the old cookie gets a fresh session', async () => {
    const browser = new Browser()
    const login = await browser.text(on(0), 'POST', '/login/alice')
    expect(login.status).toBe(200)
    const id = login.body
    for (const i of [1, 2]) {
      expect(await browser.whoami(on(i))).toEqual({ userId: 'alice', isNew: false, id })
    }
    const old = browser.cookie!
    const logout = await browser.send(on(1), 'POST', '/logout')
    expect(logout.status).toBe(200)
    // The logout cleared the cookie in the browser that sent it.
    expect(browser.cookie).toBeUndefined()

    // The same old cookie, replayed on the other two servers: a fresh, empty session.
    for (const i of [2, 0]) {
      const replay = new Browser()
      replay.cookie = old
      expect(await replay.whoami(on(i))).toEqual({ userId: null, isNew: true, id: null })
      expect(await replay.text(on(i), 'GET', '/count')).toEqual({ status: 200, body: '0' })
    }
    if (mode === 'store') expect(await storedRecord(redis.port, old)).toBeNull()
  })

  it('"log out everywhere" on one server is honoured by the others', async () => {
    const devices = [new Browser(), new Browser(), new Browser()]
    const ids: string[] = []
    for (const [d, device] of devices.entries()) {
      const login = await device.text(on(d), 'POST', '/login/bob')
      expect(login.status).toBe(200)
      ids.push(login.body)
    }
    const other = new Browser()
    expect((await other.text(on(2), 'POST', '/login/carol')).status).toBe(200)
    for (const [d, device] of devices.entries()) {
      expect(await device.whoami(on(d + 1))).toEqual({ userId: 'bob', isNew: false, id: ids[d] })
    }
    const cookies = devices.map((d) => d.cookie!)

    // Device 0, on server 0: every other session of bob.
    const everywhere = await devices[0]!.text(on(0), 'POST', '/logout-everywhere?except=1')
    expect(everywhere).toEqual({ status: 200, body: mode === 'store' ? '2' : 'revoked' })
    // Devices 1 and 2, on the other servers: signed out on their next request.
    expect(await devices[1]!.whoami(on(1))).toEqual({ userId: null, isNew: true, id: null })
    expect(await devices[2]!.whoami(on(2))).toEqual({ userId: null, isNew: true, id: null })
    // Their old cookies stay refused on every server.
    for (const cookie of cookies.slice(1)) {
      for (const i of [0, 1, 2]) {
        const replay = new Browser()
        replay.cookie = cookie
        expect(await replay.whoami(on(i))).toEqual({ userId: null, isNew: true, id: null })
      }
    }
    // The device that asked, and another user, keep their sessions everywhere.
    for (const i of [0, 1, 2]) {
      expect(await devices[0]!.whoami(on(i))).toEqual({ userId: 'bob', isNew: false, id: ids[0] })
      expect((await other.whoami(on(i))).userId).toBe('carol')
    }
    if (mode === 'store') {
      expect(await storedRecord(redis.port, cookies[1]!)).toBeNull()
      expect(await storedRecord(redis.port, cookies[2]!)).toBeNull()
      expect((await storedRecord(redis.port, cookies[0]!))?.data).toEqual({ userId: 'bob' })
      expect(idOf(cookies[0]!)).toBe(ids[0])
    }

    // A new login of bob after that is not affected; then all of bob's sessions, from server 1.
    const later = new Browser()
    expect((await later.text(on(2), 'POST', '/login/bob')).status).toBe(200)
    expect((await later.whoami(on(0))).userId).toBe('bob')
    const all = await devices[0]!.text(on(1), 'POST', '/logout-everywhere')
    expect(all).toEqual({ status: 200, body: mode === 'store' ? '2' : 'revoked' })
    expect(await later.whoami(on(0))).toEqual({ userId: null, isNew: true, id: null })
    const replay = new Browser()
    replay.cookie = cookies[0]
    expect(await replay.whoami(on(2))).toEqual({ userId: null, isNew: true, id: null })
    expect((await other.whoami(on(1))).userId).toBe('carol')
  })

  it('every server process is still the one that started', () => {
    for (const s of servers) expect(s.alive(), s.stderr()).toBe(true)
  })
}

describe('three instances, one Redis: store mode (redisStore)', () => {
  instanceScenarios('store')
})

describe('three instances, one Redis: sealed cookies with a revocation list in Redis', () => {
  instanceScenarios('sealed')
})
