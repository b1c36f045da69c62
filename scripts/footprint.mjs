// `npm run check:size`: what every public subpath weighs once a user's bundler has it — bundled
// from src/ with esbuild (minified ESM, platform neutral), peers external, gzip at zlib level 9.
// For /hono it also measures what a Worker app ships, `import { session }` tree-shaken, and that
// is the number the budget holds.
//
//   node scripts/footprint.mjs                print the tables
//   node scripts/footprint.mjs --check        ... and exit 1 when a subpath is over its budget
//   --root DIR                                measure another package tree (the tests' fixtures)
//   --budget N                                replace the /hono gzip budget (bytes)
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { build, version } from 'esbuild'

/** Gzip bytes (zlib level 9) a subpath's Worker import may weigh, keyed by package.json export. */
// 16 KB through 0.2.0's core rework; 18 KB since its session API (flash readers, schema, save()) and hardening (chunk planting, secure in production, wrong-shape warnings) landed: +2.3 KB gzip together, measured per branch in the 0.2.0 notes.
// 17 KB since the WebCrypto path became our own Fe26.2 (no iron-webcrypto in the bundle: -1.7 KB) and
// issue 15's read/write paths landed (+0.3 KB). 17.5 KB since issue 15's second round: the front cache of
// Cookie headers, write-through seals kept as whole results and a cold unseal without steps (+0.75 KB
// gzip for about half the engine's cached-read time, a plain cache hit after a write and 12% less
// CPU per cold read). 17.6 KB since store-mode writes stopped setting the cookie the client holds
// again (+67 B gzip: the cookie and deadline a request brought, kept on its state, and the check).
const BUDGETS = { './hono': 17.6 * 1024 }

// Whatever the user installs next to us (framework, runtime built-ins, database clients) is not
// our weight. No store imports a driver today (they take the user's client), the list is a guard.
const EXTERNAL = [
  'hono',
  'hono/*',
  'elysia',
  'elysia/*',
  'next',
  'next/*',
  'node:*',
  'bun:*',
  'ioredis',
  'redis',
  '@redis/*',
  'pg',
  'postgres',
  'better-sqlite3',
  'connect-redis',
  'express-session',
]

// What a Worker app writes: only `session` survives tree-shaking, not the whole module.
const WORKER_APP = { subpath: './hono', exports: ['session'] }

const { values: args } = parseArgs({
  options: {
    root: { type: 'string', default: resolve(import.meta.dirname, '..') },
    check: { type: 'boolean', default: false },
    budget: { type: 'string' },
  },
})
const root = resolve(args.root)
const budgets = { ...BUDGETS }
if (args.budget !== undefined) {
  const n = Number(args.budget)
  if (!Number.isInteger(n) || n < 0)
    fail(`--budget wants a whole number of bytes, got ${args.budget}`)
  budgets[WORKER_APP.subpath] = n
}

function fail(message) {
  console.error(`footprint: ${message}`)
  process.exit(1)
}

/** Public subpaths from package.json "exports", each mapped from its dist file back to src. */
function subpaths() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const out = []
  for (const [key, target] of Object.entries(pkg.exports ?? {})) {
    // './package.json', and patterns excluded with null (`./stores/_*`), are not code to ship.
    if (key === './package.json' || target === null) continue
    const dist = typeof target === 'string' ? target : (target.import ?? target.default)
    const src = dist.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts')
    const label = `${pkg.name}${key.slice(1)}`
    const star = src.indexOf('*')
    if (star === -1) {
      out.push({ key, label, file: src })
      continue
    }
    // `./stores/*` is every stores file a user can name; `_`-files are shared internals.
    const [prefix, suffix] = [src.slice(0, star), src.slice(star + 1)]
    const names = readdirSync(join(root, prefix))
      .filter((f) => f.endsWith(suffix) && !f.startsWith('_') && !f.endsWith('.d.ts'))
      .map((f) => f.slice(0, -suffix.length))
      .sort()
    for (const name of names) {
      out.push({
        key: key.replace('*', name),
        label: label.replace('*', name),
        file: prefix + name + suffix,
      })
    }
  }
  return out
}

// node_modules is a symlink in worktrees: show `node_modules/zod/...`, not `../../main/...`.
const shortPath = (path) => {
  const at = path.lastIndexOf('node_modules/')
  return at === -1 ? path : path.slice(at)
}

/** The package an input belongs to (`zod`, `@scope/name`), or `src` for our own files. */
const packageOf = (path) => {
  const parts = path.split('/')
  if (parts[0] !== 'node_modules') return 'src'
  return parts[1].startsWith('@') ? `${parts[1]}/${parts[2]}` : parts[1]
}

async function bundle(entry) {
  const result = await build({
    ...entry.input,
    absWorkingDir: root,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    external: EXTERNAL,
    write: false,
    metafile: true,
    logLevel: 'silent',
  })
  const code = result.outputFiles[0].contents
  const inputs = Object.entries(Object.values(result.metafile.outputs)[0].inputs)
    .map(([path, { bytesInOutput }]) => ({ path: shortPath(path), bytes: bytesInOutput }))
    .filter((i) => i.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes)
  return { ...entry, min: code.length, gzip: gzipSync(code, { level: 9 }).length, inputs }
}

const started = performance.now()
const entries = []
for (const sub of subpaths()) {
  if (sub.key === WORKER_APP.subpath) {
    const names = WORKER_APP.exports.join(', ')
    entries.push({
      ...sub,
      label: `${sub.label} { ${names} }`,
      budget: budgets[sub.key],
      input: {
        stdin: {
          contents: `export { ${names} } from './${sub.file}'`,
          resolveDir: root,
          sourcefile: 'worker-app.js',
        },
      },
    })
    entries.push({
      ...sub,
      label: `${sub.label} (whole module)`,
      input: { entryPoints: [sub.file] },
    })
  } else {
    entries.push({ ...sub, budget: budgets[sub.key], input: { entryPoints: [sub.file] } })
  }
}
for (const key of Object.keys(budgets)) {
  if (!entries.some((e) => e.key === key))
    fail(`a budget names ${key}, which package.json does not export`)
}

let results
try {
  results = await Promise.all(entries.map(bundle))
} catch (err) {
  const detail = err.errors?.map((e) => `${e.location?.file ?? ''}: ${e.text}`).join('\n') ?? err
  fail(`esbuild failed:\n${detail}`)
}
const ms = Math.round(performance.now() - started)

const over = results.filter((r) => r.budget !== undefined && r.gzip > r.budget)
console.log(
  `## Bundle footprint\n\nesbuild ${version}, minified ESM, platform neutral, from src/; gzip = zlib level 9.` +
    `\nExternal: ${EXTERNAL.join(', ')}.\n`,
)
console.log('| subpath | minified bytes | gzip bytes | gzip budget |')
console.log('|---|---:|---:|---:|')
for (const r of results) {
  const budget = r.budget === undefined ? '' : `${r.budget} (${r.gzip > r.budget ? 'over' : 'ok'})`
  console.log(`| \`${r.label}\` | ${r.min} | ${r.gzip} | ${budget} |`)
}
const app = results.find((r) => r.key === WORKER_APP.subpath && r.input.stdin)
if (app) {
  console.log(`\nTop 5 inputs of \`${app.label}\` by minified bytes:\n`)
  const share = (bytes) => `${((100 * bytes) / app.min).toFixed(1)} %`
  console.log('| input | minified bytes | share |')
  console.log('|---|---:|---:|')
  for (const i of app.inputs.slice(0, 5)) {
    console.log(`| \`${i.path}\` | ${i.bytes} | ${share(i.bytes)} |`)
  }
  const byPackage = new Map()
  for (const i of app.inputs) {
    const name = packageOf(i.path)
    byPackage.set(name, (byPackage.get(name) ?? 0) + i.bytes)
  }
  console.log(`\nThe same by package:\n`)
  console.log('| package | minified bytes | share |')
  console.log('|---|---:|---:|')
  for (const [name, bytes] of [...byPackage].sort((a, b) => b[1] - a[1])) {
    console.log(`| \`${name}\` | ${bytes} | ${share(bytes)} |`)
  }
}
console.log(`\n${results.length} bundles in ${ms} ms.`)

if (args.check) {
  for (const r of over) {
    console.error(
      `check:size: ${r.label} is ${r.gzip} B gzip, over its budget of ${r.budget} B by ${r.gzip - r.budget} B`,
    )
  }
  if (over.length > 0) process.exit(1)
  console.log('check:size: every budgeted subpath is within its budget')
}
