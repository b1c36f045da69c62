import { keyedQueue } from '../core/queue.ts'
import { applySessionPatch, asRecord, isExpired } from '../core/record.ts'
import type { SessionPatch, SessionRecord } from '../core/types.ts'
import { boolean, func, is, methods, object, required } from '../core/validate.ts'
import { assertOptions, liveRecord, type MetaStore, ttlMs, type WriteMeta } from './_shared.ts'

/**
 * An unstorage `Storage` (`createStorage({ driver })`), recognised by shape: the methods this
 * store calls. unstorage is an optional peer dependency; nothing of it is bundled.
 */
export interface UnstorageLike {
  getItem(key: string): unknown
  setItem(key: string, value: unknown, options?: { ttl?: number }): unknown
  removeItem(key: string): unknown
  getKeys(base?: string): Promise<string[]> | string[]
}

/** Options of `unstorageStore()`. */
export interface UnstorageStoreOptions {
  /**
   * Prefix of every key the store writes: sessions at `<prefix><id>` (unstorage's `:` separates
   * levels; the fs driver makes it a directory).
   * @default 'sess:'
   */
  prefix?: string
  /**
   * Merge each request's changed keys into the stored session (read, merge, write, one request
   * per session id at a time in this process), so overlapping requests that change different
   * keys both survive. It costs one extra `getItem` per changed request. unstorage has no atomic
   * update, so across processes the last write still wins. `false` writes the whole session
   * with `setItem`: last write wins everywhere, one read less.
   * @default true
   */
  merge?: boolean
  /**
   * Clock in epoch milliseconds, for TTLs, for not merging into a session past its deadline and
   * for `prune()`; tests inject one to move time.
   * @default Date.now
   */
  now?: () => number
}

/** A session store over an unstorage `Storage`. */
export interface UnstorageStore extends MetaStore {
  /** The record stored under `id` (past its deadline too, for the engine to refuse), or undefined. */
  get(id: string, ctx?: unknown): Promise<unknown>
  /** Writes the record with `setItem(key, record, { ttl })`, `ttl` in seconds until its deadline. */
  set(id: string, record: SessionRecord<any>, ctx?: unknown, meta?: WriteMeta): Promise<void>
  /** Removes the record stored under `id`. */
  delete(id: string, ctx?: unknown): Promise<void>
  /**
   * Deletes every session past its deadline (drivers without TTLs, such as fs and memory,
   * keep them until then); resolves to how many were deleted.
   */
  prune(): Promise<number>
}

// unstorage rewrites keys ('/' and '\' become ':', anything from '?' on is dropped): an id
// outside base64url is escaped first, code unit by code unit, so two ids never share a key.
const keyPart = (id: string) =>
  /^[\w-]*$/.test(id)
    ? id
    : id.replace(/[^\w-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

// The storage is the first argument; its options are checked beside it, in one error.
const checkArguments = object<UnstorageStoreOptions & { storage: UnstorageLike }>({
  storage: required(
    methods(
      ['getItem', 'setItem', 'removeItem', 'getKeys'],
      'must be an unstorage Storage (createStorage({ driver }))',
    ),
  ),
  // unstorage lists keys by levels: a prefix must be whole levels, in the form it keeps them.
  prefix: is(
    (v): v is string => typeof v === 'string' && /^(?:[^:/\\?]+:)*$/.test(v),
    "must be '' or levels each ending in ':' (no '/', '\\' or '?'), like 'sess:' or 'app:sess:'",
  ),
  merge: boolean,
  now: func,
})

/**
 * A session store on any unstorage `Storage`: memory, fs, Redis, Cloudflare KV, Vercel KV,
 * Upstash, Deno KV and every other driver. Drivers with TTLs (Redis, KV stores, Upstash, Deno KV)
 * expire sessions themselves; on the others (fs, memory) a session past its deadline stays
 * until the engine refuses it on its next request or `prune()` runs.
 *
 * @example
 * import { createStorage } from 'unstorage'
 * import redisDriver from 'unstorage/drivers/redis'
 * import { unstorageStore } from 'sealed-session/stores/unstorage'
 *
 * const storage = createStorage({ driver: redisDriver({ url: process.env.REDIS_URL }) })
 * app.use(session({ secret: process.env.SESSION_SECRET, store: unstorageStore(storage) }))
 */
export function unstorageStore(
  storage: UnstorageLike,
  options: UnstorageStoreOptions = {},
): UnstorageStore {
  assertOptions(checkArguments, { storage, ...options })
  const { prefix = 'sess:', merge = true, now = Date.now } = options
  const keyOf = (id: string) => prefix + keyPart(id)
  // A patch's read and write, and any set or delete of the same key from this process, run one
  // after another: no request here overwrites another's keys or brings back an ended session.
  const exclusive = keyedQueue()

  const read = async (key: string): Promise<unknown> => (await storage.getItem(key)) ?? undefined
  const remove = async (key: string) => void (await storage.removeItem(key))
  /** Writes `record` with a TTL in whole seconds; a session already over is removed instead. */
  async function write(key: string, record: SessionRecord<any>, at: number): Promise<void> {
    const ttl = ttlMs(record, at)
    if (ttl < 1) return remove(key)
    await storage.setItem(key, record, { ttl: Math.ceil(ttl / 1000) })
  }

  const store: UnstorageStore = {
    // Past its deadline too (drivers without TTLs keep it): the engine refuses it as `expired`
    // and deletes it.
    get: (id) => read(keyOf(id)),
    set: (id, record, _ctx, meta) => {
      const key = keyOf(id)
      return exclusive(key, () => write(key, record, meta?.now ?? now()))
    },
    delete: (id) => {
      const key = keyOf(id)
      return exclusive(key, () => remove(key))
    },

    async prune() {
      const at = now()
      let deleted = 0
      for (const key of await storage.getKeys(prefix)) {
        await exclusive(key, async () => {
          const record = asRecord(await read(key))
          if (!record || !isExpired(record, at)) return
          await remove(key)
          deleted++
        })
      }
      return deleted
    },
  }
  if (merge) {
    store.patch = (id, record, changes: SessionPatch, _ctx, meta) => {
      const key = keyOf(id)
      return exclusive(key, async () => {
        const at = meta?.now ?? now()
        const next = applySessionPatch(liveRecord(await read(key), at), record, changes)
        // Nothing live is stored: the session ended elsewhere and must not come back.
        if (next) await write(key, next, at)
      })
    }
  }
  return store
}
