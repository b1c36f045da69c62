import { applySessionPatch, sessionDeadline } from '../core/record.ts'
import type {
  SessionInfo,
  SessionPatch,
  SessionRecord,
  UserSession,
  UserSessionIndex,
} from '../core/types.ts'
import { func, is, object } from '../core/validate.ts'
import {
  exceptArg,
  type ListData,
  listDataCheck,
  listed,
  pageSizeArg,
  sessionIdArg,
  touchAfterCheck,
  userIdArg,
} from './_devices.ts'
import {
  assertOptions,
  type MetaStore,
  newestFirst,
  sessionInfo,
  type UserKeyed,
  userIdOf,
  userKeyCheck,
  type WriteMeta,
  writeMeta,
} from './_shared.ts'

/** Options of `memoryStore()`. */
export interface MemoryStoreOptions<L = Record<string, unknown>> {
  /**
   * Most sessions kept; beyond it the least recently used one is evicted. Entries written with
   * `WriteMeta.keep` (a revocation list's) are not counted and never evicted: they leave when
   * they expire.
   * @default 10000
   */
  max?: number
  /**
   * Seconds between sweeps that drop expired sessions; `0` turns the sweep off (expired
   * sessions are then dropped only when read or evicted).
   * @default 60
   */
  sweepInterval?: number
  /**
   * Key of the session data that holds the user id, for `listSessions()` and
   * `destroyUserSessions()`.
   * @default 'userId'
   */
  userKey?: string
  /**
   * What `listSessions()` shows of each session's data (internal keys such as `_csrf` are
   * never shown): `(data) => ({ label: data.label })`.
   * @default the whole data
   */
  listData?: ListData<L>
  /**
   * Seconds between two last-seen updates of a session that requests only read: `lastSeenAt`
   * moves at most once per interval without a write; `0` moves it on writes only (as `sessionRevocation({ touchAfter })`).
   * @default 60
   */
  touchAfter?: number
  /**
   * Clock in epoch milliseconds, for expiry and for `lastSeenAt` of writes the engine did not
   * time (direct calls); tests inject one to move time.
   * @default Date.now
   */
  now?: () => number
}

/** A session store kept in this process's memory, with its per-user index and sweep control. */
export interface MemoryStore<L = Record<string, unknown>>
  extends MetaStore,
    UserSessionIndex<L>,
    UserKeyed {
  /** The record stored under `id` (past its deadline too: the engine refuses those), or undefined. */
  get(id: string, ctx?: unknown): SessionRecord<any> | undefined
  /** Removes the session stored under `id`. */
  delete(id: string, ctx?: unknown): void
  /** Stores `record` under `id`, indexed by its owner. */
  set(id: string, record: SessionRecord<any>, ctx?: unknown, meta?: WriteMeta): void
  /** Merges one request's changed keys into the stored session; no-op when none is stored. */
  patch(
    id: string,
    record: SessionRecord<any>,
    patch: SessionPatch,
    ctx?: unknown,
    meta?: WriteMeta,
  ): void
  /**
   * Records that a request read the session (last seen, user agent): at most once per
   * `touchAfter` with the engine's `meta`, at once on a direct call.
   */
  touch(id: string, ctx?: unknown, meta?: WriteMeta): void
  /** The data key that holds the owner. */
  readonly userKey: string
  /** Entries held right now (kept ones included), expired ones not yet swept included. */
  readonly size: number
  /** Drops every expired session now; returns how many were dropped. */
  prune(): number
  /** Stops the sweep timer (a later write starts it again). */
  close(): void
}

interface Entry {
  record: SessionRecord<Record<string, unknown>>
  deadline: number
  userId: string | undefined
  lastSeenAt: number
  userAgent: string | undefined
}

const checkOptions = object<MemoryStoreOptions>({
  max: is(
    (v): v is number => Number.isSafeInteger(v) && (v as number) >= 1,
    'must be a positive integer',
  ),
  sweepInterval: is(
    (v): v is number => typeof v === 'number' && v >= 0 && v !== Infinity,
    'must be a number of seconds, 0 or more',
  ),
  userKey: userKeyCheck,
  listData: listDataCheck,
  touchAfter: touchAfterCheck,
  now: func,
})

/**
 * A bounded in-memory session store (least recently used evicted, expired sessions swept) with
 * a per-user index; for development and single-process apps, since sessions end on restart.
 *
 * @example
 * import { memoryStore } from 'sealed-session/stores/memory'
 * const store = memoryStore({ max: 50_000 })
 * app.use(session({ secret: process.env.SESSION_SECRET, store }))
 * await store.destroyUserSessions(userId, { except: c.session.id })
 */
export function memoryStore<L = Record<string, unknown>>(
  options: MemoryStoreOptions<L> = {},
): MemoryStore<L> {
  assertOptions(checkOptions, options)
  const {
    max = 10_000,
    sweepInterval = 60,
    userKey = 'userId',
    listData,
    touchAfter = 60,
    now = Date.now,
  } = options

  // A Map iterates in insertion order; re-inserting on use keeps the least recent first.
  const entries = new Map<string, Entry>()
  // Written with `keep` (revocations): outside `max`, never evicted, dropped once expired.
  const kept = new Map<string, Entry>()
  const find = (id: string) => entries.get(id) ?? kept.get(id)
  const byUser = new Map<string, Set<string>>()
  let timer: ReturnType<typeof setInterval> | undefined

  function index(id: string, userId: string | undefined): void {
    if (userId === undefined) return
    const ids = byUser.get(userId)
    if (ids) ids.add(id)
    else byUser.set(userId, new Set([id]))
  }

  function unindex(id: string, userId: string | undefined): void {
    if (userId === undefined) return
    const ids = byUser.get(userId)
    if (!ids) return
    ids.delete(id)
    if (ids.size === 0) byUser.delete(userId)
  }

  function remove(id: string): boolean {
    const entry = find(id)
    if (!entry) return false
    entries.delete(id)
    kept.delete(id)
    unindex(id, entry.userId)
    return true
  }

  /** The live entry under `id`; an expired one is dropped on the way. */
  function live(id: string, at = now()): Entry | undefined {
    const entry = find(id)
    if (!entry) return undefined
    if (at >= entry.deadline) {
      remove(id)
      return undefined
    }
    return entry
  }

  /** Stores `record` under `id`, replacing `old`; `meta.keep` puts it outside `max`. */
  function put(
    id: string,
    record: SessionRecord<any>,
    meta: WriteMeta | undefined,
    old: Entry | undefined,
  ): void {
    const write = writeMeta(meta, now)
    const userId = userIdOf(record.data, userKey)
    const entry: Entry = {
      record,
      deadline: sessionDeadline(record),
      userId,
      lastSeenAt: write.now,
      // A write without a user agent (a direct call) keeps the one recorded before.
      userAgent: write.userAgent ?? old?.userAgent,
    }
    if (old) {
      entries.delete(id)
      kept.delete(id)
      if (old.userId !== userId) unindex(id, old.userId)
    }
    ;(meta?.keep ? kept : entries).set(id, entry)
    index(id, userId)
    // Evict from the least recently used end until the bound holds again.
    while (entries.size > max) {
      const oldest = entries.keys().next().value as string
      remove(oldest)
    }
    startSweep()
  }

  function infoOf(id: string, entry: Entry): SessionInfo {
    const { createdAt } = entry.record
    return sessionInfo(
      id,
      entry.userId,
      createdAt,
      entry.lastSeenAt,
      entry.deadline,
      entry.userAgent,
    )
  }

  function prune(): number {
    const at = now()
    let dropped = 0
    for (const map of [entries, kept]) {
      for (const [id, entry] of map) {
        if (at >= entry.deadline && remove(id)) dropped++
      }
    }
    if (entries.size + kept.size === 0) stopSweep()
    return dropped
  }

  // The timer exists only while there is something to sweep, and never keeps the process alive.
  function startSweep(): void {
    if (timer !== undefined || sweepInterval === 0) return
    timer = setInterval(prune, sweepInterval * 1000)
    const t = timer as { unref?: () => void }
    if (typeof t.unref === 'function') t.unref()
  }

  function stopSweep(): void {
    if (timer === undefined) return
    clearInterval(timer)
    timer = undefined
  }

  return {
    userKey,

    get size() {
      return entries.size + kept.size
    },

    get(id) {
      const entry = entries.get(id)
      if (!entry) return kept.get(id)?.record
      // Past its deadline it is still handed back, so the engine can tell `expired` from
      // `not-found` (it refuses the record and deletes it); a live one becomes most recent.
      if (now() < entry.deadline) {
        entries.delete(id)
        entries.set(id, entry)
      }
      return entry.record
    },

    set(id, record, _ctx, meta) {
      put(id, record, meta, find(id))
    },

    // Read, merge and write happen in one synchronous step, so no other request interleaves.
    patch(id, record, changes: SessionPatch, _ctx, meta) {
      const old = live(id)
      const next = applySessionPatch(old?.record, record, changes)
      if (next) put(id, next, meta, old)
    },

    delete(id) {
      remove(id)
    },

    touch(id, _ctx, meta) {
      const at = meta?.now ?? now()
      const entry = live(id, at)
      if (!entry) return
      // The engine's reads are throttled; a direct call records at once.
      if (meta && (touchAfter === 0 || at - entry.lastSeenAt < touchAfter * 1000)) return
      if (at > entry.lastSeenAt) entry.lastSeenAt = at
      const { userAgent } = writeMeta(meta, now)
      if (userAgent !== undefined) entry.userAgent = userAgent
    },

    async listSessions(userId) {
      const owner = userIdArg(userId)
      const ids = byUser.get(owner)
      if (!ids) return []
      const at = now()
      const list: UserSession<L>[] = []
      for (const id of [...ids]) {
        const entry = live(id, at)
        if (!entry) continue
        const info = infoOf(id, entry) as UserSession<L>
        info.data = listed(entry.record.data, listData)
        list.push(info)
      }
      return newestFirst(list)
    },

    async destroySession(userId, sessionId) {
      const owner = userIdArg(userId)
      const entry = live(sessionIdArg(sessionId))
      return entry?.userId === owner && remove(sessionId)
    },

    async destroyUserSessions(userId, options) {
      const except = exceptArg(options)
      const ids = byUser.get(userIdArg(userId))
      if (!ids) return 0
      const at = now()
      let count = 0
      for (const id of [...ids]) {
        if (id === except) continue
        // An expired session was already over: drop it, but do not count it.
        if (live(id, at) && remove(id)) count++
      }
      return count
    },

    // The ids are taken once (a read moves its entry to the end of the Map, which iterating the
    // Map itself would visit twice).
    async *allSessions(options) {
      pageSizeArg(options, 1)
      for (const id of [...entries.keys(), ...kept.keys()]) {
        const entry = live(id)
        if (entry) yield infoOf(id, entry)
      }
    },

    prune,

    close: stopSweep,
  }
}
