// Store commands per request for last seen on reads (`touchAfter`), counted on the real
// backends: a real redis-server (commands the client sent, through a loopback proxy, and
// commands the server ran, from INFO commandstats) and SQLite (statements run). Each session is
// read once a (simulated) second for BENCH_DEVICES_SECONDS, on an injected clock, after its
// login; the login itself is not counted. Prints a table, and one JSON line with `--json`.
//
// Run: npm run bench:devices   (env: BENCH_DEVICES_SESSIONS, BENCH_DEVICES_SECONDS)
import Database from 'better-sqlite3'
import { Hono } from 'hono'
import { Redis } from 'ioredis'
import { commandStats, redisCommand, startRedis, startRedisProxy } from '../test/servers/redis.ts'
import { built, envNumber, Jar, SECRET } from './lib.ts'

const { session } = (await import(
  built('adapters/hono.js')
)) as typeof import('../src/adapters/hono.ts')
const { redisStore } = (await import(
  built('stores/redis.js')
)) as typeof import('../src/stores/redis.ts')
const { sqliteStore } = (await import(
  built('stores/sqlite.js')
)) as typeof import('../src/stores/sqlite.ts')

const SESSIONS = envNumber('BENCH_DEVICES_SESSIONS', 10)
const SECONDS = envNumber('BENCH_DEVICES_SECONDS', 300)
// Reads come once a second, so 1 s writes on every read.
const MODES: [string, number][] = [
  ['0 (off)', 0],
  ['60 s (default)', 60],
  ['10 s', 10],
  ['1 s (every read here)', 1],
]

type Store = Parameters<typeof session>[0] extends infer O
  ? O extends { store?: infer S }
    ? S
    : never
  : never

/** Reads SESSIONS sessions once a simulated second; `count` says what the backend did meanwhile. */
async function simulate(
  make: (now: () => number) => Store,
  count: { reset(): Promise<void>; total(): Promise<Record<string, number>> },
) {
  let t = Date.now()
  const now = () => t
  const app = new Hono()
    .use(session({ secret: SECRET, store: make(now), now }))
    .get('/login', (c) => {
      c.session.userId = 'u1'
      return c.text('ok')
    })
    .get('/read', (c) => c.text(String(c.session.userId)))
  const jars: Jar[] = []
  for (let i = 0; i < SESSIONS; i++) {
    const jar = new Jar()
    jar.update(await app.fetch(new Request('http://localhost/login')))
    jars.push(jar)
  }
  await count.reset()
  let requests = 0
  for (let s = 0; s < SECONDS; s++) {
    t += 1000
    for (const jar of jars) {
      const res = await app.fetch(
        new Request('http://localhost/read', {
          headers: { cookie: jar.header(), 'user-agent': 'Bench/1' },
        }),
      )
      if ((await res.text()) !== 'u1') throw new Error('the read did not see the session')
      requests++
    }
  }
  const totals = await count.total()
  const per: Record<string, number> = {}
  let all = 0
  for (const [name, n] of Object.entries(totals)) {
    per[name] = n / requests
    all += n / requests
  }
  return { requests, total: all, by: per }
}

const { scripts } = (await import(
  built('stores/_redis-lua.js')
)) as typeof import('../src/stores/_redis-lua.ts')

const server = await startRedis()
// Loaded up front: a first EVALSHA the server does not know yet would be sent again as EVAL.
for (const { body } of Object.values(scripts))
  await redisCommand(server.port, ['SCRIPT', 'LOAD', body])
const proxy = await startRedisProxy(server.port)
const client = new Redis(proxy.port, '127.0.0.1')

const results: Record<string, unknown> = {}
let prefix = 0
for (const [name, touchAfter] of MODES) {
  const redisSent = await simulate(
    (now) => redisStore({ client, prefix: `bench${++prefix}:`, touchAfter, now }) as Store,
    {
      async reset() {
        proxy.reset()
      },
      async total() {
        const out: Record<string, number> = {}
        for (const c of proxy.commands()) out[c] = (out[c] ?? 0) + 1
        return out
      },
    },
  )
  const redisRan = await simulate(
    (now) => redisStore({ client, prefix: `bench${++prefix}:`, touchAfter, now }) as Store,
    {
      async reset() {
        await redisCommand(server.port, ['CONFIG', 'RESETSTAT'])
      },
      async total() {
        const stats = await commandStats(server.port)
        delete stats['config|resetstat']
        return stats
      },
    },
  )
  const counts: Record<string, number> = {}
  const sqlite = await simulate(
    (now) => {
      const db = new Database(':memory:')
      return sqliteStore({
        db: {
          prepare(sql: string) {
            const statement = db.prepare(sql)
            const verb = /^\s*(\w+)/.exec(sql)![1]!.toUpperCase()
            const counted =
              (call: (...p: unknown[]) => unknown) =>
              (...p: unknown[]) => {
                counts[verb] = (counts[verb] ?? 0) + 1
                return call(...p)
              }
            return {
              run: counted((...p) => statement.run(...p)),
              get: counted((...p) => statement.get(...p)),
              all: counted((...p) => statement.all(...p)) as (...p: unknown[]) => unknown[],
            }
          },
          transaction: (fn) => db.transaction(fn),
        },
        touchAfter,
        now,
      }) as Store
    },
    {
      async reset() {
        for (const k of Object.keys(counts)) delete counts[k]
      },
      async total() {
        return { ...counts }
      },
    },
  )
  results[name] = { redisSent, redisRan, sqlite }
}

const fmt = (x: number) => x.toFixed(3)
const by = (m: Record<string, number>) =>
  Object.entries(m)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(', ')
if (process.argv.includes('--json')) console.log(JSON.stringify({ SESSIONS, SECONDS, results }))
else {
  console.log(
    `Store commands per unchanged read, ${SESSIONS} sessions each read once a second for ${SECONDS} s (simulated clock)\n`,
  )
  console.log('| touchAfter | Redis sent | Redis executed | SQLite statements |')
  console.log('|---|---|---|---|')
  for (const [name, r] of Object.entries(results) as [string, any][]) {
    console.log(
      `| ${name} | ${fmt(r.redisSent.total)} (${by(r.redisSent.by)}) | ${fmt(r.redisRan.total)} (${by(r.redisRan.by)}) | ${fmt(r.sqlite.total)} (${by(r.sqlite.by)}) |`,
    )
  }
}

client.disconnect()
await proxy.close()
await server.stop()
process.exit(0)
