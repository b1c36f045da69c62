// One library's Hono app, timed in-process (`app.fetch(new Request(…))`) on run.ts' request.
// Each library runs in its own process: hono-session patches Hono's Context, and JIT state or
// heap growth of one library must not tax another.
//
// Usage (normally by run.ts): node --import tsx bench/hono-child.ts <library>[:cold]
//   libraries: baseline | floor | sealed | sealed-map | sealed-schema | hono-session | hono-sessions |
//              @hono/session | iron-session
// Scenarios: read (the same cookie again and again), write (a key changed, the new cookie sent
// next time; the baseline's write sets a plain cookie); with `:cold`, cold reads only (a new valid
// cookie every request). Cold reads run in a process of their own: the pool of cookies minted for
// them (and, for sealed-session, the minting engine) would otherwise tax the warm scenarios' heap
// and JIT, which no app serving only warm traffic pays.
import { build, type Data, loginJar as sharedLoginJar, URL_BASE } from './hono-apps.ts'
import {
  fillColdPool,
  Jar,
  jarWriter,
  LARGE_DATA,
  roundWarmup,
  SMALL_DATA,
  type Step,
  serveChild,
} from './lib.ts'

const [name = 'sealed', part] = (process.argv[2] ?? 'sealed').split(':')
const coldOnly = part === 'cold'
const lib = await build(name)

const loginJar = async (data: Data): Promise<Jar> => {
  try {
    return await sharedLoginJar(lib, data)
  } catch (err) {
    throw new Error(`${name}: ${(err as Error).message}`)
  }
}

const request = (path: string, cookie: string) =>
  lib.fetch(new Request(`${URL_BASE}${path}`, { headers: { cookie } }))

const scenarios: Record<string, Step> = {}

/** Writes: each client sends the cookie it was just given. */
const writes = (start: string): Step => jarWriter(start, (cookie) => request('/write', cookie))

/** Sanity: a write must change the cookie the client holds (store mode keeps its id cookie). */
async function checkWrite(before: string): Promise<void> {
  const check = new Jar(before)
  check.update(await request('/write', check.header()))
  if (name !== 'sealed-map' && check.header() === before)
    throw new Error(`${name} write did not change the cookie`)
}

// Cold reads: every request brings a valid cookie of a new session, minted before the round
// (untimed) and used once. Before each round, 100 cold reads time the rate, and four times what
// the round (with its warm-up) needs at that rate is minted (the rate still climbs as the JIT
// warms up). The heap is then collected, so the
// garbage of minting is not collected while this or another process is timed.
const pool: string[] = []
const COLD = new Set(['sealed', 'hono-session', 'hono-sessions', '@hono/session', 'iron-session'])
let prepare: ((scenario: string, ms: number) => Promise<void>) | undefined

if (lib.cookie !== undefined) {
  const cookie = lib.cookie
  scenarios.read = async () => {
    const res = await request('/read', cookie)
    await res.text()
  }
  if (name === 'baseline') {
    scenarios.write = writes(cookie)
    await checkWrite(cookie)
  }
} else {
  if (!coldOnly) {
    const readCookie = (await loginJar(SMALL_DATA)).header()
    // Sanity: the read must see the session, or the numbers measure an empty one.
    const seen = await (await request('/read', readCookie)).text()
    if (seen !== SMALL_DATA.userId) throw new Error(`${name} read ${seen}, not the session`)
    scenarios.read = async () => {
      const res = await request('/read', readCookie)
      await res.text()
    }
    const base = (await loginJar(SMALL_DATA)).header()
    scenarios.write = writes(base)
    await checkWrite(base)
  } else if (COLD.has(name)) {
    const mint = lib.mint ?? (async () => (await loginJar(SMALL_DATA)).header())
    const fresh = await mint()
    const coldSeen = await (await request('/read', fresh)).text()
    if (coldSeen !== SMALL_DATA.userId) throw new Error(`${name} cold read ${coldSeen}`)
    const cold: Step = async () => {
      const res = await request('/read', pool.pop() ?? (await mint()))
      await res.text()
    }
    scenarios.cold = cold
    prepare = async (scenario, ms) => {
      if (scenario === 'cold') await fillColdPool(pool, mint, cold, ms + roundWarmup(ms))
    }
  }
}

if (coldOnly && !scenarios.cold) throw new Error(`${name} has no cold reads to measure`)

serveChild(
  scenarios,
  async () => {
    if (lib.cookie !== undefined) return { op: 'bytes', small: null, large: null }
    const small = (await loginJar(SMALL_DATA)).bytes()
    const large = (await loginJar(LARGE_DATA)).bytes()
    return { op: 'bytes', small, large }
  },
  lib.notes,
  prepare,
)
