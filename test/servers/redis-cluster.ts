// A Redis Cluster with replicas, for failover tests: masters with one replica each on loopback
// ports, a short `cluster-node-timeout` so a dead master is replaced in seconds, SIGKILL per
// node, and the views of the topology a test needs (who serves a slot, who replicates whom,
// whether a replica has caught up). Temp dir and processes are removed on stop.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  exited,
  freeClusterPort,
  redisCommand,
  requireBinary,
  type Spawned,
  serverArgs,
  spawnServer,
  waitReady,
} from './redis.ts'

const HOST = '127.0.0.1'

/** One node as `CLUSTER NODES` describes it. */
export interface ClusterNodeInfo {
  id: string
  port: number
  role: 'master' | 'replica'
  /** The master's node id, for a replica. */
  masterOf?: string
  /** Flagged `fail` (agreed dead) or `fail?` (suspected) by the node asked. */
  failed: boolean
  /** Slot ranges it serves, inclusive. */
  slots: [number, number][]
}

/** A running Redis Cluster with replicas. */
export interface FailoverCluster {
  /** Every node, masters and replicas (seed list for a client). */
  nodes: { host: string; port: number }[]
  /** The topology as the node on `port` sees it (default: the first live node). */
  topology(port?: number): Promise<ClusterNodeInfo[]>
  /** The hash slot of `key` (`CLUSTER KEYSLOT`). */
  slotOf(key: string): Promise<number>
  /** Crashes one node (SIGKILL): what it held and had not replicated is gone. */
  kill(port: number): Promise<void>
  /**
   * Starts a killed node again on its port with its cluster config: it rejoins, and if its
   * replica took over meanwhile, as that one's replica.
   */
  restart(port: number): Promise<void>
  alive(port: number): boolean
  /** Resolves once every live replica has applied everything its master had written when called. */
  waitReplicated(timeoutMs?: number): Promise<void>
  /** Stops every node and removes the temp dir. */
  stop(): Promise<void>
}

export interface FailoverClusterOptions {
  /** @default 3 */
  masters?: number
  /** @default 1 */
  replicasPerMaster?: number
  /**
   * `cluster-node-timeout` in ms: how long a master may be unreachable before the others agree
   * it failed and its replica takes over (Redis' default is 15000).
   * @default 1000
   */
  nodeTimeoutMs?: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Parses `CLUSTER NODES`. */
export function parseClusterNodes(text: string): ClusterNodeInfo[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id, address, flags, master, , , , , ...slotFields] = line.trim().split(' ')
      const port = Number(/:(\d+)@/.exec(address!)?.[1])
      const flagList = flags!.split(',')
      const slots: [number, number][] = []
      for (const field of slotFields) {
        if (field.startsWith('[')) continue // a slot being migrated or imported
        const [from, to = from] = field.split('-')
        slots.push([Number(from), Number(to)])
      }
      const role = flagList.includes('master') ? 'master' : 'replica'
      return {
        id: id!,
        port,
        role,
        ...(role === 'replica' && master !== '-' ? { masterOf: master! } : {}),
        failed: flagList.includes('fail') || flagList.includes('fail?'),
        slots,
      } satisfies ClusterNodeInfo
    })
}

/** The node serving `slot` in `topology`, or undefined when no node claims it. */
export function servingNode(
  topology: readonly ClusterNodeInfo[],
  slot: number,
): ClusterNodeInfo | undefined {
  return topology.find(
    (n) => n.role === 'master' && n.slots.some(([from, to]) => slot >= from && slot <= to),
  )
}

/** A field of `INFO` output, e.g. `infoField(text, 'role')`. */
export function infoField(info: unknown, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(String(info))?.[1]?.trim()
}

/**
 * Starts `masters` masters with `replicasPerMaster` replicas each (`redis-cli --cluster create
 * … --cluster-replicas n`) and resolves once every node reports `cluster_state:ok` and every
 * replica is linked to its master.
 *
 * @example
 * const cluster = await startFailoverCluster({ nodeTimeoutMs: 1000 })
 * const client = new Cluster(cluster.nodes)
 */
export async function startFailoverCluster(
  options: FailoverClusterOptions = {},
): Promise<FailoverCluster> {
  const { masters = 3, replicasPerMaster = 1, nodeTimeoutMs = 1000 } = options
  requireBinary('redis-server')
  requireBinary('redis-cli')
  const dir = mkdtempSync(join(tmpdir(), 'sealed-redis-failover-'))
  const byPort = new Map<number, Spawned>()
  const ports: number[] = []
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    for (const s of byPort.values()) s.child.kill('SIGKILL')
    await Promise.all([...byPort.values()].map((s) => exited(s.child)))
    rmSync(dir, { recursive: true, force: true })
  }
  const nodeArgs = (port: number) => [
    ...serverArgs(port, dir),
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    join(dir, `nodes-${port}.conf`),
    '--cluster-node-timeout',
    String(nodeTimeoutMs),
    // A replica's first sync starts at once, not after the default 5 s wait for more replicas.
    '--repl-diskless-sync-delay',
    '0',
  ]
  const alive = (port: number) => {
    const child = byPort.get(port)?.child
    return child !== undefined && child.exitCode === null && child.signalCode === null
  }
  const firstLive = () => {
    const port = ports.find(alive)
    if (port === undefined) throw new Error('no live cluster node')
    return port
  }
  const topology = async (port = firstLive()) => {
    const reply = await redisCommand(port, ['CLUSTER', 'NODES'])
    if (typeof reply !== 'string') throw new Error(`CLUSTER NODES on ${port}: ${String(reply)}`)
    return parseClusterNodes(reply)
  }

  const waitReplicated = async (timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs
    const nodes = await topology()
    const ids = new Map(nodes.map((n) => [n.id, n]))
    for (const replica of nodes) {
      if (replica.role !== 'replica' || !alive(replica.port)) continue
      const master = ids.get(replica.masterOf ?? '')
      if (!master || !alive(master.port)) continue
      const target = Number(
        infoField(await redisCommand(master.port, ['INFO', 'replication']), 'master_repl_offset'),
      )
      for (;;) {
        const info = await redisCommand(replica.port, ['INFO', 'replication'])
        const applied = Number(infoField(info, 'slave_repl_offset'))
        if (infoField(info, 'master_link_status') === 'up' && applied >= target) break
        if (Date.now() > deadline) {
          throw new Error(
            `replica ${replica.port} behind master ${master.port}: ${applied} < ${target}`,
          )
        }
        await sleep(20)
      }
    }
  }

  try {
    const taken = new Set<number>()
    const count = masters * (1 + replicasPerMaster)
    for (let i = 0; i < count; i++) {
      const port = await freeClusterPort(taken)
      taken.add(port)
      taken.add(port + 10000)
      ports.push(port)
      byPort.set(port, spawnServer(nodeArgs(port)))
    }
    await Promise.all(ports.map((port) => waitReady(port, byPort.get(port)!)))
    const create = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `${HOST}:${p}`),
        '--cluster-replicas',
        String(replicasPerMaster),
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    )
    if (create.status !== 0) {
      throw new Error(`redis-cli --cluster create failed:\n${create.stdout}\n${create.stderr}`)
    }
    const deadline = Date.now() + 20_000
    const ready = async () => {
      for (const port of ports) {
        const info = await redisCommand(port, ['CLUSTER', 'INFO'])
        if (infoField(info, 'cluster_state') !== 'ok') return false
      }
      const nodes = await topology()
      const linked = nodes.filter((n) => n.role === 'replica' && n.masterOf !== undefined)
      if (nodes.filter((n) => n.role === 'master').length !== masters) return false
      if (linked.length !== masters * replicasPerMaster) return false
      for (const r of linked) {
        const info = await redisCommand(r.port, ['INFO', 'replication'])
        if (infoField(info, 'master_link_status') !== 'up') return false
      }
      return true
    }
    while (!(await ready())) {
      if (Date.now() > deadline) throw new Error('the cluster never reached state ok with replicas')
      await sleep(50)
    }
  } catch (err) {
    await stop()
    throw err
  }

  return {
    nodes: ports.map((port) => ({ host: HOST, port })),
    topology,
    async slotOf(key) {
      const reply = await redisCommand(firstLive(), ['CLUSTER', 'KEYSLOT', key])
      if (typeof reply !== 'number') throw new Error(`CLUSTER KEYSLOT: ${String(reply)}`)
      return reply
    },
    async kill(port) {
      const s = byPort.get(port)
      if (!s) throw new Error(`no cluster node on port ${port}`)
      s.child.kill('SIGKILL')
      await exited(s.child)
    },
    async restart(port) {
      if (stopped) throw new Error('restart() after stop()')
      if (alive(port)) throw new Error(`cluster node ${port} still runs`)
      const s = spawnServer(nodeArgs(port))
      byPort.set(port, s)
      await waitReady(port, s)
    },
    alive,
    waitReplicated,
    stop,
  }
}
