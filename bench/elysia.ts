// Elysia on Bun, in-process (`app.handle(new Request(…))`): no-session baseline vs
// sealed-session read and write, interleaved rounds after warm-up. Prints one JSON line
// (every round's requests/s per scenario) for run.ts; run alone it is readable too.
//
// Run: bun bench/elysia.ts   (env: BENCH_ROUND_MS, BENCH_ROUNDS, BENCH_WARMUP, BENCH_CONCURRENCY;
// BENCH_BASE: another build's dist/, relative to bench/ or a file URL, whose sealed read and
// write run as extra scenarios in the same rounds, for A/B comparisons)
import { Elysia } from 'elysia'
import {
  built,
  cookieTail,
  envNumber,
  Jar,
  jarWriter,
  measure,
  plainSetCookie,
  SECRET,
  SMALL_DATA,
  type Step,
} from './lib.ts'

type Plugin = typeof import('../src/adapters/elysia.ts').session
const { session } = (await import(built('adapters/elysia.js'))) as { session: Plugin }
const BASE = process.env.BENCH_BASE
const base =
  BASE === undefined
    ? undefined
    : ((await import(new URL(`${BASE}/adapters/elysia.js`, import.meta.url).href)) as {
        session: Plugin
      })

const ROUND_MS = envNumber('BENCH_ROUND_MS', 500)
const ROUNDS = envNumber('BENCH_ROUNDS', 11)
const WARMUP = envNumber('BENCH_WARMUP', 1)
const URL_BASE = 'http://localhost'

// The writing baseline's /write sets a plain cookie as long as ours, new every request, and
// does no session work: what any app that sets a cookie per request pays (as on Hono).
const plain = new Elysia()
  .get('/read', () => String(SMALL_DATA.userId))
  .get('/write', ({ request, set }) => {
    set.headers['set-cookie'] = plainSetCookie(request.headers.get('cookie'))
    return 'ok'
  })
// The least a session plugin can hook in: a global synchronous derive that adds `session` (an
// object made from the Cookie header) and a global synchronous onAfterHandle that does nothing
// on a read, and sets a plain cookie (as the writing baseline's) when the handler wrote.
// What separates it from `plain` is Elysia's cost of the two hooks, before any session work.
interface HooksSession {
  cookie: string | null
  userId: string
  count: number
}
/** The hooks-only plugin, writing its cookie with `cookieOf` when the handler wrote. */
const hooks = (name: string, cookieOf: (session: HooksSession) => string) =>
  new Elysia({ name })
    .derive({ as: 'global' }, ({ request }) => {
      const session: HooksSession = {
        cookie: request.headers.get('cookie'),
        userId: SMALL_DATA.userId,
        count: 0,
      }
      return { session }
    })
    .onAfterHandle({ as: 'global' }, ({ set, session }) => {
      if (session.count !== 0) set.headers['set-cookie'] = cookieOf(session)
    })
const hooksApp = (plugin: ReturnType<typeof hooks>) =>
  new Elysia()
    .use(plugin)
    .get('/read', ({ session }) => String(session.userId))
    .get('/write', ({ session }) => {
      session.count++
      return 'ok'
    })
const hooksOnly = hooksApp(hooks('hooks-only', (session) => plainSetCookie(session.cookie)))
// The same plugin sealing the session into its cookie with our iron codec alone (JSON, AES,
// HMAC, base64url; no session state, no write-through cache): the ceiling of an iron write.
const { IronCodec } = (await import(
  built('crypto/iron.js')
)) as typeof import('../src/crypto/iron.ts')
const codec = new IronCodec([{ id: '', secret: SECRET }])
const hooksSeal = hooksApp(
  hooks('hooks-seal', (session) => {
    const sealed = codec.sealing({ ...SMALL_DATA, count: session.count }).next().value
    return `sid=${sealed}${cookieTail()}`
  }),
)
const sealedApp = (plugin: Plugin) =>
  new Elysia()
    .use(plugin({ secret: SECRET }))
    .get('/login', ({ session }) => {
      Object.assign(session, SMALL_DATA)
      return 'ok'
    })
    .get('/read', ({ session }) => String(session.userId))
    .get('/write', ({ session }) => {
      session.count = (Number(session.count) || 0) + 1
      return 'ok'
    })
const sealed = sealedApp(session)

const request = (
  app: { handle: (r: Request) => Promise<Response> },
  path: string,
  cookie: string,
) => app.handle(new Request(`${URL_BASE}${path}`, { headers: { cookie } }))

const loginJar = new Jar().update(await sealed.handle(new Request(`${URL_BASE}/login`)))
const cookie = loginJar.header()
const seen = await (await request(sealed, '/read', cookie)).text()
if (seen !== SMALL_DATA.userId) throw new Error(`elysia read ${seen}, not the session`)

const writer = (app: { handle: (r: Request) => Promise<Response> }): Step =>
  jarWriter(cookie, (sent) => request(app, '/write', sent))
const scenarios: Record<string, Step> = {
  'no session': async () => void (await (await request(plain, '/read', cookie)).text()),
  'hooks only': async () => void (await (await request(hooksOnly, '/read', cookie)).text()),
  'sealed read': async () => void (await (await request(sealed, '/read', cookie)).text()),
}
// Both builds seal with the same secret, so the base app reads the same cookie.
const baseApp = base && sealedApp(base.session)
if (baseApp) {
  scenarios['base sealed read'] = async () =>
    void (await (await request(baseApp, '/read', cookie)).text())
}
scenarios['plain cookie write'] = writer(plain)
scenarios['hooks only write'] = writer(hooksOnly)
scenarios['hooks + seal write'] = writer(hooksSeal)
scenarios['sealed write'] = writer(sealed)
if (baseApp) scenarios['base sealed write'] = writer(baseApp)

// Profiling run (run.ts, under `bun --cpu-prof`): one scenario, a warm-up, then a timed window
// whose bounds are printed on the profile's clock (epoch µs).
const profiled = process.env.BENCH_PROFILE_SCENARIO
if (profiled !== undefined) {
  const step = scenarios[profiled]
  if (!step) throw new Error(`unknown scenario ${profiled}`)
  const ms = envNumber('BENCH_PROFILE_MS', 4000)
  await measure(step, ms / 2)
  const clock = () => (performance.timeOrigin + performance.now()) * 1000
  const t0 = clock()
  const rps = await measure(step, ms)
  console.log(JSON.stringify({ rps, t0, t1: clock() }))
  process.exit(0)
}

const modes = [1, envNumber('BENCH_CONCURRENCY', 16)]
const rounds: Record<string, number[]> = {}
for (let r = 0; r < WARMUP + ROUNDS; r++) {
  for (const concurrency of modes) {
    // With a base build, every other round runs the scenarios in reverse, so neither build
    // always runs right after the other's (or the baseline's) round.
    const order = Object.entries(scenarios)
    for (const [name, step] of baseApp && r % 2 ? order.reverse() : order) {
      const rps = await measure(step, ROUND_MS, concurrency)
      const key = `${name} c${concurrency}`
      if (r >= WARMUP) rounds[key] = [...(rounds[key] ?? []), rps]
    }
  }
}
console.log(JSON.stringify({ bun: process.versions.bun, rounds }))
