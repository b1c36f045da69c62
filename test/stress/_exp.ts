import { Cluster } from 'ioredis'
import { redisCommand } from '../servers/redis.ts'
import { infoField, servingNode, startFailoverCluster } from '../servers/redis-cluster.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const c = await startFailoverCluster()
try {
  const timeout = Number(process.env.CT ?? 1000)
  const client = new Cluster(c.nodes, {
    enableOfflineQueue: false,
    redisOptions: { maxRetriesPerRequest: 0, ...(timeout ? { commandTimeout: timeout } : {}) },
  })
  client.on('error', () => {})
  await new Promise((r) => client.once('ready', r))
  const topo = await c.topology()
  const masters = topo.filter((n) => n.role === 'master')
  const victim = masters[0]!
  // keys on a healthy master
  const keys: string[] = []
  for (let i = 0; keys.length < 5; i++) {
    const k = `k${i}`
    if (servingNode(topo, await c.slotOf(k))!.id !== victim.id) keys.push(k)
  }
  await c.kill(victim.port)
  const t0 = Date.now()
  // wait until a survivor says cluster_state:fail
  for (;;) {
    const info = await redisCommand(masters[1]!.port, ['CLUSTER', 'INFO'])
    if (infoField(info, 'cluster_state') === 'fail') break
    await sleep(10)
  }
  console.log('state fail at', Date.now() - t0)
  const results = await Promise.all(
    keys.map(async (k) => {
      const s = Date.now()
      try {
        await client.set(k, 'stale')
        return `${k}: ok after ${Date.now() - s} ms`
      } catch (e) {
        return `${k}: ${String(e)} after ${Date.now() - s} ms`
      }
    }),
  )
  console.log(results)
  // after the promotion: what do the keys hold?
  await sleep(5000)
  for (const k of keys) {
    const node = servingNode(await c.topology(masters[1]!.port), await c.slotOf(k))!
    console.log(k, await redisCommand(node.port, ['GET', k]))
  }
  client.disconnect()
} finally {
  await c.stop()
}
