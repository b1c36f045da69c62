import { randomBytes } from 'node:crypto'
import {
  mkdir,
  opendir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { keyedQueue } from '../core/queue.ts'
import { applySessionPatch, asRecord, sessionDeadline, userIdOf } from '../core/record.ts'
import type {
  SessionInfo,
  SessionPatch,
  SessionRecord,
  UserSession,
  UserSessionIndex,
} from '../core/types.ts'
import { func, is, object, required } from '../core/validate.ts'
import {
  exceptArg,
  type ListData,
  lastSeenThrottle,
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
  userKeyCheck,
  type WriteMeta,
  type WriteStamp,
  writeMeta,
} from './_shared.ts'

/** Options of `fileStore()`. */
export interface FileStoreOptions<L = Record<string, unknown>> {
  /** Directory that holds one `<id>.json` file per session; created (mode 0700) when missing. */
  dir: string
  /**
   * Key of the session data that holds the user id, for `listSessions()`, `destroySession()`
   * and `destroyUserSessions()` (which read every file: O(sessions)).
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
   * Seconds between two last-seen updates of a session that requests only read (the file's
   * modification time; the file is rewritten only when the user agent changed); `false` moves
   * it on writes only.
   * @default 60
   */
  touchAfter?: number
  /**
   * Clock in epoch milliseconds; tests inject one to move time.
   * @default Date.now
   */
  now?: () => number
}

/**
 * A session store with one JSON file per session in a directory. Its device API reads the
 * directory (there is no index): `listSessions()` and `destroyUserSessions()` cost O(sessions).
 */
export interface FileStore<L = Record<string, unknown>>
  extends MetaStore,
    UserSessionIndex<L>,
    UserKeyed {
  /** The record stored under `id` (past its deadline too: the engine refuses those), or undefined. */
  get(id: string, ctx?: unknown): Promise<SessionRecord<any> | undefined>
  /** Deletes the file of `id`. */
  delete(id: string, ctx?: unknown): Promise<void>
  /** Writes the session's file atomically (temp file, then rename). */
  set(id: string, record: SessionRecord<any>, ctx?: unknown, meta?: WriteMeta): Promise<void>
  /** Merges one request's changed keys into the stored session; no-op when none is stored. */
  patch(
    id: string,
    record: SessionRecord<any>,
    patch: SessionPatch,
    ctx?: unknown,
    meta?: WriteMeta,
  ): Promise<void>
  /**
   * Records that a request read the session (the file's modification time, and its user agent):
   * at most once per `touchAfter` with the engine's `meta`, at once on a direct call.
   */
  touch(id: string, ctx?: unknown, meta?: WriteMeta): Promise<void> | undefined
  /** The data key that holds the owner. */
  readonly userKey: string
  /** The absolute directory the sessions live in. */
  readonly dir: string
  /**
   * Deletes expired session files (and temp files left by a crash mid-write); resolves to how
   * many sessions were deleted.
   */
  prune(): Promise<number>
}

// Only the ids this library makes (and similar): no dots, slashes or NULs can reach a path.
const SAFE_ID = /^[A-Za-z0-9_-]{16,128}$/
const FILE = /^([A-Za-z0-9_-]{16,128})\.json$/
const TEMP = /^\.([A-Za-z0-9_-]{16,128})\.[0-9a-f]{16}\.tmp$/
// A temp file older than this belongs to a write that died; younger ones may be in flight.
const STALE_TEMP_MS = 60_000

/** What a session file holds: the record, and the user agent kept beside it. */
interface Stored {
  record: SessionRecord<any>
  userAgent: string | undefined
}

const isMissing = (err: unknown) => (err as { code?: string } | null)?.code === 'ENOENT'

const checkOptions = object<FileStoreOptions>({
  dir: required(
    is((v): v is string => typeof v === 'string' && v !== '', 'must be a directory path'),
  ),
  userKey: userKeyCheck,
  listData: listDataCheck,
  touchAfter: touchAfterCheck,
  now: func,
})

/**
 * A session store that keeps one JSON file per session in `dir`, written atomically (temp file
 * then rename); for single-server apps that want sessions to survive a restart without a
 * database. Its device API (`listSessions`, `destroyUserSessions`, `allSessions`) reads every
 * file, O(sessions): fine for hundreds, not for a busy site (use SQLite there).
 *
 * @example
 * import { fileStore } from 'sealed-session/stores/file'
 * const store = fileStore({ dir: './.sessions' })
 * app.use(session({ secret: process.env.SESSION_SECRET, store }))
 * setInterval(() => store.prune(), 3600_000).unref()
 */
export function fileStore<L = Record<string, unknown>>(options: FileStoreOptions<L>): FileStore<L> {
  assertOptions(checkOptions, options)
  const { dir, userKey = 'userId', listData, touchAfter = 60, now = Date.now } = options
  const recent = lastSeenThrottle(touchAfter)

  const root = resolve(dir)
  let ready: Promise<unknown> | undefined
  // Each id's operations run one after another, so a patch's read-merge-write is not
  // interleaved with another write to the same id in this process.
  const serial = keyedQueue()

  // The caller checked `id` against SAFE_ID, so the path cannot leave `root`.
  const fileOf = (id: string) => join(root, `${id}.json`)

  function assertId(id: string): void {
    if (typeof id !== 'string' || !SAFE_ID.test(id)) {
      throw new TypeError('fileStore: session id must match /^[A-Za-z0-9_-]{16,128}$/')
    }
  }

  /** What `id`'s file holds: the record (past its deadline or not) and the user agent. */
  async function readStored(id: string): Promise<Stored | undefined> {
    let text: string
    try {
      text = await readFile(fileOf(id), 'utf8')
    } catch (err) {
      if (isMissing(err)) return undefined
      throw err
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      // A torn or foreign file cannot be a session we wrote (writes are atomic): not found.
      return undefined
    }
    if (typeof parsed !== 'object' || parsed === null) return undefined
    // The user agent is kept beside the record, in the same file.
    const { userAgent, ...record } = parsed as SessionRecord<any> & { userAgent?: unknown }
    return { record, userAgent: typeof userAgent === 'string' ? userAgent : undefined }
  }

  const read = async (id: string) => (await readStored(id))?.record

  /** The live contents of `id`'s file; an expired one is deleted on the way. */
  async function load(id: string): Promise<Stored | undefined> {
    const stored = await readStored(id)
    if (!stored || now() < sessionDeadline(stored.record)) return stored
    await unlink(fileOf(id)).catch((err) => {
      if (!isMissing(err)) throw err
    })
    return undefined
  }

  /** Writes the file atomically; its modification time is the write's (last seen). */
  async function write(id: string, record: SessionRecord<any>, stamp: WriteStamp): Promise<void> {
    ready ??= mkdir(root, { recursive: true, mode: 0o700 })
    try {
      await ready
    } catch (err) {
      ready = undefined
      throw err
    }
    const { userAgent } = stamp
    const text = JSON.stringify(userAgent === undefined ? record : { ...record, userAgent })
    // Same directory, so the rename is atomic: a reader sees the old file or the new one.
    const temp = join(root, `.${id}.${randomBytes(8).toString('hex')}.tmp`)
    try {
      try {
        await writeFile(temp, text, { mode: 0o600, flag: 'wx' })
      } catch (err) {
        if (!isMissing(err)) throw err
        // The directory was removed while the app ran: make it again, once.
        await mkdir(root, { recursive: true, mode: 0o700 })
        await writeFile(temp, text, { mode: 0o600, flag: 'wx' })
      }
      await utimes(temp, stamp.now / 1000, stamp.now / 1000)
      await rename(temp, fileOf(id))
    } catch (err) {
      await rm(temp, { force: true })
      throw err
    }
    recent.seen(id, stamp.now)
  }

  async function remove(id: string): Promise<void> {
    recent.forget(id)
    await rm(fileOf(id), { force: true })
  }

  /** Every live session in the directory, one file at a time (the listing is streamed). */
  async function* scan(): AsyncGenerator<SessionInfo & { data: Record<string, unknown> }> {
    let entries: AsyncIterable<{ name: string }>
    try {
      entries = await opendir(root)
    } catch (err) {
      if (isMissing(err)) return
      throw err
    }
    for await (const { name } of entries) {
      const id = FILE.exec(name)?.[1]
      if (id === undefined) continue
      const [stored, info] = await Promise.all([
        readStored(id).catch(() => undefined),
        stat(fileOf(id)).catch(() => undefined),
      ])
      const record = stored && asRecord(stored.record)
      if (!record || !info || now() >= sessionDeadline(record)) continue
      const seen = Math.round(info.mtimeMs)
      const owner = userIdOf(record.data, userKey)
      const entry = sessionInfo(id, owner, record.createdAt, seen, sessionDeadline(record))
      if (stored.userAgent !== undefined) entry.userAgent = stored.userAgent
      yield Object.assign(entry, { data: record.data })
    }
  }

  return {
    dir: root,
    userKey,

    async get(id) {
      // An id that cannot be ours is never turned into a path.
      if (typeof id !== 'string' || !SAFE_ID.test(id)) return undefined
      // Past its deadline too, so the engine can tell `expired` from `not-found` (it refuses
      // the record and deletes the file).
      return read(id)
    },

    async set(id, record, _ctx, meta) {
      assertId(id)
      const stamp = writeMeta(meta, now)
      await serial(id, async () => {
        // A write without a user agent (a direct call) keeps the one recorded before.
        const userAgent = stamp.userAgent ?? (await readStored(id))?.userAgent
        await write(id, record, { now: stamp.now, userAgent })
      })
    },

    // Atomic per process only: two processes patching one session can still lose a key.
    async patch(id, record, changes: SessionPatch, _ctx, meta) {
      assertId(id)
      const stamp = writeMeta(meta, now)
      await serial(id, async () => {
        const stored = await load(id)
        const next = applySessionPatch(stored?.record, record, changes)
        const userAgent = stamp.userAgent ?? stored?.userAgent
        if (next) await write(id, next, { now: stamp.now, userAgent })
      })
    },

    async delete(id) {
      if (typeof id !== 'string' || !SAFE_ID.test(id)) return
      await serial(id, () => remove(id))
    },

    touch(id, _ctx, meta) {
      if (typeof id !== 'string' || !SAFE_ID.test(id)) return undefined
      if (meta && !recent.due(id, meta.now)) return undefined
      const stamp = writeMeta(meta, now)
      return serial(id, async () => {
        const stored = await load(id)
        if (!stored) return
        if (stamp.userAgent !== undefined && stamp.userAgent !== stored.userAgent) {
          return write(id, stored.record, stamp)
        }
        recent.seen(id, stamp.now)
        await utimes(fileOf(id), stamp.now / 1000, stamp.now / 1000)
      })
    },

    async listSessions(userId) {
      const owner = userIdArg(userId)
      const list: UserSession<L>[] = []
      for await (const entry of scan()) {
        if (entry.userId !== owner) continue
        list.push(Object.assign(entry, { userId: owner, data: listed(entry.data, listData) }))
      }
      return newestFirst(list)
    },

    async destroySession(userId, sessionId) {
      const owner = userIdArg(userId)
      const id = sessionIdArg(sessionId)
      if (!SAFE_ID.test(id)) return false
      return serial(id, async () => {
        const stored = await load(id)
        if (!stored || userIdOf(stored.record.data, userKey) !== owner) return false
        await remove(id)
        return true
      })
    },

    async destroyUserSessions(userId, options) {
      const except = exceptArg(options)
      const owner = userIdArg(userId)
      let count = 0
      for await (const { id, userId: of } of scan()) {
        if (of !== owner || id === except) continue
        await serial(id, () => remove(id))
        count++
      }
      return count
    },

    async *allSessions(options) {
      pageSizeArg(options, 1)
      for await (const { data: _, ...info } of scan()) yield info
    },

    async prune() {
      let names: string[]
      try {
        names = await readdir(root)
      } catch (err) {
        if (isMissing(err)) return 0
        throw err
      }
      const at = now()
      let deleted = 0
      for (const name of names) {
        const session = FILE.exec(name)?.[1]
        if (session !== undefined) {
          await serial(session, async () => {
            const text = await readFile(join(root, name), 'utf8').catch(() => undefined)
            if (text === undefined) return
            let record: unknown
            try {
              record = JSON.parse(text)
            } catch {
              return
            }
            const r = record as SessionRecord<unknown>
            if (typeof r !== 'object' || r === null || at < sessionDeadline(r)) return
            await remove(session)
            deleted++
          })
        } else if (TEMP.test(name)) {
          const info = await stat(join(root, name)).catch(() => undefined)
          // The file system stamps mtime with the real clock, not the injected one.
          if (info && Date.now() - info.mtimeMs > STALE_TEMP_MS) {
            await rm(join(root, name), { force: true })
          }
        }
      }
      return deleted
    },
  }
}
