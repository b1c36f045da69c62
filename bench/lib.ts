// Shared pieces of the benchmark programs: a cookie jar that replays Set-Cookie the way a
// browser does, timed rounds (sequential or N concurrent clients), and the child-process
// protocol that run.ts drives. Runs under Node (tsx) and Bun.

/**
 * URL of a module of the built package (`dist/`, what users install): the benchmarks measure it,
 * not the TypeScript sources run through a loader. `npm run bench` builds first. `BENCH_DIST`
 * (relative to bench/, or a file URL) points at another build, for A/B runs of two versions.
 */
export const built = (path: string): string =>
  new URL(`${process.env.BENCH_DIST ?? '../dist'}/${path}`, import.meta.url).href

/** 32+ characters for every library (iron needs >= 32; @hono/session derives a key from it). */
export const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz'

/** ~80 bytes of JSON: a typical logged-in session. */
export const SMALL_DATA = {
  userId: 'u_8f14e45fceea167a',
  name: 'Ada Lovelace',
  role: 'admin',
  theme: 'dark',
}

/** 2 KB of JSON (2048 bytes exactly). */
export const LARGE_DATA = (() => {
  const base = { ...SMALL_DATA, notes: '' }
  const pad = 2048 - JSON.stringify(base).length
  return { ...base, notes: 'x'.repeat(pad) }
})()

/** Cookies a client keeps: name → value, updated from each response's Set-Cookie. */
export class Jar {
  readonly values = new Map<string, string>()

  constructor(header?: string) {
    if (header) {
      for (const pair of header.split('; ')) {
        const eq = pair.indexOf('=')
        this.values.set(pair.slice(0, eq), pair.slice(eq + 1))
      }
    }
  }

  update(res: Response): this {
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';', 1)[0]!
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq)
      const value = pair.slice(eq + 1)
      // A clearing cookie (empty value or Max-Age=0) removes it, as a browser would.
      if (value === '' || /max-age=0(;|$)/i.test(line)) this.values.delete(name)
      else this.values.set(name, value)
    }
    return this
  }

  header(): string {
    let out = ''
    for (const [name, value] of this.values) out += `${out ? '; ' : ''}${name}=${value}`
    return out
  }

  /** Bytes of the Cookie header the client sends. */
  bytes(): number {
    return Buffer.byteLength(this.header())
  }
}

/** One request of a scenario; `client` tells concurrent clients apart (each keeps its cookies). */
export type Step = (client: number) => Promise<void>

/** Requests per second over `ms` milliseconds: one client in a loop, or `concurrency` at once. */
export async function measure(step: Step, ms: number, concurrency = 1): Promise<number> {
  let n = 0
  const start = performance.now()
  const end = start + ms
  const client = async (id: number) => {
    while (performance.now() < end) {
      await step(id)
      n++
    }
  }
  const clients: Promise<void>[] = []
  for (let i = 0; i < concurrency; i++) clients.push(client(i))
  await Promise.all(clients)
  return (n * 1000) / (performance.now() - start)
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** The `q` quantile (0..1) of `xs`, linear between the two nearest ranks; NaN when empty. */
export const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const at = (s.length - 1) * q
  const lo = Math.floor(at)
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (at - lo)
}

/** A ratio's samples summed up: the median, and the quartiles as its spread. */
export interface Spread {
  median: number
  q1: number
  q3: number
  n: number
}

export const spread = (xs: number[]): Spread => ({
  median: xs.length > 0 ? median(xs) : Number.NaN,
  q1: quantile(xs, 0.25),
  q3: quantile(xs, 0.75),
  n: xs.length,
})

/**
 * One paired sample: two rounds of the baseline and two of the measured scenario, as
 * B S S B for even `sample` numbers and S B B S for odd ones, so neither always goes first and a load that
 * rises or falls steadily over the four rounds weighs on both alike. The sample is the
 * scenario's two rounds over the baseline's two: rounds run back to back (a few hundred ms in
 * all) share the VM's slow spells, which last seconds, so the ratio keeps little of them.
 */
export async function pairedSample(
  sample: number,
  base: () => Promise<number>,
  scenario: () => Promise<number>,
): Promise<{ ratio: number; base: number[]; scenario: number[] }> {
  const b: number[] = []
  const s: number[] = []
  const order = sample % 2 ? [s, b, b, s] : [b, s, s, b]
  for (const into of order) into.push(await (into === b ? base() : scenario()))
  return { ratio: (s[0]! + s[1]!) / (b[0]! + b[1]!), base: b, scenario: s }
}

export const envNumber = (name: string, fallback: number): number => {
  const v = process.env[name]
  return v === undefined || v === '' ? fallback : Number(v)
}

/** What run.ts sends a scenario child, and what it answers. */
export type ChildRequest =
  /**
   * `warmupMs`: the untimed run before the round (min(150, ms / 4) when left out);
   * `warmupCpuMs`: instead, untimed until the process has spent that much CPU time on it.
   */
  | {
      op: 'round'
      scenario: string
      ms: number
      concurrency: number
      warmupMs?: number
      warmupCpuMs?: number
    }
  | { op: 'bytes' }
  | { op: 'exit' }
export type ChildReply =
  | { op: 'ready'; scenarios: string[]; notes: Record<string, string> }
  /** `t0`/`t1`: the timed window, monotonic µs (the clock of `--cpu-prof` timestamps). */
  | {
      op: 'round'
      rps: number
      t0: number
      t1: number
      /** CPU time of this process (all its threads) per request in the round, µs */
      cpuUs: number
    }
  | { op: 'bytes'; small: number | null; large: number | null; note?: string }
  | { op: 'error'; message: string }

/** Untimed warm-up before every timed round of a child, in ms. */
const ROUND_WARMUP_MS = 150

/**
 * Runs `step` untimed until this process has spent `cpuMs` of CPU time on it (or 10 × that
 * in wall time): on a loaded machine a fixed wall-clock warm-up leaves a starved process, and
 * its JIT's background compiles, far from its steady state.
 */
export async function warmUp(step: Step, cpuMs: number, concurrency: number): Promise<void> {
  const cpu0 = process.cpuUsage()
  const end = performance.now() + cpuMs * 10
  const spent = () => {
    const c = process.cpuUsage(cpu0)
    return (c.user + c.system) / 1000
  }
  while (spent() < cpuMs && performance.now() < end) await measure(step, 50, concurrency)
}

/**
 * Serves run.ts over the IPC channel: `scenarios` are timed on request, `bytes` reports the
 * Cookie header size for the small and 2 KB sessions; `prepare` runs before a round, untimed.
 */
export function serveChild(
  scenarios: Record<string, Step>,
  bytes: () => Promise<Extract<ChildReply, { op: 'bytes' }>>,
  notes: Record<string, string> = {},
  prepare?: (scenario: string, ms: number) => Promise<void>,
): void {
  const send = (m: ChildReply) => process.send!(m)
  process.on('message', async (m: ChildRequest) => {
    try {
      if (m.op === 'exit') process.exit(0)
      if (m.op === 'bytes') return send(await bytes())
      const step = scenarios[m.scenario]
      if (!step) throw new Error(`unknown scenario ${m.scenario}`)
      // Untimed set-up (cold reads mint the cookies the round will bring).
      await prepare?.(m.scenario, m.ms)
      // A short untimed run first: a process idle for seconds (while the others are timed)
      // comes back slow for its first tens of milliseconds (caches, JIT, the VM's scheduler),
      // and a round must not measure how long this child waited for its turn.
      if (m.warmupCpuMs !== undefined) await warmUp(step, m.warmupCpuMs, m.concurrency)
      else await measure(step, m.warmupMs ?? Math.min(ROUND_WARMUP_MS, m.ms / 4), m.concurrency)
      const t0 = Number(process.hrtime.bigint() / 1000n)
      const cpu0 = process.cpuUsage()
      const rps = await measure(step, m.ms, m.concurrency)
      const t1 = Number(process.hrtime.bigint() / 1000n)
      const cpu = process.cpuUsage(cpu0)
      const requests = (rps * (t1 - t0)) / 1e6
      send({ op: 'round', rps, t0, t1, cpuUs: (cpu.user + cpu.system) / Math.max(1, requests) })
    } catch (err) {
      send({
        op: 'error',
        message: err instanceof Error ? (err.stack ?? err.message) : String(err),
      })
    }
  })
  send({ op: 'ready', scenarios: Object.keys(scenarios), notes })
}
