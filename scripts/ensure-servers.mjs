// Before `npm test`: the store tests start their own redis-server and PostgreSQL; with
// `--browser` (before `npm run test:browser`): the browser tests drive the system's Chromium.
// When a binary is missing and this is a Debian machine where we are root, install it once;
// otherwise leave it to the tests, which fail with the command that installs it.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0
const hasPostgres = () =>
  has('initdb') ||
  (existsSync('/usr/lib/postgresql') &&
    readdirSync('/usr/lib/postgresql').some((v) =>
      existsSync(`/usr/lib/postgresql/${v}/bin/initdb`),
    ))

// The paths test/browser/browser.ts tries, unless CHROMIUM_PATH names one.
const hasChromium = () =>
  Boolean(process.env.CHROMIUM_PATH) ||
  ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].some((p) =>
    existsSync(p),
  )

const browser = process.argv.includes('--browser')
const missing = []
if (browser) {
  if (!hasChromium()) missing.push('chromium')
} else {
  if (!has('redis-server')) missing.push('redis-server')
  if (!hasPostgres()) missing.push('postgresql')
}
const what = browser ? 'browser' : 'store'
if (missing.length > 0) {
  if (process.getuid?.() === 0 && has('apt-get')) {
    console.log(`[pretest] installing ${missing.join(' ')} for the ${what} tests (apt-get)`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
    execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env })
  } else {
    console.warn(
      `[pretest] ${missing.join(' and ')} not found: the ${what} tests will fail until you run: apt-get install -y ${missing.join(' ')}`,
    )
  }
}
