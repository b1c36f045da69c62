// Real Redis servers for tests: one `redis-server` (or a 3-node Cluster) per call, on loopback
// ports, data in a temp dir that is removed on stop. A missing binary is an error that names the
// install command, never a skip.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, killOnExit } from './local.ts'

const HOST = '127.0.0.1'
const INSTALL = 'apt-get install -y redis-server'

/** A reply as the RESP2 protocol carries it. */
export type RespReply = string | number | null | Error | RespReply[]

/** One running `redis-server`. */
export interface RedisServer {
  port: number
  /** `redis://127.0.0.1:<port>` */
  url: string
  /** Stops the server for good and removes its temp dir. */
  stop(): Promise<void>
  /** Crashes the server (SIGKILL): what it held in memory is lost. `restart()` brings it back. */
  kill(): Promise<void>
  /**
   * Shuts the server down cleanly, saving its data to the temp dir first (like a service
   * restart of a persistent Redis), so `restart()` comes back with the same keys.
   */
  shutdown(): Promise<void>
  /** Starts the server again on the same port (after `kill()` or `shutdown()`). */
  restart(): Promise<void>
}

/** A running 3-master Redis Cluster. */
export interface RedisCluster {
  nodes: { host: string; port: number }[]
  /** Stops every node and removes the temp dir. */
  stop(): Promise<void>
}

export function requireBinary(name: string): void {
  const probe = spawnSync(name, ['--version'], { stdio: 'ignore' })
  if (probe.error) {
    throw new Error(
      `${name} is not installed; these tests run a real Redis. Install it with: ${INSTALL}` +
        ` (Debian/Ubuntu; on macOS: brew install redis)`,
    )
  }
}

/** Sends one command on a fresh connection and resolves to its reply (a Redis error as `Error`). */
export function redisCommand(port: number, args: string[], timeoutMs = 2000): Promise<RespReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port })
    let buffer = Buffer.alloc(0)
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`redis ${args[0]} on port ${port} timed out`))
    }, timeoutMs)
    let settled = false
    const done = (err: Error | undefined, value?: RespReply) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      if (err) reject(err)
      else resolve(value ?? null)
    }
    socket.on('error', (err) => done(err))
    // SHUTDOWN (and a server that dies) closes without a reply: say so at once, not at the timeout.
    socket.on('close', () =>
      done(new Error(`redis ${args[0]} on port ${port}: connection closed without a reply`)),
    )
    socket.on('connect', () => {
      let out = `*${args.length}\r\n`
      for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`
      socket.write(out)
    })
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk])
      const parsed = parseResp(buffer, 0)
      if (parsed) done(undefined, parsed.value)
    })
  })
}

/** Parses one RESP2 reply at `at`; undefined while the buffer is still incomplete. */
function parseResp(buf: Buffer, at: number): { value: RespReply; end: number } | undefined {
  const eol = buf.indexOf('\r\n', at)
  if (eol === -1) return undefined
  const type = String.fromCharCode(buf[at]!)
  const line = buf.toString('utf8', at + 1, eol)
  switch (type) {
    case '+':
      return { value: line, end: eol + 2 }
    case '-':
      return { value: new Error(line), end: eol + 2 }
    case ':':
      return { value: Number(line), end: eol + 2 }
    case '$': {
      const len = Number(line)
      if (len < 0) return { value: null, end: eol + 2 }
      if (buf.length < eol + 2 + len + 2) return undefined
      return { value: buf.toString('utf8', eol + 2, eol + 2 + len), end: eol + 2 + len + 2 }
    }
    case '*': {
      const count = Number(line)
      if (count < 0) return { value: null, end: eol + 2 }
      const items: RespReply[] = []
      let end = eol + 2
      for (let i = 0; i < count; i++) {
        const item = parseResp(buf, end)
        if (!item) return undefined
        items.push(item.value)
        end = item.end
      }
      return { value: items, end }
    }
    default:
      throw new Error(`unexpected RESP type ${JSON.stringify(type)}`)
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** True when nothing listens on `port` of the loopback interface. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer()
    probe.once('error', () => resolve(false))
    probe.listen(port, HOST, () => probe.close(() => resolve(true)))
  })
}

// A cluster node also listens on port + 10000 (the cluster bus); both must be free. Drawn below
// the ephemeral range so the bus port exists and the OS is unlikely to hand it out meanwhile.
export async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000)
    if (taken.has(port) || taken.has(port + 10000)) continue
    if ((await portFree(port)) && (await portFree(port + 10000))) return port
  }
  throw new Error('no free loopback port pair for a Redis Cluster node')
}

export interface Spawned {
  child: ChildProcess
  output: () => string
}

export function spawnServer(args: string[]): Spawned {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  killOnExit(child)
  let output = ''
  child.stdout?.on('data', (d) => {
    output += d
  })
  child.stderr?.on('data', (d) => {
    output += d
  })
  // A spawn failure is reported by waitReady; an unhandled 'error' would crash the test process.
  child.on('error', (err) => {
    output += String(err)
  })
  return { child, output: () => output }
}

/** Waits until the server answers PING, failing fast (with its log) if it exits first. */
export async function waitReady(port: number, spawned: Spawned, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (spawned.child.exitCode !== null || spawned.child.signalCode !== null) {
      throw new Error(`redis-server on port ${port} exited early:\n${spawned.output()}`)
    }
    try {
      if ((await redisCommand(port, ['PING'], 500)) === 'PONG') return
    } catch {
      // Not listening yet.
    }
    await sleep(25)
  }
  spawned.child.kill('SIGKILL')
  throw new Error(`redis-server on port ${port} did not answer PING:\n${spawned.output()}`)
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

export function serverArgs(port: number, dir: string): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--dir',
    dir,
    '--logfile',
    '',
  ]
}

/**
 * Starts a `redis-server` on a free loopback port (no persistence) and resolves once it
 * answers PING.
 */
export async function startRedis(): Promise<RedisServer> {
  requireBinary('redis-server')
  const dir = mkdtempSync(join(tmpdir(), 'sealed-redis-'))
  let port = 0
  let spawned: Spawned | undefined
  // The free port may be taken between the probe and the bind: try a few.
  for (let attempt = 0; attempt < 5 && !spawned; attempt++) {
    port = await freePort()
    const s = spawnServer(serverArgs(port, dir))
    try {
      await waitReady(port, s)
      spawned = s
    } catch (err) {
      await exited(s.child)
      if (attempt === 4) {
        rmSync(dir, { recursive: true, force: true })
        throw err
      }
    }
  }
  let current = spawned!
  let stopped = false

  const down = async (signal: NodeJS.Signals) => {
    if (current.child.exitCode === null && current.child.signalCode === null) {
      current.child.kill(signal)
      await exited(current.child)
    }
  }

  return {
    port,
    url: `redis://${HOST}:${port}`,
    async stop() {
      if (stopped) return
      stopped = true
      await down('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    },
    kill: () => down('SIGKILL'),
    async shutdown() {
      if (current.child.exitCode !== null || current.child.signalCode !== null) return
      // SHUTDOWN SAVE writes dump.rdb even with `--save ''`; the connection closes without reply.
      await redisCommand(port, ['SHUTDOWN', 'SAVE']).catch(() => undefined)
      await exited(current.child)
    },
    async restart() {
      if (stopped) throw new Error('restart() after stop(): start a new server instead')
      await down('SIGKILL')
      const s = spawnServer(serverArgs(port, dir))
      await waitReady(port, s)
      current = s
    },
  }
}

/**
 * Starts a 3-master Redis Cluster on loopback ports (`redis-cli --cluster create`) and resolves
 * once every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  requireBinary('redis-server')
  requireBinary('redis-cli')
  const dir = mkdtempSync(join(tmpdir(), 'sealed-redis-cluster-'))
  const spawned: Spawned[] = []
  const ports: number[] = []
  const stop = async () => {
    for (const s of spawned) s.child.kill('SIGKILL')
    await Promise.all(spawned.map((s) => exited(s.child)))
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const taken = new Set<number>()
    for (let i = 0; i < 3; i++) {
      const port = await freeClusterPort(taken)
      taken.add(port)
      taken.add(port + 10000)
      ports.push(port)
      const s = spawnServer([
        ...serverArgs(port, dir),
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        '5000',
      ])
      spawned.push(s)
    }
    await Promise.all(ports.map((port, i) => waitReady(port, spawned[i]!)))
    const create = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `${HOST}:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    )
    if (create.status !== 0) {
      throw new Error(`redis-cli --cluster create failed:\n${create.stdout}\n${create.stderr}`)
    }
    const deadline = Date.now() + 20_000
    for (const port of ports) {
      for (;;) {
        const info = await redisCommand(port, ['CLUSTER', 'INFO'])
        if (typeof info === 'string' && info.includes('cluster_state:ok')) break
        if (Date.now() > deadline) throw new Error(`cluster node ${port} never reached state ok`)
        await sleep(50)
      }
    }
  } catch (err) {
    await stop()
    throw err
  }
  return { nodes: ports.map((port) => ({ host: HOST, port })), stop }
}

/** Per-command call counts from `INFO commandstats`, e.g. `{ get: 1, evalsha: 1 }`. */
export async function commandStats(port: number): Promise<Record<string, number>> {
  const info = await redisCommand(port, ['INFO', 'commandstats'])
  const stats: Record<string, number> = {}
  for (const line of String(info).split('\r\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line)
    if (m) stats[m[1]!] = Number(m[2])
  }
  return stats
}

/** A loopback TCP proxy in front of a Redis port that sees what clients send. */
export interface RedisProxy {
  port: number
  /**
   * Round trips since the last reset: how often a client started sending after the server had
   * answered (commands written before any reply arrives count as one, as a pipeline does).
   */
  roundTrips(): number
  /** Command names clients sent since the last reset, upper-cased, in order. */
  commands(): string[]
  reset(): void
  close(): Promise<void>
}

/** Starts a `RedisProxy` to `127.0.0.1:<target>`. */
export function startRedisProxy(target: number): Promise<RedisProxy> {
  let trips = 0
  let sent: string[] = []
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: HOST, port: target })
    sockets.add(client).add(upstream)
    let awaitingReply = false
    let pending = Buffer.alloc(0)
    client.on('data', (chunk) => {
      if (!awaitingReply) trips++
      awaitingReply = true
      pending = Buffer.concat([pending, chunk])
      for (;;) {
        const parsed = pending.length > 0 ? parseResp(pending, 0) : undefined
        if (!parsed) break
        const name = Array.isArray(parsed.value) ? parsed.value[0] : parsed.value
        sent.push(String(name).toUpperCase())
        pending = pending.subarray(parsed.end)
      }
      upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      awaitingReply = false
      client.write(chunk)
    })
    const end = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, HOST, () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        roundTrips: () => trips,
        commands: () => [...sent],
        reset() {
          trips = 0
          sent = []
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy()
            server.close(() => done())
          }),
      })
    })
  })
}
