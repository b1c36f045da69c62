// examples/next for the browser test: `next build`, then `next start` on a free loopback port.
// NEXT_EXAMPLE_SKIP_BUILD=1 serves the last build instead (CI sets it: `npm test` has just
// built the example for examples/next/app.next.test.ts).
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { freePort } from '../servers/local.ts'

const dir = fileURLToPath(new URL('../../examples/next/', import.meta.url))
const nextBin = fileURLToPath(new URL('../../node_modules/next/dist/bin/next', import.meta.url))
const BUILD_TIMEOUT_MS = 300_000
const START_TIMEOUT_MS = 60_000

/** A running `next start` and how to stop it. */
export interface NextApp {
  /** Like `http://127.0.0.1:40123`. */
  base: string
  /** Seconds `next build` took; 0 when the last build was reused. */
  buildSeconds: number
  stop(): Promise<void>
}

// Process groups still running when the test process exits are killed with it.
const groups = new Set<number>()
process.once('exit', () => {
  for (const pid of groups) killGroup(pid, 'SIGKILL')
})

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // Already gone.
  }
}

/** Runs `next <args>` in its own process group, so stopping it stops whatever it forked too. */
function next(args: string[], env: NodeJS.ProcessEnv, log: { text: string }): ChildProcess {
  const child = spawn(process.execPath, [nextBin, ...args], { cwd: dir, env, detached: true })
  if (child.pid) groups.add(child.pid)
  child.once('exit', () => child.pid && groups.delete(child.pid))
  const append = (d: Buffer) => {
    log.text = (log.text + d).slice(-20_000)
  }
  child.stdout?.on('data', append)
  child.stderr?.on('data', append)
  child.on('error', (err) => append(Buffer.from(String(err))))
  return child
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

/** Builds (unless told to reuse the last build) and starts examples/next with `env` added. */
export async function startNextExample(env: Record<string, string>): Promise<NextApp> {
  const fullEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...env }
  const log = { text: '' }
  let buildSeconds = 0
  if (process.env.NEXT_EXAMPLE_SKIP_BUILD) {
    if (!existsSync(`${dir}.next/BUILD_ID`)) {
      throw new Error('NEXT_EXAMPLE_SKIP_BUILD is set but examples/next has no build to reuse')
    }
  } else {
    const started = Date.now()
    const build = next(['build'], fullEnv, log)
    const timer = setTimeout(() => build.pid && killGroup(build.pid, 'SIGKILL'), BUILD_TIMEOUT_MS)
    const code = await exited(build).finally(() => clearTimeout(timer))
    if (code !== 0) throw new Error(`next build failed (${code}):\n${log.text}`)
    buildSeconds = (Date.now() - started) / 1000
  }

  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const server = next(['start', '-p', String(port), '-H', '127.0.0.1'], fullEnv, log)
  const stop = async () => {
    if (!server.pid || server.exitCode !== null || server.signalCode !== null) return
    const done = exited(server)
    killGroup(server.pid, 'SIGTERM')
    const timer = setTimeout(() => server.pid && killGroup(server.pid, 'SIGKILL'), 5_000)
    await done.finally(() => clearTimeout(timer))
  }
  // Polls until the app answers (bounded), failing at once with its log if `next start` exits.
  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new Error(`next start exited:\n${log.text}`)
    }
    try {
      if ((await fetch(`${base}/api/me`, { signal: AbortSignal.timeout(5_000) })).status === 401) {
        return { base, buildSeconds, stop }
      }
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`next start did not answer within ${START_TIMEOUT_MS / 1000}s:\n${log.text}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
