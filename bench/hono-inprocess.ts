// In-process Hono throughput: no session vs sealed-session read / write / Map-store read.
// Interleaved rounds after warm-up; prints medians and the ratio to the no-session baseline.
// Run: npx tsx bench/hono-inprocess.ts   (a first cut; the full peer comparison is issue 5)
import { Hono } from 'hono'
import { session } from '../src/adapters/hono.ts'

const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz'
const ROUND_MS = 1000
const ROUNDS = Number(process.env.ROUNDS ?? 5)

type Scenario = { name: string; run: () => Promise<void> }

const plain = new Hono().get('/', (c) => c.text('ok'))

function sealedApp(store?: Map<string, unknown>) {
  return new Hono()
    .use(session({ secret: SECRET, store }))
    .get('/login', (c) => {
      c.session.userId = 'user-1'
      c.session.name = 'Ada Lovelace'
      return c.text('ok')
    })
    .get('/read', (c) => c.text(String(c.session.userId)))
    .get('/write', (c) => {
      c.session.count = (c.session.count ?? 0) + 1
      return c.text('ok')
    })
}

async function loginCookie(app: Hono<any>): Promise<string> {
  const res = await app.request('http://localhost/login')
  return res.headers.getSetCookie()[0]!.split(';')[0]!
}

const sealed = sealedApp()
const stored = sealedApp(new Map())
const sealedCookie = await loginCookie(sealed)
const storeCookie = await loginCookie(stored)
let writeCookie = sealedCookie

const scenarios: Scenario[] = [
  {
    // Same request as the others, cookie included: only the middleware differs.
    name: 'no session',
    run: async () =>
      void (await plain.request('http://localhost/', { headers: { cookie: sealedCookie } })),
  },
  {
    name: 'sealed read',
    run: async () =>
      void (await sealed.request('http://localhost/read', { headers: { cookie: sealedCookie } })),
  },
  {
    name: 'sealed write',
    run: async () => {
      // The client sends the cookie it was just given: no cache flattery.
      const res = await sealed.request('http://localhost/write', {
        headers: { cookie: writeCookie },
      })
      writeCookie = res.headers.getSetCookie()[0]!.split(';')[0]!
    },
  },
  {
    name: 'Map store read',
    run: async () =>
      void (await stored.request('http://localhost/read', { headers: { cookie: storeCookie } })),
  },
]

async function measure(s: Scenario): Promise<number> {
  let n = 0
  const end = performance.now() + ROUND_MS
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) await s.run()
    n += 50
  }
  return (n * 1000) / ROUND_MS
}

for (const s of scenarios) await measure(s) // warm-up
const results = new Map<string, number[]>(scenarios.map((s) => [s.name, []]))
for (let r = 0; r < ROUNDS; r++)
  for (const s of scenarios) results.get(s.name)!.push(await measure(s))

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const base = median(results.get('no session')!)
console.log(`node ${process.version}, ${ROUNDS} rounds of ${ROUND_MS} ms, sequential`)
for (const [name, xs] of results) {
  const m = median(xs)
  console.log(
    `${name.padEnd(16)} ${m.toFixed(0).padStart(7)} req/s  ${((m / base) * 100).toFixed(1).padStart(5)}%`,
  )
}
