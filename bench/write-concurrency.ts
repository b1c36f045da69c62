// Writes at one client and at 16: µs per request (wall and process CPU, which a descheduled
// process does not accrue) and GC time per request, Hono in-process,
// each client sending the cookie it was just given. With BENCH_BASE (a build's dist/ directory,
// relative to bench/ or a file URL) it runs that build beside this one, interleaved round by
// round in one process, beside an app without a session that sets a plain cookie of the same
// size. Not part of `npm run bench`: the tool behind "c16 below c1" in
// PROFILE.md.
//
// Run: node --import tsx bench/write-concurrency.ts   (env: BENCH_BASE, BENCH_ROUNDS [15],
//      BENCH_ROUND_MS [400], BENCH_CONCURRENCY [16], BENCH_PREFILL [0])
import { PerformanceObserver } from 'node:perf_hooks'
import { Hono } from 'hono'
import { envNumber, median, SECRET, SMALL_DATA } from './lib.ts'

const ROUNDS = envNumber('BENCH_ROUNDS', 15)
const ROUND_MS = envNumber('BENCH_ROUND_MS', 400)
const C = envNumber('BENCH_CONCURRENCY', 16)
// Sessions each app's result cache holds before timing (a login each), as on a server with
// other clients: with 0, one client's writes churn a cache of one entry.
const PREFILL = envNumber('BENCH_PREFILL', 0)
const builds: Array<[string, string]> = [['this build', '../dist']]
if (process.env.BENCH_BASE) builds.unshift(['base', process.env.BENCH_BASE])

let gcMs = 0
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration
}).observe({ entryTypes: ['gc'] })

const cookieOf = (res: Response) => res.headers.getSetCookie()[0]!.split(';', 1)[0]!

const apps = await Promise.all(
  builds.map(async ([label, dist]) => {
    const { session } = (await import(
      new URL(`${dist}/adapters/hono.js`, import.meta.url).href
    )) as typeof import('../src/adapters/hono.ts')
    const app = new Hono()
      .use(session({ secret: SECRET }))
      .get('/login', (c) => {
        Object.assign(c.session, SMALL_DATA)
        return c.text('ok')
      })
      .get('/write', (c) => {
        c.session.count = (Number(c.session.count) || 0) + 1
        return c.text('ok')
      })
    for (let i = 0; i < PREFILL; i++) await app.fetch(new Request('http://localhost/login'))
    return { label, app }
  }),
)
// No session: the same routes setting a plain cookie of the same size, new every request.
let plain = 0
const cookie = cookieOf(await apps[0]!.app.fetch(new Request('http://localhost/login')))
const value = cookie.slice(cookie.indexOf('=') + 1)
const noSession = new Hono()
  .get('/login', (c) => {
    c.header('set-cookie', `sid=${value}; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax`)
    return c.text('ok')
  })
  .get('/write', (c) => {
    const sent = c.req.header('cookie') ?? ''
    const count = String(++plain)
    const next = count + sent.slice(4 + count.length)
    c.header('set-cookie', `sid=${next}; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax`)
    return c.text('ok')
  })
apps.unshift({ label: 'no session', app: noSession as unknown as (typeof apps)[number]['app'] })

async function round(app: Hono<any>, clients: number) {
  const jars: string[] = []
  for (let i = 0; i < clients; i++)
    jars.push(cookieOf(await app.fetch(new Request('http://localhost/login'))))
  let n = 0
  const end = performance.now() + ROUND_MS
  // GC entries arrive on a later turn of the event loop: collect the previous round's first.
  await new Promise((resolve) => setTimeout(resolve, 20))
  gcMs = 0
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await Promise.all(
    jars.map(async (_, i) => {
      while (performance.now() < end) {
        const res = await app.fetch(
          new Request('http://localhost/write', { headers: { cookie: jars[i]! } }),
        )
        jars[i] = cookieOf(res)
        await res.text()
        n++
      }
    }),
  )
  const elapsed = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  await new Promise((resolve) => setTimeout(resolve, 20))
  return { us: (elapsed * 1000) / n, cpuUs: (cpu.user + cpu.system) / n, gcUs: (gcMs * 1000) / n }
}

const samples = new Map<string, Array<{ us: number; cpuUs: number; gcUs: number }>>()
for (let r = 0; r < ROUNDS + 2; r++) {
  const order = r % 2 ? [...apps].reverse() : apps
  for (const { label, app } of order) {
    for (const clients of r % 4 < 2 ? [1, C] : [C, 1]) {
      const s = await round(app, clients)
      // The first two rounds warm the JIT up.
      if (r >= 2)
        samples.set(`${label} c${clients}`, [...(samples.get(`${label} c${clients}`) ?? []), s])
    }
  }
}
console.log(
  `| build | clients | µs per write | CPU µs per write | GC µs per write |\n|---|--:|--:|--:|--:|`,
)
for (const [key, xs] of samples) {
  const [label, c] = key.split(' c') as [string, string]
  console.log(
    `| ${label} | ${c} | ${median(xs.map((x) => x.us)).toFixed(1)} | ${median(xs.map((x) => x.cpuUs)).toFixed(1)} | ${median(xs.map((x) => x.gcUs)).toFixed(1)} |`,
  )
}
