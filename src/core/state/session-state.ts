// One request's session as the engine sees it: the data, the lifetime, the id, and what the
// request carried. The app sees only `session`, a proxy over the data that answers the API.
import type { UnsealResult } from '../../crypto/iron.ts'
import { randomId } from '../../crypto/random.ts'
import { SessionError } from '../errors.ts'
import { CSRF_SESSION_KEY, type FlashRecord, type SealedRecord } from '../record.ts'
import { type CarriedCookies, isLocalHttp } from '../request.ts'
import type {
  Session,
  SessionCommit,
  SessionMethods,
  SessionRecord,
  SessionRequest,
} from '../types.ts'
import { DataState } from './data.ts'
import { Lifetime, type LifetimeRules } from './lifetime.ts'

type Data = Record<string, unknown>
type SessionFunctions = Pick<
  SessionMethods<any>,
  'flash' | 'reflash' | 'regenerate' | 'renew' | 'destroy' | 'save' | 'toJSON'
>

/** Who commits a session early (`session.save()`): the engine that loaded it. */
export interface Saver {
  save(state: SessionState, ctx: unknown): Promise<string | null>
}

/** Names a session object answers itself; data may not use them. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set<keyof SessionMethods<any>>([
  'id',
  'isNew',
  'hasChanged',
  'expiresAt',
  'createdAt',
  'flash',
  'reflash',
  'regenerate',
  'renew',
  'destroy',
  'save',
  'toJSON',
])

function reservedKeyError(key: string): SessionError {
  return new SessionError(
    'ERR_SESSION_RESERVED_KEY',
    `"${key}" is part of the session API and cannot be used as a session data key`,
  )
}

/** What the engine found when it opened a cookie or store entry. */
export interface Opened {
  record: SessionRecord<Data>
  /** The store key (store mode); sealed sessions carry theirs in `record.sid`. */
  storeId: string | undefined
  /** Opened with an older key: write it again with the newest. */
  stale: boolean
  /** The record is kept by a cache: the request copies what it changes. */
  shared: boolean
  /** The sealed string it came from (sealed mode). */
  sealed: string | undefined
  /** The codec's cache already holds `sealed`: drop it when the session is sealed anew. */
  cached: boolean
}

/** What a commit wrote, for `rebase()`. */
export interface Written {
  id: string | undefined
  /** The flash values written for the next request. */
  flash: FlashRecord | undefined
  cookies: CarriedCookies
  /** The sealed string or signed id the client now holds; undefined after a clear. */
  value: string | undefined
}

/** The state as a commit started, for a `rebase()` after the app changed it mid-write. */
export interface CommitStart {
  epoch: number
  id: string | undefined
  destroyed: boolean
  /** A copy of the data as written (store mode already has one); undefined after a clear. */
  data: Data | undefined
}

/**
 * The engine's view of one request's session. The engine creates it, hands it what it opened
 * (`open`) or refused (`refuse`), reads it at commit and rebases it after (`rebase`).
 */
export class SessionState implements ProxyHandler<Data> {
  readonly data = new DataState()
  readonly lifetime: Lifetime
  /** Session id now (store key, or the sealed session's internal id); made on demand. */
  id: string | undefined = undefined
  /** Id as last loaded or written: the store key to delete, or the sealed id to revoke. */
  loadedId: string | undefined = undefined
  /** Absolute deadline of the session as last loaded or written (epoch ms). */
  loadedExpiresAt: number | undefined = undefined
  /** As last loaded or written, it names a user under `ownerKey` (not undefined, null or ''). */
  loadedHasUser = false
  /**
   * Which of our cookies the client holds: as the request proved (values that verified), then
   * as we wrote. Only these are ever cleared.
   */
  carried: CarriedCookies
  /** The sealed string or signed id the client holds, when it holds a valid one. */
  value: string | undefined = undefined
  /**
   * The value the request brought, and the deadline its cookie was set to: a write that leaves
   * both as they are has no cookie to send. Unlike `value`, not moved by a commit.
   */
  brought: string | undefined
  broughtDeadline: number | undefined
  /** The engine's front-cache entry for the request's Cookie header: kept at commit unless superseded. */
  front: unknown = undefined
  /** What the codec answered for `value`, not cached yet: kept at commit unless superseded. */
  unsealed: UnsealResult<SealedRecord> | undefined = undefined
  isNew = true
  /** A cookie of ours came with the request and was refused: clear it on the response. */
  refused = false
  /** Opened with an older key: write it again with the newest. */
  stale = false
  regenerated = false
  destroyed = false
  /** The request this session came with (its user agent is read on store writes). */
  readonly request: SessionRequest
  /** The data key naming the session's user, when ending a session must know it. */
  readonly #ownerKey: string | undefined
  /** The engine that loaded it and the framework context, for `session.save()`. */
  saver: Saver | undefined = undefined
  ctx: unknown = undefined
  /** What `save()` committed that no response has carried yet. */
  outbox: SessionCommit | undefined = undefined
  /** The `save()` in flight, if any: a later save or the final commit waits for it. */
  saving: Promise<unknown> | undefined = undefined
  /** Whether responses set Secure; 'auto' until the request URL is read (on the first write). */
  #secure: boolean | 'auto'
  #methods: SessionFunctions | undefined
  readonly session: Session<any>

  /**
   * @param secure whether responses set the Secure attribute, or 'auto': decided from the
   *   request URL when a cookie is first written (reading it costs, and most requests write none)
   * @param carried what the request is known to carry before any value is tried (a bearer
   *   token); `carry()` adds each cookie of ours as it verifies
   * @param ownerKey the data key naming the session's user (the revocation list's `userKey`)
   */
  constructor(
    rules: LifetimeRules,
    request: SessionRequest,
    secure: boolean | 'auto',
    carried: CarriedCookies,
    ownerKey?: string,
  ) {
    this.lifetime = new Lifetime(rules)
    this.request = request
    this.#ownerKey = ownerKey
    this.#secure = secure
    this.carried = carried
    this.session = new Proxy(this.data.target, this) as Session<any>
  }

  /** Whether to set the Secure attribute on this response. */
  get secure(): boolean {
    if (this.#secure === 'auto') this.#secure = !isLocalHttp(this.request.url())
    return this.#secure
  }

  /** True when the request carried a cookie of ours that verified (or one of a library we migrate from). */
  get hadCookie(): boolean {
    return this.carried.unchunked || this.carried.chunks > 0 || !!this.carried.others
  }

  /** Takes over what the engine opened; `at` is the time it was checked against. */
  open(opened: Opened, at: number, unsealed?: UnsealResult<SealedRecord>): void {
    const { record } = opened
    this.data.adopt(record.data, record.flash, opened.shared)
    this.lifetime.adopt(record, at)
    this.id = opened.storeId ?? record.sid
    this.loadedId = this.id
    this.#holds(record.data, record.expiresAt)
    this.value = this.brought = opened.sealed
    this.broughtDeadline = this.lifetime.deadline()
    this.unsealed = unsealed
    this.stale = opened.stale
    this.isNew = false
  }

  /** A value of ours came as the unchunked cookie (`chunks` 0) or as that many chunks. */
  carry(chunks: number): void {
    if (chunks === 0) this.carried.unchunked = true
    else this.carried.chunks = Math.max(this.carried.chunks, chunks)
  }

  /** The session id, made now if the session has none yet. */
  ensureId(make: () => string): string {
    this.id ??= make()
    return this.id
  }

  /** The request's cookie was refused: the response clears it. */
  refuse(): void {
    this.refused = true
  }

  /** Ends the session: no data, no id, a fresh lifetime. `isNew` stays as the request was. */
  destroy(): void {
    this.data.epoch++
    this.data.clear()
    this.lifetime.restart()
    this.destroyed = true
    this.regenerated = false
    this.stale = false
    this.id = undefined
  }

  /** After a commit: what was written is the new starting point for a later commit. */
  rebase(written: Written, start?: CommitStart): void {
    this.carried = written.cookies
    this.value = written.value
    this.unsealed = undefined
    this.front = undefined
    this.loadedId = written.id
    // What was just written is what the client holds: these data, this deadline.
    if (written.id === undefined) this.#holds(undefined, undefined)
    else this.#holds(this.data.values, this.lifetime.expiresAt)
    this.refused = false
    this.stale = false
    if (!start || start.epoch === this.data.epoch) {
      this.data.rebase(written.flash)
      this.lifetime.rebase()
      this.id = written.id
      this.regenerated = false
      this.destroyed = false
      return
    }
    // Changed while the write was in flight (an unawaited save()): keep what came after it.
    // A destroy() or regenerate() then applies to what was just written (loadedId).
    const destroyedLater = this.destroyed && !start.destroyed
    const regeneratedLater = this.regenerated && this.id !== start.id
    if (!destroyedLater) this.data.rebase(written.flash, start.data ?? {})
    if (!destroyedLater && !regeneratedLater) this.id = written.id
    this.destroyed = destroyedLater
    this.regenerated = regeneratedLater
  }

  #holds(data: Data | undefined, expiresAt: number | undefined): void {
    this.loadedExpiresAt = expiresAt
    // Any value counts, not only the ids revokeUser() takes: a logout is revoked when in doubt.
    const user = this.#ownerKey === undefined ? undefined : data?.[this.#ownerKey]
    this.loadedHasUser = user !== undefined && user !== null && user !== ''
  }

  /** Replaces all data with the keys of `values` (used for `c.session = { … }`). */
  replace(values: object): void {
    if (values === this.session) return
    for (const key of Object.keys(values)) if (RESERVED_KEYS.has(key)) throw reservedKeyError(key)
    this.data.replace(values)
  }

  // Getters on an object literal cost V8 a new hidden class per request; state reads are
  // answered here instead, and the method closures are made only when the app calls one.
  #api(key: string): unknown {
    switch (key) {
      case 'id':
        this.id ??= randomId()
        return this.id
      case 'isNew':
        return this.isNew
      case 'hasChanged':
        return this.data.pending().changed
      case 'expiresAt':
        // As this response would leave it, were it committed now.
        return new Date(
          this.lifetime.deadlineAfterCommit(
            () =>
              this.lifetime.renewed ||
              this.regenerated ||
              this.stale ||
              this.data.pending().changed,
          ),
        )
      case 'createdAt':
        return new Date(this.lifetime.createdAt)
    }
    this.#methods ??= this.#createMethods()
    return (this.#methods as unknown as Record<string, unknown>)[key]
  }

  #createMethods(): SessionFunctions {
    const state = this
    return {
      flash(...args: [key?: string, value?: unknown]): any {
        // flash(key, value) flashes; flash(key) and flash() read what arrived.
        const [key, value] = args
        if (args.length >= 2) {
          if (RESERVED_KEYS.has(key!)) throw reservedKeyError(key!)
          state.data.flashValue(key!, value)
          return
        }
        return state.data.flash.arrived(key)
      },
      reflash(...keys) {
        state.data.reflash(keys)
      },
      regenerate() {
        // A new session as far as anyone can tell: new id, and its lifetime starts now (a
        // login after a long anonymous visit gets the whole maxAge).
        state.data.epoch++
        state.regenerated = true
        state.id = randomId()
        state.lifetime.restart()
        // Whoever planted the pre-login session knows its CSRF tokens: the login gets a new
        // secret on the next csrfToken() (destroy() drops it with the rest of the data).
        state.data.delete(CSRF_SESSION_KEY)
        return Promise.resolve()
      },
      renew(maxAge) {
        state.data.epoch++
        state.lifetime.renew(maxAge)
      },
      destroy() {
        state.destroy()
      },
      save() {
        if (!state.saver) {
          const err = new SessionError(
            'ERR_SESSION_MISSING',
            'save() needs the engine that loaded this session',
          )
          return Promise.reject(err)
        }
        return state.saver.save(state, state.ctx)
      },
      toJSON() {
        return state.data.toJSON()
      },
    }
  }

  // The state is the proxy's handler: its traps below are prototype methods, so a request
  // makes no handler object of its own. They answer the app's `session.x`, not the engine.

  get(target: Data, key: string | symbol): unknown {
    if (typeof key === 'symbol') return Reflect.get(target, key)
    if (!RESERVED_KEYS.has(key)) return this.data.read(key)
    this.data.touch()
    return this.#api(key)
  }

  // The target is the data's own object (`data.target`), complete once `data.values` is read.
  getOwnPropertyDescriptor(_target: Data, key: string | symbol): PropertyDescriptor | undefined {
    if (typeof key === 'string') this.data.touch()
    const descriptor = Reflect.getOwnPropertyDescriptor(this.data.values, key)
    // The value as a read sees it (copied and wrapped), so it cannot bypass tracking.
    if (descriptor && typeof key === 'string') descriptor.value = this.data.read(key)
    return descriptor
  }

  set(_target: Data, key: string | symbol, value: unknown): boolean {
    if (typeof key === 'symbol') return false
    if (RESERVED_KEYS.has(key)) throw reservedKeyError(key)
    this.data.set(key, value)
    return true
  }

  deleteProperty(_target: Data, key: string | symbol): boolean {
    if (typeof key === 'symbol') return false
    if (RESERVED_KEYS.has(key)) throw reservedKeyError(key)
    this.data.delete(key)
    return true
  }

  defineProperty(_target: Data, key: string | symbol, descriptor: PropertyDescriptor): boolean {
    if (typeof key === 'symbol' || !('value' in descriptor)) return false
    if (RESERVED_KEYS.has(key)) throw reservedKeyError(key)
    this.data.set(key, descriptor.value)
    return true
  }

  has(_target: Data, key: string | symbol): boolean {
    const values = this.data.values
    if (typeof key === 'symbol') return key in values
    this.data.touch()
    return RESERVED_KEYS.has(key) || key in values
  }

  ownKeys(_target: Data): (string | symbol)[] {
    this.data.touch()
    return Reflect.ownKeys(this.data.values)
  }
}
