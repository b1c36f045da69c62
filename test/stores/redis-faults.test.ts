// Redis going away under a running app: the request fails with SessionStoreError (a 5xx through
// app.onError), the user is not logged out, the process keeps running, and once Redis is back
// the same app serves requests again. Clients are configured to fail fast while disconnected.
import { Hono } from 'hono'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { session } from '../../src/adapters/hono.ts'
import { SessionStoreError } from '../../src/core/errors.ts'
import { type RedisClientLike, redisStore } from '../../src/stores/redis.ts'
import { type RedisServer, startRedis } from '../servers/redis.ts'
import { Jar, type Requestable, SECRET } from '../support.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let server: RedisServer

beforeAll(async () => {
  server = await startRedis()
}, 30_000)

afterAll(async () => {
  await server?.stop()
})

// A rejection nobody handled would mean the store (or a client event) can take the process down.
const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => void unhandled.push(reason)
beforeEach(() => {
  unhandled.length = 0
  process.on('unhandledRejection', onUnhandled)
})
afterEach(() => {
  process.off('unhandledRejection', onUnhandled)
  expect(unhandled).toEqual([])
})

interface Client {
  client: RedisClientLike
  close(): Promise<void>
}

const kinds: [string, () => Promise<Client>][] = [
  [
    'ioredis',
    async () => {
      const client = new Redis({
        host: '127.0.0.1',
        port: server.port,
        lazyConnect: true,
        // Fail commands at once while disconnected instead of queueing them until reconnect.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: 1000,
        retryStrategy: () => 100,
      })
      client.on('error', () => {})
      await client.connect()
      return { client, close: async () => client.disconnect() }
    },
  ],
  [
    'node-redis',
    async () => {
      const client = createClient({
        url: server.url,
        disableOfflineQueue: true,
        socket: { reconnectStrategy: () => 100, connectTimeout: 1000 },
      })
      // node-redis emits 'error' on every failed reconnect; without a listener Node would crash.
      client.on('error', () => {})
      await client.connect()
      return { client, close: async () => void client.destroy() }
    },
  ],
]

// Bun's built-in client, when running under Bun.
const BunRuntime = (
  globalThis as { Bun?: { RedisClient: new (url: string, options?: object) => any } }
).Bun
if (BunRuntime) {
  kinds.push([
    'Bun RedisClient',
    async () => {
      const client = new BunRuntime.RedisClient(server.url, {
        enableOfflineQueue: false,
        autoReconnect: true,
        connectionTimeout: 1000,
      })
      // With the offline queue off, commands before the connection is up would fail.
      await client.connect()
      return { client, close: async () => client.close() }
    },
  ])
}

function app(client: RedisClientLike, hooks: { beforeCommit?: () => Promise<void> } = {}) {
  const errors: unknown[] = []
  const sessions = new Hono()
    .use(session({ secret: SECRET, store: redisStore({ client, prefix: 'fault:' }) }))
    .get('/login', (c) => {
      c.session.userId = 'u1'
      return c.text('ok')
    })
    .get('/peek', (c) => c.text(c.session.userId ?? 'anon'))
    .get('/theme', (c) => c.text(c.session.theme ?? 'none'))
    .get('/set/:value', async (c) => {
      c.session.theme = c.req.param('value')
      await hooks.beforeCommit?.()
      return c.text('ok')
    })
  sessions.onError((err, c) => {
    errors.push(err)
    return c.text(err instanceof SessionStoreError ? 'store unavailable' : 'error', 500)
  })
  return { sessions, errors }
}

/** Polls until the app answers 200 again (the client reconnects on its own). */
async function recovered(jar: Jar, sessions: Requestable, path: string): Promise<Response> {
  const deadline = Date.now() + 8000
  for (;;) {
    const res = await jar.request(sessions, path)
    if (res.status === 200 || Date.now() > deadline) return res
    await sleep(100)
  }
}

function expectStoreError(err: unknown, operation: SessionStoreError['operation']): void {
  expect(err).toBeInstanceOf(SessionStoreError)
  expect((err as SessionStoreError).code).toBe('ERR_SESSION_STORE')
  expect((err as SessionStoreError).operation).toBe(operation)
  expect((err as SessionStoreError).cause).toBeInstanceOf(Error)
}

describe('Redis down mid-test', () => {
  for (const [name, connect] of kinds) {
    describe(name, () => {
      let current: Client | undefined
      afterEach(async () => {
        await current?.close()
        current = undefined
        // Every test leaves a running server behind for the next one.
        await server.restart()
      })

      it('load fails with SessionStoreError, not a silent logout; after restart the user is still logged in', async () => {
        current = await connect()
        const { sessions, errors } = app(current.client)
        const jar = new Jar()
        await jar.request(sessions, '/login')
        const cookie = jar.header()
        expect(await (await jar.request(sessions, '/peek')).text()).toBe('u1')

        await server.shutdown()
        const started = Date.now()
        const res = await jar.request(sessions, '/peek')
        expect(Date.now() - started).toBeLessThan(2000)
        expect(res.status).toBe(500)
        expect(await res.text()).toBe('store unavailable')
        // No new session, no cleared cookie: the browser keeps its session cookie.
        expect(res.headers.getSetCookie()).toEqual([])
        expect(jar.header()).toBe(cookie)
        expect(errors).toHaveLength(1)
        expectStoreError(errors[0], 'get')

        // A write attempt while down fails the same way.
        const write = await jar.request(sessions, '/set/dark')
        expect(write.status).toBe(500)
        expect(write.headers.getSetCookie()).toEqual([])

        await server.restart()
        const back = await recovered(jar, sessions, '/peek')
        expect(back.status).toBe(200)
        expect(await back.text()).toBe('u1')
        expect(back.headers.getSetCookie()).toEqual([])
        expect(jar.header()).toBe(cookie)
      }, 15_000)

      it('write fails when Redis goes away between load and commit; nothing half-applied', async () => {
        current = await connect()
        let beforeCommit: (() => Promise<void>) | undefined
        const { sessions, errors } = app(current.client, {
          beforeCommit: () => beforeCommit?.() ?? Promise.resolve(),
        })
        const jar = new Jar()
        await jar.request(sessions, '/login')
        await jar.request(sessions, '/set/light')
        const cookie = jar.header()

        beforeCommit = async () => {
          beforeCommit = undefined
          await server.shutdown()
          // Let the client notice the closed connection, as it would between two requests.
          await sleep(50)
        }
        const res = await jar.request(sessions, '/set/dark')
        expect(res.status).toBe(500)
        expect(res.headers.getSetCookie()).toEqual([])
        expect(errors).toHaveLength(1)
        expectStoreError(errors[0], 'patch')

        await server.restart()
        const back = await recovered(jar, sessions, '/peek')
        expect(await back.text()).toBe('u1')
        expect(jar.header()).toBe(cookie)
        // The failed change is not there; the same app writes again once Redis is back.
        expect(await (await jar.request(sessions, '/theme')).text()).toBe('light')
        const write = await jar.request(sessions, '/set/dark')
        expect(write.status).toBe(200)
        expect(await (await jar.request(sessions, '/theme')).text()).toBe('dark')
      }, 15_000)

      it('a crash (SIGKILL) is a 500 too; after restart the app serves again without being rebuilt', async () => {
        current = await connect()
        const { sessions, errors } = app(current.client)
        const jar = new Jar()
        await jar.request(sessions, '/login')
        await server.kill()
        const res = await jar.request(sessions, '/peek')
        expect(res.status).toBe(500)
        expect(res.headers.getSetCookie()).toEqual([])
        expectStoreError(errors[0], 'get')

        await server.restart()
        // A crashed Redis without persistence lost the session: that is the server's data loss,
        // reported as a refused cookie (a fresh session), and the app works again.
        const back = await recovered(jar, sessions, '/login')
        expect(back.status).toBe(200)
        expect(await (await jar.request(sessions, '/peek')).text()).toBe('u1')
      }, 15_000)
    })
  }
})
