// The device registry of a revocation list: which sealed sessions each user has, kept in a
// revocation store with a per-user index (memoryStore, redisStore, sqliteStore, postgresStore)
// so sealed mode can list a user's devices and end one. Only sessionRevocation() imports it.
import { BoundedCache } from '../util/cache.ts'
import { isPromise } from '../util/steps.ts'
import { asRecord, isExpired, sessionDeadline, userIdOf } from './record.ts'
import { storeCall } from './store-call.ts'
import type {
  MaybePromise,
  SealedSessionInfo,
  SessionRecord,
  SessionRequest,
  SessionStore,
  UserSessionIndex,
} from './types.ts'

/** Registry entries live at `dev:<session id>`, apart from the list's `sid:` and `user:` entries. */
const PREFIX = 'dev:'
/**
 * Starts the owner an entry is indexed under. redisStore keeps a user's index at
 * `<prefix>user:<owner>`, the very key `revokeUser(owner)` writes: a marked owner is never a
 * user id the list accepts, so the two cannot meet.
 */
export const OWNER_MARK = '\u0001'
/** Sessions whose last registry write this process remembers (for the throttle). */
const REMEMBERED = 10_000

type IndexStore = SessionStore & UserSessionIndex & { userKey?: unknown }

/** What this process last wrote for one session. */
interface Written {
  at: number
  owner: string
  expiresAt: number
  idleExpiresAt: number | undefined
}

/** The store, when it keeps a per-user index the registry can use (found by its methods). */
export function indexStore(store: SessionStore): IndexStore | undefined {
  const s = store as Partial<IndexStore>
  if (typeof s.listSessions !== 'function' || typeof s.destroyUserSessions !== 'function') return
  // redisStore with `userKey: false` keeps no index.
  return s.userKey === false ? undefined : (s as IndexStore)
}

const noop = () => {}

/** The later of two deadlines, where undefined (no idle deadline) is the later one. */
const later = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : Math.max(a, b)

export class DeviceRegistry {
  readonly #store: IndexStore
  /** The data key the store indexes by. */
  readonly #indexKey: string
  /** The data key that names a session's user (the list's `userKey`). */
  readonly #userKey: string
  readonly #touchMs: number
  readonly #now: () => number
  readonly #written = new BoundedCache<string, Written>(REMEMBERED)

  constructor(store: IndexStore, userKey: string, touchMs: number, now: () => number) {
    this.#store = store
    this.#indexKey = typeof store.userKey === 'string' ? store.userKey : 'userId'
    this.#userKey = userKey
    this.#touchMs = touchMs
    this.#now = now
  }

  /**
   * A session was opened (`sealing` false) or is being sealed: writes its entry when this process
   * has not written it yet, when the owner or a deadline changed (a seal), or when the last-seen
   * time is `touchMs` old. Anything else, a plain read within the window, writes nothing.
   */
  seen(record: SessionRecord<any>, request: SessionRequest, sealing: boolean): MaybePromise<void> {
    const user = userIdOf(record.data, this.#userKey)
    const sid = record.sid
    if (user === undefined || user.startsWith(OWNER_MARK) || sid === undefined) return
    const owner = OWNER_MARK + user
    const now = this.#now()
    const last = this.#written.get(sid)
    const due = this.#touchMs > 0 && (!last || now - last.at >= this.#touchMs)
    let { expiresAt, idleExpiresAt } = record
    if (sealing) {
      const same =
        last?.owner === owner &&
        expiresAt === last.expiresAt &&
        sessionDeadline(record) === sessionDeadline(last)
      if (same && !due) return
    } else {
      if (!due) return
      // An older cookie of the session than the one this process sealed last: keep the later.
      if (last?.owner === owner) {
        expiresAt = Math.max(expiresAt, last.expiresAt)
        idleExpiresAt = later(idleExpiresAt, last.idleExpiresAt)
      }
    }
    const entry: SessionRecord = {
      data: { [this.#indexKey]: owner },
      createdAt: record.createdAt,
      expiresAt,
    }
    if (idleExpiresAt !== undefined) entry.idleExpiresAt = idleExpiresAt
    const meta = { now, userId: owner, userAgent: request.header('user-agent') || undefined }
    const write = () => this.#store.set(PREFIX + sid, entry, undefined, meta)
    const written: Written = { at: now, owner, expiresAt, idleExpiresAt }
    if (!sealing) {
      // Only the last-seen time is at stake on a read that passed its check: a store that
      // refuses writes (a replica during a failover) must not fail it. Tried again next window.
      this.#written.set(sid, written)
      try {
        const done = write()
        if (isPromise(done)) return Promise.resolve(done).then(noop, noop)
      } catch {}
      return
    }
    // A login or a new deadline: not wrapped, the engine turns a failure into its SessionStoreError.
    const done = write()
    const remember = () => this.#written.set(sid, written)
    return isPromise(done) ? Promise.resolve(done).then(remember) : remember()
  }

  /** Removes a session's entry (logout, revoke). */
  unregister(sid: string): MaybePromise<void> {
    this.#written.delete(sid)
    return storeCall('delete', () => this.#store.delete(PREFIX + sid, undefined))
  }

  /** The user's registered sessions, as the store lists them (revoked ones not taken out yet). */
  async list(user: string): Promise<SealedSessionInfo[]> {
    const listed = await storeCall<Awaited<ReturnType<IndexStore['listSessions']>>>('get', () =>
      this.#store.listSessions(OWNER_MARK + user),
    )
    const out: SealedSessionInfo[] = []
    for (const s of listed) {
      if (!s.id.startsWith(PREFIX)) continue
      const info: SealedSessionInfo = {
        id: s.id.slice(PREFIX.length),
        userId: user,
        createdAt: s.createdAt,
        lastSeenAt: s.lastSeenAt,
        expiresAt: s.expiresAt,
      }
      if (s.userAgent !== undefined) info.userAgent = s.userAgent
      out.push(info)
    }
    return out
  }

  /** The entry of `sid` when it is live and registered to `user`. */
  async owned(user: string, sid: string): Promise<SessionRecord | undefined> {
    const stored = await storeCall('get', () => this.#store.get(PREFIX + sid, undefined))
    const entry = asRecord(stored)
    if (!entry || isExpired(entry, this.#now())) return undefined
    return userIdOf(entry.data, this.#indexKey) === OWNER_MARK + user ? entry : undefined
  }

  /** Removes every entry of `user` but `except`'s; resolves to how many live ones went. */
  unregisterUser(user: string, except: string | undefined): Promise<number> {
    const options = except === undefined ? {} : { except: PREFIX + except }
    return Promise.resolve(
      storeCall<number>('delete', () =>
        this.#store.destroyUserSessions(OWNER_MARK + user, options),
      ),
    )
  }
}
