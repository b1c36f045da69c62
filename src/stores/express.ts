import { keyedQueue } from '../core/queue.ts'
import { applySessionPatch, sessionDeadline } from '../core/record.ts'
import type { SessionRecord } from '../core/types.ts'
import { boolean, func, methods, object, required } from '../core/validate.ts'
import { assertOptions, type MetaStore } from './_shared.ts'

type Callback = (err?: unknown, value?: any) => void

/**
 * An express-session store, recognised by shape: the callback API of `express-session`'s `Store`
 * (connect-redis, connect-pg-simple, connect-mongo, …).
 */
export interface ExpressSessionStoreLike {
  get(sid: string, callback: Callback): unknown
  set(sid: string, session: any, callback?: Callback): unknown
  destroy(sid: string, callback?: Callback): unknown
}

/** Options of `expressStore()`. */
export interface ExpressStoreOptions {
  /**
   * Merge each request's changed keys into the stored session (read, merge, write, one request
   * per session id at a time in this process), so overlapping requests that change different
   * keys both survive. It costs one extra `get` per changed request. Express-session stores
   * have no atomic update, so across processes the last write still wins. `false` writes the
   * whole session with `set`: last write wins everywhere, one store call less.
   * @default true
   */
  merge?: boolean
  /**
   * Clock in epoch milliseconds, for the cookie's `maxAge` handed to the wrapped store and for
   * not merging a patch into a session past its deadline; tests inject one to move time.
   * @default Date.now
   */
  now?: () => number
}

/** The session object handed to the wrapped store: our record plus the cookie it reads a TTL from. */
interface ExpressShaped extends SessionRecord<Record<string, unknown>> {
  cookie: {
    /** Lifetime in milliseconds when the session was written. */
    originalMaxAge: number
    /** Milliseconds left, for stores that read `maxAge` (express-session's Cookie has a getter). */
    maxAge: number
    /** The record's deadline; connect-redis, connect-pg-simple and others derive their TTL from it. */
    expires: Date
    httpOnly: boolean
    path: string
  }
}

/** Calls a callback-style method, settling on whichever comes first: callback or rejected promise. */
function callback<T>(invoke: (cb: Callback) => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cb: Callback = (err, value) => (err ? reject(err) : resolve(value))
    try {
      const returned = invoke(cb)
      // Some stores also return a promise; a rejection there must not go unhandled.
      if (returned && typeof (returned as Promise<unknown>).then === 'function') {
        ;(returned as Promise<unknown>).then(undefined, reject)
      }
    } catch (err) {
      reject(err)
    }
  })
}

function toExpress(record: SessionRecord<any>, now: number): ExpressShaped {
  const deadline = sessionDeadline(record)
  const left = Math.max(0, deadline - now)
  return {
    ...record,
    cookie: {
      originalMaxAge: left,
      maxAge: left,
      expires: new Date(deadline),
      httpOnly: true,
      path: '/',
    },
  }
}

// The store is the first argument; its options are checked beside it, in one error.
const checkArguments = object<ExpressStoreOptions & { store: ExpressSessionStoreLike }>({
  store: required(
    methods(['get', 'set', 'destroy'], 'must be an express-session store (get, set and destroy)'),
  ),
  merge: boolean,
  now: func,
})

/**
 * Wraps any express-session store (connect-redis, connect-pg-simple, …) as a session store.
 * Changed keys are merged per session id within this process; across processes the last write
 * wins, since express-session stores have no atomic update.
 *
 * It has no device API (`listSessions`, `destroySession`, `allSessions`, `touch`): an
 * express-session store keeps no per-user index, its optional `all()` (which not every store has)
 * loads every session at once, and it has no way to record last seen without rewriting the whole
 * session. Use memory, Redis, SQLite or Postgres for "sign out other devices".
 *
 * @example
 * import { RedisStore } from 'connect-redis'
 * import { expressStore } from 'sealed-session/stores/express'
 *
 * const store = expressStore(new RedisStore({ client: redisClient, prefix: 'myapp:' }))
 * app.use(session({ secret: process.env.SESSION_SECRET, store }))
 */
export function expressStore(
  store: ExpressSessionStoreLike,
  options: ExpressStoreOptions = {},
): MetaStore {
  assertOptions(checkArguments, { store, ...options })
  const { merge = true, now = Date.now } = options
  // Per-id queue: a merge's read and write, and any set or delete of the same id from this
  // process, run one after another, so no request in this process overwrites another's keys
  // or brings back a session another request just ended.
  const exclusive = keyedQueue()

  /** What the wrapped store holds for `id`, past our deadline or not. */
  const read = async (id: string): Promise<unknown> => {
    const value = await callback<unknown>((cb) => store.get(id, cb))
    if (value === null || value === undefined) return undefined
    if (typeof value !== 'object') return value
    // The cookie object is the wrapped store's business; the engine checks the rest.
    const { cookie: _cookie, ...record } = value as Record<string, unknown>
    return record
  }
  /** The live record: the wrapped store expires by its own clock, ours decides. */
  const live = async (id: string): Promise<unknown> => {
    const record = await read(id)
    if (typeof record !== 'object' || record === null) return undefined
    const deadline = sessionDeadline(record as SessionRecord<unknown>)
    return deadline <= now() ? undefined : record
  }
  const write = (id: string, record: SessionRecord<any>, at: number) =>
    callback<void>((cb) => store.set(id, toExpress(record, at), cb))

  const wrapped: MetaStore = {
    // Past its deadline too, so the engine can tell `expired` from `not-found` (and delete it).
    get: (id) => read(id),
    set: (id, record, _ctx, meta) => exclusive(id, () => write(id, record, meta?.now ?? now())),
    delete: (id) => exclusive(id, () => callback<void>((cb) => store.destroy(id, cb))),
  }
  if (merge) {
    wrapped.patch = (id, record, changes, _ctx, meta) =>
      exclusive(id, async () => {
        const next = applySessionPatch(await live(id), record, changes)
        // Nothing stored: the session ended elsewhere and must not come back.
        if (next) await write(id, next, meta?.now ?? now())
      })
  }
  return wrapped
}
