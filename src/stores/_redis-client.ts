/**
 * The Redis clients the store drives (ioredis incl. Cluster, node-redis v5 incl. cluster, Bun's
 * RedisClient) behind one function: commands in, replies out, scripts loaded on demand.
 */
import { type Script, scripts, shaOf } from './_redis-lua.ts'

/**
 * A Redis client `redisStore()` can drive, recognised by shape: ioredis (`Redis` or
 * `Redis.Cluster`), node-redis v5 (`createClient()` or `createCluster()`), or Bun's `RedisClient`.
 */
export type RedisClientLike =
  | { call(command: string, ...args: any[]): unknown; pipeline(): unknown }
  | { sendCommand(...args: any[]): unknown }
  | { send(command: string, args: string[]): unknown }

/** Sends commands in one batch; replies in command order, a failed command's slot holds its Error. */
export type RedisRun = (commands: string[][]) => Promise<unknown[]>

const settle = (p: unknown): Promise<unknown> =>
  Promise.resolve(p).then(
    (v) => v,
    (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
  )

/** The key a command touches: after `numkeys` for scripts, else the first argument. */
function keyOf(command: string[]): string | undefined {
  const name = command[0]!.toUpperCase()
  return name === 'EVALSHA' || name === 'EVAL' ? command[3] : command[1]
}

/**
 * One sender per client kind, or undefined for what is not a Redis client. Every command names
 * one key, so Cluster routes each on its own; batches go out in one round trip (an ioredis
 * pipeline, or same-tick commands that node-redis and Bun write together).
 */
function sender(client: any): RedisRun | undefined {
  if (typeof client?.call === 'function' && typeof client.pipeline === 'function') {
    // ioredis Cluster refuses a pipeline whose keys live in different slots: send in parallel.
    if (client.isCluster === true) {
      return (commands) =>
        Promise.all(commands.map(([cmd, ...args]) => settle(client.call(cmd!, ...args))))
    }
    return async (commands) => {
      if (commands.length === 1) {
        const [cmd, ...args] = commands[0]!
        return [await settle(client.call(cmd!, ...args))]
      }
      const pipeline = client.pipeline()
      for (const [cmd, ...args] of commands) pipeline.call(cmd, ...args)
      const results: [Error | null, unknown][] | null = await pipeline.exec()
      if (!results) throw new Error('Redis pipeline returned no replies')
      return results.map(([err, value]) => err ?? value)
    }
  }
  if (typeof client?.sendCommand === 'function') {
    // node-redis cluster: sendCommand(firstKey, isReadonly, args).
    if (typeof client.nodeClient === 'function' || Array.isArray(client.masters)) {
      return (commands) =>
        Promise.all(commands.map((c) => settle(client.sendCommand(keyOf(c), false, c))))
    }
    return (commands) => Promise.all(commands.map((c) => settle(client.sendCommand(c))))
  }
  if (typeof client?.send === 'function') {
    return (commands) =>
      Promise.all(commands.map(([cmd, ...args]) => settle(client.send(cmd!, args))))
  }
  return undefined
}

/** True for a Cluster client (ioredis or node-redis): keys of one batch may live on different nodes. */
export function isCluster(client: any): boolean {
  return (
    client?.isCluster === true ||
    (typeof client?.sendCommand === 'function' &&
      (typeof client.nodeClient === 'function' || Array.isArray(client.masters)))
  )
}

/** Sends one command to one node and answers its reply (SCAN walks each master itself). */
export type NodeCommand = (command: string[]) => Promise<unknown>

/**
 * One sender per master for commands that name no key (SCAN): the client itself, or each master
 * of a Cluster.
 *
 * @example
 * for (const send of await masters(client, run)) await send(['SCAN', '0'])
 */
export async function masters(client: any, run: RedisRun): Promise<NodeCommand[]> {
  if (client?.isCluster === true && typeof client.nodes === 'function') {
    return client.nodes('master').map(
      (node: any) =>
        ([cmd, ...args]: string[]) =>
          node.call(cmd, ...args),
    )
  }
  if (isCluster(client)) {
    const nodes: unknown[] = client.masters ?? client.getMasters()
    const clients = await Promise.all(nodes.map((node) => client.nodeClient(node)))
    return clients.map((c: any) => (command: string[]) => c.sendCommand(command))
  }
  return [async (command) => (await run([command]))[0]]
}

const isNoScript = (v: unknown) => v instanceof Error && v.message.includes('NOSCRIPT')

/**
 * A runner over `client` that throws the first failed reply and retries EVALSHA the server does
 * not know yet (after a restart or SCRIPT FLUSH) once as EVAL; undefined when `client` is not a
 * Redis client.
 *
 * @example
 * const [value] = await run([['GET', key]])
 */
export function redisRunner(client: unknown): RedisRun | undefined {
  const send = sender(client)
  if (!send) return undefined
  return async (commands) => {
    const replies = await send(commands)
    const retry = replies.flatMap((r, i) => (isNoScript(r) ? [i] : []))
    if (retry.length > 0) {
      const bodies = new Map<string, string>()
      for (const s of Object.values(scripts)) bodies.set(await shaOf(s), s.body)
      const again = await send(
        retry.map((i) => {
          const [, sha, ...rest] = commands[i]!
          return ['EVAL', bodies.get(sha!)!, ...rest]
        }),
      )
      retry.forEach((i, n) => {
        replies[i] = again[n]
      })
    }
    for (const r of replies) if (r instanceof Error) throw r
    return replies
  }
}

/**
 * The EVALSHA command running `script` on one `key`.
 *
 * @example
 * await run([await evalsha(scripts.patch, key, args)])
 */
export async function evalsha(script: Script, key: string, args: string[]): Promise<string[]> {
  return ['EVALSHA', await shaOf(script), '1', key, ...args]
}

/**
 * A reply that is a list of field/value pairs (RESP2 array, RESP3 map or object) as entries.
 *
 * @example
 * pairs(await run([['HGETALL', key]]).then(([r]) => r))
 */
export function pairs(reply: unknown): [string, string][] {
  if (Array.isArray(reply)) {
    const out: [string, string][] = []
    for (let i = 0; i + 1 < reply.length; i += 2) out.push([String(reply[i]), String(reply[i + 1])])
    return out
  }
  if (reply instanceof Map) return [...reply].map(([k, v]) => [String(k), String(v)])
  if (typeof reply === 'object' && reply !== null) {
    return Object.entries(reply).map(([k, v]) => [k, String(v)])
  }
  return []
}
