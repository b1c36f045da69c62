// Runs the adversarial test files with ATTACK_REPORT set and prints one markdown table of the
// attack classes they tried: cases run, cases rejected, cases accepted legitimately.
//   node scripts/attack-report.mjs            # the files below
//   node scripts/attack-report.mjs test/x.ts  # other files (they must use test/attack-report.ts)
// Exits with vitest's status, after printing whatever was counted.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

const FILES = [
  'test/property.test.ts',
  'test/fixation.test.ts',
  'test/expiry-edges.test.ts',
  'test/bad-headers.test.ts',
  'test/revocation-lifetime.test.ts',
  'test/revocation-growth.test.ts',
  'test/cookie-tossing.test.ts',
]
const files = process.argv.length > 2 ? process.argv.slice(2) : FILES
const out = resolve('.tmp/attacks.jsonl')

mkdirSync(dirname(out), { recursive: true })
rmSync(out, { force: true })
const run = spawnSync('npx', ['vitest', 'run', ...files], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, ATTACK_REPORT: out },
})
if (run.error) throw run.error

let lines = []
try {
  lines = readFileSync(out, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
} catch (err) {
  if (err.code !== 'ENOENT') throw err
}

// One row per class; a class counted by several tests (or files) is summed.
const classes = new Map()
for (const l of lines) {
  const c = classes.get(l.class) ?? { run: 0, rejected: 0, accepted: 0, notes: new Set() }
  c.run += l.run
  c.rejected += l.rejected
  c.accepted += l.accepted_legitimately
  if (l.note) c.notes.add(l.note)
  classes.set(l.class, c)
}

const cell = (s) => String(s).replaceAll('|', '\\|')
const rows = [...classes].map(([name, c]) => [
  name,
  c.run,
  c.rejected,
  c.accepted,
  c.run - c.rejected - c.accepted,
  [...c.notes].join(' / '),
])
const total = rows.reduce(
  (t, r) => [t[0] + r[1], t[1] + r[2], t[2] + r[3], t[3] + r[4]],
  [0, 0, 0, 0],
)

console.log()
console.log(`Attack classes (${files.join(', ')})`)
console.log()
console.log('| attack class | run | rejected | accepted legitimately | other | note |')
console.log('| --- | --: | --: | --: | --: | --- |')
for (const r of rows) console.log(`| ${r.map(cell).join(' | ')} |`)
console.log(`| **total** | ${total.join(' | ')} | |`)
console.log()
console.log(
  '"other": cases neither refused nor accepted (no session cookie reached the parser, a mutation that gave back an issued cookie); the note breaks them down.',
)
process.exitCode = run.status ?? 1
