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

let plainWrites = 0
let expiresSecond = 0
let expires = ''
/**
 * What a no-session app's write sends (the writing baseline): a plain cookie `sid` as long as
 * the one the request brought (`cookie`, its Cookie header), new every request, with the
 * attributes a session cookie has. No session work, only the cost of setting a cookie.
 */
export function plainSetCookie(cookie: string | null | undefined): string {
  const header = cookie ?? ''
  const value = header.slice(header.indexOf('=') + 1)
  const count = String(++plainWrites)
  return `sid=${count}${value.slice(count.length)}${cookieTail()}`
}

/** The attributes of the benchmarks' plain cookies: `; Max-Age=86400; Expires=…` and the rest. */
export function cookieTail(): string {
  const second = Math.floor(Date.now() / 1000) + 86_400
  if (second !== expiresSecond) {
    expiresSecond = second
    expires = new Date(second * 1000).toUTCString()
  }
  return `; Max-Age=86400; Expires=${expires}; Path=/; HttpOnly; SameSite=Lax`
}

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

/**
 * Writes: one jar per concurrent client, each sending the cookie it was just given. `send`
 * makes the request with a Cookie header and answers the response.
 */
export function jarWriter(
  start: string,
  send: (cookie: string) => Response | Promise<Response>,
): Step {
  const jars = new Map<number, Jar>()
  return async (client) => {
    let jar = jars.get(client)
    if (!jar) {
      jar = new Jar(start)
      jars.set(client, jar)
    }
    const res = await send(jar.header())
    jar.update(res)
    await res.text()
  }
}

/**
 * Fills `pool` with cookies from `mint` for a cold round of `ms` (its untimed warm-up included):
 * 100 cold reads time the rate, then four times what the round needs at that rate is minted (the
 * rate still climbs as the JIT warms up), at least 1,000 more. The heap is then collected, so
 * the garbage of minting is not collected while this or another process is timed.
 */
export async function fillColdPool(
  pool: string[],
  mint: () => Promise<string>,
  cold: Step,
  ms: number,
): Promise<void> {
  while (pool.length < 300) pool.push(await mint())
  const t0 = performance.now()
  for (let i = 0; i < 100; i++) await cold(0)
  const want = Math.ceil((100 / (performance.now() - t0)) * ms * 4) + 1000
  while (pool.length < want) pool.push(await mint())
  ;(globalThis as { gc?: () => void }).gc?.()
}

/**
 * Median over rounds of `rounds[k]` / `rounds[over]` in the same round (at concurrency `c`):
 * for programs that run every scenario once per round, so each round gives a ratio of neighbours.
 */
export function roundRatio(
  rounds: Record<string, number[]> | undefined,
  k: string,
  over: string,
  c: number,
): number {
  const xs = rounds?.[`${k} c${c}`] ?? []
  const base = rounds?.[`${over} c${c}`] ?? []
  const pairs = xs.map((x, i) => x / (base[i] ?? Number.NaN)).filter(Number.isFinite)
  return pairs.length > 0 ? median(pairs) : Number.NaN
}

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

export const envNumber = (name: string, fallback: number): number => {
  const v = process.env[name]
  return v === undefined || v === '' ? fallback : Number(v)
}

/** What run.ts sends a scenario child, and what it answers. */
export type ChildRequest =
  | { op: 'round'; scenario: string; ms: number; concurrency: number }
  | { op: 'bytes' }
  | { op: 'exit' }
export type ChildReply =
  | { op: 'ready'; scenarios: string[]; notes: Record<string, string> }
  /** `t0`/`t1`: the timed window, monotonic µs (the clock of `--cpu-prof` timestamps). */
  | { op: 'round'; rps: number; t0: number; t1: number }
  | { op: 'bytes'; small: number | null; large: number | null; note?: string }
  | { op: 'error'; message: string }

/**
 * Untimed warm-up before every timed round of a child, in ms (at most the round's length). A
 * child idles for tens of seconds while the others are timed, and comes back slow for hundreds
 * of milliseconds, not tens: after 45 s idle, sealed-session's cold reads at c1 ran 49-56 µs a
 * request over a 150 ms warm-up and 28-31 µs over a 600 ms one (the same process at c16 just
 * after its c1 round: 28-30 µs).
 */
export const ROUND_WARMUP_MS = 500

/** The warm-up before a timed round of `ms` milliseconds. */
export const roundWarmup = (ms: number): number => Math.min(ROUND_WARMUP_MS, ms)

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
      // An untimed run first: a process idle for seconds (while the others are timed) comes
      // back slow (caches, JIT, the VM's memory and scheduler; see ROUND_WARMUP_MS), and a
      // round must not measure how long this child waited for its turn.
      await measure(step, roundWarmup(m.ms), m.concurrency)
      const t0 = Number(process.hrtime.bigint() / 1000n)
      const rps = await measure(step, m.ms, m.concurrency)
      send({ op: 'round', rps, t0, t1: Number(process.hrtime.bigint() / 1000n) })
    } catch (err) {
      send({
        op: 'error',
        message: err instanceof Error ? (err.stack ?? err.message) : String(err),
      })
    }
  })
  send({ op: 'ready', scenarios: Object.keys(scenarios), notes })
}
