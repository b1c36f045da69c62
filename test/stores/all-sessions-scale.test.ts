// allSessions() over 50,000 sessions on a real redis-server and on SQLite: every session is seen
// once, and the iterator reads page by page (each read bounded by the page size, and nothing
// read ahead of what the caller consumed), so its memory does not grow with the store.
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SessionRecord } from '../../src/core/types.ts'
import { redisStore } from '../../src/stores/redis.ts'
import { type SqliteDatabase, sqliteStore } from '../../src/stores/sqlite.ts'
import { type RedisServer, startRedis } from '../servers/redis.ts'
import { openSqlite } from '../servers/sqlite.ts'

const COUNT = 50_000
const PAGE = 500
const id = (i: number) => `scale${String(i).padStart(27, '0')}`

/** Session `i`: every other one anonymous, the rest spread over 5,000 users. */
function record(i: number, now: number): SessionRecord {
  const data = i % 2 === 0 ? { n: i } : { userId: `u${i % 5000}`, n: i }
  return { data, createdAt: now, expiresAt: now + 600_000 }
}

describe('allSessions at 50,000 sessions', () => {
  let server: RedisServer
  let client: Redis

  beforeAll(async () => {
    server = await startRedis()
    client = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true })
    await client.connect()
  }, 30_000)

  afterAll(async () => {
    await client?.quit()
    await server?.stop()
  })

  it('Redis: SCAN pages, one MGET per page, nothing read ahead', async () => {
    // The real client, with the keys of each SCAN reply and MGET counted on the way.
    const scans: number[] = []
    const mgets: number[] = []
    const counting = new Proxy(client, {
      get(target, key) {
        if (key === 'call') {
          return async (command: string, ...args: string[]) => {
            const reply = await target.call(command, ...args)
            if (command === 'SCAN') scans.push((reply as [string, string[]])[1].length)
            if (command === 'MGET') mgets.push(args.length)
            return reply
          }
        }
        const value = Reflect.get(target, key, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const store = redisStore({ client: counting, prefix: 'scale:' })
    const now = Date.now()
    for (let start = 0; start < COUNT; start += 2500) {
      const batch: Promise<void>[] = []
      for (let i = start; i < start + 2500; i++) batch.push(store.set(id(i), record(i, now)))
      await Promise.all(batch)
    }

    // Lazy: the first entries cost one page.
    let taken = 0
    for await (const _ of store.allSessions({ pageSize: PAGE })) if (++taken === 10) break
    expect(scans.length).toBeLessThanOrEqual(2)
    expect(mgets.length).toBeLessThanOrEqual(2)

    scans.length = 0
    mgets.length = 0
    const seen = new Set<string>()
    let users = 0
    for await (const info of store.allSessions({ pageSize: PAGE })) {
      seen.add(info.id)
      if (info.userId !== undefined) users++
    }
    expect(seen.size).toBe(COUNT)
    expect(users).toBe(COUNT / 2)
    // SCAN's COUNT is a hint (a bucket is returned whole): a page stays near it, never the store.
    expect(Math.max(...mgets)).toBeLessThanOrEqual(2 * PAGE)
    expect(mgets.length).toBeGreaterThanOrEqual(COUNT / (2 * PAGE))
  }, 120_000)

  it('SQLite: keyset pages of at most pageSize rows, nothing read ahead', async () => {
    const real = await openSqlite()
    const pages: number[] = []
    const db: SqliteDatabase = {
      prepare(sql) {
        const statement = real.prepare(sql)
        if (!/ORDER BY id LIMIT/.test(sql)) return statement
        return {
          run: (...p) => statement.run(...p),
          get: (...p) => statement.get(...p),
          all: (...p) => {
            const rows = statement.all(...p)
            pages.push(rows.length)
            return rows
          },
        }
      },
      transaction: (fn) => real.transaction(fn),
    }
    const store = sqliteStore({ db })
    const now = Date.now()
    real.transaction(() => {
      for (let i = 0; i < COUNT; i++) store.set(id(i), record(i, now))
    })()

    let taken = 0
    for await (const _ of store.allSessions({ pageSize: PAGE })) if (++taken === 10) break
    expect(pages).toEqual([PAGE])

    pages.length = 0
    const seen = new Set<string>()
    let users = 0
    for await (const info of store.allSessions({ pageSize: PAGE })) {
      seen.add(info.id)
      if (info.userId !== undefined) users++
    }
    expect(seen.size).toBe(COUNT)
    expect(users).toBe(COUNT / 2)
    expect(Math.max(...pages)).toBe(PAGE)
    // 100 full pages, then the empty one that says the walk is over.
    expect(pages.length).toBe(COUNT / PAGE + 1)
    real.close()
  }, 120_000)
})
