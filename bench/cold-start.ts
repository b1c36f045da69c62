// Cold start: from process start to the first answered request that brings a session cookie
// (module init, key derivation, an unseal and the first seal), on Node and on Bun. Each sample
// is a fresh process running cold-start-child.mjs, which times itself from its own start
// (performance.now()); "no session" is the same Hono app without the middleware. The variants
// are interleaved round by round, so a slow spell of this shared VM hits them all alike.
// Prints one JSON line for run.ts (medians and minimums in ms).
//
// Run: node --import tsx bench/cold-start.ts   (env: BENCH_COLD_RUNS [15]; BENCH_BASE: another
// build's dist/, relative to bench/, timed as "<runtime> session base" in the same rounds)
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { built, envNumber, median, SECRET, SMALL_DATA } from './lib.ts'

const HERE = dirname(fileURLToPath(import.meta.url))
const RUNS = envNumber('BENCH_COLD_RUNS', 15)
const BUN = join(dirname(HERE), 'node_modules/.bin/bun')

// A cookie another process sealed, by the build that will open it: the child has never
// derived its keys.
async function mintWith(dist: string | undefined): Promise<string> {
  const url = dist
    ? new URL(`${dist}/core/engine.js`, import.meta.url).href
    : built('core/engine.js')
  const { SessionEngine } = (await import(url)) as typeof import('../src/core/engine.ts')
  const engine = new SessionEngine({ secret: SECRET })
  const state = await engine.load({ header: () => undefined, url: () => 'http://localhost/' }, 0)
  Object.assign(state.session, SMALL_DATA)
  return (await engine.commit(state, 0)).headers[0]![1].split(';', 1)[0]!
}

const runtimes: Array<[string, string]> = [['node', process.execPath]]
if (existsSync(BUN)) runtimes.push(['bun', BUN])
const base = process.env.BENCH_BASE
const own = process.env.BENCH_DIST
const cookie = await mintWith(own)
const baseCookie = base ? await mintWith(base) : cookie
const variants = runtimes.flatMap(([runtime, bin]) => [
  { key: `${runtime} none`, bin, mode: 'none', dist: own, cookie },
  { key: `${runtime} session`, bin, mode: 'session', dist: own, cookie },
  ...(base
    ? [{ key: `${runtime} session base`, bin, mode: 'session', dist: base, cookie: baseCookie }]
    : []),
])

function sample(v: (typeof variants)[number]): { imported: number; answered: number } {
  const { bin, mode, dist, cookie } = v
  const r = spawnSync(bin, [join(HERE, 'cold-start-child.mjs'), mode], {
    env: {
      ...process.env,
      COLD_COOKIE: cookie,
      COLD_SECRET: SECRET,
      BENCH_DIST: dist ?? '../dist',
    },
    encoding: 'utf8',
  })
  if (r.status !== 0) throw new Error(`${bin} cold start (${mode}) failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!)
}

const samples = new Map<string, { imported: number[]; answered: number[] }>()
for (const v of variants) samples.set(v.key, { imported: [], answered: [] })
// One untimed round first: the OS file cache.
for (const v of variants) sample(v)
for (let r = 0; r < RUNS; r++) {
  for (let i = 0; i < variants.length; i++) {
    const v = variants[(i + r) % variants.length]!
    const s = sample(v)
    samples.get(v.key)!.imported.push(s.imported)
    samples.get(v.key)!.answered.push(s.answered)
  }
}
const result: Record<string, { imported: number; answered: number; minAnswered: number }> = {}
for (const [key, s] of samples) {
  result[key] = {
    imported: median(s.imported),
    answered: median(s.answered),
    minAnswered: Math.min(...s.answered),
  }
}
console.log(JSON.stringify({ runs: RUNS, result }))
