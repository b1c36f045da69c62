// Faults under load, on real processes:
// (a) Redis SIGKILLed while autocannon drives two app servers, then restarted: while it is
//     down every request fails fast with a 503 and no Set-Cookie, no process dies, and once it
//     is back the same processes answer 2xx again and new sessions work (and, shut down
//     cleanly with its data kept, the same sessions go on);
// (b) app server processes SIGKILLed at random moments under load (and one deterministically
//     while its handler is paused with the session changed): no session in Redis is ever
//     half-written, and no acknowledged write is lost.
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { type RedisServer, redisCommand, startRedis } from '../servers/redis.ts'
import {
  allStoredRecords,
  Browser,
  idOf,
  runCookieLoad,
  sleep,
  storedRecord,
  writeResult,
} from './clients.ts'
import { type AppServer, startAppServer, startAppServers } from './processes.ts'

/** The largest value, 0 for none: a loop, since spreading 100k answers overflows the stack. */
const largest = (xs: readonly number[]) => xs.reduce((m, x) => Math.max(m, x), 0)

/** Length of each fault run, seconds. */
const SECONDS = Number(process.env.STRESS_FAULT_SECONDS ?? 20)
/** No answer while Redis is down may take longer than this (ioredis `commandTimeout` is 1 s). */
const FAIL_FAST_MS = 1500
/** The servers must answer 2xx again within this long after Redis is back. */
const RECOVERY_MS = 5000

const round = (ms: number) => Math.round(ms * 100) / 100

const results: Record<string, unknown> = {}
afterAll(() => {
  writeResult('faults', { seconds: SECONDS, ...results, at: new Date().toISOString() })
})

let redis: RedisServer
let servers: AppServer[] = []

afterEach(async () => {
  await Promise.all(servers.map((s) => s.stop()))
  servers = []
  await redis?.stop()
})

async function health(server: AppServer): Promise<{ pid: number }> {
  const res = await fetch(`${server.base}/health`, { signal: AbortSignal.timeout(5000) })
  return res.json()
}

describe('(a) Redis down under load, then restarted', () => {
  it(
    'fails fast with 503 while down, no process dies, the same processes recover',
    async () => {
      redis = await startRedis()
      servers = await startAppServers(2, { redisPort: redis.port })
      const pids = servers.map((s) => s.pid())
      const killAfterMs = (SECONDS * 1000) / 4
      const downMs = (SECONDS * 1000) / 4
      const timeline = { killedAt: 0, restartAt: 0, upAt: 0 }

      const chaos = (async () => {
        await sleep(killAfterMs)
        await redis.kill()
        timeline.killedAt = Date.now()
        await sleep(downMs)
        timeline.restartAt = Date.now()
        await redis.restart()
        timeline.upAt = Date.now()
      })()
      const { result, connections } = await runCookieLoad({
        url: servers.map((s) => s.base),
        connections: 32,
        seconds: SECONDS,
        record: true,
        timeout: 5,
      })
      await chaos

      const answers = connections.flatMap((c) => c.answers.map((a) => ({ ...a, port: c.port })))
      const whileDown = answers.filter(
        (a) => a.sentAt > timeline.killedAt && a.at < timeline.restartAt,
      )
      const failed = answers.filter((a) => a.status !== 200)
      const recovery = servers.map((s) => {
        const first = answers
          .filter((a) => a.port === s.port && a.status === 200 && a.sentAt >= timeline.upAt)
          .sort((x, y) => x.at - y.at)[0]
        return first ? first.at - timeline.upAt : Number.NaN
      })
      const figures = {
        connections: 32,
        servers: 2,
        requests: answers.length,
        redisDownMs: timeline.upAt - timeline.killedAt,
        answersWhileDown: whileDown.length,
        status503WhileDown: whileDown.filter((a) => a.status === 503).length,
        non2xxTotal: failed.length,
        maxLatencyWhileDownMs: round(largest(whileDown.map((a) => a.latency))),
        maxLatencyMs: round(largest(answers.map((a) => a.latency))),
        recoveryMs: recovery,
        status503AfterRestart: failed.filter((a) => a.sentAt >= timeline.upAt).length,
        sessionsAfterRecovery: connections.filter((c) => c.cookies.length === 2).length,
        statusCodeStats: result.statusCodeStats,
        errors: result.errors,
        timeouts: result.timeouts,
      }
      results.redisKilled = figures
      console.log('redis killed under load:', JSON.stringify(figures))

      // No connection error, no timeout: every request got an answer, quickly.
      expect(result.errors).toBe(0)
      expect(result.timeouts).toBe(0)
      expect(figures.maxLatencyMs).toBeLessThan(FAIL_FAST_MS)
      // While Redis was down, every answer was the app's 503 for a store error, and it did
      // not touch the cookie (no logout).
      expect(whileDown.length).toBeGreaterThan(0)
      for (const a of whileDown)
        expect({ status: a.status, body: a.body }).toEqual({
          status: 503,
          body: 'store unavailable',
        })
      expect(new Set(failed.map((a) => a.status))).toEqual(new Set([503]))
      for (const c of connections) expect(c.cookieOnError).toBe(0)
      // The processes that started are the ones that answer now.
      for (const [i, s] of servers.entries()) {
        expect(s.alive(), s.stderr()).toBe(true)
        expect((await health(s)).pid).toBe(pids[i])
      }
      // Recovery: 2xx again within the bound, and nothing but 2xx once a server has recovered.
      for (const [i, s] of servers.entries()) {
        expect(recovery[i], `server ${i} recovered`).toBeLessThan(RECOVERY_MS)
        const back = timeline.upAt + recovery[i]!
        const late = answers.filter((a) => a.port === s.port && a.sentAt > back)
        expect(late.length).toBeGreaterThan(0)
        expect(late.filter((a) => a.status !== 200)).toEqual([])
      }
      // Redis lost everything it held, so each connection got a new session after the restart;
      // every increment acknowledged in it is there, through the app and in Redis.
      for (const c of connections) {
        expect(c.mismatches, `connection ${c.index}`).toEqual([])
        expect(c.cookies, `connection ${c.index}`).toHaveLength(2)
        expect(c.value).toBeGreaterThan(1)
        expect((await storedRecord(redis.port, c.cookie!))?.data.count).toBe(c.value)
        const browser = new Browser()
        browser.cookie = c.cookie
        expect(await browser.text(`http://127.0.0.1:${c.port}`, 'GET', '/count')).toEqual({
          status: 200,
          body: String(c.value),
        })
      }
    },
    (SECONDS + 120) * 1000,
  )

  it(
    'Redis shut down cleanly (data kept) under load: the same sessions go on after the restart',
    async () => {
      redis = await startRedis()
      servers = await startAppServers(2, { redisPort: redis.port })
      const timeline = { downAt: 0, upAt: 0 }
      const chaos = (async () => {
        await sleep((SECONDS * 1000) / 4)
        timeline.downAt = Date.now()
        // SHUTDOWN SAVE: a clean stop that writes dump.rdb; shutdown() waits for the exit.
        await redis.shutdown()
        await sleep(timeline.downAt + (SECONDS * 1000) / 4 - Date.now())
        await redis.restart()
        timeline.upAt = Date.now()
      })()
      const { result, connections } = await runCookieLoad({
        url: servers.map((s) => s.base),
        connections: 32,
        seconds: SECONDS,
        timeout: 5,
        record: true,
      })
      await chaos
      results.redisShutdown = {
        redisDownMs: timeline.upAt - timeline.downAt,
        statusCodeStats: result.statusCodeStats,
        failedButCommitted: connections.reduce((n, c) => n + c.skipped, 0),
      }

      expect(result.errors).toBe(0)
      expect(result.timeouts).toBe(0)
      expect(Object.keys(result.statusCodeStats ?? {}).sort()).toEqual(['200', '503'])
      for (const c of connections) {
        // Never logged out: the one session cookie of the start, counting on after the restart.
        expect(c.cookieOnError).toBe(0)
        expect(c.mismatches, `connection ${c.index}`).toEqual([])
        expect(c.cookies, `connection ${c.index}`).toHaveLength(1)
        const after = c.answers.filter((a) => a.inc && a.status === 200 && a.sentAt > timeline.upAt)
        expect(after.length, `connection ${c.index} increments after the restart`).toBeGreaterThan(
          0,
        )
        expect(c.uncertain).toBe(0)
        expect((await storedRecord(redis.port, c.cookie!))?.data.count).toBe(c.value)
      }
    },
    (SECONDS + 120) * 1000,
  )
})

interface PairClient {
  browser: Browser
  /** The value of a and b the last 2xx answer reported. */
  value: number
  /** Requests without an answer since then: each may or may not have been committed. */
  unknown: number
  answered: number
  lost: number
  refused: number
  skipped: number
  violations: string[]
}

// Connection refused: the server was not there, so it never saw the request.
const refusedConnection = (err: unknown) =>
  (err as { cause?: { code?: string } })?.cause?.code === 'ECONNREFUSED'

async function pair(client: PairClient, base: string): Promise<void> {
  let res: { status: number; body: string }
  try {
    res = await client.browser.text(base, 'POST', '/pair')
  } catch (err) {
    if (refusedConnection(err)) client.refused++
    else {
      client.lost++
      client.unknown++
    }
    await sleep(20)
    return
  }
  if (res.status !== 200) {
    client.violations.push(`${res.status} ${res.body}`)
    return
  }
  const n = Number(res.body)
  if (!(n >= client.value + 1 && n <= client.value + 1 + client.unknown)) {
    client.violations.push(`answered ${n} after ${client.value} with ${client.unknown} unknown`)
  }
  if (n > client.value + 1) client.skipped += n - client.value - 1
  client.value = n
  client.unknown = 0
  client.answered++
}

describe('(b) app server processes killed mid-request', () => {
  it(
    'random SIGKILLs under load leave every session whole: a === b, no acknowledged write lost',
    async () => {
      redis = await startRedis()
      servers = await startAppServers(3, { redisPort: redis.port })
      const on = (i: number) => servers[i % 3]!.base
      const clients: PairClient[] = Array.from({ length: 12 }, () => ({
        browser: new Browser(2000),
        value: 0,
        unknown: 0,
        answered: 0,
        lost: 0,
        refused: 0,
        skipped: 0,
        violations: [],
      }))
      // Every session exists (and its cookie is known) before the first kill.
      await Promise.all(clients.map((c, i) => pair(c, on(i))))
      for (const c of clients) expect(c.value).toBe(1)

      let running = true
      const loops = clients.map(async (client, c) => {
        for (let i = c; running; i++) await pair(client, on(i))
      })
      // Kill a random running server every 100-700 ms and restart it in the background, so
      // kills land at any moment of a request; at least one server stays up.
      const kills: { server: number; atMs: number; downMs: number }[] = []
      const restarting = new Set<number>()
      const restarts: Promise<void>[] = []
      const started = Date.now()
      // SECONDS long and at least 3 kills (restarts are slow on a busy machine), at most 30 s more.
      let killed = 0
      while (
        (Date.now() - started < SECONDS * 1000 || killed < 3) &&
        Date.now() - started < (SECONDS + 30) * 1000
      ) {
        await sleep(100 + Math.random() * 600)
        const up = [0, 1, 2].filter((i) => !restarting.has(i))
        if (up.length < 2) continue
        const victim = up[Math.floor(Math.random() * up.length)]!
        const t = Date.now()
        restarting.add(victim)
        killed++
        await servers[victim]!.kill()
        restarts.push(
          servers[victim]!.restart().then(() => {
            restarting.delete(victim)
            kills.push({ server: victim, atMs: t - started, downMs: Date.now() - t })
          }),
        )
      }
      await Promise.all(restarts)
      running = false
      await Promise.all(loops)

      // Every server is up again: a few more writes each, so the last write is acknowledged.
      for (const [c, client] of clients.entries()) {
        for (let i = 0; i < 3; i++) {
          const before = client.answered
          await pair(client, on(c + i))
          expect(client.answered, `client ${c} final writes`).toBe(before + 1)
        }
      }

      const stored = await allStoredRecords(redis.port)
      const figures = {
        servers: 3,
        clients: clients.length,
        seconds: SECONDS,
        kills: kills.length,
        meanRestartMs: Math.round(kills.reduce((n, k) => n + k.downMs, 0) / kills.length),
        answered: clients.reduce((n, c) => n + c.answered, 0),
        lostInFlight: clients.reduce((n, c) => n + c.lost, 0),
        lostButCommitted: clients.reduce((n, c) => n + c.skipped, 0),
        refused: clients.reduce((n, c) => n + c.refused, 0),
        sessionsInRedis: stored.size,
      }
      results.serversKilled = figures
      console.log('app servers killed under load:', JSON.stringify(figures))

      expect(kills.length).toBeGreaterThanOrEqual(3)
      // Some requests really were cut off by a kill.
      expect(figures.lostInFlight).toBeGreaterThan(0)
      for (const [c, client] of clients.entries()) {
        expect(client.violations, `client ${c}`).toEqual([])
        // Redis holds what the last answer said, whole.
        const record = await storedRecord(redis.port, client.browser.cookie!)
        expect(record?.data, `client ${c}`).toEqual({ a: client.value, b: client.value })
        for (const i of [0, 1, 2]) {
          expect(await client.browser.text(on(i), 'GET', '/get/a')).toEqual({
            status: 200,
            body: String(client.value),
          })
        }
      }
      // Every session in Redis is one of the clients', and none is half-written.
      expect(stored.size).toBe(clients.length)
      for (const [key, record] of stored) {
        expect(typeof record.data.a, key).toBe('number')
        expect(record.data.b, key).toBe(record.data.a)
      }
    },
    (SECONDS + 120) * 1000,
  )

  it('a process killed while its handler has changed the session and waits: the store keeps the old record', async () => {
    redis = await startRedis()
    const server = await startAppServer({ redisPort: redis.port })
    servers = [server]
    const browser = new Browser()
    expect(await browser.text(server.base, 'POST', '/pair')).toEqual({ status: 200, body: '1' })
    const cookie = browser.cookie!
    const before = await redisCommand(redis.port, ['GET', `sess:${idOf(cookie)}`])

    // The handler sets a = b = 2, then waits for a release that never comes: killed instead.
    const held = browser.send(server.base, 'POST', '/pause').then(
      (res) => ({ status: res.status }),
      (err: unknown) => ({ error: err }),
    )
    const paused = await server.waitFor((e) => e.event === 'paused')
    expect(paused).toMatchObject({ n: 2, id: idOf(cookie) })
    await server.kill()
    expect(await held).toHaveProperty('error')
    // Byte for byte the record from before the request.
    expect(await redisCommand(redis.port, ['GET', `sess:${idOf(cookie)}`])).toBe(before)
    expect((await storedRecord(redis.port, cookie))?.data).toEqual({ a: 1, b: 1 })

    // A new process reads the old session; the same request, released this time, commits.
    await server.restart()
    expect(await browser.text(server.base, 'GET', '/get/a')).toEqual({ status: 200, body: '1' })
    const released = browser.send(server.base, 'POST', '/pause')
    expect((await server.waitFor((e) => e.event === 'paused')).n).toBe(2)
    expect((await storedRecord(redis.port, cookie))?.data).toEqual({ a: 1, b: 1 })
    const release = await fetch(`${server.base}/release`, {
      method: 'POST',
      signal: AbortSignal.timeout(5000),
    })
    expect(await release.text()).toBe('1')
    const res = await released
    expect({ status: res.status, body: await res.text() }).toEqual({ status: 200, body: '2' })
    expect((await storedRecord(redis.port, cookie))?.data).toEqual({ a: 2, b: 2 })
  })
})
