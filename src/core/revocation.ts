import { isPromise } from '../util/steps.ts'
import { SessionConfigError, type SessionConfigIssue, SessionStoreError } from './errors.ts'
import { isSynchronousStore, mapStore } from './map-store.ts'
import { ownerKey } from './record.ts'
import type { MaybePromise, SessionRecord, SessionRevocation, SessionStore } from './types.ts'
import { func, methods, object, required, string } from './validate.ts'

export type { SessionRevocation }

// Entries outlive the sessions they stop by this much, for clocks that disagree a little.
const SKEW_MS = 60_000
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
  now: func,
})

class RevocationList implements SessionRevocation {
  readonly userKey: string
  readonly #store: SessionStore
  /** The Map itself when the store is one: it has no TTLs, so expired entries are swept here. */
  readonly #map: Map<string, unknown> | undefined
  #writes = 0
  readonly #now: () => number
  /** How long an entry must stop cookies: the longest `maxAge` of the engines that use it. */
  #retain = 0

  constructor(options: SessionRevocationOptions) {
    const issues: SessionConfigIssue[] = []
    checkOptions(options, '', issues)
    if (issues.length > 0) throw new SessionConfigError(issues)
    const store = options.store
    this.#store = store instanceof Map ? mapStore(store) : store
    this.#map = store instanceof Map ? store : undefined
    this.userKey = options.userKey ?? 'userId'
    this.#now = options.now ?? Date.now
    this.synchronous = isSynchronousStore(this.#store)
  }

  readonly synchronous: boolean

  retainFor(maxAge: number): void {
    this.#retain = Math.max(this.#retain, maxAge * 1000)
  }

  // A revoked cookie can be valid for at most one maxAge more: a refused session is never
  // refreshed, so its deadline stays where it was when the revocation was written.
  #record(entry: Entry): SessionRecord<Entry> {
    const at = this.#now()
    return { data: entry, createdAt: at, expiresAt: at + this.#retain + SKEW_MS }
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
  revoke(sessionId: string): MaybePromise<void> {
    if (typeof sessionId !== 'string' || sessionId === '') {
      return Promise.reject(
        new TypeError('revoke(sessionId) takes the id of a session (session.id)'),
      )
    }
    const at = this.#now()
    this.#sweep()
    const done = storeCall<unknown>('set', () =>
      this.#store.set(`sid:${sessionId}`, this.#record({ revokedAt: at }), undefined),
    )
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
    this.#sweep()
    await storeCall('set', () => this.#store.set(`user:${user}`, this.#record(entry), undefined))
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
