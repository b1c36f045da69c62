// The Redis store through a real redis-server on 127.0.0.1 (ioredis client, Hono in-process):
// requests/s for unchanged reads and changed writes, and what each request costs Redis —
// commands from `INFO commandstats` (after CONFIG RESETSTAT) and round trips seen by a
// loopback proxy. Prints one JSON line for run.ts.
//
// Run: node --import tsx bench/redis.ts   (env: BENCH_ROUND_MS, BENCH_ROUNDS, BENCH_WARMUP)
import { Hono } from 'hono'
import { Redis } from 'ioredis'
import { commandStats, redisCommand, startRedis, startRedisProxy } from '../test/servers/redis.ts'
import { built, envNumber, Jar, measure, SECRET, SMALL_DATA, type Step } from './lib.ts'

const { session } = (await import(
  built('adapters/hono.js')
)) as typeof import('../src/adapters/hono.ts')
const { redisStore } = (await import(
  built('stores/redis.js')
)) as typeof import('../src/stores/redis.ts')

const ROUND_MS = envNumber('BENCH_ROUND_MS', 1000)
const ROUNDS = envNumber('BENCH_ROUNDS', 5)
const WARMUP = envNumber('BENCH_WARMUP', 1)
const COUNT = 1000
const URL_BASE = 'http://localhost'

const server = await startRedis()
const proxy = await startRedisProxy(server.port)
const direct = new Redis(server.port, '127.0.0.1')
const proxied = new Redis(proxy.port, '127.0.0.1')

function app(client: Redis) {
  return new Hono()
    .use(session({ secret: SECRET, store: redisStore({ client }) }))
    .get('/login', (c) => {
      Object.assign(c.session, SMALL_DATA)
      return c.text('ok')
    })
    .get('/read', (c) => c.text(String(c.session.userId)))
    .get('/write', (c) => {
      c.session.count = (Number(c.session.count) || 0) + 1
      return c.text('ok')
    })
}

const apps = { direct: app(direct), proxied: app(proxied) }
type App = (typeof apps)['direct']
const request = (a: App, path: string, cookie: string) =>
  a.fetch(new Request(`${URL_BASE}${path}`, cookie ? { headers: { cookie } } : {}))

const cookie = new Jar().update(await request(apps.direct, '/login', '')).header()
const seen = await (await request(apps.direct, '/read', cookie)).text()
if (seen !== SMALL_DATA.userId) throw new Error(`redis read ${seen}, not the session`)

const scenarios: Record<string, Step> = {
  'redis read (unchanged)': async () =>
    void (await (await request(apps.direct, '/read', cookie)).text()),
  'redis write (changed)': async () =>
    void (await (await request(apps.direct, '/write', cookie)).text()),
}

const modes = [1, envNumber('BENCH_CONCURRENCY', 16)]
const rounds: Record<string, number[]> = {}
for (let r = 0; r < WARMUP + ROUNDS; r++) {
  for (const concurrency of modes) {
    for (const [name, step] of Object.entries(scenarios)) {
      const rps = await measure(step, ROUND_MS, concurrency)
      if (r >= WARMUP) {
        const key = `${name} c${concurrency}`
        rounds[key] = [...(rounds[key] ?? []), rps]
      }
    }
  }
}

/** Commands (by name) and round trips per request, over COUNT sequential requests. */
async function cost(path: string, cookieFor: () => Promise<string>) {
  const cookies: string[] = []
  for (let i = 0; i < COUNT; i++) cookies.push(await cookieFor())
  await redisCommand(server.port, ['CONFIG', 'RESETSTAT'])
  proxy.reset()
  for (const c of cookies) await (await request(apps.proxied, path, c)).text()
  const trips = proxy.roundTrips() / COUNT
  const per = (counts: Record<string, number>) => {
    const out: Record<string, number> = {}
    let total = 0
    for (const [name, calls] of Object.entries(counts)) {
      // Our own CONFIG RESETSTAT and INFO are not the request's.
      if (name.startsWith('config') || name.startsWith('info')) continue
      out[name] = calls / COUNT
      total += calls / COUNT
    }
    return { total, out }
  }
  // Executed: INFO commandstats, which also counts the commands a Lua script runs.
  const executed = per(await commandStats(server.port))
  // Sent: what the client put on the wire (seen by the proxy).
  const sentCounts: Record<string, number> = {}
  for (const name of proxy.commands()) sentCounts[name] = (sentCounts[name] ?? 0) + 1
  const sent = per(sentCounts)
  return {
    executed: executed.total,
    executedBy: executed.out,
    sent: sent.total,
    sentBy: sent.out,
    roundTrips: trips,
  }
}

// Load: a first request of a session that exists in Redis (fresh login each, never read), logged
// in through the other client's store: another process, as behind a load balancer.
const load = await cost('/read', async () =>
  new Jar().update(await request(apps.direct, '/login', '')).header(),
)
// Unchanged: the same session read again and again.
const unchanged = await cost('/read', async () => cookie)
// Changed: each request changes a key.
const changed = await cost('/write', async () => cookie)

console.log(JSON.stringify({ rounds, load, unchanged, changed }))
direct.disconnect()
proxied.disconnect()
await proxy.close()
await server.stop()
process.exit(0)
