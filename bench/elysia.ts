// Elysia on Bun, in-process (`app.handle(new Request(…))`): no-session baseline vs
// sealed-session read and write, interleaved rounds after warm-up. Prints one JSON line
// (every round's requests/s per scenario) for run.ts; run alone it is readable too.
//
// Run: bun bench/elysia.ts   (env: BENCH_ROUND_MS, BENCH_ROUNDS, BENCH_WARMUP, BENCH_CONCURRENCY;
// BENCH_BASE: another build's dist/, relative to bench/ or a file URL, whose sealed read and
// write run as extra scenarios in the same rounds, for A/B comparisons)
import { Elysia } from 'elysia'
import { built, envNumber, Jar, measure, SECRET, SMALL_DATA, type Step } from './lib.ts'

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

const plain = new Elysia().get('/read', () => String(SMALL_DATA.userId))
// The least a session plugin can hook in: a global synchronous derive that adds `session` (an
// object made from the Cookie header) and a global synchronous onAfterHandle that does nothing.
// What separates it from `plain` is Elysia's cost of the two hooks, before any session work.
const hooksOnly = new Elysia()
  .use(
    new Elysia({ name: 'hooks-only' })
      .derive({ as: 'global' }, ({ request }) => {
        const cookie = request.headers.get('cookie')
        return { session: { cookie, userId: SMALL_DATA.userId } }
      })
      .onAfterHandle({ as: 'global' }, ({ set }) => {
        set.status ??= 200
      }),
  )
  .get('/read', ({ session }) => String(session.userId))
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

const writer = (app: typeof sealed): Step => {
  const jars = new Map<number, Jar>()
  return async (client) => {
    let jar = jars.get(client)
    if (!jar) {
      jar = new Jar(cookie)
      jars.set(client, jar)
    }
    const res = await request(app, '/write', jar.header())
    jar.update(res)
    await res.text()
  }
}
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
