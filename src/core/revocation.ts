import { isPromise } from '../util/steps.ts'
import { SessionConfigError, type SessionConfigIssue, SessionStoreError } from './errors.ts'
import { isSynchronousStore, mapStore } from './map-store.ts'
import { ownerKey } from './record.ts'
import type { MaybePromise, SessionRecord, SessionRevocation, SessionStore } from './types.ts'
import { func, methods, object, required, seconds, string } from './validate.ts'

export type { SessionRevocation }

// Entries outlive the sessions they stop by this much, for clocks that disagree a little.
const SKEW_MS = 60_000
// The longest a browser keeps a cookie (RFC 6265bis caps Max-Age and Expires at 400 days): how
// long entries live when nothing says how long sessions can live (an admin process, a CLI).
const BROWSER_CAP_MS = 400 * 86_400_000
// A Map store is swept of expired entries once per this many revocations written.
const SWEEP_EVERY = 256

/** Options of `sessionRevocation()`. */
export interface SessionRevocationOptions {
  /**
   * Where revocations are kept, shared by every instance of the app: a `Map` (one process) or
   * any `SessionStore` (`redisStore({ client, prefix: 'revoked:' })`, a database table, …).
   * Entries expire on their own once no cookie they stop can still be valid (a Map is swept as
   * new entries arrive). Not a store that evicts entries early (an LRU with a `max`): an
   * evicted revocation is a revoked session valid again.
   */
  store: SessionStore | Map<string, unknown>
  /**
   * Data key that names a session's user, for `revokeUser()`.
   * @default 'userId'
   */
  userKey?: string
  /**
   * The longest a session of the apps that use this list can live, in seconds: entries that
   * stop a user (`revokeUser()`) or a session whose deadline is not known live this long (plus
   * 60 s), and with this list `renew(maxAge)` is capped to it. An app whose `maxAge` is longer
   * is refused (`SessionConfigError`). Set it when more than one process writes to the list,
   * or when the app calls `renew()` with more than its `maxAge`.
   * @default the largest `maxAge` of the apps that use the list in this process; 400 days (a
   *   browser's cap on a cookie's lifetime) when none does, as in an admin process
   */
  maxAge?: number
  /**
   * Clock in epoch milliseconds; tests inject one.
   * @default Date.now
   */
  now?: () => number
}

interface Entry {
  revokedAt: number
  except?: string
}

/** `call()`, with a failure (thrown or rejected) turned into a `SessionStoreError`. */
function storeCall<T>(op: SessionStoreError['operation'], call: () => unknown): MaybePromise<T> {
  const fail = (err: unknown): never => {
    throw new SessionStoreError(op, err)
  }
  let value: unknown
  try {
    value = call()
  } catch (err) {
    fail(err)
  }
  return (
    isPromise(value) ? Promise.resolve(value).then(undefined, fail) : value
  ) as MaybePromise<T>
}

/** The revocation a stored value holds, unless it has none or outlived its purpose. */
const entryOf = (stored: unknown, now: number): Entry | undefined => {
  const record = stored as Partial<SessionRecord<Partial<Entry>>> | null | undefined
  const data = record?.data
  if (typeof data?.revokedAt !== 'number') return undefined
  // A store without TTLs (a plain Map) may still hold an expired entry.
  if (typeof record?.expiresAt === 'number' && now >= record.expiresAt) return undefined
  return data as Entry
}

const checkOptions = object<SessionRevocationOptions>({
  // A Map has get, set and delete too.
  store: required(
    methods(
      ['get', 'set', 'delete'],
      'must be a Map or an object with get, set and delete methods',
    ),
  ),
  userKey: string([(s) => s !== '', 'must be a non-empty string']),
  maxAge: seconds,
  now: func,
})

class RevocationList implements SessionRevocation {
  readonly userKey: string
  readonly #store: SessionStore
  /** The Map itself when the store is one: it has no TTLs, so expired entries are swept here. */
  readonly #map: Map<string, unknown> | undefined
  #writes = 0
  readonly #now: () => number
  /** The `maxAge` option, in ms. */
  readonly #maxAgeMs: number | undefined
  /** The longest `maxAge` of the engines that use the list, in ms (0: none so far). */
  #retainMs = 0

  constructor(options: SessionRevocationOptions) {
    const issues: SessionConfigIssue[] = []
    checkOptions(options, '', issues)
    if (issues.length > 0) throw new SessionConfigError(issues)
    const store = options.store
    this.#store = store instanceof Map ? mapStore(store) : store
    this.#map = store instanceof Map ? store : undefined
    this.userKey = options.userKey ?? 'userId'
    this.#now = options.now ?? Date.now
    this.#maxAgeMs = options.maxAge === undefined ? undefined : options.maxAge * 1000
    this.synchronous = isSynchronousStore(this.#store)
  }

  readonly synchronous: boolean

  get maxAge(): number {
    return this.#longestMs() / 1000
  }

  retainFor(maxAge: number): void {
    // Its entries would expire while sessions they stop are still valid.
    if (this.#maxAgeMs !== undefined && maxAge * 1000 > this.#maxAgeMs) {
      throw new SessionConfigError([
        {
          path: 'maxAge',
          message: `must not exceed the revocation list's maxAge (${this.#maxAgeMs / 1000} s): raise sessionRevocation({ maxAge })`,
        },
      ])
    }
    this.#retainMs = Math.max(this.#retainMs, maxAge * 1000)
  }

  #longestMs(): number {
    return this.#maxAgeMs ?? (this.#retainMs || BROWSER_CAP_MS)
  }

  // No cookie of a revoked session is issued once the entry is written (a refused session is
  // never refreshed), and none issued before lives past maxAge from now (renew() is capped to
  // it) or past the deadline it carries (one sealed before the cap, or under a longer maxAge).
  #record(entry: Entry, at: number, deadline = 0): SessionRecord<Entry> {
    const expiresAt = Math.max(at + this.#longestMs(), deadline) + SKEW_MS
    return { data: entry, createdAt: at, expiresAt }
  }

  /** Writes one entry; the store's TTL counts from the list's clock. */
  #write(key: string, record: SessionRecord<Entry>): MaybePromise<unknown> {
    this.#sweep()
    return storeCall('set', () =>
      this.#store.set(key, record, undefined, { now: record.createdAt }),
    )
  }

  /** Every 256 writes to a Map, drops the entries whose time is up. */
  #sweep(): void {
    if (!this.#map || ++this.#writes % SWEEP_EVERY !== 0) return
    const now = this.#now()
    for (const [key, value] of this.#map) {
      const expiresAt = (value as Partial<SessionRecord>).expiresAt
      if (typeof expiresAt === 'number' && now >= expiresAt) this.#map.delete(key)
    }
  }

  // Not async: over a Map the engine revokes at logout without waiting (see engine.synchronous).
  revoke(sessionId: string, options?: { expiresAt?: number }): MaybePromise<void> {
    if (typeof sessionId !== 'string' || sessionId === '') {
      return Promise.reject(
        new TypeError('revoke(sessionId) takes the id of a session (session.id)'),
      )
    }
    const deadline = options?.expiresAt
    if (deadline !== undefined && !Number.isFinite(deadline)) {
      return Promise.reject(
        new TypeError(`revoke(id, { expiresAt }) takes epoch milliseconds, got ${deadline}`),
      )
    }
    const at = this.#now()
    const done = this.#write(`sid:${sessionId}`, this.#record({ revokedAt: at }, at, deadline))
    return isPromise(done) ? Promise.resolve(done).then(() => undefined) : undefined
  }

  async revokeUser(userId: string | number, options: { except?: string } = {}): Promise<void> {
    const user = ownerKey(userId)
    if (user === undefined) {
      throw new TypeError(
        `revokeUser(userId) takes a non-empty string or a finite number, got ${typeof userId === 'string' ? '""' : String(userId)}`,
      )
    }
    const at = this.#now()
    const entry: Entry = { revokedAt: at }
    if (options.except !== undefined) entry.except = options.except
    await this.#write(`user:${user}`, this.#record(entry, at))
    // A session created once this resolves (regenerate() right after, in the same request) must
    // count as later than the revocation: wait for the clock to pass `at` (a millisecond or
    // two; bounded, for a clock that a test holds still).
    for (let i = 0; i < 20 && this.#now() <= at; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
  }

  isRevoked(session: { id: string; userId?: unknown; createdAt: number }): MaybePromise<boolean> {
    const byId = storeCall<unknown>('get', () => this.#store.get(`sid:${session.id}`, undefined))
    // 42 and '42' name the same user: numeric primary keys are common.
    const userId = ownerKey(session.userId)
    const now = this.#now()
    if (userId === undefined) {
      return isPromise(byId)
        ? Promise.resolve(byId).then((s) => entryOf(s, now) !== undefined)
        : entryOf(byId, now) !== undefined
    }
    // Both lookups at once: with a network store, one round trip of time instead of two.
    const byUser = storeCall<unknown>('get', () => this.#store.get(`user:${userId}`, undefined))
    const decide = (sid: unknown, user: unknown): boolean => {
      if (entryOf(sid, now)) return true
      const u = entryOf(user, now)
      return u !== undefined && session.createdAt <= u.revokedAt && u.except !== session.id
    }
    if (isPromise(byId) || isPromise(byUser)) {
      return Promise.all([byId, byUser]).then(([sid, user]) =>
        decide(sid, user),
      ) as Promise<boolean>
    }
    return decide(byId, byUser)
  }
}

/**
 * Creates a revocation list for sealed sessions; pass it as the `revocation` option.
 *
 * @example
 * const revocation = sessionRevocation({ store: new Map() })
 * const app = new Hono().use(session({ secret, revocation }))
 *   .post('/logout-everywhere', async (c) => {
 *     await revocation.revokeUser(c.session.userId)
 *     c.session = null
 *     return c.redirect('/')
 *   })
 */
export function sessionRevocation(options: SessionRevocationOptions): SessionRevocation {
  return new RevocationList(options)
}
