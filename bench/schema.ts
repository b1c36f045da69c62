// What `session({ schema })` costs per load: µs per cached load (a cookie the unseal-result cache
// holds), per uncached load (unseal and validate) and per new session (no cookie: the defaults),
// with no schema and with the same schema in zod 4, valibot and arktype. All variants in one
// process, interleaved batch by batch within each round, medians over the rounds; the extra cost
// of a schema is the median of per-round differences to "none". Engine
// level (sealed mode, node:crypto, loadSync/commitSync), on the built package. Prints a table on
// stderr and one JSON line on stdout for run.ts.
//
// Run: npm run build && node --import tsx bench/schema.ts
// (env: BENCH_SCHEMA_ROUNDS [21], BENCH_SCHEMA_SLICE_MS [100] per variant and kind and round)
import { type } from 'arktype'
import * as v from 'valibot'
import { z } from 'zod'
import { built, envNumber, median, SECRET, SMALL_DATA } from './lib.ts'

const { sessionEngine } = (await import(built('index.js'))) as typeof import('../src/index.ts')

const ROUNDS = envNumber('BENCH_SCHEMA_ROUNDS', 21)
// Per variant and kind in a round (the variants of a kind share that time, interleaved).
const SLICE_MS = envNumber('BENCH_SCHEMA_SLICE_MS', 100)

// SMALL_DATA's keys (optional: a visitor has none) and a defaulted counter. The stored data
// holds every key, so all variants
// load the same record and only the schema differs.
const DATA = { ...SMALL_DATA, count: 1 }
const schemas = {
  none: undefined,
  // A second engine without a schema: the A/A control, what "extra" shows when nothing differs.
  'none again': undefined,
  zod: z.object({
    userId: z.string().optional(),
    name: z.string().optional(),
    role: z.enum(['admin', 'user']).optional(),
    theme: z.string().default('light'),
    count: z.number().int().default(0),
  }),
  valibot: v.object({
    userId: v.optional(v.string()),
    name: v.optional(v.string()),
    role: v.optional(v.picklist(['admin', 'user'])),
    theme: v.optional(v.string(), 'light'),
    count: v.optional(v.pipe(v.number(), v.integer()), 0),
  }),
  arktype: type({
    'userId?': 'string',
    'name?': 'string',
    'role?': "'admin' | 'user'",
    theme: "string = 'light'",
    count: 'number.integer = 0',
  }),
}
type Variant = keyof typeof schemas
const variants = Object.keys(schemas) as Variant[]

const view = (cookie?: string) => ({
  header: (name: string) => (name === 'cookie' ? cookie : undefined),
  url: () => 'https://example.com/',
})

interface Setup {
  /** One request that reads the session; answers what it read, so nothing is optimised away. */
  cached(): unknown
  uncached(): unknown
  fresh(): unknown
}

function setup(variant: Variant): Setup {
  const engine = sessionEngine({ secret: SECRET, schema: schemas[variant] })
  if (!engine.synchronous) throw new Error(`${variant}: the engine is not synchronous`)
  const state = engine.loadSync(view(), undefined)
  Object.assign(state.session, DATA)
  const cookieOf = (c: { headers: ReadonlyArray<readonly [string, string]> }) =>
    view(c.headers[0]![1].split(';', 1)[0]!)
  // Never followed by a commit in the timed loop: never kept, every load unseals again.
  const uncached = cookieOf(engine.commitSync(state, undefined))
  // The same session sealed again, then kept by an untouched commit: a cache hit from now on.
  const renewed = engine.loadSync(uncached, undefined)
  renewed.session.renew()
  const cached = cookieOf(engine.commitSync(renewed, undefined))
  const check = engine.loadSync(cached, undefined)
  if (check.session.count !== 1) throw new Error(`${variant}: not opened`)
  engine.commitSync(check, undefined)
  const none = view()
  // Sanity: a new session gets the default.
  const fresh = engine.loadSync(none, undefined)
  if (schemas[variant] && fresh.session.count !== 0) throw new Error(`${variant}: no default`)
  // A load is what the schema changes; commits are left out (each one would be the same).
  return {
    cached: () => engine.loadSync(cached, undefined).session.userId,
    uncached: () => engine.loadSync(uncached, undefined).session.userId,
    fresh: () => engine.loadSync(none, undefined).session.isNew,
  }
}

const setups = new Map(variants.map((name) => [name, setup(name)]))
const kinds = ['cached', 'uncached', 'fresh'] as const
type Kind = (typeof kinds)[number]

let sink: unknown
/**
 * µs per call of each of `fns`, run interleaved for about `ms` milliseconds: a batch of each in
 * turn (the order rotating), so every variant sees the same machine, slow spells included.
 */
function timeInterleaved(fns: Array<() => unknown>, ms: number): number[] {
  const BATCH = 32
  const spent = fns.map(() => 0)
  let calls = 0
  const end = performance.now() + ms
  for (let turn = 0; performance.now() < end; turn++) {
    for (let j = 0; j < fns.length; j++) {
      const k = (j + turn) % fns.length
      const fn = fns[k]!
      const t0 = performance.now()
      for (let i = 0; i < BATCH; i++) sink = fn()
      spent[k]! += performance.now() - t0
    }
    calls += BATCH
  }
  return spent.map((t) => (t * 1000) / calls)
}

const samples = new Map<string, number[]>()
const key = (kind: Kind, variant: Variant) => `${kind}|${variant}`
for (let r = 0; r < ROUNDS + 1; r++) {
  for (const kind of kinds) {
    const us = timeInterleaved(
      variants.map((variant) => setups.get(variant)![kind]),
      SLICE_MS * variants.length,
    )
    // Round 0 warms the JIT up.
    if (r === 0) continue
    for (const [i, v] of variants.entries()) {
      samples.set(key(kind, v), [...(samples.get(key(kind, v)) ?? []), us[i]!])
    }
  }
}
if (sink === Symbol.for('never')) console.log(sink)

/** Per variant: median µs, median per-round difference to none, and the same by the fastest round. */
interface Cell {
  us: number
  extra: number
  min: number
  minExtra: number
}
const result: Record<Kind, Record<Variant, Cell>> = {} as never
for (const kind of kinds) {
  result[kind] = {} as never
  const base = samples.get(key(kind, 'none'))!
  for (const variant of variants) {
    const xs = samples.get(key(kind, variant))!
    result[kind][variant] = {
      us: median(xs),
      extra: median(xs.map((x, i) => x - base[i]!)),
      // The fastest round: the least disturbed by other processes (noise only adds time).
      min: Math.min(...xs),
      minExtra: Math.min(...xs) - Math.min(...base),
    }
  }
}

const f = (n: number) => n.toFixed(3)
process.stderr.write(`schema cost per load, µs (median of ${ROUNDS} rounds, interleaved)\n`)
for (const kind of kinds) {
  const row = variants.map((v) => {
    const c = result[kind][v]
    return `${v} ${f(c.us)} (+${f(c.extra)}; min ${f(c.min)} +${f(c.minExtra)})`
  })
  process.stderr.write(`  ${kind.padEnd(8)} ${row.join('  ')}\n`)
}
console.log(JSON.stringify({ rounds: ROUNDS, sliceMs: SLICE_MS, result }))
