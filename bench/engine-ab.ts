// µs per request of the engine alone (`loadSync`/`commitSync`, no framework), this build against
// BENCH_BASE (another build's dist/, relative to bench/), interleaved round by round in one
// process: a cached read, a cold read (a cookie never seen: minted by another engine, whose
// salts the app derives keys for once), a cold read of a cookie with salts never seen, a write
// (the cookie the last write set) and a new session's first seal. Medians and fastest rounds of
// wall time, medians of process CPU time. Not part of `npm run bench`.
//
// BENCH_STORE=map: the same over a `Map` store (the cookie a signed id; no cold read: the id opens
// only in the process that holds the Map).
//
// Run: BENCH_BASE=../.scratch/base-dist node --import tsx bench/engine-ab.ts
//      (env: BENCH_ROUNDS [25], BENCH_N requests per round [2000], BENCH_STORE [none] or map)
import { envNumber, median, SECRET, SMALL_DATA } from './lib.ts'

type Engine = import('../src/core/engine.ts').SessionEngine
const ROUNDS = envNumber('BENCH_ROUNDS', 25)
const N = envNumber('BENCH_N', 2000)
const MAP = process.env.BENCH_STORE === 'map'
const dists = [...(process.env.BENCH_BASE ? [process.env.BENCH_BASE] : []), '../dist']
const request = (cookie: string | undefined) => ({
  header: (name: string) => (name === 'cookie' ? cookie : undefined),
  url: () => 'http://localhost/',
})
const cookieOf = (engine: Engine, state: ReturnType<Engine['loadSync']>) =>
  engine.commitSync(state, undefined).headers[0]![1].split(';', 1)[0]!

const builds = await Promise.all(
  dists.map(async (dist) => {
    const url = new URL(`${dist}/core/engine.js`, import.meta.url).href
    const { SessionEngine } = (await import(url)) as typeof import('../src/core/engine.ts')
    const app = new SessionEngine({ secret: SECRET, store: MAP ? new Map() : undefined })
    // Sealed: minted by another engine, so none of the app's caches knows the cookie.
    const minter = MAP ? app : new SessionEngine({ secret: SECRET })
    const mintWith = (engine: Engine) => {
      const state = engine.loadSync(request(undefined), undefined)
      Object.assign(state.session, SMALL_DATA)
      return cookieOf(engine, state)
    }
    const mint = () => mintWith(minter)
    // A cookie whose salts the app has never seen (an engine of its own seals it): its keys are
    // derived on the read, as after a restart for the first cookie of each sealing instance-minute.
    const mintNewSalts = () => mintWith(new SessionEngine({ secret: SECRET }))
    return { dist, mint, mintNewSalts, app, warm: mint(), last: mint(), cold: [''], newSalts: [''] }
  }),
)
// Cold cookies are minted before any round: minting between rounds would switch the JIT between
// seal and unseal code each round, which an app serving cold reads never does.
for (const b of builds) {
  if (MAP) break
  b.cold = Array.from({ length: N * ROUNDS }, b.mint)
  b.newSalts = Array.from({ length: N * ROUNDS }, b.mintNewSalts)
}
type Build = (typeof builds)[number]

const ops: Record<string, (b: Build) => (i: number) => void> = {
  read: (b) => () => {
    const state = b.app.loadSync(request(b.warm), undefined)
    void state.session.userId
    b.app.commitSync(state, undefined)
  },
  cold: (b) => {
    const pool = b.cold.splice(0, N)
    return (i) => {
      const state = b.app.loadSync(request(pool[i]), undefined)
      if (state.isNew) throw new Error('a minted cookie did not open')
      b.app.commitSync(state, undefined)
    }
  },
  'cold, new salts': (b) => {
    const pool = b.newSalts.splice(0, N)
    return (i) => {
      const state = b.app.loadSync(request(pool[i]), undefined)
      if (state.isNew) throw new Error('a minted cookie did not open')
      b.app.commitSync(state, undefined)
    }
  },
  write: (b) => () => {
    const state = b.app.loadSync(request(b.last), undefined)
    state.session.count = (Number(state.session.count) || 0) + 1
    // A Map store's cookie stays the same id.
    if (MAP) b.app.commitSync(state, undefined)
    else b.last = cookieOf(b.app, state)
  },
  'new session': (b) => () => {
    const state = b.app.loadSync(request(undefined), undefined)
    Object.assign(state.session, SMALL_DATA)
    b.app.commitSync(state, undefined)
  },
}

if (MAP) {
  delete ops.cold
  delete ops['cold, new salts']
}
// Wall and process CPU time per round: a busy machine deschedules the process, which then
// accrues no CPU time.
const samples = new Map<string, { wall: number[]; cpu: number[] }>()
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, op] of Object.entries(ops)) {
    for (const b of r % 2 ? [...builds].reverse() : builds) {
      const step = op(b)
      const cpu0 = process.cpuUsage()
      const t0 = performance.now()
      for (let i = 0; i < N; i++) step(i)
      const wall = ((performance.now() - t0) * 1000) / N
      const cpu = process.cpuUsage(cpu0)
      const key = `${name}|${b.dist}`
      const s = samples.get(key) ?? { wall: [], cpu: [] }
      s.wall.push(wall)
      s.cpu.push((cpu.user + cpu.system) / N)
      samples.set(key, s)
    }
  }
}
console.log(
  `| µs per request: wall (fastest), CPU | ${dists.join(' | ')} |\n|---|${dists.map(() => '--:').join('|')}|`,
)
for (const name of Object.keys(ops)) {
  const cells = dists.map((d) => {
    const { wall, cpu } = samples.get(`${name}|${d}`)!
    return `${median(wall).toFixed(2)} (${Math.min(...wall).toFixed(2)}), ${median(cpu).toFixed(2)}`
  })
  console.log(`| ${name} | ${cells.join(' | ')} |`)
}
