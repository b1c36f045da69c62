import { SessionConfigError } from '../core/errors.ts'
import { sessionDeadline } from '../core/record.ts'
import type { SessionPatch, SessionRecord, UserSession, UserSessionIndex } from '../core/types.ts'
import { func, is, object, required } from '../core/validate.ts'
import {
  exceptArg,
  type ListData,
  lastSeenThrottle,
  listDataCheck,
  listed,
  PAGE_SIZE,
  pageSizeArg,
  sessionIdArg,
  touchAfterCheck,
  userIdArg,
} from './_devices.ts'
import { evalsha, isCluster, pairs, type RedisClientLike, redisRunner } from './_redis-client.ts'
import {
  ownerTokens,
  parseRecord,
  type RedisKeys,
  scanSessions,
  seenOf,
  valuesOf,
} from './_redis-devices.ts'
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
export interface RedisStoreOptions<L = Record<string, unknown>> {
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
   * What `listSessions()` shows of each session's data (internal keys such as `_csrf` are
   * never shown): `(data) => ({ label: data.label })`.
   * @default the whole data
   */
  listData?: ListData<L>
  /**
   * Seconds between two last-seen updates of a session that requests only read: one script on
   * the user's index (the session itself is not rewritten), at most once per interval per
   * session and process; `0` moves `lastSeenAt` on writes only (as `sessionRevocation({ touchAfter })`).
   * @default 60
   */
  touchAfter?: number
  /**
   * Clock in epoch milliseconds, for TTLs and `lastSeenAt` of writes the engine did not time
   * (direct calls), and for leaving sessions past their deadline out of listings; tests inject
   * one to move time.
   * @default Date.now
   */
  now?: () => number
}

/** A Redis-backed session store with its per-user index. */
export interface RedisStore<L = Record<string, unknown>>
  extends MetaStore,
    UserSessionIndex<L>,
    UserKeyed {
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
  /**
   * Records that a request read the session: one script moving its index entry's last seen and
   * user agent. With the engine's `meta`, at most once per `touchAfter` (answering undefined,
   * without a command, in between); a direct call reads the session for its owner first.
   */
  touch(id: string, ctx?: unknown, meta?: WriteMeta): Promise<void> | undefined
}

/**
 * A stored record's last write time (epoch ms), beside its fields, when the user index is on.
 * It is the store's own: `get` takes it out before the engine sees the record.
 */
const SEEN = 'seen'

const checkOptions = object<RedisStoreOptions>({
  client: required(
    is(
      (v): v is RedisClientLike => redisRunner(v) !== undefined,
      'expected a Redis client: ioredis (Redis or Cluster), node-redis v5 or Bun RedisClient',
    ),
  ),
  prefix: is((v): v is string => typeof v === 'string', 'must be a string'),
  userKey: userKeyOrOff,
  listData: listDataCheck,
  touchAfter: touchAfterCheck,
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
export function redisStore<L = Record<string, unknown>>(
  options: RedisStoreOptions<L>,
): RedisStore<L> {
  assertOptions(checkOptions, options)
  const {
    client,
    prefix = 'sess:',
    userKey = 'userId',
    listData,
    touchAfter = 60,
    now = Date.now,
  } = options
  const run = redisRunner(client)!
  const cluster = isCluster(client)
  const keyFor = (id: string) => prefix + id
  const indexPrefix = `${prefix}user:`
  const indexFor = (userId: string) => indexPrefix + userId
  const recent = lastSeenThrottle(userKey === false ? 0 : touchAfter)

  const keys: RedisKeys = { client, run, prefix, indexPrefix, cluster, userKey, now }
  const values = valuesOf(keys)

  function touchIndex(id: string, userId: string, at: number, userAgent?: string) {
    recent.seen(id, at)
    return evalsha(scripts.touch, indexFor(userId), [
      id,
      String(at),
      userAgent ?? '',
      userAgent === undefined ? '0' : '1',
    ])
  }

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
    recent.seen(id, write.now)
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
      const record: (SessionRecord<any> & { [SEEN]?: unknown }) | undefined = parseRecord(value)
      if (!record) return value
      // When it was last written: a read within `touchAfter` of it, in any process, sends no touch.
      const seen = record[SEEN]
      if (typeof seen === 'number') recent.seen(id, seen)
      delete record[SEEN]
      return record
    },

    async set(id, record, _ctx, meta) {
      const write = writeMeta(meta, now)
      const ttl = ttlOf(record, write)
      // Already past its deadline: nothing to keep, and no stale copy may linger.
      if (ttl < 1) return void (await run([['DEL', keyFor(id)]]))
      const index = await indexWrite(id, record, ttl, write)
      const json = JSON.stringify(index.length ? { ...record, [SEEN]: write.now } : record)
      await run([['SET', keyFor(id), json, 'PX', String(ttl)], ...index])
    },

    async patch(id, record, changes: SessionPatch, _ctx, meta) {
      const write = writeMeta(meta, now)
      const ttl = ttlOf(record, write)
      if (ttl < 1) return void (await run([['DEL', keyFor(id)]]))
      const index = await indexWrite(id, record, ttl, write)
      const { data, ...stamps } = record
      const rest = JSON.stringify(index.length ? { ...stamps, [SEEN]: write.now } : stamps)
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
      await run([await evalsha(scripts.patch, keyFor(id), args), ...index])
    },

    async delete(id) {
      // The user index is cleaned lazily: listSessions() drops ids whose session is gone, so a
      // logout stays one command.
      recent.forget(id)
      await run([['DEL', keyFor(id)]])
    },

    touch(id, _ctx, meta) {
      if (meta) {
        // The engine's reads: nothing to send for a session without a user, or within the interval.
        if (meta.userId === undefined || !recent.due(id, meta.now)) return undefined
        const userId = meta.userId
        const { userAgent } = writeMeta(meta, now)
        return touchIndex(id, userId, meta.now, userAgent).then(async (c) => void (await run([c])))
      }
      // A direct call: the owner is in the session.
      return (async () => {
        const key = requireIndex()
        const [value] = await run([['GET', keyFor(id)]])
        const userId = userIdOf(parseRecord(value)?.data, key)
        if (userId !== undefined) await run([await touchIndex(id, userId, now())])
      })()
    },

    async listSessions(userId) {
      const key = requireIndex()
      const owner = userIdArg(userId)
      const index = indexFor(owner)
      const [reply] = await run([['HGETALL', index]])
      const entries = pairs(reply)
      if (entries.length === 0) return []
      const stored = await values(entries.map(([id]) => id))
      const list: UserSession<L>[] = []
      const stale: string[] = []
      const at = now()
      for (const [i, [id, metaJson]] of entries.entries()) {
        const record = parseRecord(stored[i])
        // Deleted, expired, or now someone else's (or no one's): not this user's session.
        if (!record || userIdOf(record.data, key) !== owner || sessionDeadline(record) <= at) {
          stale.push(id)
          continue
        }
        const { seen, userAgent } = seenOf(metaJson, record.createdAt)
        const info = sessionInfo(
          id,
          owner,
          record.createdAt,
          seen,
          sessionDeadline(record),
          userAgent,
        )
        list.push(Object.assign(info, { userId: owner, data: listed(record.data, listData) }))
      }
      if (stale.length > 0) await run([['HDEL', index, ...stale]])
      return newestFirst(list)
    },

    async destroySession(userId, sessionId) {
      const key = requireIndex()
      const owner = userIdArg(userId)
      const id = sessionIdArg(sessionId)
      const tokens = ownerTokens(owner)
      // One round trip: the owned delete, and the id out of the user's index either way (an id
      // the session under it does not confirm is stale there).
      const [deleted] = await run([
        await evalsha(scripts.destroyOwned, keyFor(id), [key, String(now()), ...tokens]),
        ['HDEL', indexFor(owner), id],
      ])
      recent.forget(id)
      return Number(deleted) === 1
    },

    async destroyUserSessions(userId, options) {
      const key = requireIndex()
      const except = exceptArg(options)
      const owner = userIdArg(userId)
      const index = indexFor(owner)
      const [reply] = await run([['HKEYS', index]])
      const ids = (Array.isArray(reply) ? reply.map(String) : pairs(reply).map(([k]) => k)).filter(
        (id) => id !== except,
      )
      if (ids.length === 0) return 0
      const args = [key, String(now()), ...ownerTokens(owner)]
      const commands = await Promise.all(
        ids.map((id) => evalsha(scripts.destroyOwned, keyFor(id), args)),
      )
      const replies = await run([...commands, ['HDEL', index, ...ids]])
      return replies.slice(0, ids.length).reduce<number>((sum, r) => sum + Number(r), 0)
    },

    // SCAN over the prefix on each master, a page at a time (see _redis-devices.ts).
    async *allSessions(options) {
      yield* scanSessions(keys, pageSizeArg(options, PAGE_SIZE))
    },
  }
}
