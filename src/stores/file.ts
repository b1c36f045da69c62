import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { keyedQueue } from '../core/queue.ts'
import { applySessionPatch, sessionDeadline } from '../core/record.ts'
import type { SessionPatch, SessionRecord, SessionStore } from '../core/types.ts'
import { func, is, object, required } from '../core/validate.ts'
import { assertOptions } from './_shared.ts'

/** Options of `fileStore()`. */
export interface FileStoreOptions {
  /** Directory that holds one `<id>.json` file per session; created (mode 0700) when missing. */
  dir: string
  /**
   * Clock in epoch milliseconds; tests inject one to move time.
   * @default Date.now
   */
  now?: () => number
}

/** A session store with one JSON file per session in a directory. */
export interface FileStore extends SessionStore {
  /** The record stored under `id` (past its deadline too: the engine refuses those), or undefined. */
  get(id: string, ctx?: unknown): Promise<SessionRecord<any> | undefined>
  /** Deletes the file of `id`. */
  delete(id: string, ctx?: unknown): Promise<void>
  /** Merges one request's changed keys into the stored session; no-op when none is stored. */
  patch(id: string, record: SessionRecord<any>, patch: SessionPatch, ctx?: unknown): Promise<void>
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

const isMissing = (err: unknown) => (err as { code?: string } | null)?.code === 'ENOENT'

const checkOptions = object<FileStoreOptions>({
  dir: required(
    is((v): v is string => typeof v === 'string' && v !== '', 'must be a directory path'),
  ),
  now: func,
})

/**
 * A session store that keeps one JSON file per session in `dir`, written atomically (temp file
 * then rename); for single-server apps that want sessions to survive a restart without a
 * database. It keeps no per-user index (`listSessions` is not supported).
 *
 * @example
 * import { fileStore } from 'sealed-session/stores/file'
 * const store = fileStore({ dir: './.sessions' })
 * app.use(session({ secret: process.env.SESSION_SECRET, store }))
 * setInterval(() => store.prune(), 3600_000).unref()
 */
export function fileStore(options: FileStoreOptions): FileStore {
  assertOptions(checkOptions, options)
  const { dir, now = Date.now } = options

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

  /** The record in `id`'s file, past its deadline or not. */
  async function read(id: string): Promise<SessionRecord<any> | undefined> {
    let text: string
    try {
      text = await readFile(fileOf(id), 'utf8')
    } catch (err) {
      if (isMissing(err)) return undefined
      throw err
    }
    let record: SessionRecord<any>
    try {
      record = JSON.parse(text)
    } catch {
      // A torn or foreign file cannot be a session we wrote (writes are atomic): not found.
      return undefined
    }
    return typeof record === 'object' && record !== null ? record : undefined
  }

  /** The live record in `id`'s file; an expired one is deleted on the way. */
  async function load(id: string): Promise<SessionRecord<any> | undefined> {
    const record = await read(id)
    if (!record || now() < sessionDeadline(record)) return record
    await unlink(fileOf(id)).catch((err) => {
      if (!isMissing(err)) throw err
    })
    return undefined
  }

  async function write(id: string, record: SessionRecord<any>): Promise<void> {
    ready ??= mkdir(root, { recursive: true, mode: 0o700 })
    try {
      await ready
    } catch (err) {
      ready = undefined
      throw err
    }
    // Same directory, so the rename is atomic: a reader sees the old file or the new one.
    const temp = join(root, `.${id}.${randomBytes(8).toString('hex')}.tmp`)
    try {
      try {
        await writeFile(temp, JSON.stringify(record), { mode: 0o600, flag: 'wx' })
      } catch (err) {
        if (!isMissing(err)) throw err
        // The directory was removed while the app ran: make it again, once.
        await mkdir(root, { recursive: true, mode: 0o700 })
        await writeFile(temp, JSON.stringify(record), { mode: 0o600, flag: 'wx' })
      }
      await rename(temp, fileOf(id))
    } catch (err) {
      await rm(temp, { force: true })
      throw err
    }
  }

  async function remove(id: string): Promise<void> {
    await rm(fileOf(id), { force: true })
  }

  return {
    dir: root,

    async get(id) {
      // An id that cannot be ours is never turned into a path.
      if (typeof id !== 'string' || !SAFE_ID.test(id)) return undefined
      // Past its deadline too, so the engine can tell `expired` from `not-found` (it refuses
      // the record and deletes the file).
      return read(id)
    },

    async set(id, record) {
      assertId(id)
      await serial(id, () => write(id, record))
    },

    // Atomic per process only: two processes patching one session can still lose a key.
    async patch(id, record, changes: SessionPatch) {
      assertId(id)
      await serial(id, async () => {
        const next = applySessionPatch(await load(id), record, changes)
        if (next) await write(id, next)
      })
    },

    async delete(id) {
      if (typeof id !== 'string' || !SAFE_ID.test(id)) return
      await serial(id, () => remove(id))
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
