import { SessionConfigError, SessionStoreError } from './errors.ts'
import { isSynchronousStore, mapStore } from './map-store.ts'
import { chain, type MaybePromise, settle } from './maybe.ts'
import type { SessionRecord, SessionStore } from './types.ts'

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

/**
 * A revocation list for sealed sessions. A sealed cookie is valid until it expires wherever it
 * is replayed; with a revocation list, each request also asks the list, so a revoked session
 * is refused on its next request on every instance (`onInvalid('revoked')`, a fresh session).
 *
 * @example
 * const revocation = sessionRevocation({ store: redisStore({ client, prefix: 'revoked:' }) })
 * app.use(session({ secret, revocation }))
 * await revocation.revokeUser(userId, { except: c.session.id }) // log out the other devices
 */
export interface SessionRevocation {
  /** Revokes one session by its id (`session.id`). */
  revoke(sessionId: string): Promise<void>
  /**
   * Revokes every session of `userId` (its data's `userKey`) created until now, but `except`.
   * Sessions created later, such as the next login, are not affected.
   */
  revokeUser(userId: string, options?: { except?: string }): Promise<void>
  /**
   * Whether a session is revoked: by its id, or by its user (`userId`, the value of `userKey`
   * in its data) when it was created (`createdAt`, epoch ms) before the user's revocation.
   */
  isRevoked(session: { id: string; userId?: unknown; createdAt: number }): MaybePromise<boolean>
  /** The data key that names a session's user. */
  readonly userKey: string
}

interface Entry {
  revokedAt: number
  except?: string
}

const RETAIN = Symbol.for('sealed-session.revocation.retain')

/** True when `revocation` answers without waiting (it keeps its entries in a `Map`). */
export function isSynchronousRevocation(revocation: SessionRevocation): boolean {
  return revocation instanceof RevocationList && revocation.synchronous
}

/** Makes `revocation` keep its entries at least `ms` milliseconds (an engine's `maxAge`). */
export function retainRevocations(revocation: SessionRevocation, ms: number): void {
  ;(revocation as { [RETAIN]?: (ms: number) => void })[RETAIN]?.(ms)
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
    const store = options.store
    const isStore =
      store instanceof Map ||
      (typeof store === 'object' &&
        store !== null &&
        ['get', 'set', 'delete'].every((m) => typeof (store as any)[m] === 'function'))
    if (!isStore) {
      throw new SessionConfigError([
        { path: 'store', message: 'must be a Map or an object with get, set and delete methods' },
      ])
    }
    if (
      options.userKey !== undefined &&
      (typeof options.userKey !== 'string' || !options.userKey)
    ) {
      throw new SessionConfigError([{ path: 'userKey', message: 'must be a non-empty string' }])
    }
    this.#store = store instanceof Map ? mapStore(store) : store
    this.#map = store instanceof Map ? store : undefined
    this.userKey = options.userKey ?? 'userId'
    this.#now = options.now ?? Date.now
  }

  /** Its store answers synchronously. */
  get synchronous(): boolean {
    return isSynchronousStore(this.#store)
  }

  [RETAIN](ms: number): void {
    this.#retain = Math.max(this.#retain, ms)
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

  #call<T>(op: SessionStoreError['operation'], call: () => unknown): MaybePromise<T> {
    return settle(
      call as () => MaybePromise<T>,
      (v) => v,
      (err) => {
        throw new SessionStoreError(op, err)
      },
    )
  }

  async revoke(sessionId: string): Promise<void> {
    if (typeof sessionId !== 'string' || sessionId === '') {
      throw new TypeError('revoke(sessionId) takes the id of a session (session.id)')
    }
    const at = this.#now()
    this.#sweep()
    await this.#call('set', () =>
      this.#store.set(`sid:${sessionId}`, this.#record({ revokedAt: at }), undefined),
    )
  }

  async revokeUser(userId: string, options: { except?: string } = {}): Promise<void> {
    if (typeof userId !== 'string' || userId === '') {
      throw new TypeError('revokeUser(userId) takes a non-empty user id')
    }
    const entry: Entry = { revokedAt: this.#now() }
    if (options.except !== undefined) entry.except = options.except
    this.#sweep()
    await this.#call('set', () => this.#store.set(`user:${userId}`, this.#record(entry), undefined))
  }

  isRevoked(session: { id: string; userId?: unknown; createdAt: number }): MaybePromise<boolean> {
    const byId = this.#call<unknown>('get', () => this.#store.get(`sid:${session.id}`, undefined))
    const userId = session.userId
    const now = this.#now()
    if (typeof userId !== 'string' || userId === '') {
      return chain(byId, (s) => entryOf(s, now) !== undefined)
    }
    // Both lookups at once: with a network store, one round trip of time instead of two.
    const byUser = this.#call<unknown>('get', () => this.#store.get(`user:${userId}`, undefined))
    const decide = (sid: unknown, user: unknown): boolean => {
      if (entryOf(sid, now)) return true
      const u = entryOf(user, now)
      return u !== undefined && session.createdAt <= u.revokedAt && u.except !== session.id
    }
    if (byId instanceof Promise || byUser instanceof Promise) {
      return Promise.all([byId, byUser]).then(([sid, user]) => decide(sid, user))
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
