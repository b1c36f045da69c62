// The no-session baseline, the floor and sealed-session (sealed, and with a Map store) as Hono
// apps in ONE process, timed in interleaved rounds, each round's ratio taken against the
// baseline's round next to it: how issue 15 measured its targets. run.ts' section 1 runs every
// library in a process of its own (no heap or JIT state shared); this gives the same cells
// without the differences between processes, which on a small shared VM move a ratio by
// 10-20 points between runs. Prints one JSON line (every round's requests/s per scenario).
//
// Run: node --import tsx bench/hono-together.ts   (env: BENCH_ROUND_MS, BENCH_ROUNDS,
// BENCH_WARMUP, BENCH_CONCURRENCY)
import { build, type Lib, loginJar, sealedMinter, URL_BASE } from './hono-apps.ts'
import { envNumber, fillColdPool, jarWriter, measure, SMALL_DATA, type Step } from './lib.ts'

const ROUND_MS = envNumber('BENCH_ROUND_MS', 500)
const ROUNDS = envNumber('BENCH_ROUNDS', 11)
const WARMUP = envNumber('BENCH_WARMUP', 1)
// Untimed before each timed round, as hono-child.ts does.
const ROUND_WARMUP_MS = Math.min(150, ROUND_MS / 4)

const request = (lib: Lib, path: string, cookie: string) =>
  lib.fetch(new Request(`${URL_BASE}${path}`, { headers: { cookie } }))

const login = async (lib: Lib) => (await loginJar(lib)).header()

const reader =
  (lib: Lib, cookie: string): Step =>
  async () =>
    void (await (await request(lib, '/read', cookie)).text())

const writer = (lib: Lib, start: string): Step =>
  jarWriter(start, (cookie) => request(lib, '/write', cookie))

const baseline = await build('baseline')
const floor = await build('floor')
const sealed = await build('sealed')
const map = await build('sealed-map')
const plainCookie = baseline.cookie!
const sealedCookie = await login(sealed)
const mapCookie = await login(map)
for (const [lib, cookie] of [
  [sealed, sealedCookie],
  [map, mapCookie],
] as const) {
  const seen = await (await request(lib, '/read', cookie)).text()
  if (seen !== SMALL_DATA.userId) throw new Error(`read ${seen}, not the session`)
}

// Cold reads: a valid cookie never seen by this process every request, minted by another
// engine before the round (untimed) and dropped after it, so the pool weighs on no other round.
const mint = await sealedMinter()
const pool: string[] = []
const cold: Step = async () => {
  const res = await request(sealed, '/read', pool.pop() ?? (await mint()))
  await res.text()
}
const scenarios: Record<string, Step> = {
  'baseline read': reader(baseline, plainCookie),
  'floor read': reader(floor, plainCookie),
  'sealed read': reader(sealed, sealedCookie),
  'sealed cold read': cold,
  'map read': reader(map, mapCookie),
  'baseline write': writer(baseline, plainCookie),
  'sealed write': writer(sealed, sealedCookie),
  'map write': writer(map, mapCookie),
}

const modes = [1, envNumber('BENCH_CONCURRENCY', 16)]
const rounds: Record<string, number[]> = {}
for (let r = 0; r < WARMUP + ROUNDS; r++) {
  for (const concurrency of modes) {
    // Every other round in reverse: no scenario always runs right after the same one.
    const order = Object.entries(scenarios)
    for (const [name, step] of r % 2 ? order.reverse() : order) {
      if (step === cold) await fillColdPool(pool, mint, cold, ROUND_MS + ROUND_WARMUP_MS)
      await measure(step, ROUND_WARMUP_MS, concurrency)
      const rps = await measure(step, ROUND_MS, concurrency)
      if (step === cold) pool.length = 0
      const key = `${name} c${concurrency}`
      if (r >= WARMUP) rounds[key] = [...(rounds[key] ?? []), rps]
    }
  }
}
console.log(JSON.stringify({ rounds }))
