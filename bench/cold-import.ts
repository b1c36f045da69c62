// `npm run bench:import`: what importing us costs a cold Node process (a serverless cold start,
// a CLI), unbundled, as users install it (dist/). Each sample is a fresh `node` child that times
// its own `await import()` with performance.now(); scenarios are interleaved round by round so a
// slow spell of this shared VM hits them all alike. Prints medians and minimums in ms.
//
// Env: BENCH_IMPORT_RUNS  timed rounds [15]
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { built, envNumber, median } from './lib.ts'

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)))
const RUNS = envNumber('BENCH_IMPORT_RUNS', 15)
const OURS = built('adapters/hono.js')

const SCENARIOS = [
  { label: '`hono`', specifiers: ['hono'] },
  { label: '`iron-session`', specifiers: ['iron-session'] },
  { label: '`sealed-session/hono` (dist/adapters/hono.js)', specifiers: [OURS] },
  { label: '`hono` + `sealed-session/hono`', specifiers: ['hono', OURS] },
]

/** One fresh process importing `specifiers` in order; the time the child measured, in ms. */
function sample(specifiers: string[]): number {
  const code = [
    'const t0 = performance.now()',
    ...specifiers.map((s) => `await import(${JSON.stringify(s)})`),
    'console.log(JSON.stringify({ ms: performance.now() - t0 }))',
  ].join('\n')
  // Bare specifiers resolve from cwd, as an app's would; NODE_OPTIONS could smuggle a loader in.
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  })
  if (child.status !== 0) {
    throw new Error(`importing ${specifiers.join(' + ')} failed:\n${child.stderr}`)
  }
  return (JSON.parse(child.stdout) as { ms: number }).ms
}

if (!existsSync(fileURLToPath(OURS))) {
  console.error('dist/ is missing: npm run build')
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' })
}

// One untimed round first: the first read of each file from disk is not what a cold start pays
// on a warm machine, and the medians should not depend on which scenario ran first.
for (const s of SCENARIOS) sample(s.specifiers)
const times = SCENARIOS.map(() => [] as number[])
for (let round = 0; round < RUNS; round++) {
  // Rotating the order keeps any "the process before me warmed something" effect even.
  for (let k = 0; k < SCENARIOS.length; k++) {
    const i = (round + k) % SCENARIOS.length
    times[i]!.push(sample(SCENARIOS[i]!.specifiers))
  }
}

const ms = (x: number) => x.toFixed(1)
const rows = SCENARIOS.map((s, i) => ({
  label: s.label,
  median: median(times[i]!),
  min: times[i]!.reduce((m, t) => Math.min(m, t), Number.POSITIVE_INFINITY),
}))
const [hono, , , together] = rows
console.log(
  `## Cold import() on Node ${process.version}\n\n${RUNS} fresh processes per row, interleaved; ` +
    'time measured inside the child around the awaited import()s.\n',
)
console.log('| import | median ms | min ms |')
console.log('|---|---:|---:|')
for (const r of rows) console.log(`| ${r.label} | ${ms(r.median)} | ${ms(r.min)} |`)
console.log(
  `| sealed-session/hono on top of hono (difference of the rows above) | ` +
    `${ms(together!.median - hono!.median)} | ${ms(together!.min - hono!.min)} |`,
)
