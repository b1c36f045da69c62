// Load: autocannon, 64 connections for STRESS_LOAD_SECONDS (default 60), against a real
// @hono/node-server in its own process running the Hono adapter with redisStore on a real
// redis-server. Each connection is one browser with its own session, incrementing a counter in
// it on every request. Nothing may fail, and every increment a client saw acknowledged must be
// in its session at the end, read back through the app and straight from Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RedisServer, startRedis } from '../servers/redis.ts'
import {
  allStoredRecords,
  Browser,
  idOf,
  percentile,
  runCookieLoad,
  storedRecord,
  writeResult,
} from './clients.ts'
import { type AppServer, startAppServer } from './processes.ts'

const SECONDS = Number(process.env.STRESS_LOAD_SECONDS ?? 60)
const round = (ms: number) => Math.round(ms * 100) / 100
const CONNECTIONS = Number(process.env.STRESS_LOAD_CONNECTIONS ?? 64)

let redis: RedisServer
let app: AppServer

beforeAll(async () => {
  redis = await startRedis()
  app = await startAppServer({ redisPort: redis.port })
}, 60_000)

afterAll(async () => {
  await app?.stop()
  await redis?.stop()
})

describe(`load: ${CONNECTIONS} connections, ${SECONDS} s, one session each`, () => {
  it(
    'answers every request 2xx and keeps every acknowledged increment',
    async () => {
      const pid = app.pid()
      const { result, connections } = await runCookieLoad({
        url: app.base,
        connections: CONNECTIONS,
        seconds: SECONDS,
      })

      const acked = connections.reduce((sum, c) => sum + c.acks, 0)
      const incLatencies = Float64Array.from(connections.flatMap((c) => c.incLatencies)).sort()
      const figures = {
        connections: CONNECTIONS,
        seconds: SECONDS,
        // The increments alone: what each client saw acknowledged, with autocannon's latencies.
        increments: {
          acknowledged: acked,
          perSecond: Math.round(acked / SECONDS),
          latencyMs: {
            p50: round(percentile(incLatencies, 50)),
            p99: round(percentile(incLatencies, 99)),
            max: round(percentile(incLatencies, 100)),
          },
          perClient: {
            min: connections.reduce((m, c) => Math.min(m, c.acks), Number.POSITIVE_INFINITY),
            max: connections.reduce((m, c) => Math.max(m, c.acks), 0),
          },
        },
        // autocannon's own figures for the whole run, the final second of reads included.
        autocannon: {
          requests: result.requests.total,
          requestsPerSecond: Math.round(result.requests.average),
          latencyMs: {
            p50: result.latency.p50,
            p99: result.latency.p99,
            max: result.latency.max,
            average: round(result.latency.average),
          },
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          statusCodeStats: result.statusCodeStats,
        },
        at: new Date().toISOString(),
      }
      const file = writeResult('load', figures)
      const { increments: inc, autocannon: all } = figures
      console.log(
        `load: ${inc.perSecond} increments/s, p50 ${inc.latencyMs.p50} ms, p99 ${inc.latencyMs.p99} ms, ` +
          `${acked} increments acknowledged; autocannon: ${all.requests} requests, ` +
          `${all.requestsPerSecond} req/s, p50 ${all.latencyMs.p50} ms, p99 ${all.latencyMs.p99} ms (${file})`,
      )

      // Nothing failed, nothing timed out, and the same process served it all.
      expect(result.errors).toBe(0)
      expect(result.timeouts).toBe(0)
      expect(result.non2xx).toBe(0)
      expect(result.mismatches).toBe(0)
      expect(app.alive()).toBe(true)
      expect(app.pid()).toBe(pid)
      expect(connections).toHaveLength(CONNECTIONS)

      // Each connection really kept its cookie: one session each, given once, counted past 1,
      // every answer the next number of that session.
      for (const c of connections) {
        expect(c.mismatches, `connection ${c.index}`).toEqual([])
        expect(c.cookies, `connection ${c.index}`).toHaveLength(1)
        expect(c.cookie).toBeDefined()
        expect(c.acks, `connection ${c.index}`).toBeGreaterThan(1)
        expect(c.value).toBe(c.acks)
        expect(c.cookieOnError).toBe(0)
      }
      const ids = new Set(connections.map((c) => idOf(c.cookie!)))
      expect(ids.size).toBe(CONNECTIONS)

      // Read back: straight from Redis, and through the app with the cookie.
      for (const c of connections) {
        const record = await storedRecord(redis.port, c.cookie!)
        expect(record?.data.count, `connection ${c.index} in Redis`).toBe(c.acks)
        const browser = new Browser()
        browser.cookie = c.cookie
        const res = await browser.text(app.base, 'GET', '/count')
        expect(res).toEqual({ status: 200, body: String(c.acks) })
      }
      // No session was created that no client holds (a lost cookie would start a new one).
      const stored = await allStoredRecords(redis.port)
      expect([...stored.keys()].sort()).toEqual([...ids].map((id) => `sess:${id}`).sort())
    },
    (SECONDS + 120) * 1000,
  )
})
