// Cold start: from process start to the first answered request that brings a session cookie
// (module init, key derivation, an unseal and the first seal), on Node and on Bun. Each sample
// is a fresh process running cold-start-child.mjs, which times itself from its own start
// (performance.now()); "no session" is the same Hono app without the middleware. The variants
// are interleaved round by round, so a slow spell of this shared VM hits them all alike.
// Prints one JSON line for run.ts (medians and minimums in ms).
//
// Run: node --import tsx bench/cold-start.ts   (env: BENCH_COLD_RUNS [15])
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { built, envNumber, median, SECRET, SMALL_DATA } from './lib.ts'

const HERE = dirname(fileURLToPath(import.meta.url))
const RUNS = envNumber('BENCH_COLD_RUNS', 15)
const BUN = join(dirname(HERE), 'node_modules/.bin/bun')

// A cookie another process sealed: the child has never derived its keys.
const { SessionEngine } = (await import(
  built('core/engine.js')
)) as typeof import('../src/core/engine.ts')
const engine = new SessionEngine({ secret: SECRET })
const state = await engine.load({ header: () => undefined, url: () => 'http://localhost/' }, 0)
Object.assign(state.session, SMALL_DATA)
const cookie = (await engine.commit(state, 0)).headers[0]![1].split(';', 1)[0]!

const runtimes: Array<[string, string]> = [['node', process.execPath]]
if (existsSync(BUN)) runtimes.push(['bun', BUN])
const variants = runtimes.flatMap(([runtime, bin]) =>
  (['none', 'session'] as const).map((mode) => ({ key: `${runtime} ${mode}`, bin, mode })),
)

function sample(bin: string, mode: string): { imported: number; answered: number } {
  const r = spawnSync(bin, [join(HERE, 'cold-start-child.mjs'), mode], {
    env: { ...process.env, COLD_COOKIE: cookie, COLD_SECRET: SECRET },
    encoding: 'utf8',
  })
  if (r.status !== 0) throw new Error(`${bin} cold start (${mode}) failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!)
}

const samples = new Map<string, { imported: number[]; answered: number[] }>()
for (const v of variants) samples.set(v.key, { imported: [], answered: [] })
// One untimed round first: the OS file cache.
for (const v of variants) sample(v.bin, v.mode)
for (let r = 0; r < RUNS; r++) {
  for (let i = 0; i < variants.length; i++) {
    const v = variants[(i + r) % variants.length]!
    const s = sample(v.bin, v.mode)
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
