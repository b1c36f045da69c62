// Before `npm test`: the store tests start their own redis-server and PostgreSQL. When a binary
// is missing and this is a Debian machine where we are root, install it once; otherwise leave
// it to the tests, which fail with the command that installs it.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0
const hasPostgres = () =>
  has('initdb') ||
  (existsSync('/usr/lib/postgresql') &&
    readdirSync('/usr/lib/postgresql').some((v) =>
      existsSync(`/usr/lib/postgresql/${v}/bin/initdb`),
    ))

const missing = []
if (!has('redis-server')) missing.push('redis-server')
if (!hasPostgres()) missing.push('postgresql')
if (missing.length > 0) {
  if (process.getuid?.() === 0 && has('apt-get')) {
    console.log(`[pretest] installing ${missing.join(' ')} for the store tests (apt-get)`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
    execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env })
  } else {
    console.warn(
      `[pretest] ${missing.join(' and ')} not found: the store tests will fail until you run: apt-get install -y ${missing.join(' ')}`,
    )
  }
}
