// App server processes for the stress tests: test/stress/server.ts in its own Node process, on
// a free loopback port, with every wait bounded. Processes still running when the test process
// exits are killed, so a failed test leaves none behind.
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { killOnExit } from '../servers/local.ts'
import { SECRET } from '../support.ts'

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** A JSON line the server printed. */
export interface ServerEvent {
  event: string
  [key: string]: unknown
}

/** One running app server process. */
export interface AppServer {
  /** Same across restarts. */
  port: number
  /** `http://127.0.0.1:<port>` */
  base: string
  /** Process id of the current process. */
  pid(): number
  alive(): boolean
  /** Waits for a stdout event of this process matching `match`, at most `timeoutMs`. */
  waitFor(match: (e: ServerEvent) => boolean, timeoutMs?: number): Promise<ServerEvent>
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>
  /** Starts a new process on the same port (after `kill()`). */
  restart(): Promise<void>
  /** Stops the process for good (SIGTERM, then SIGKILL after 2 s). */
  stop(): Promise<void>
  /** What the processes wrote to stderr (startup failures, crashes). */
  stderr(): string
}

export interface AppServerOptions {
  /** The one Redis the server uses; or `cluster`. */
  redisPort?: number
  /** A Redis Cluster instead: seed ports, client library, options merged into the client's. */
  cluster?: { ports: number[]; client?: 'ioredis' | 'node-redis'; options?: object }
  mode?: 'store' | 'sealed'
  /** Milliseconds to wait for `listening`. */
  startTimeoutMs?: number
}

const gone = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null

function exited(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (gone(child)) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`process ${child.pid} did not exit in ${timeoutMs} ms`)),
      timeoutMs,
    )
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

interface Running {
  child: ChildProcess
  events: ServerEvent[]
  waiters: Set<() => void>
}

function spawnServer(options: AppServerOptions, port: number, stderr: { text: string }): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...(options.cluster
        ? {
            REDIS_CLUSTER: options.cluster.ports.join(','),
            REDIS_CLIENT: options.cluster.client ?? 'ioredis',
            REDIS_CLUSTER_OPTIONS: JSON.stringify(options.cluster.options ?? {}),
          }
        : { REDIS_PORT: String(options.redisPort) }),
      SESSION_SECRET: SECRET,
      PORT: String(port),
      MODE: options.mode ?? 'store',
      NODE_ENV: 'production',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  killOnExit(child)
  const running: Running = { child, events: [], waiters: new Set() }
  let buffer = ''
  child.stdout!.setEncoding('utf8')
  child.stdout!.on('data', (chunk: string) => {
    buffer += chunk
    for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl)
      buffer = buffer.slice(nl + 1)
      try {
        running.events.push(JSON.parse(line))
      } catch {
        stderr.text += `[stdout] ${line}\n`
      }
    }
    for (const w of running.waiters) w()
  })
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (chunk: string) => {
    stderr.text += chunk
  })
  child.on('error', (err) => {
    stderr.text += `${String(err)}\n`
  })
  child.once('exit', () => {
    for (const w of running.waiters) w()
  })
  return running
}

function waitEvent(
  running: Running,
  match: (e: ServerEvent) => boolean,
  timeoutMs: number,
  stderr: { text: string },
): Promise<ServerEvent> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = running.events.find(match)
      if (found) return finish(undefined, found)
      if (gone(running.child)) {
        finish(
          new Error(
            `server process exited (${running.child.signalCode ?? running.child.exitCode}):\n${stderr.text}`,
          ),
        )
      }
    }
    const timer = setTimeout(
      () => finish(new Error(`no matching server event in ${timeoutMs} ms:\n${stderr.text}`)),
      timeoutMs,
    )
    const finish = (err: Error | undefined, event?: ServerEvent) => {
      clearTimeout(timer)
      running.waiters.delete(check)
      if (err) reject(err)
      else resolve(event!)
    }
    running.waiters.add(check)
    check()
  })
}

/**
 * Starts test/stress/server.ts on a free loopback port and resolves once it listens.
 *
 * @example
 * const app = await startAppServer({ redisPort: redis.port })
 * await fetch(`${app.base}/health`)
 */
export async function startAppServer(options: AppServerOptions): Promise<AppServer> {
  const startTimeoutMs = options.startTimeoutMs ?? 30_000
  const stderr = { text: '' }
  let current = spawnServer(options, 0, stderr)
  const listening = await waitEvent(current, (e) => e.event === 'listening', startTimeoutMs, stderr)
  const port = Number(listening.port)

  return {
    port,
    base: `http://127.0.0.1:${port}`,
    pid: () => current.child.pid!,
    alive: () => !gone(current.child),
    waitFor: (match, timeoutMs = 10_000) => waitEvent(current, match, timeoutMs, stderr),
    async kill() {
      current.child.kill('SIGKILL')
      await exited(current.child, 5000)
    },
    async restart() {
      if (!gone(current.child)) throw new Error('restart() while the server still runs')
      current = spawnServer(options, port, stderr)
      await waitEvent(current, (e) => e.event === 'listening', startTimeoutMs, stderr)
    },
    async stop() {
      if (gone(current.child)) return
      current.child.kill('SIGTERM')
      try {
        await exited(current.child, 2000)
      } catch {
        current.child.kill('SIGKILL')
        await exited(current.child, 5000)
      }
    },
    stderr: () => stderr.text,
  }
}

/** Starts `count` servers in parallel; if one fails, the others are stopped. */
export async function startAppServers(
  count: number,
  options: AppServerOptions,
): Promise<AppServer[]> {
  const started = await Promise.allSettled(
    Array.from({ length: count }, () => startAppServer(options)),
  )
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  const failed = started.find((s) => s.status === 'rejected')
  if (failed) {
    await Promise.all(servers.map((s) => s.stop()))
    throw (failed as PromiseRejectedResult).reason
  }
  return servers
}
