// One cold start, run by bench/cold-start.ts as a fresh `node` or `bun` process: import Hono (and
// sealed-session/hono from dist/), build the app, answer one request that brings a valid session
// cookie and changes the session (key derivation for its salts, an unseal, the first seal).
// Prints the times since the process started (performance.now()), in ms.
// Usage: node bench/cold-start-child.mjs session|none   (env COLD_COOKIE, COLD_SECRET, BENCH_DIST)
const mode = process.argv[2]
const { Hono } = await import('hono')
const dist = process.env.BENCH_DIST ?? '../dist'
const mod = mode === 'session' ? await import(`${dist}/adapters/hono.js`) : undefined
const imported = performance.now()
const app = new Hono()
if (mod) app.use(mod.session({ secret: process.env.COLD_SECRET }))
app.get('/', (c) => {
  if (!mod) return c.text('anon')
  c.session.count = (Number(c.session.count) || 0) + 1
  return c.text(String(c.session.userId))
})
const res = await app.fetch(
  new Request('http://localhost/', { headers: { cookie: process.env.COLD_COOKIE } }),
)
const body = await res.text()
const answered = performance.now()
const wrote = res.headers.getSetCookie().length > 0
if (mod && (!wrote || body === 'undefined'))
  throw new Error(`cold start: read ${body}, wrote ${wrote}`)
console.log(JSON.stringify({ imported, answered }))
