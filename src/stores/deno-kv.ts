import { keyedQueue } from '../core/queue.ts'
import { applySessionPatch } from '../core/record.ts'
import type { SessionPatch, SessionRecord } from '../core/types.ts'
import { func, is, methods, object, required } from '../core/validate.ts'
import { assertOptions, liveRecord, type MetaStore, ttlMs, type WriteMeta } from './_shared.ts'

/** One part of a Deno KV key. */
export type DenoKvKeyPart = string | number | bigint | boolean | Uint8Array

/** A Deno KV key: its parts, outermost first. */
export type DenoKvKey = readonly DenoKvKeyPart[]

/** What `kv.get` answers: the value (`null` when none) and its versionstamp. */
export interface DenoKvEntryLike {
  key: DenoKvKey
  value: unknown
  versionstamp: string | null
}

/** An atomic operation of Deno KV, as far as this store uses it. */
export interface DenoKvAtomicLike {
  check(...checks: { key: DenoKvKey; versionstamp: string | null }[]): DenoKvAtomicLike
  set(key: DenoKvKey, value: unknown, options?: { expireIn?: number }): DenoKvAtomicLike
  commit(): Promise<{ ok: boolean }>
}

/** A `Deno.Kv` (`await Deno.openKv()`), recognised by shape: the methods this store calls. */
export interface DenoKvLike {
  get(key: DenoKvKey): Promise<DenoKvEntryLike>
  set(key: DenoKvKey, value: unknown, options?: { expireIn?: number }): Promise<unknown>
  delete(key: DenoKvKey): Promise<unknown>
  atomic(): DenoKvAtomicLike
}

/** Options of `denoKvStore()`. */
export interface DenoKvStoreOptions {
  /** An open `Deno.Kv` the app made (`await Deno.openKv()`); the store never opens or closes one. */
  kv: DenoKvLike
  /**
   * Key parts before the session id: sessions live at `[...prefix, id]`.
   * @default ['sess']
   */
  prefix?: DenoKvKey
  /**
   * Clock in epoch milliseconds, for `expireIn` and for not merging into a session past its
   * deadline; tests inject one to move time.
   * @default Date.now
   */
  now?: () => number
}

/** A session store on Deno KV. */
export interface DenoKvStore extends MetaStore {
  /** The record stored under `id` (past its deadline too, for the engine to refuse), or undefined. */
  get(id: string, ctx?: unknown): Promise<unknown>
  /** Writes the record with `expireIn`: the milliseconds until its deadline. */
  set(id: string, record: SessionRecord<any>, ctx?: unknown, meta?: WriteMeta): Promise<void>
  /** Merges one request's changed keys in an atomic operation checked against the read's versionstamp. */
  patch(
    id: string,
    record: SessionRecord<any>,
    patch: SessionPatch,
    ctx?: unknown,
    meta?: WriteMeta,
  ): Promise<void>
  /** Deletes the record stored under `id`. */
  delete(id: string, ctx?: unknown): Promise<void>
}

/** How many times a patch reads and commits before it gives up on a session others keep writing. */
export const PATCH_ATTEMPTS = 8

const isKeyPart = (v: unknown): v is DenoKvKeyPart =>
  ['string', 'number', 'bigint', 'boolean'].includes(typeof v) || v instanceof Uint8Array

const checkOptions = object<DenoKvStoreOptions>({
  kv: required(
    methods(['get', 'set', 'delete', 'atomic'], 'must be a Deno.Kv (await Deno.openKv())'),
  ),
  prefix: is(
    (v): v is DenoKvKey => Array.isArray(v) && v.every(isKeyPart),
    'must be an array of key parts (strings, numbers, bigints, booleans or Uint8Arrays)',
  ),
  now: func,
})

/**
 * A session store on Deno KV (local SQLite, or Deno Deploy's global KV): one `get` to load, one
 * `set` with `expireIn` to write; a change is merged in an atomic operation checked against the
 * versionstamp it read, retried when another write came in between, so overlapping requests
 * that change different keys both survive on every instance. Needs `--unstable-kv` on Deno 2.
 *
 * @example
 * import { Hono } from 'npm:hono'
 * import { session } from 'npm:sealed-session/hono'
 * import { denoKvStore } from 'npm:sealed-session/stores/deno-kv'
 *
 * const store = denoKvStore({ kv: await Deno.openKv() })
 * const app = new Hono().use(session({ secret: Deno.env.get('SESSION_SECRET'), store }))
 * Deno.serve(app.fetch)
 */
export function denoKvStore(options: DenoKvStoreOptions): DenoKvStore {
  assertOptions(checkOptions, options)
  const { kv, prefix = ['sess'], now = Date.now } = options
  const keyOf = (id: string): DenoKvKey => [...prefix, id]
  // Patches of one id from this instance run one after another, so they never race each
  // other; the versionstamp check covers writes from other instances.
  const exclusive = keyedQueue()

  return {
    // Past its deadline too (Deno KV deletes expired keys lazily): the engine refuses it as
    // `expired` and deletes it.
    async get(id) {
      return (await kv.get(keyOf(id))).value ?? undefined
    },

    async set(id, record, _ctx, meta) {
      const ttl = ttlMs(record, meta?.now ?? now())
      // Already past its deadline: nothing to keep, and no stale copy may linger.
      if (ttl < 1) return void (await kv.delete(keyOf(id)))
      await kv.set(keyOf(id), record, { expireIn: ttl })
    },

    async patch(id, record, changes: SessionPatch, _ctx, meta) {
      const key = keyOf(id)
      const at = meta?.now ?? now()
      const ttl = ttlMs(record, at)
      if (ttl < 1) return void (await kv.delete(key))
      await exclusive(id, async () => {
        for (let attempt = 0; attempt < PATCH_ATTEMPTS; attempt++) {
          const entry = await kv.get(key)
          const next = applySessionPatch(liveRecord(entry.value, at), record, changes)
          // Nothing live is stored: the session ended elsewhere and must not come back.
          if (!next) return
          const committed = await kv
            .atomic()
            .check({ key, versionstamp: entry.versionstamp })
            .set(key, next, { expireIn: ttl })
            .commit()
          if (committed.ok) return
          // Beaten by another instance's write: wait a random while (doubling per attempt),
          // so an instance with a queue of patches cannot win every round against this one.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 ** attempt))
        }
        throw new Error(
          `denoKvStore: patch gave up after ${PATCH_ATTEMPTS} attempts, each beaten by another write to the session`,
        )
      })
    },

    async delete(id) {
      await kv.delete(keyOf(id))
    },
  }
}
