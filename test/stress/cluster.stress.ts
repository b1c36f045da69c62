// Redis Cluster failover under load, on real processes: three masters with one replica each
// (`cluster-node-timeout` 1 s), one app server process whose store is the Cluster, and clients:
// logged-in fetch browsers incrementing a counter, fetch browsers logging in again and again,
// and (ioredis) autocannon connections incrementing anonymous counters. A master is SIGKILLed
// under load and its replica takes over. Asserted: sessions on its slots, written before the
// kill, are read after the promotion; while the slots have no master every answer is the app's
// 503 (no Set-Cookie), none slow, none hung, and no session is silently replaced by a fresh one;
// the same app process serves every session again. Measured: the window, and the acknowledged
// writes lost (replication is asynchronous: a write the old master acknowledged just before
// dying may never have reached the replica).
//
// ioredis follows the promotion by itself. node-redis v5 does not (redis/node-redis#2141): it
// keeps sending the dead master's slots to its address until that node is back (it rejoins as
// a replica and answers MOVED) or the app restarts. The node-redis test pins that, so it fails
// the day node-redis learns to follow, and docs/stores-redis.md must be updated then.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Cluster } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { redisCommand } from '../servers/redis.ts'
import {
  type ClusterNodeInfo,
  type FailoverCluster,
  infoField,
  servingNode,
  startFailoverCluster,
} from '../servers/redis-cluster.ts'
import {
  type CookieLoadResult,
  idOf,
  percentile,
  runCookieLoad,
  sleep,
  writeResult,
} from './clients.ts'
import {
  Counter,
  DEADLINE_MS,
  type FailoverTimeline,
  type Hit,
  Relogger,
  watchFailover,
} from './failover.ts'
import { type AppServer, startAppServer } from './processes.ts'

/** `cluster-node-timeout`, ms. */
const NODE_TIMEOUT_MS = Number(process.env.STRESS_CLUSTER_NODE_TIMEOUT_MS ?? 1000)
/** JSON merged into the client's options in the app server, to compare settings. */
const CLIENT_OPTIONS = JSON.parse(process.env.STRESS_CLUSTER_CLIENT_OPTIONS ?? '{}')
const COUNTERS = 24
const RELOGGERS = 6
/** autocannon connections (ioredis run), and how long they run, s. */
const CANNON_CONNECTIONS = 16
const CANNON_SECONDS = 10
/** Load before the kill, ms. */
const BEFORE_MS = 2000
/** Load after every client has been answered 200 again, ms. */
const SETTLE_MS = 2000
/** The replica must be promoted, and every client served again, this soon. */
const RECOVERY_MS = 15_000
/**
 * The app server may take no longer to answer (timed in its process: this one, driving the
 * load, lags by seconds on a busy machine). ioredis gives up on a command after 16
 * redirections, 100 ms apart while the slots have no master: the server took up to 3.7 s here.
 */
const SLOWEST_MS = 5000
/** node-redis: how long after the promotion the dead master's slots are watched failing, ms. */
const STUCK_MS = 2000

type Client = 'ioredis' | 'node-redis'

const results: Record<string, unknown> = {}

let cluster: FailoverCluster | undefined
let app: AppServer | undefined
afterEach(async () => {
  await app?.stop()
  await cluster?.stop()
  app = undefined
  cluster = undefined
  writeResult('cluster', {
    nodeTimeoutMs: NODE_TIMEOUT_MS,
    ...results,
    at: new Date().toISOString(),
  })
})

const since = (t: number, at: number) => (at ? at - t : null)
const after = (hits: readonly Hit[], t: number) => hits.filter((h) => h.sentAt > t)
const firstOk = (hits: readonly Hit[], t: number) => after(hits, t).find((h) => h.status === 200)

/** Smallest and largest of `xs` (null for none), without spreading them over the stack. */
function span(xs: readonly number[]): { min: number | null; max: number | null } {
  if (xs.length === 0) return { min: null, max: null }
  return {
    min: xs.reduce((m, x) => Math.min(m, x), Number.POSITIVE_INFINITY),
    max: xs.reduce((m, x) => Math.max(m, x), Number.NEGATIVE_INFINITY),
  }
}

/** Answers per status code. */
function statuses(hits: readonly { status: number }[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const h of hits) counts[h.status] = (counts[h.status] ?? 0) + 1
  return counts
}

async function health(server: AppServer): Promise<{ pid: number }> {
  const res = await fetch(`${server.base}/health`, { signal: AbortSignal.timeout(5000) })
  return res.json()
}

/** A group of clients' answers after the kill: how many failed, when the first success came. */
function windowOf(group: readonly { hits: Hit[] }[], killedAt: number) {
  const firsts = group.flatMap((b) => {
    const h = firstOk(b.hits, killedAt)
    return h ? [h.at - killedAt] : []
  })
  return {
    clients: group.length,
    non200: group.reduce(
      (n, b) => n + after(b.hits, killedAt).filter((h) => h.status !== 200).length,
      0,
    ),
    firstOkMs: span(firsts),
  }
}

async function scenario(client: Client) {
  cluster = await startFailoverCluster({ nodeTimeoutMs: NODE_TIMEOUT_MS })
  const c = cluster
  app = await startAppServer({
    cluster: { ports: c.nodes.map((n) => n.port), client, options: CLIENT_OPTIONS },
  })
  const { pid } = await health(app)
  const base = app.base

  // Logged in, counted to 1, and on the replicas before anything is killed.
  const counters = Array.from({ length: COUNTERS }, (_, i) => new Counter(base, `user-${i}`))
  await Promise.all(counters.map((b) => b.login()))
  await c.waitReplicated()

  const before = await c.topology()
  const owner = async (key: string) => servingNode(before, await c.slotOf(key))!.id
  const owners = await Promise.all(
    counters.map(async (b) => ({
      session: await owner(b.key),
      index: await owner(`sess:user:${b.user}`),
    })),
  )
  const masters = before.filter((n) => n.role === 'master')
  const held = (m: ClusterNodeInfo) => owners.filter((o) => o.session === m.id).length
  const victim = masters.reduce((a, b) => (held(b) > held(a) ? b : a))
  const replica = before.find((n) => n.role === 'replica' && n.masterOf === victim.id)!
  const survivor = masters.find((n) => n.id !== victim.id)!
  const onVictim = counters.filter((_, i) => owners[i]!.session === victim.id)
  // The session elsewhere but the user's index on the victim: their writes need it too.
  const indexOnVictim = counters.filter(
    (_, i) => owners[i]!.session !== victim.id && owners[i]!.index === victim.id,
  )
  const untouched = counters.filter((b) => !onVictim.includes(b) && !indexOnVictim.includes(b))

  const relogs = Array.from({ length: RELOGGERS }, (_, i) => new Relogger(base, `relog-${i}`))
  const browsers = [...counters, ...relogs]
  let running = true
  const loops = browsers.map((b) => b.run(() => running))
  const cannon: Promise<CookieLoadResult> | undefined =
    client === 'ioredis'
      ? runCookieLoad({
          url: base,
          connections: CANNON_CONNECTIONS,
          seconds: CANNON_SECONDS,
          record: true,
          timeout: DEADLINE_MS / 1000,
        })
      : undefined
  const lag = monitorEventLoopDelay({ resolution: 20 })
  lag.enable()
  const timeline: FailoverTimeline = {
    killedAt: 0,
    failFlaggedAt: 0,
    stateFailAt: 0,
    promotedAt: 0,
    stateOkAt: 0,
  }
  let restartedAt = 0
  let load: CookieLoadResult | undefined
  try {
    await sleep(BEFORE_MS)
    // SIGKILL ends the process at once; its exit event may reach this busy process much later.
    timeline.killedAt = Date.now()
    await c.kill(victim.port)
    await watchFailover(c, survivor.port, victim.id, replica.port, timeline, RECOVERY_MS)
    if (client === 'node-redis' && timeline.stateOkAt) {
      // The cluster is whole again; node-redis still talks to the dead address. Bring it back.
      await sleep(STUCK_MS)
      // Taken before the start: node-redis may be served by it before restart() resolves.
      restartedAt = Date.now()
      await c.restart(victim.port)
    }
    const from = restartedAt || timeline.killedAt
    const served = () => browsers.every((b) => firstOk(b.hits, from))
    while (!served() && Date.now() - from < RECOVERY_MS) await sleep(50)
    await sleep(SETTLE_MS)
  } finally {
    running = false
    await Promise.all(loops)
    load = await cannon
    lag.disable()
  }
  const { killedAt } = timeline

  // autocannon connections as clients with hits, and on which master their session lived.
  const cannonClients = (load?.connections ?? []).map((conn) => ({
    hits: conn.answers.map((a) => ({ ...a, error: undefined })) as Hit[],
    conn,
  }))
  const cannonOwners = await Promise.all(
    cannonClients.map((k) => owner(`sess:${idOf(k.conn.cookies[0] ?? '')}`)),
  )
  const cannonOnVictim = cannonClients.filter((_, i) => cannonOwners[i] === victim.id)

  // The loss the run shows: acknowledged writes whose effect a later answer did not see.
  const lost = [
    ...counters.flatMap((b) => b.lost),
    ...relogs.flatMap((r) => r.lost),
    ...cannonClients.flatMap((k) =>
      k.conn.regressions.map((r) => ({ ...r, key: `sess:${idOf(k.conn.cookie!)}` })),
    ),
  ]
  const lostOwners = await Promise.all(lost.map((l) => owner(l.key)))

  const all = [...browsers, ...cannonClients].flatMap((b) => b.hits)
  const late = after(all, killedAt)
  const failed = late.filter((h) => h.status !== 200)
  const latency = (hs: readonly Hit[]) => hs.map((h) => h.at - h.sentAt)
  const took = (hs: readonly Hit[]) => hs.map((h) => h.tookMs ?? Number.NaN)
  const sortedLatency = Float64Array.from(latency(late)).sort()
  const sortedTook = Float64Array.from(took(late)).sort()
  // Recovered: the last session on the dead master's slots answered 200 again.
  const from = restartedAt || killedAt
  const recoveredAt = span(onVictim.map((b) => firstOk(b.hits, from)?.at ?? Number.NaN)).max!
  const figures = {
    client,
    clientOptions: CLIENT_OPTIONS,
    pid,
    timelineMs: {
      failFlagged: since(killedAt, timeline.failFlaggedAt),
      stateFail: since(killedAt, timeline.stateFailAt),
      promoted: since(killedAt, timeline.promotedAt),
      stateOk: since(killedAt, timeline.stateOkAt),
      ...(restartedAt ? { deadNodeRestarted: restartedAt - killedAt } : {}),
      recovered: recoveredAt - killedAt,
    },
    windowMs: {
      sessionOnVictim: windowOf(onVictim, killedAt),
      indexOnVictim: windowOf(indexOnVictim, killedAt),
      untouched: windowOf(untouched, killedAt),
      relogging: windowOf(relogs, killedAt),
      ...(load
        ? {
            cannonOnVictim: windowOf(cannonOnVictim, killedAt),
            cannonElsewhere: windowOf(
              cannonClients.filter((k) => !cannonOnVictim.includes(k)),
              killedAt,
            ),
          }
        : {}),
    },
    answers: {
      total: all.length,
      afterKill: late.length,
      statusAfterKill: statuses(late),
      // Seen by the clients (this process), and timed by the app server.
      latencyAfterKillMs: {
        p50: percentile(sortedLatency, 50),
        p99: percentile(sortedLatency, 99),
        max: span(latency(late)).max,
      },
      serverMsAfterKill: {
        p50: percentile(sortedTook, 50),
        p99: percentile(sortedTook, 99),
        max: span(took(late)).max,
        slowestFailure: span(took(failed)).max,
      },
      clientEventLoopLagMaxMs: Math.round(lag.max / 1e6),
      ...(load ? { cannonRequestsPerSecond: Math.round(load.result.requests.average) } : {}),
    },
    lost: {
      incrementsAcknowledged:
        counters.reduce((n, b) => n + b.value, 0) +
        cannonClients.reduce((n, k) => n + k.conn.value, 0),
      loginsAcknowledged: relogs.reduce((n, r) => n + r.logins, 0),
      sessionsWithLostIncrements:
        counters.filter((b) => b.lost.length > 0).length +
        cannonClients.filter((k) => k.conn.regressions.length > 0).length,
      incrementsLost: lost.reduce((n, l) => n + (l.acked ?? 0) - (l.visible ?? 0), 0),
      loginsLost: relogs.reduce((n, r) => n + r.lost.length, 0),
      lostAckedBeforeKillMs: lost.map((l) => killedAt - l.ackedAt),
    },
  }
  results[client] = figures
  console.log(`cluster failover (${client}):`, JSON.stringify(figures))

  // The cluster did fail over: the replica serves the dead master's slots.
  expect(timeline.promotedAt, 'replica promoted').toBeGreaterThan(0)
  expect(timeline.stateOkAt, 'cluster state ok again').toBeGreaterThan(0)
  const now = await c.topology(survivor.port)
  expect(now.find((n) => n.id === replica.id)).toMatchObject({
    role: 'master',
    slots: victim.slots,
  })

  // Every request was answered, with 200 or the app's 503, never slowly; a 503 never touched
  // the cookie.
  const unanswered = all.filter((h) => h.status === 0)
  expect(unanswered.map((h) => `${h.sentAt - killedAt} ms after the kill: ${h.error}`)).toEqual([])
  expect(load?.result.errors ?? 0).toBe(0)
  expect(load?.result.timeouts ?? 0).toBe(0)
  for (const h of failed) {
    expect({ status: h.status, body: h.body }).toEqual({ status: 503, body: 'store unavailable' })
  }
  expect(failed.filter((h) => h.setCookies.length > 0)).toEqual([])
  expect(late.filter((h) => h.tookMs === undefined)).toEqual([])
  expect(figures.answers.serverMsAfterKill.max).toBeLessThan(SLOWEST_MS)
  // No session was replaced by a fresh one: each kept its one cookie.
  for (const b of counters) {
    expect(b.replaced, b.user).toBe(0)
    expect(b.violations, b.user).toEqual([])
  }
  for (const r of relogs) expect(r.violations, r.user).toEqual([])
  for (const k of cannonClients) {
    expect(k.conn.cookies, `autocannon ${k.conn.index}`).toHaveLength(1)
    expect(k.conn.cookieOnError).toBe(0)
    // Only lost increments break its sequence.
    expect(k.conn.mismatches.length).toBe(k.conn.regressions.length)
  }
  // The kill did hit sessions in use: none was served before the others agreed its master had
  // failed (at least cluster-node-timeout after the kill); their requests failed or waited.
  expect(figures.windowMs.sessionOnVictim.firstOkMs.min).toBeGreaterThanOrEqual(NODE_TIMEOUT_MS)

  // Anything lost was on the dead master's slots and acknowledged before the promotion.
  for (const [i, l] of lost.entries()) {
    expect(lostOwners[i], l.key).toBe(victim.id)
    expect(l.ackedAt, l.key).toBeLessThan(timeline.promotedAt)
  }

  if (client === 'node-redis') {
    // Pinned upstream behaviour (redis/node-redis#2141): between the promotion and the dead
    // node's return, not one request on its slots succeeded.
    const stuck = onVictim.flatMap((b) =>
      b.hits.filter((h) => h.sentAt > timeline.stateOkAt && h.at < restartedAt),
    )
    expect(stuck.length).toBeGreaterThan(0)
    expect(statuses(stuck), 'node-redis now follows a promotion: update the docs').toEqual({
      503: stuck.length,
    })
  }

  // The same process serves every session again. Recovered: every session on the dead
  // master's slots has been answered 200 (node-redis: after the dead node is back); from then
  // on every client gets nothing but 200.
  expect((await health(app)).pid).toBe(pid)
  expect(recoveredAt, 'every session on the dead master served again').toBeGreaterThan(0)
  for (const b of [...browsers, ...cannonClients]) {
    const name = 'user' in b ? b.user : `autocannon ${b.conn.index}`
    expect(
      after(b.hits, recoveredAt).filter((h) => h.status !== 200),
      name,
    ).toEqual([])
  }
  for (const b of browsers) {
    expect(
      after(b.hits, recoveredAt).length,
      `${b.user} served after the failover`,
    ).toBeGreaterThan(0)
  }
  // What each counter session holds: its last acknowledged value (or an unanswered increment
  // that landed), through the app and on the node that serves it now.
  const settled = await c.topology(survivor.port)
  for (const b of counters) {
    const res = await b.browser.text(base, 'GET', '/count')
    expect(res.status, b.user).toBe(200)
    const n = Number(res.body)
    expect(n, b.user).toBeGreaterThanOrEqual(b.value)
    expect(n, b.user).toBeLessThanOrEqual(b.value + b.uncertain)
    const node = servingNode(settled, await c.slotOf(b.key))!
    const stored = await redisCommand(node.port, ['GET', b.key])
    expect(JSON.parse(String(stored)).data.count, b.user).toBe(n)
  }
}

/**
 * ioredis Cluster with `commandTimeout`: SETs sent while the cluster is down (a master killed,
 * its replica not yet promoted), every 50 ms, each rejected after `timeoutMs`; then how many of
 * the rejected ones are in Redis once the cluster is whole.
 */
async function timedOutWrites(timeoutMs: number) {
  cluster = await startFailoverCluster({ nodeTimeoutMs: NODE_TIMEOUT_MS })
  const c = cluster
  const client = new Cluster(c.nodes, {
    enableOfflineQueue: false,
    redisOptions: { maxRetriesPerRequest: 0, commandTimeout: timeoutMs },
  })
  client.on('error', () => {})
  try {
    await new Promise((resolve) => client.once('ready', resolve))
    const before = await c.topology()
    const [victim, survivor] = before.filter((n) => n.role === 'master')
    const state = async () =>
      infoField(await redisCommand(survivor!.port, ['CLUSTER', 'INFO']), 'cluster_state')
    const down = Date.now()
    await c.kill(victim!.port)
    while ((await state()) !== 'fail') {
      if (Date.now() - down > RECOVERY_MS) throw new Error('the cluster never reported fail')
      await sleep(10)
    }
    const writes: Promise<{ key: string; outcome: string }>[] = []
    for (let i = 0; (await state()) === 'fail' && Date.now() - down < RECOVERY_MS; i++) {
      const key = `late:${i}`
      writes.push(
        client.set(key, 'written').then(
          () => ({ key, outcome: 'ok' }),
          (err: Error) => ({ key, outcome: err.message }),
        ),
      )
      await sleep(50)
    }
    const outcomes = await Promise.all(writes)
    // ioredis gives up on a command after 16 redirections; wait past that, then read.
    await sleep(2500)
    const now = await c.topology(survivor!.port)
    const stored = async (key: string) =>
      redisCommand(servingNode(now, await c.slotOf(key))!.port, ['GET', key])
    const rejected = outcomes.filter((o) => o.outcome !== 'ok')
    const landed = []
    for (const o of rejected) if ((await stored(o.key)) === 'written') landed.push(o.key)
    return { sent: outcomes.length, rejected, landed }
  } finally {
    client.disconnect()
  }
}

describe('Redis Cluster: a master SIGKILLed under load', () => {
  it(
    'ioredis Cluster: sessions survive the promotion, requests meanwhile wait a bounded time or get a 503, the same app recovers by itself',
    () => scenario('ioredis'),
    120_000,
  )
  it(
    'node-redis cluster: fails fast, keeps failing on the dead master’s slots until that node is back, then recovers',
    () => scenario('node-redis'),
    120_000,
  )
  it('ioredis Cluster with commandTimeout: a write it rejected while the cluster was down lands later (so the app sets none)', async () => {
    const { sent, rejected, landed } = await timedOutWrites(200)
    results.commandTimeout = {
      timeoutMs: 200,
      sent,
      rejected: rejected.length,
      landed: landed.length,
    }
    console.log('ioredis commandTimeout during a failover:', JSON.stringify(results.commandTimeout))
    expect(new Set(rejected.map((o) => o.outcome))).toEqual(new Set(['Command timed out']))
    expect(rejected.length).toBeGreaterThan(0)
    // Pinned upstream behaviour (related: redis/ioredis#2130): the cluster's retry goes on after
    // the timeout rejected the command. If this fails, ioredis stopped replaying them, and
    // docs/stores-redis.md may recommend commandTimeout for Cluster again.
    expect(landed.length, 'rejected writes that landed').toBeGreaterThan(0)
  }, 60_000)
})
