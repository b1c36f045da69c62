// Memory and the forged-cookie bound, Hono in-process with sealed-session: RSS and IronCodec
// cache sizes after N distinct sessions were read and after N forged cookies (valid cookies with
// random salts: each costs a key derivation and a failed MAC), and valid-read throughput
// before and after the flood. Prints one JSON line for run.ts.
//
// Run: node --expose-gc --import tsx bench/memory.ts   (env: BENCH_MEMORY_N, BENCH_ROUND_MS)
import { randomBytes } from 'node:crypto'
import { Hono } from 'hono'
import { built, envNumber, Jar, measure, median, SECRET, type Step } from './lib.ts'

const { session } = (await import(
  built('adapters/hono.js')
)) as typeof import('../src/adapters/hono.ts')
const { IronCodec } = (await import(
  built('crypto/iron.js')
)) as typeof import('../src/crypto/iron.ts')
const { SessionEngine } = (await import(
  built('core/engine.js')
)) as typeof import('../src/core/engine.ts')

const N = envNumber('BENCH_MEMORY_N', 100_000)
const ROUND_MS = envNumber('BENCH_ROUND_MS', 1000)
const URL_BASE = 'http://localhost'

// The codec lives inside the middleware; catch the instance on its first cache lookup (every
// request with a cookie makes one), then put the prototype back so the timed requests run the
// original method.
let codec: InstanceType<typeof IronCodec> | undefined
const original = IronCodec.prototype.lookup
IronCodec.prototype.lookup = function (this: InstanceType<typeof IronCodec>, sealed: string) {
  codec = this
  return original.call(this, sealed)
}
// The engine likewise (its front cache of Cookie headers), on its first load.
let engine: InstanceType<typeof SessionEngine> | undefined
const originalLoad = SessionEngine.prototype.load
SessionEngine.prototype.load = function (this: InstanceType<typeof SessionEngine>, ...args) {
  engine = this
  return originalLoad.apply(this, args)
}

const app = new Hono()
  .use(session({ secret: SECRET }))
  .get('/login', (c) => {
    c.session.userId = c.req.query('u') ?? 'u'
    c.session.name = 'Ada Lovelace'
    return c.text('ok')
  })
  .get('/read', (c) => c.text(String(c.session.userId)))

const request = (path: string, cookie?: string) =>
  app.fetch(new Request(`${URL_BASE}${path}`, cookie ? { headers: { cookie } } : {}))
const loginCookie = async (u: string) => new Jar().update(await request(`/login?u=${u}`)).header()

const valid = await loginCookie('user-1')
await (await request('/read', valid)).text()
IronCodec.prototype.lookup = original
SessionEngine.prototype.load = originalLoad
if (!codec || !engine) throw new Error('the IronCodec or SessionEngine instance was not found')
const theCodec = codec
const theEngine = engine

const gc = (globalThis as { gc?: () => void }).gc
const snapshot = () => {
  gc?.()
  return {
    rssMB: process.memoryUsage().rss / 2 ** 20,
    heapMB: process.memoryUsage().heapUsed / 2 ** 20,
    keyCache: theCodec.cacheSizes(),
    resultCache: theCodec.resultCacheSize(),
    frontCache: theEngine.frontCacheSize(),
  }
}

const read: Step = async () => void (await (await request('/read', valid)).text())
const throughput = async () => {
  await measure(read, Math.max(ROUND_MS, 1000)) // warm-up: the JIT's first pass
  const xs: number[] = []
  for (let i = 0; i < 5; i++) xs.push(await measure(read, ROUND_MS))
  return median(xs)
}

const start = snapshot()
const before = await throughput()

// N distinct sessions, each sealed by the app and read back twice.
let t = performance.now()
for (let i = 0; i < N; i++) {
  const cookie = await loginCookie(`user-${i}`)
  // Read twice: the second read puts the Cookie header in the front cache.
  for (let j = 0; j < 2; j++) {
    const seen = await (await request('/read', cookie)).text()
    if (seen !== `user-${i}`) throw new Error(`session ${i} read as ${seen}`)
  }
}
const distinctSeconds = (performance.now() - t) / 1000
const afterDistinct = snapshot()

// N forged cookies: the valid cookie with both salts replaced by random ones (the MAC then
// fails after one key derivation). Every one must come back as a fresh, empty session.
const [name, value] = valid.split('=') as [string, string]
const parts = value.split('*')
t = performance.now()
for (let i = 0; i < N; i++) {
  parts[2] = randomBytes(32).toString('hex')
  parts[6] = randomBytes(32).toString('hex')
  const seen = await (await request('/read', `${name}=${parts.join('*')}`)).text()
  if (seen !== 'undefined') throw new Error(`forged cookie ${i} was accepted`)
}
const forgedSeconds = (performance.now() - t) / 1000
const afterForged = snapshot()
const after = await throughput()

console.log(
  JSON.stringify({
    n: N,
    start,
    afterDistinct,
    afterForged,
    distinctPerSecond: N / distinctSeconds,
    forgedPerSecond: N / forgedSeconds,
    before,
    after,
  }),
)
