// One app server for the stress tests, run as its own process (`node --import tsx`): the Hono
// adapter on @hono/node-server, sessions in Redis through ioredis with the fail-fast options
// docs/stores-redis.md recommends. The parent reads JSON lines on stdout: `listening` with the
// port, `paused` when /pause holds a request. Environment: REDIS_PORT, SESSION_SECRET, PORT
// (0: any free port), MODE (`store`, or `sealed` with a revocation list in Redis); or, instead
// of REDIS_PORT, REDIS_CLUSTER (comma-separated seed ports) with REDIS_CLIENT (`ioredis`, the
// default, or `node-redis`) and REDIS_CLUSTER_OPTIONS (JSON merged into the client's options).
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { Cluster, Redis } from 'ioredis'
import { session } from '../../src/adapters/hono.ts'
import { SessionStoreError } from '../../src/core/errors.ts'
import { sessionRevocation } from '../../src/index.ts'
import { redisStore } from '../../src/stores/redis.ts'

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

const mode = process.env.MODE ?? 'store'
let redisErrors = 0
// Without a listener the clients log every failed reconnect; an app would log or count them.
const countError = () => {
  redisErrors++
}

/** The client the store drives: one Redis, or a Cluster through ioredis or node-redis. */
async function connectRedis() {
  const seeds = process.env.REDIS_CLUSTER?.split(',').map((p) => ({
    host: '127.0.0.1',
    port: Number(p),
  }))
  if (!seeds) {
    const redis = new Redis({
      host: '127.0.0.1',
      port: Number(env('REDIS_PORT')),
      lazyConnect: true,
      // Fail at once while Redis is down instead of queueing commands until it is back.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 1000,
    })
    redis.on('error', countError)
    await redis.connect()
    return { client: redis, close: () => redis.disconnect() }
  }
  const extra = JSON.parse(process.env.REDIS_CLUSTER_OPTIONS ?? '{}')
  if ((process.env.REDIS_CLIENT ?? 'ioredis') === 'ioredis') {
    // The options docs/stores-redis.md gives for Cluster: no offline queue, no per-node retry,
    // and no commandTimeout: during a failover it answers a write that ioredis still retries,
    // which may then land after newer writes. A request waits at most for ioredis' retries
    // (16 redirections, 100 ms apart during a failover).
    const cluster = new Cluster(seeds, {
      enableOfflineQueue: false,
      redisOptions: { maxRetriesPerRequest: 0 },
      ...extra,
    })
    cluster.on('error', countError)
    await new Promise<void>((resolve, reject) => {
      cluster.once('ready', resolve)
      cluster.once('end', () => reject(new Error('ioredis Cluster ended before ready')))
    })
    return { client: cluster, close: () => cluster.disconnect() }
  }
  const { createCluster } = await import('redis')
  const cluster = createCluster({
    rootNodes: seeds.map((s) => ({ url: `redis://${s.host}:${s.port}` })),
    defaults: { disableOfflineQueue: true, socket: { connectTimeout: 1000 } },
    ...extra,
  })
  cluster.on('error', countError)
  await cluster.connect()
  return { client: cluster, close: () => void cluster.destroy() }
}

const { client: redis, close } = await connectRedis()

const store = redisStore({ client: redis, prefix: 'sess:' })
const secret = env('SESSION_SECRET')

type Data = { count?: number; a?: number; b?: number; userId?: string; [key: string]: unknown }

// Sealed mode checks every request against a revocation list kept in the same Redis.
const revocation =
  mode === 'sealed'
    ? sessionRevocation({ store: redisStore({ client: redis, prefix: 'revoked:' }) })
    : undefined
if (mode !== 'store' && mode !== 'sealed') throw new Error(`unknown MODE ${mode}`)
const middleware = session<Data>(revocation ? { secret, revocation } : { secret, store })

// Requests held by /pause until the test releases them (or kills this process).
const held: (() => void)[] = []
const say = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`)

const app = new Hono()
  .get('/health', (c) => c.json({ pid: process.pid, redisErrors }))
  .use(middleware)
  .post('/inc', (c) => {
    const count = (c.session.count ?? 0) + 1
    c.session.count = count
    return c.text(String(count))
  })
  .get('/count', (c) => c.text(String(c.session.count ?? 0)))
  // Two keys set to the same new value in one request: a half-written session has a !== b.
  .post('/pair', (c) => {
    const n = (c.session.a ?? 0) + 1
    c.session.a = n
    c.session.b = n
    return c.text(String(n))
  })
  .post('/pause', async (c) => {
    const n = (c.session.a ?? 0) + 1
    c.session.a = n
    c.session.b = n
    await new Promise<void>((resolve) => {
      held.push(resolve)
      say({ event: 'paused', id: c.session.id, n })
    })
    return c.text(String(n))
  })
  .post('/put/:key/:value', (c) => {
    c.session[c.req.param('key')] = c.req.param('value')
    return c.text('ok')
  })
  .get('/get/:key', (c) => c.text(String(c.session[c.req.param('key')] ?? '')))
  .post('/login/:user', async (c) => {
    await c.session.regenerate()
    c.session.userId = c.req.param('user')
    return c.text(c.session.id)
  })
  .get('/whoami', (c) =>
    c.json({
      userId: c.session.userId ?? null,
      isNew: c.session.isNew,
      id: c.session.isNew ? null : c.session.id,
    }),
  )
  .post('/logout', (c) => {
    c.session = null
    return c.text('bye')
  })
  // "Log out everywhere": every session of this user, or all but this one with ?except=1.
  .post('/logout-everywhere', async (c) => {
    const userId = c.session.userId
    if (!userId) return c.text('not signed in', 401)
    const except = c.req.query('except') === '1' ? c.session.id : undefined
    if (revocation) {
      await revocation.revokeUser(userId, except ? { except } : {})
      if (!except) c.session = null
      return c.text('revoked')
    }
    const count = await store.destroyUserSessions(userId, except ? { except } : {})
    return c.text(String(count))
  })

// Outside the session middleware: it must answer even while a request is held.
const control = new Hono()
  // How long this process took to answer, so a test can tell it from its own event-loop lag.
  .use(async (c, next) => {
    const started = performance.now()
    await next()
    c.header('x-took-ms', (performance.now() - started).toFixed(1))
  })
  .post('/release', (c) => {
    const n = held.length
    for (const resolve of held.splice(0)) resolve()
    return c.text(String(n))
  })
  .route('/', app)

app.onError((err, c) =>
  err instanceof SessionStoreError
    ? c.text('store unavailable', 503)
    : c.text(`error: ${err instanceof Error ? err.message : String(err)}`, 500),
)
control.onError((err, c) =>
  err instanceof SessionStoreError
    ? c.text('store unavailable', 503)
    : c.text(`error: ${err instanceof Error ? err.message : String(err)}`, 500),
)

const server = serve(
  { fetch: control.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' },
  () => {
    const { port } = server.address() as AddressInfo
    say({ event: 'listening', port, pid: process.pid })
  },
)

const stop = () => {
  server.close()
  if ('closeAllConnections' in server) server.closeAllConnections()
  close()
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
