import { keyedQueue } from '../core/queue.ts'
import { applySessionPatch } from '../core/record.ts'
import type { SessionPatch, SessionRecord } from '../core/types.ts'
import { boolean, func, is, object, required } from '../core/validate.ts'
import {
  assertOptions,
  liveRecord,
  type MetaStore,
  parseStored,
  ttlMs,
  type WriteMeta,
} from './_shared.ts'

/** A Workers KV binding (`env.SESSIONS`), recognised by shape: the methods this store calls. */
export interface KVNamespaceLike {
  get(key: string, type: 'text'): Promise<string | null>
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<unknown>
  delete(key: string): Promise<unknown>
}

/** Options of `cloudflareKvStore()`. */
export interface CloudflareKvStoreOptions<Ctx = any> {
  /**
   * The KV binding, or a function that finds it in the framework context the engine passes each
   * store call: Hono's `(c) => c.env.SESSIONS`, the fetch adapter's
   * `({ args: [env] }) => env.SESSIONS`. With `import { env } from 'cloudflare:workers'` the
   * binding itself works anywhere, direct calls and revocation lists included.
   */
  namespace: KVNamespaceLike | ((ctx: Ctx) => KVNamespaceLike)
  /**
   * Prefix of every key the store writes: sessions at `<prefix><id>`.
   * @default 'sess:'
   */
  prefix?: string
  /**
   * Merge each request's changed keys into the stored session (read, merge, write, one request
   * per session id at a time in this isolate), so overlapping requests that change different
   * keys both survive. It costs one extra KV read per changed request. KV has no atomic update:
   * across isolates and locations the last write wins. `false` writes the whole session with
   * `put`: last write wins everywhere, one read less.
   * @default true
   */
  merge?: boolean
  /**
   * Clock in epoch milliseconds, for TTLs and for not merging into a session past its deadline;
   * tests inject one to move time.
   * @default Date.now
   */
  now?: () => number
}

/** A session store on Workers KV. */
export interface CloudflareKvStore<Ctx = any> extends MetaStore {
  /** The record stored under `id` (past its deadline too, for the engine to refuse), or undefined. */
  get(id: string, ctx?: Ctx): Promise<unknown>
  /** Writes the record as JSON with `expirationTtl`: the seconds until its deadline, at least 60. */
  set(id: string, record: SessionRecord<any>, ctx?: Ctx, meta?: WriteMeta): Promise<void>
  /** Deletes the record stored under `id`. */
  delete(id: string, ctx?: Ctx): Promise<void>
}

/** KV refuses an `expirationTtl` under 60 seconds. */
export const KV_MIN_TTL = 60

const isNamespace = (v: unknown): v is KVNamespaceLike =>
  typeof v === 'object' &&
  v !== null &&
  ['get', 'put', 'delete'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function')

const checkOptions = object<CloudflareKvStoreOptions>({
  namespace: required(
    is(
      (v): v is CloudflareKvStoreOptions['namespace'] => typeof v === 'function' || isNamespace(v),
      'must be a KV binding (env.SESSIONS) or a function of the context that returns one',
    ),
  ),
  prefix: is((v): v is string => typeof v === 'string', 'must be a string'),
  merge: boolean,
  now: func,
})

/**
 * A session store on Cloudflare Workers KV: one `get` to load, one `put` with an
 * `expirationTtl` to write. KV is eventually consistent (a write or a logout can take 60 s or
 * more to reach other locations) and takes about one write per second per key; see
 * docs/stores-edge.md for what that means for sessions.
 *
 * @example
 * import { env } from 'cloudflare:workers'
 * import { Hono } from 'hono'
 * import { session } from 'sealed-session/hono'
 * import { cloudflareKvStore } from 'sealed-session/stores/cloudflare-kv'
 *
 * const store = cloudflareKvStore({ namespace: env.SESSIONS })
 * export default new Hono().use(session({ secret: env.SESSION_SECRET, store }))
 */
export function cloudflareKvStore<Ctx = any>(
  options: CloudflareKvStoreOptions<Ctx>,
): CloudflareKvStore<Ctx> {
  assertOptions(checkOptions, options)
  const { namespace, prefix = 'sess:', merge = true, now = Date.now } = options
  const keyOf = (id: string) => prefix + id

  function kv(ctx: Ctx | undefined): KVNamespaceLike {
    if (typeof namespace !== 'function') return namespace
    // A direct call (or a revocation list) has no request context to find the binding in.
    if (ctx === undefined) {
      throw new TypeError(
        "cloudflareKvStore: this call has no context to find the KV binding in; pass the context (store.get(id, c)) or the binding itself (import { env } from 'cloudflare:workers')",
      )
    }
    const found = namespace(ctx)
    if (!isNamespace(found)) {
      throw new TypeError('cloudflareKvStore: namespace(ctx) did not return a KV binding')
    }
    return found
  }

  // A patch's read and write, and any put or delete of the same id from this isolate, run one
  // after another: no request here overwrites another's keys or brings back an ended session.
  const exclusive = keyedQueue()

  async function read(ns: KVNamespaceLike, key: string): Promise<unknown> {
    const text = await ns.get(key, 'text')
    return text === null ? undefined : parseStored(text)
  }

  /** Puts `record` until its deadline (60 s at least); a session already over is deleted. */
  async function write(ns: KVNamespaceLike, key: string, record: SessionRecord<any>, at: number) {
    const ttl = ttlMs(record, at)
    if (ttl < 1) return void (await ns.delete(key))
    // Under a minute left still gets KV's minimum; the engine refuses the record at its deadline.
    const expirationTtl = Math.max(KV_MIN_TTL, Math.ceil(ttl / 1000))
    await ns.put(key, JSON.stringify(record), { expirationTtl })
  }

  const store: CloudflareKvStore<Ctx> = {
    // Past its deadline too (KV keeps it up to a minute longer): the engine refuses it as
    // `expired` and deletes it.
    get: async (id, ctx) => read(kv(ctx), keyOf(id)),
    set: async (id, record, ctx, meta) => {
      const ns = kv(ctx)
      const key = keyOf(id)
      await exclusive(key, () => write(ns, key, record, meta?.now ?? now()))
    },
    delete: async (id, ctx) => {
      const ns = kv(ctx)
      const key = keyOf(id)
      await exclusive(key, async () => void (await ns.delete(key)))
    },
  }
  if (merge) {
    store.patch = async (id, record, changes: SessionPatch, ctx?: Ctx, meta?: WriteMeta) => {
      const ns = kv(ctx)
      const key = keyOf(id)
      await exclusive(key, async () => {
        const at = meta?.now ?? now()
        const next = applySessionPatch(liveRecord(await read(ns, key), at), record, changes)
        // Nothing live is stored: the session ended elsewhere and must not come back.
        if (next) await write(ns, key, next, at)
      })
    }
  }
  return store
}
