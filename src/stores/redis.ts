import { SessionConfigError } from '../core/errors.ts'
import { sessionDeadline } from '../core/record.ts'
import type { SessionInfo, SessionPatch, SessionRecord, UserSessionIndex } from '../core/types.ts'
import { func, is, object, required } from '../core/validate.ts'
import { evalsha, pairs, type RedisClientLike, redisRunner } from './_redis-client.ts'
import { scripts } from './_redis-lua.ts'
import {
  assertOptions,
  type MetaStore,
  newestFirst,
  sessionInfo,
  type UserKeyed,
  userIdOf,
  userKeyOrOff,
  type WriteMeta,
  type WriteStamp,
  writeMeta,
} from './_shared.ts'

export type { RedisClientLike }

/** Options of `redisStore()`. */
export interface RedisStoreOptions {
  /** A connected client the app built: ioredis (incl. Cluster), node-redis v5, or Bun's `RedisClient`. */
  client: RedisClientLike
  /**
   * Prefix of every key the store writes: sessions at `<prefix><id>`, the per-user index at
   * `<prefix>user:<userId>`.
   * @default 'sess:'
   */
  prefix?: string
  /**
   * Key of the session data that holds the user id, for `listSessions()` and
   * `destroyUserSessions()`; `false` turns the per-user index off (one command less per write).
   * @default 'userId'
   */
  userKey?: string | false
  /**
   * Clock in epoch milliseconds, for TTLs and `lastSeenAt` of writes the engine did not time
   * (direct calls), and for leaving sessions past their deadline out of listings; tests inject
   * one to move time.
   * @default Date.now
   */
  now?: () => number
}

/** A Redis-backed session store with its per-user index. */
export interface RedisStore extends MetaStore, UserSessionIndex, UserKeyed {
  /**
   * The record stored under `id`, or undefined; the raw value when the key holds something
   * that is not JSON (another program wrote it), for the engine to refuse.
   */
  get(id: string, ctx?: unknown): Promise<unknown>
  /** Removes the session stored under `id` (and its index entry). */
  delete(id: string, ctx?: unknown): Promise<void>
  /** Writes the session with `SET … PX` (and its index entry, in the same round trip). */
  set(id: string, record: SessionRecord<any>, ctx?: unknown, meta?: WriteMeta): Promise<void>
  /** Merges one request's changed keys into the stored session in one atomic script. */
  patch(
    id: string,
    record: SessionRecord<any>,
    patch: SessionPatch,
    ctx?: unknown,
    meta?: WriteMeta,
  ): Promise<void>
}

/** The JSON texts a user id may be stored as: the string, and the number when it is one. */
function ownerTokens(userId: string): string[] {
  const tokens = [JSON.stringify(userId)]
  const n = Number(userId)
  if (userId !== '' && Number.isFinite(n) && JSON.stringify(n) === userId) tokens.push(userId)
  return tokens
}

function parseRecord(value: unknown): SessionRecord<Record<string, unknown>> | undefined {
  if (typeof value !== 'string') return undefined
  try {
    const record = JSON.parse(value)
    return typeof record === 'object' && record !== null ? record : undefined
  } catch {
    return undefined
  }
}

const checkOptions = object<RedisStoreOptions>({
  client: required(
    is(
      (v): v is RedisClientLike => redisRunner(v) !== undefined,
      'expected a Redis client: ioredis (Redis or Cluster), node-redis v5 or Bun RedisClient',
    ),
  ),
  prefix: is((v): v is string => typeof v === 'string', 'must be a string'),
  userKey: userKeyOrOff,
  now: func,
})

/**
 * A session store on Redis: one GET to load, one `SET … PX` or one atomic Lua patch to write
 * (with the per-user index update in the same round trip), Redis expiring each session itself.
 *
 * Works on ioredis, ioredis Cluster, node-redis v5 and Bun's `RedisClient`. Every command and
 * script touches one key, so Cluster needs no hash tags: sessions spread over all slots, and
 * the user index is written beside them in the same round trip (in parallel on Cluster).
 *
 * @example
 * import Redis from 'ioredis'
 * import { redisStore } from 'sealed-session/stores/redis'
 *
 * const store = redisStore({ client: new Redis(process.env.REDIS_URL) })
 * app.use(session({ secret: process.env.SESSION_SECRET, store }))
 */
export function redisStore(options: RedisStoreOptions): RedisStore {
  assertOptions(checkOptions, options)
  const { client, prefix = 'sess:', userKey = 'userId', now = Date.now } = options
  const run = redisRunner(client)!
  const keyFor = (id: string) => prefix + id
  const indexFor = (userId: string) => `${prefix}user:${userId}`

  /** The index update for a write, or nothing when the index is off or the session has no user. */
  async function indexWrite(
    id: string,
    record: SessionRecord<any>,
    ttl: number,
    write: WriteStamp,
  ): Promise<string[][]> {
    if (userKey === false) return []
    const userId = userIdOf(record.data, userKey)
    if (userId === undefined) return []
    const ua = write.userAgent
    return [
      await evalsha(scripts.index, indexFor(userId), [
        id,
        String(write.now),
        String(Math.round(sessionDeadline(record))),
        String(ttl),
        ua ?? '',
        ua === undefined ? '0' : '1',
      ]),
    ]
  }

  /** Milliseconds from the write until the record's deadline; Redis drops the key then. */
  const ttlOf = (record: SessionRecord<any>, write: WriteStamp) =>
    Math.ceil(sessionDeadline(record) - write.now)

  function requireIndex(): string {
    if (userKey === false) {
      throw new SessionConfigError([
        { path: 'userKey', message: 'the per-user index is off (userKey: false)' },
      ])
    }
    return userKey
  }

  return {
    userKey,

    async get(id) {
      const [value] = await run([['GET', keyFor(id)]])
      if (value === null || value === undefined) return undefined
      // Past our clock's deadline too (Redis expires by the server's): the engine refuses it as
      // `expired` and deletes it. Once Redis has dropped the key, a read is `not-found`.
      return parseRecord(value) ?? value
    },

    async set(id, record, _ctx, meta) {
      const write = writeMeta(meta, now)
      const ttl = ttlOf(record, write)
      // Already past its deadline: nothing to keep, and no stale copy may linger.
      if (ttl < 1) return void (await run([['DEL', keyFor(id)]]))
      const command = ['SET', keyFor(id), JSON.stringify(record), 'PX', String(ttl)]
      await run([command, ...(await indexWrite(id, record, ttl, write))])
    },

    async patch(id, record, changes: SessionPatch, _ctx, meta) {
      const write = writeMeta(meta, now)
      const ttl = ttlOf(record, write)
      if (ttl < 1) return void (await run([['DEL', keyFor(id)]]))
      const { data, ...stamps } = record
      const rest = JSON.stringify(stamps)
      const args = [rest === '{}' ? '}' : `,${rest.slice(1)}`, String(ttl), '']
      let nset = 0
      const deleted = [...changes.deleted]
      for (const key of changes.set) {
        const value = JSON.stringify(data[key])
        // A key whose new value JSON drops (undefined) is a deletion, as in JSON.stringify.
        if (value === undefined) deleted.push(key)
        else {
          args.push(key, JSON.stringify(key), value)
          nset++
        }
      }
      args[2] = String(nset)
      args.push(...deleted)
      await run([
        await evalsha(scripts.patch, keyFor(id), args),
        ...(await indexWrite(id, record, ttl, write)),
      ])
    },

    async delete(id) {
      // The user index is cleaned lazily: listSessions() drops ids whose session is gone, so a
      // logout stays one command.
      await run([['DEL', keyFor(id)]])
    },

    async listSessions(userId) {
      const key = requireIndex()
      const index = indexFor(String(userId))
      const [reply] = await run([['HGETALL', index]])
      const entries = pairs(reply)
      if (entries.length === 0) return []
      const values = await run(entries.map(([id]) => ['GET', keyFor(id)]))
      const list: SessionInfo[] = []
      const stale: string[] = []
      const at = now()
      for (const [i, [id, metaJson]] of entries.entries()) {
        const record = parseRecord(values[i])
        // Deleted, expired, or now someone else's (or no one's): not this user's session.
        if (!record || userIdOf(record.data, key) !== String(userId)) {
          stale.push(id)
          continue
        }
        const expiresAt = sessionDeadline(record)
        if (expiresAt <= at) {
          stale.push(id)
          continue
        }
        let meta: { lastSeenAt?: unknown; userAgent?: unknown } = {}
        try {
          meta = JSON.parse(metaJson)
        } catch {
          // Unreadable metadata only costs the last-seen time and user agent.
        }
        const seen = typeof meta.lastSeenAt === 'number' ? meta.lastSeenAt : record.createdAt
        list.push(sessionInfo(id, record.createdAt, seen, expiresAt, meta.userAgent))
      }
      if (stale.length > 0) await run([['HDEL', index, ...stale]])
      return newestFirst(list)
    },

    async destroyUserSessions(userId, options = {}) {
      const key = requireIndex()
      const index = indexFor(String(userId))
      const [reply] = await run([['HKEYS', index]])
      const ids = (Array.isArray(reply) ? reply.map(String) : pairs(reply).map(([k]) => k)).filter(
        (id) => id !== options.except,
      )
      if (ids.length === 0) return 0
      const tokens = ownerTokens(String(userId))
      const commands = await Promise.all(
        ids.map((id) => evalsha(scripts.destroyOwned, keyFor(id), [key, ...tokens])),
      )
      const replies = await run([...commands, ['HDEL', index, ...ids]])
      return replies.slice(0, ids.length).reduce<number>((sum, r) => sum + Number(r), 0)
    },
  }
}
