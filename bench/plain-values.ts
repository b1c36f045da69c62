// In-process A/B of the session's read and write paths: values handed out as plain objects
// (compared by JSON at commit) against the proxies that wrapped every nested object before.
// Both engines run in this process, interleaved round by round: the sources of `BENCH_BASE`
// (a commit before the change) are unpacked with `git archive`, the current ones are this
// checkout's; both go through the same loader (tsx), so only the code differs.
//
//   node --import tsx bench/plain-values.ts          (or: bun bench/plain-values.ts)
//   BENCH_BASE=<commit>  the "before" sources [f2196a1, the commit before the change]
//   BENCH_ROUND_MS (100), BENCH_ROUNDS (41): many short rounds, medians (this VM has slow spells)
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { envNumber, median, SECRET } from './lib.ts'

const BASE = process.env.BENCH_BASE ?? 'f2196a1'
const ROUND_MS = envNumber('BENCH_ROUND_MS', 100)
const ROUNDS = envNumber('BENCH_ROUNDS', 41)

interface Handle {
  session: Record<string, any>
}
interface Engine {
  loadSync(request: unknown, ctx: unknown): Handle
  commitSync(handle: Handle, ctx: unknown): { cookies: readonly { header: string }[] }
}
type MakeEngine = (options: Record<string, unknown>) => Engine

const root = new URL('..', import.meta.url)
const dir = mkdtempSync(join(tmpdir(), 'sealed-session-base-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
execFileSync('sh', ['-c', `git archive ${BASE} src | tar -x -C ${dir}`], { cwd: root })
// The old sources resolve their dependencies (iron-webcrypto) from this checkout's.
symlinkSync(new URL('node_modules', root).pathname, join(dir, 'node_modules'))
const engineOf = async (src: string): Promise<MakeEngine> =>
  (await import(pathToFileURL(join(src, 'src/core/engine.ts')).href)).sessionEngine
const variants: [string, MakeEngine][] = [
  [`before (${BASE}: proxies)`, await engineOf(dir)],
  ['after (plain values)', await engineOf(new URL('.', root).pathname)],
]

/** A cart of 10 lines plus a user: ~700 bytes of JSON, the shape nested reads go through. */
const seed = () => ({
  userId: 'u_8f14e45fceea167a',
  cart: {
    items: Array.from({ length: 10 }, (_, i) => ({
      sku: `SKU-${i}`,
      qty: i + 1,
      name: `Item ${i}`,
    })),
    coupon: null,
    meta: { currency: 'EUR', tags: ['a', 'b'] },
  },
})

const request = (cookie: string | undefined) => ({
  header: (name: string) => (name === 'cookie' ? cookie : undefined),
  url: () => 'https://example.com/',
})

interface Scenario {
  about: string
  store: boolean
  /** The handler; answers a number so nothing is optimised away. */
  act(s: Record<string, any>): number
  /** The session cookie changes on every request (a write in sealed mode). */
  rolling?: boolean
  /** A write scenario: true when the next request sees the write. */
  saved?(s: Record<string, any>): boolean
}

const scenarios: Record<string, Scenario> = {
  'read top-level': {
    about: 'sealed, cached cookie: read userId, commit (nothing written)',
    store: false,
    act: (s) => s.userId.length,
  },
  'read nested': {
    about: 'sealed, cached cookie: read every cart line field, commit (nothing written)',
    store: false,
    act: (s) => {
      let n = 0
      for (const item of s.cart.items) n += item.qty + item.sku.length + item.name.length
      return n + s.cart.meta.tags.length
    },
  },
  'read nested, store': {
    about: 'Map store: read every cart line field, commit (nothing written)',
    store: true,
    act: (s) => {
      let n = 0
      for (const item of s.cart.items) n += item.qty + item.sku.length + item.name.length
      return n + s.cart.meta.tags.length
    },
  },
  'write nested, store': {
    about: 'Map store: cart.items[0].qty++, commit (store set)',
    store: true,
    act: (s) => ++s.cart.items[0].qty,
    saved: (s) => s.cart.items[0].qty > 1,
  },
  'write nested, sealed': {
    about: 'sealed: cart.items[0].qty++, commit (a new seal; the next request sends it)',
    store: false,
    rolling: true,
    act: (s) => ++s.cart.items[0].qty,
    saved: (s) => s.cart.items[0].qty > 1,
  },
}

/** One request loop for `make`: a fresh session seeded once, then `act` per request. */
function prepare(make: MakeEngine, scenario: Scenario) {
  const engine = make({ secret: SECRET, ...(scenario.store && { store: new Map() }) })
  const first = engine.loadSync(request(undefined), undefined)
  Object.assign(first.session, seed())
  let cookie = engine.commitSync(first, undefined).cookies[0]!.header.split(';', 1)[0]
  let sink = 0
  const step = () => {
    const handle = engine.loadSync(request(cookie), undefined)
    sink += scenario.act(handle.session)
    const commit = engine.commitSync(handle, undefined)
    if (scenario.rolling) cookie = commit.cookies[0]!.header.split(';', 1)[0]
  }
  // Each engine checks itself: the write must be seen by the next request.
  step()
  const check = engine.loadSync(request(cookie), undefined)
  if (check.session.userId !== 'u_8f14e45fceea167a') throw new Error('the session did not open')
  if (scenario.saved && !scenario.saved(check.session)) throw new Error('the write was not saved')
  return { step, sink: () => sink }
}

/** Requests per second of `step` over `ms`. */
function measure(step: () => void, ms: number): number {
  let n = 0
  const start = performance.now()
  const end = start + ms
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) step()
    n += 50
  }
  return (n * 1000) / (performance.now() - start)
}

const runtime =
  'Bun' in globalThis ? `Bun ${(globalThis as any).Bun.version}` : `Node ${process.version}`
console.log(`plain-values A/B on ${runtime}: ${ROUNDS} interleaved rounds of ${ROUND_MS} ms\n`)
console.log('| scenario | before µs/req | after µs/req | after / before |')
console.log('|---|--:|--:|--:|')
for (const [name, scenario] of Object.entries(scenarios)) {
  const loops = variants.map(([, make]) => prepare(make, scenario))
  const rates: number[][] = loops.map(() => [])
  for (const loop of loops) measure(loop.step, ROUND_MS) // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which variant goes first, so neither always runs on a warmer machine.
    const order = r % 2 === 0 ? [0, 1] : [1, 0]
    for (const i of order) rates[i]!.push(measure(loops[i]!.step, ROUND_MS))
  }
  const [before, after] = rates.map((r) => 1e6 / median(r))
  console.log(
    `| ${name} | ${before!.toFixed(2)} | ${after!.toFixed(2)} | ${(after! / before!).toFixed(2)} |`,
  )
  void loops.map((l) => l.sink())
}
console.log(
  `\n${Object.entries(scenarios)
    .map(([name, s]) => `- ${name}: ${s.about}`)
    .join('\n')}`,
)
