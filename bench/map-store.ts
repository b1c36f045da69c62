// The Map-store path under Hono, in-process (`app.fetch(new Request(…))`): this build against
// BENCH_BASE (another build's dist/, relative to bench/ or a file URL) and a no-session app, all
// in one process, interleaved round by round. Read: the same signed id again and again; write:
// a key changed on every request (the baseline sets a plain cookie of the same size instead).
// Ratios are to the no-session app of the same round, by the CPU time this process spent per
// request (on a machine shared with other work, wall time mostly measures the neighbours);
// medians over the rounds. Not part of `npm run bench`.
//
// Run: BENCH_BASE=file:///work/wt/base/dist-ac90bbb/ node --import tsx bench/map-store.ts
//      (env: BENCH_ROUNDS [15], BENCH_MS per timed window [300], BENCH_CONCURRENCY [1])
import { Hono } from 'hono'
import { envNumber, median, SECRET, SMALL_DATA, type Step } from './lib.ts'

const ROUNDS = envNumber('BENCH_ROUNDS', 15)
const MS = envNumber('BENCH_MS', 300)
const CONCURRENCY = envNumber('BENCH_CONCURRENCY', 1)
const dists = [...(process.env.BENCH_BASE ? [process.env.BENCH_BASE] : []), '../dist']
const URL_BASE = 'http://localhost'

type Fetch = (req: Request) => Response | Promise<Response>
interface App {
  name: string
  fetch: Fetch
  /** The Cookie header each client sends. */
  cookies: string[]
}

const routes = (app: Hono<any>, read: (c: any) => unknown, write: (c: any) => unknown) =>
  app
    .get('/read', (c) => c.text(String(read(c))))
    .get('/write', (c) => {
      write(c)
      return c.text('ok')
    })

/** The no-session app: reads nothing; its write sets a plain cookie as long as the session's. */
function baseline(cookie: string): App {
  let n = 0
  const app = routes(
    new Hono(),
    () => SMALL_DATA.userId,
    (c) => {
      const count = String(++n)
      c.header(
        'set-cookie',
        `sid=${count}${cookie.slice(4 + count.length)}; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax`,
        { append: true },
      )
    },
  )
  return { name: 'no session', fetch: app.fetch, cookies: [cookie] }
}

/**
 * The floor: the no-session app plus the least a session middleware does (read the Cookie
 * header, set a context variable, await the handler, look at the outcome): Hono's cost of one
 * more middleware, which no session library gets under.
 */
function floorApp(cookie: string): App {
  const floor = async (c: any, next: () => Promise<void>) => {
    c.set('session', c.req.header('cookie'))
    await next()
    if (c.error) return
  }
  const app = routes(
    new Hono().use(floor),
    () => SMALL_DATA.userId,
    () => undefined,
  )
  return { name: 'floor', fetch: app.fetch, cookies: [cookie] }
}

async function mapApp(dist: string): Promise<App> {
  const url = (path: string) => new URL(`${dist.replace(/\/?$/, '/')}${path}`, import.meta.url).href
  const { session } = (await import(
    url('adapters/hono.js')
  )) as typeof import('../src/adapters/hono.ts')
  const app = routes(
    new Hono().use(session({ secret: SECRET, store: new Map() })).get('/login', (c) => {
      Object.assign(c.session, SMALL_DATA)
      return c.text('ok')
    }),
    (c) => c.session.userId,
    (c) => {
      c.session.count = (Number(c.session.count) || 0) + 1
    },
  )
  // One session per client: concurrent clients must not write one record.
  const cookies: string[] = []
  for (let i = 0; i < CONCURRENCY; i++) {
    const res = await app.fetch(new Request(`${URL_BASE}/login`))
    cookies.push(res.headers.getSetCookie()[0]!.split(';', 1)[0]!)
  }
  return { name: dist, fetch: app.fetch, cookies }
}

const builds = await Promise.all(dists.map(mapApp))
const floor = floorApp(builds[0]!.cookies[0]!)
const apps = [baseline(builds[0]!.cookies[0]!), floor, ...builds]

const step = (app: App, path: string) => async (client: number) => {
  const res = await app.fetch(
    new Request(`${URL_BASE}${path}`, { headers: { cookie: app.cookies[client]! } }),
  )
  // The id stays the same: the next request brings the same cookie.
  if (res.status !== 200) throw new Error(`${app.name}: ${res.status}`)
  await res.text()
}

/** CPU µs per request over `ms` of wall time: one client in a loop, or `concurrency` at once. */
async function cpuPerRequest(step: Step, ms: number, concurrency: number): Promise<number> {
  let n = 0
  const end = performance.now() + ms
  const before = process.cpuUsage()
  const client = async (id: number) => {
    while (performance.now() < end) {
      await step(id)
      n++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, i) => client(i)))
  const used = process.cpuUsage(before)
  return (used.user + used.system) / n
}

const ratios = new Map<string, number[]>()
const push = (key: string, x: number) => ratios.set(key, [...(ratios.get(key) ?? []), x])
for (let r = 0; r < ROUNDS; r++) {
  for (const path of ['/read', '/write']) {
    const order = r % 2 ? [...apps].reverse() : apps
    const cpu = new Map<App, number>()
    for (const app of order) {
      await cpuPerRequest(step(app, path), MS / 4, CONCURRENCY)
      cpu.set(app, await cpuPerRequest(step(app, path), MS, CONCURRENCY))
    }
    const floor = cpu.get(apps[0]!)!
    // The floor's write sets no cookie: its read is the one to compare.
    if (path === '/read') push(`${path}|floor`, floor / cpu.get(apps[1]!)!)
    for (const b of builds) {
      push(`${path}|${b.name}`, floor / cpu.get(b)!)
      push(`${path}|µs ${b.name}`, cpu.get(b)! - floor)
    }
    push(`${path}|µs`, floor)
  }
}
const pct = (xs: number[]) => `${(median(xs) * 100).toFixed(1)}%`
const us = (xs: number[]) => median(xs).toFixed(2)
console.log(
  `Map store, Hono in-process, c${CONCURRENCY}, ${ROUNDS} rounds of ${MS} ms: the no-session app's CPU time per request over each build's (median), and the µs a build adds`,
)
console.log(
  `| | ${dists.map((d) => `${d} | µs added`).join(' | ')} | no session µs |\n|---|${dists.map(() => '--:|--:|').join('')}--:|`,
)
for (const path of ['/read', '/write']) {
  const cells = builds.map(
    (b) => `${pct(ratios.get(`${path}|${b.name}`)!)} | ${us(ratios.get(`${path}|µs ${b.name}`)!)}`,
  )
  console.log(`| ${path.slice(1)} | ${cells.join(' | ')} | ${us(ratios.get(`${path}|µs`)!)} |`)
}
console.log(`Floor (an empty middleware), read: ${pct(ratios.get('/read|floor')!)}`)
