import { isPromise } from '../util/steps.ts'
import { DeviceRegistry, indexStore, OWNER_MARK } from './device-registry.ts'
import { SessionConfigError, type SessionConfigIssue } from './errors.ts'
import { isSynchronousStore, mapStore } from './map-store.ts'
import { ownerKey } from './record.ts'
import { storeCall, warnNotARecord } from './store-call.ts'
import type {
  MaybePromise,
  SealedSessionInfo,
  SessionDevices,
  SessionRecord,
  SessionRevocation,
  SessionStore,
  UserSessionIndex,
} from './types.ts'
import { boolean, func, is, methods, object, required, seconds, string } from './validate.ts'

export type { SealedSessionInfo, SessionDevices, SessionRevocation }

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
   * new entries arrive). Entries are written with `WriteMeta.keep`: a store that evicts for room
   * must not evict them (`memoryStore` keeps them outside its `max`), since an evicted
   * revocation is a revoked session valid again.
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
   * Keep a device registry when `store` has a per-user index (`memoryStore`, `redisStore`,
   * `sqliteStore`, `postgresStore`): each login is registered there, and the list gains
   * `listSessions()`, `destroySession()` and `destroyUserSessions()` (see docs/devices-sealed.md).
   * `false` keeps the list to revocations (no registry writes).
   * @default true
   */
  devices?: boolean
  /**
   * With a device registry: seconds between two writes of a session's last-seen time on reads,
   * per session and process, so "last active" stays true without a write per request. `0` turns
   * the read-time writes off (entries then move only when the session is sealed).
   * @default 60
   */
  touchAfter?: number
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

/**
 * What a store answers for a key that is neither an entry nor empty (the JSON text it stored, a
 * row): a revocation of everything the key names, since what it revokes cannot be read. Failing
 * open would let every revoked session back in without a word.
 */
const UNREADABLE: Entry = Object.freeze({ revokedAt: Number.POSITIVE_INFINITY })
const UNREADABLE_OUTCOME =
  'this revocation list counts such an entry as revoking every session its key names (sid:<id>, user:<id>)'

/** The revocation a stored value holds, unless it has none or outlived its purpose. */
function entryOf(stored: unknown, now: number, store: object): Entry | undefined {
  if (stored === undefined || stored === null) return undefined
  const record = stored as Partial<SessionRecord<Partial<Entry>>>
  const data = record.data
  if (typeof data?.revokedAt !== 'number') {
    warnNotARecord(store, stored, UNREADABLE_OUTCOME)
    return UNREADABLE
  }
  // A store without TTLs (a plain Map) may still hold an expired entry.
  if (typeof record.expiresAt === 'number' && now >= record.expiresAt) return undefined
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
  devices: boolean,
  touchAfter: is(
    (v): v is number => typeof v === 'number' && v >= 0 && v !== Infinity,
    'must be a number of seconds, 0 or more',
  ),
  now: func,
})

const DEFAULT_TOUCH_AFTER = 60

/** How a device method names a bad user id. */
const userIdError = (method: string, userId: unknown) =>
  new TypeError(
    `${method}(userId) takes a non-empty string or a finite number, got ${typeof userId === 'string' ? '""' : String(userId)}`,
  )

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
  /** The device registry, when the store has a per-user index (and `devices` is not false). */
  readonly #devices: DeviceRegistry | undefined
  readonly seen?: SessionRevocation['seen']

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
    const index = options.devices === false || this.#map ? undefined : indexStore(store)
    if (index) {
      const touchMs = (options.touchAfter ?? DEFAULT_TOUCH_AFTER) * 1000
      const devices = new DeviceRegistry(index, this.userKey, touchMs, this.#now)
      this.#devices = devices
      this.seen = (record, request, sealing) => devices.seen(record, request, sealing)
    }
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
      this.#store.set(key, record, undefined, { now: record.createdAt, keep: true }),
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
    // Revoked first: a registry entry that outlives a failure is only a stale line in a list.
    const devices = this.#devices
    if (devices) {
      return Promise.resolve(done)
        .then(() => devices.unregister(sessionId))
        .then(() => undefined)
    }
    return isPromise(done) ? Promise.resolve(done).then(() => undefined) : undefined
  }

  async revokeUser(userId: string | number, options?: { except?: string }): Promise<void> {
    const user = this.#user('revokeUser', userId)
    const except = exceptOf('revokeUser', options)
    const at = this.#now()
    const entry: Entry = { revokedAt: at }
    if (except !== undefined) entry.except = except
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
    let userId = ownerKey(session.userId)
    // No revokeUser() takes it (see #user), and on Redis its key is a registry index.
    if (this.#devices && userId?.startsWith(OWNER_MARK)) userId = undefined
    const now = this.#now()
    const store = this.#store
    if (userId === undefined) {
      return isPromise(byId)
        ? Promise.resolve(byId).then((s) => entryOf(s, now, store) !== undefined)
        : entryOf(byId, now, store) !== undefined
    }
    // Both lookups at once: with a network store, one round trip of time instead of two.
    const byUser = storeCall<unknown>('get', () => this.#store.get(`user:${userId}`, undefined))
    const decide = (sid: unknown, user: unknown): boolean => {
      if (entryOf(sid, now, store)) return true
      const u = entryOf(user, now, store)
      return u !== undefined && session.createdAt <= u.revokedAt && u.except !== session.id
    }
    if (isPromise(byId) || isPromise(byUser)) {
      return Promise.all([byId, byUser]).then(([sid, user]) =>
        decide(sid, user),
      ) as Promise<boolean>
    }
    return decide(byId, byUser)
  }

  async listSessions(userId: string | number): Promise<SealedSessionInfo[]> {
    const devices = this.#registry('listSessions')
    const user = this.#user('listSessions', userId)
    const listed = await devices.list(user)
    if (listed.length === 0) return listed
    // Only what the list would let in: an entry can outlive its revocation (revokeUser() called
    // alone, or a request that raced a destroySession() and wrote last).
    const get = (key: string) => storeCall<unknown>('get', () => this.#store.get(key, undefined))
    const [byUser, ...byId] = await Promise.all([
      get(`user:${user}`),
      ...listed.map((s) => get(`sid:${s.id}`)),
    ])
    const now = this.#now()
    const u = entryOf(byUser, now, this.#store)
    const live: SealedSessionInfo[] = []
    const revoked: string[] = []
    for (const [i, s] of listed.entries()) {
      const gone =
        entryOf(byId[i], now, this.#store) || (u && s.createdAt <= u.revokedAt && u.except !== s.id)
      if (gone) revoked.push(s.id)
      else live.push(s)
    }
    await Promise.all(revoked.map((id) => devices.unregister(id)))
    return live
  }

  async destroySession(userId: string | number, sessionId: string): Promise<boolean> {
    const devices = this.#registry('destroySession')
    const user = this.#user('destroySession', userId)
    // The id often comes from a form: anything but a registered session of this user is false.
    if (typeof sessionId !== 'string' || sessionId === '') return false
    const entry = await devices.owned(user, sessionId)
    if (!entry) return false
    const query = { id: sessionId, userId: user, createdAt: entry.createdAt }
    if (await this.isRevoked(query)) {
      await devices.unregister(sessionId)
      return false
    }
    await this.revoke(sessionId, { expiresAt: entry.expiresAt })
    return true
  }

  async destroyUserSessions(
    userId: string | number,
    options?: { except?: string },
  ): Promise<number> {
    const devices = this.#registry('destroyUserSessions')
    const user = this.#user('destroyUserSessions', userId)
    const except = exceptOf('destroyUserSessions', options)
    // Every session of the user created until now, registered or not; then the list.
    await this.revokeUser(user, except === undefined ? {} : { except })
    return devices.unregisterUser(user, except)
  }

  /** The registry, or the developer error of a list that keeps none. */
  #registry(method: string): DeviceRegistry {
    if (this.#devices) return this.#devices
    const why = this.#map
      ? 'a Map'
      : indexStore(this.#store)
        ? 'a list made with devices: false'
        : 'a store without a per-user index'
    throw new SessionConfigError([
      {
        path: 'store',
        message: `${method}() needs a device registry, which ${why} does not keep: give sessionRevocation() a memoryStore, redisStore, sqliteStore or postgresStore (revoke() and revokeUser() work on any store)`,
      },
    ])
  }

  /** A user id by its string form, or the `TypeError` of `method`. */
  #user(method: string, userId: unknown): string {
    const user = ownerKey(userId)
    if (user === undefined) throw userIdError(method, userId)
    if (this.#devices && user.startsWith(OWNER_MARK)) {
      throw new TypeError(
        `${method}(userId): a user id may not start with U+0001 where the list keeps devices (it marks registry entries)`,
      )
    }
    return user
  }
}

/** The `except` of an options object; anything else in its place is a `TypeError`. */
function exceptOf(method: string, options: unknown): string | undefined {
  if (options === undefined) return undefined
  // `destroyUserSessions(id, c.session.id)` must not read as "no exception": it would end the
  // very session that asked.
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(
      `${method}(userId, options) takes an options object ({ except: sessionId }), got ${typeof options === 'string' ? 'a string' : String(options)}`,
    )
  }
  const except = (options as { except?: unknown }).except
  if (except === undefined || (typeof except === 'string' && except !== '')) return except
  throw new TypeError(`${method}(userId, { except }) takes a session id (session.id)`)
}

/**
 * Creates a revocation list for sealed sessions; pass it as the `revocation` option. Over a store
 * with a per-user index (memoryStore, redisStore, sqliteStore, postgresStore) it also keeps a
 * device registry: `listSessions()`, `destroySession()`, `destroyUserSessions()`.
 *
 * @example
 * const revocation = sessionRevocation({ store: redisStore({ client, prefix: 'revoked:' }) })
 * await revocation.destroySession(c.session.userId, deviceId) // "sign out that device"
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
export function sessionRevocation<const Options extends SessionRevocationOptions>(
  options: Options,
): RevocationFor<Options> {
  return new RevocationList(options) as unknown as RevocationFor<Options>
}

/**
 * What `sessionRevocation(options)` returns: with a store that keeps a per-user index (and
 * `devices` not false), a list with the device methods too (`SessionDevices`).
 */
export type RevocationFor<Options extends SessionRevocationOptions> = Options extends {
  devices: false
}
  ? SessionRevocation
  : Options['store'] extends UserSessionIndex
    ? SessionRevocation & SessionDevices
    : SessionRevocation
