// Elysia on Bun, in-process (`app.handle(new Request(…))`): no-session baseline vs
// sealed-session read and write, in paired samples as run.ts takes them for Hono (lib.ts,
// pairedSample), the samples of all scenarios interleaved. Prints one JSON line (every timed
// round's requests/s, and every sample's ratio to no session, per scenario) for run.ts.
//
// Run: bun bench/elysia.ts   (env: BENCH_ROUND_MS [100], BENCH_ROUND_WARMUP_MS [50],
// BENCH_SAMPLES [10], BENCH_WARMUP_CPU_MS [1000], BENCH_CONCURRENCY [16]; BENCH_BASE: another
// build's dist/, relative to bench/ or a file URL, whose sealed read and write run as extra
// scenarios beside the others, for A/B comparisons)
import { Elysia } from 'elysia'
import {
  built,
  envNumber,
  Jar,
  measure,
  pairedSample,
  SECRET,
  SMALL_DATA,
  type Step,
  warmUp,
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

const ROUND_MS = envNumber('BENCH_ROUND_MS', 100)
const ROUND_WARMUP_MS = envNumber('BENCH_ROUND_WARMUP_MS', 50)
const SAMPLES = envNumber('BENCH_SAMPLES', 10)
const WARMUP_CPU_MS = envNumber('BENCH_WARMUP_CPU_MS', 1000)
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
const samples: Record<string, number[]> = {}
const push = (into: Record<string, number[]>, key: string, v: number) => {
  into[key] = [...(into[key] ?? []), v]
}
const round = async (name: string, concurrency: number) => {
  const step = scenarios[name]!
  await measure(step, ROUND_WARMUP_MS, concurrency)
  const rps = await measure(step, ROUND_MS, concurrency)
  push(rounds, `${name} c${concurrency}`, rps)
  return rps
}
const cells = modes.flatMap((concurrency) =>
  Object.keys(scenarios)
    .filter((name) => name !== 'no session')
    .map((name) => ({ name, concurrency })),
)
for (const concurrency of modes) await warmUp(scenarios['no session']!, WARMUP_CPU_MS, concurrency)
// As run.ts: a scenario's samples back to back, after it ran untimed until the process had
// spent WARMUP_CPU_MS of CPU on it.
for (const { name, concurrency } of cells) {
  await warmUp(scenarios[name]!, WARMUP_CPU_MS, concurrency)
  for (let sample = 0; sample < SAMPLES; sample++) {
    const { ratio } = await pairedSample(
      sample,
      () => round('no session', concurrency),
      () => round(name, concurrency),
    )
    push(samples, `${name} c${concurrency}`, ratio)
  }
}
console.log(JSON.stringify({ bun: process.versions.bun, rounds, samples }))
