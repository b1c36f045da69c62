// The Map-store path under Hono, in-process (`app.fetch(new Request(…))`): this build against
// BENCH_BASE (another build's dist/, relative to bench/ or a file URL) and a no-session app, all
// in one process, interleaved round by round. Read: the same signed id again and again; write:
// a key changed on every request (the baseline sets a plain cookie of the same size instead).
// Ratios are to the no-session app of the same round; medians over the rounds. Not part of
// `npm run bench`.
//
// Run: BENCH_BASE=file:///work/wt/base/dist-ac90bbb/ node --import tsx bench/map-store.ts
//      (env: BENCH_ROUNDS [15], BENCH_MS per timed window [300], BENCH_CONCURRENCY [1])
import { Hono } from 'hono'
import { envNumber, measure, median, SECRET, SMALL_DATA } from './lib.ts'

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
const apps = [baseline(builds[0]!.cookies[0]!), ...builds]

const step = (app: App, path: string) => async (client: number) => {
  const res = await app.fetch(
    new Request(`${URL_BASE}${path}`, { headers: { cookie: app.cookies[client]! } }),
  )
  // The id stays the same: the next request brings the same cookie.
  if (res.status !== 200) throw new Error(`${app.name}: ${res.status}`)
  await res.text()
}

const ratios = new Map<string, number[]>()
const push = (key: string, x: number) => ratios.set(key, [...(ratios.get(key) ?? []), x])
for (let r = 0; r < ROUNDS; r++) {
  for (const path of ['/read', '/write']) {
    const order = r % 2 ? [...apps].reverse() : apps
    const rps = new Map<App, number>()
    for (const app of order) {
      await measure(step(app, path), MS / 4, CONCURRENCY)
      rps.set(app, await measure(step(app, path), MS, CONCURRENCY))
    }
    for (const b of builds) push(`${path}|${b.name}`, rps.get(b)! / rps.get(apps[0]!)!)
    push(`${path}|rps`, rps.get(apps[0]!)!)
  }
}
const pct = (xs: number[]) => `${(median(xs) * 100).toFixed(1)}%`
console.log(
  `Map store, Hono in-process, c${CONCURRENCY}, ${ROUNDS} rounds of ${MS} ms: % of the no-session app (median)`,
)
console.log(
  `| | ${dists.join(' | ')} | no session req/s |\n|---|${dists.map(() => '--:|').join('')}--:|`,
)
for (const path of ['/read', '/write']) {
  const cells = builds.map((b) => pct(ratios.get(`${path}|${b.name}`)!))
  console.log(
    `| ${path.slice(1)} | ${cells.join(' | ')} | ${median(ratios.get(`${path}|rps`)!).toFixed(0)} |`,
  )
}
