// The framework-free core: a request view in, a SessionState out; the state in, store writes
// and response headers out. Written once as steps (see util/steps.ts): synchronous where
// nothing waits, a promise where a store or WebCrypto does.
import { IdSigner } from '../crypto/id-signer.ts'
import { IronCodec, type UnsealResult } from '../crypto/iron.ts'
import { nodeCrypto } from '../crypto/node-crypto.ts'
import { randomId } from '../crypto/random.ts'
import { runAsync, runSync, type Steps, wait } from '../util/steps.ts'
import { SessionError, SessionStoreError } from './errors.ts'
import { assertJson } from './json.ts'
import { isSynchronousStore } from './map-store.ts'
import { type ResolvedOptions, resolveOptions } from './options.ts'
import {
  fromCompact,
  isExpired,
  ownCopy,
  type SealedRecord,
  toCompact,
  userIdOf,
} from './record.ts'
import { isLocalHttp, readSession } from './request.ts'
import { type Outcome, Responder } from './response.ts'
import type { LifetimeRules } from './state/lifetime.ts'
import { type Opened, SessionState } from './state/session-state.ts'
import type {
  InvalidReason,
  SessionCommit,
  SessionEngine as SessionEngineApi,
  SessionHandle,
  SessionOptions,
  SessionRecord,
  SessionRequest,
  SessionStore,
  WriteMeta,
} from './types.ts'

type Data = Record<string, unknown>
type Loaded = (Opened & { unsealed?: UnsealResult<SealedRecord> }) | InvalidReason
/** What a write decided: nothing, a clear, or a value with the flash keys it carries. */
type WriteOutcome =
  | Exclude<Outcome, object>
  | { value: string; maxAge: number; now: number; flash: string[] }

const CLEAR = 'clear'
const notSynchronous = () =>
  new SessionError(
    'ERR_SESSION_ASYNC',
    'loadSync()/commitSync() need a synchronous engine (sealed mode on node:crypto, or a Map store); use load()/commit()',
  )

/**
 * Turns a request into a `SessionState` and that state into store writes and response
 * headers. Adapters call `load` before the handler and `commit` after it; they never decide
 * what is written.
 */
export class SessionEngine implements SessionEngineApi<any, unknown> {
  readonly options: ResolvedOptions
  /** The built-in iron codec (sealed mode without a custom encoder). */
  readonly codec: IronCodec<SealedRecord> | undefined
  readonly synchronous: boolean
  readonly cookieName: string
  readonly #signer: IdSigner | undefined
  readonly #responder: Responder
  readonly #rules: LifetimeRules
  /** The data key the store's per-user index reads, for `WriteMeta.userId`. */
  readonly #userKey: string | undefined

  constructor(options?: SessionOptions) {
    const o = resolveOptions(options)
    this.options = o
    this.cookieName = o.cookieName
    this.codec =
      o.store || o.encoder ? undefined : new IronCodec(o.keys, { now: o.now, revive: fromCompact })
    this.#signer = o.store ? new IdSigner(o.keys, o.purpose) : undefined
    o.revocation?.retainFor(o.maxAge / 1000)
    this.synchronous =
      nodeCrypto !== undefined &&
      (o.store
        ? isSynchronousStore(o.store)
        : !o.encoder && (!o.revocation || o.revocation.synchronous))
    this.#responder = new Responder(o)
    this.#rules = {
      now: o.now,
      maxAgeMs: o.maxAge,
      idleTimeoutMs: o.idleTimeout,
      rolling: o.rolling,
    }
    const userKey = (o.store as { userKey?: unknown } | undefined)?.userKey
    this.#userKey = userKey === false ? undefined : typeof userKey === 'string' ? userKey : 'userId'
  }

  /**
   * Opens the session a request carries. A missing, invalid or expired cookie yields a new
   * empty session (and `onInvalid`); only a failing store rejects (`SessionStoreError`).
   */
  load(request: SessionRequest, ctx: unknown): Promise<SessionState> {
    return runAsync(this.#load(request, ctx))
  }

  /** `load` for a synchronous engine; throws `ERR_SESSION_ASYNC` on any other. */
  loadSync(request: SessionRequest, ctx: unknown): SessionState {
    if (!this.synchronous) throw notSynchronous()
    return runSync(this.#load(request, ctx), notSynchronous)
  }

  /**
   * Writes what the request changed and answers the headers that carry the session. Rejects
   * with `SessionDataError` for non-JSON data, `SessionTooLargeError` for an oversized session
   * and `SessionStoreError` when the store fails. The state is rebased on what was written, so
   * a later commit writes only what changed since.
   */
  commit(handle: SessionHandle<any>, ctx: unknown): Promise<SessionCommit> {
    return runAsync(this.#commit(stateOf(handle), ctx))
  }

  /** `commit` for a synchronous engine; throws `ERR_SESSION_ASYNC` on any other. */
  commitSync(handle: SessionHandle<any>, ctx: unknown): SessionCommit {
    if (!this.synchronous) throw notSynchronous()
    return runSync(this.#commit(stateOf(handle), ctx), notSynchronous)
  }

  *#load(request: SessionRequest, ctx: unknown): Steps<SessionState> {
    const o = this.options
    const found = readSession(request, o)
    const secure = o.cookie.secure === 'auto' ? () => !isLocalHttp(request.url()) : o.cookie.secure
    const state = new SessionState(this.#rules, request, secure, found.carried)
    let reason: InvalidReason | undefined = found.broken ? 'malformed' : undefined
    for (const value of found.values) {
      const refused =
        value.length > this.#responder.maxAccepted
          ? 'too-large'
          : yield* this.#open(state, value, ctx)
      if (refused === undefined) return state
      reason = refused
    }
    if (reason !== undefined) {
      state.refuse()
      o.onInvalid?.(reason, ctx)
    }
    return state
  }

  /** Opens one candidate value into `state`; answers why not, or undefined when it opened. */
  *#open(state: SessionState, value: string, ctx: unknown): Steps<InvalidReason | undefined> {
    const o = this.options
    const loaded: Loaded = o.store
      ? yield* this.#fromStore(value, ctx)
      : o.encoder
        ? yield* this.#fromEncoder(value)
        : yield* this.#fromSeal(value)
    if (typeof loaded === 'string') return loaded
    const now = o.now()
    const { record, storeId } = loaded
    if (isExpired(record, now)) {
      if (storeId !== undefined)
        yield* this.#storeCall('delete', () => o.store!.delete(storeId, ctx))
      return 'expired'
    }
    const revocation = o.revocation
    if (revocation && record.sid !== undefined) {
      const query = {
        id: record.sid,
        userId: record.data[revocation.userKey],
        createdAt: record.createdAt,
      }
      if (yield* this.#storeCall('get', () => revocation.isRevoked(query))) return 'revoked'
    }
    state.open(loaded, now, loaded.unsealed)
    return undefined
  }

  *#fromSeal(value: string): Steps<Loaded> {
    // Kept by the codec only if this request does not reseal it (see #write): a cookie that is
    // superseded at once would fill the cache with strings that do not come back.
    const result = yield* this.codec!.unsealing(value, false)
    if (!result.ok) return result.reason
    if (result.value.purpose !== this.options.purpose) return 'wrong-purpose'
    // Shared with the cache (now or once kept): the request copies what it changes.
    const { value: record, stale } = result
    return { record, storeId: undefined, stale, shared: true, sealed: value, unsealed: result }
  }

  *#fromEncoder(value: string): Steps<Loaded> {
    const o = this.options
    let decoded: unknown
    try {
      decoded = yield* wait(o.encoder!.decode(value, o.keys[0]!.secret))
    } catch {
      return 'tampered'
    }
    if (decoded === null || decoded === undefined) return 'tampered'
    const record = ownCopy(decoded)
    if (!record) return 'invalid-data'
    return { record, storeId: undefined, stale: false, shared: false, sealed: undefined }
  }

  *#fromStore(value: string, ctx: unknown): Steps<Loaded> {
    const verified = yield* this.#signer!.verifying(value)
    if (!verified) return 'tampered'
    const store = this.options.store!
    const stored = yield* this.#storeCall('get', () => store.get(verified.id, ctx))
    if (stored === null || stored === undefined) return 'not-found'
    const record = ownCopy(stored)
    if (!record) return 'invalid-data'
    return { record, storeId: verified.id, stale: verified.stale, shared: false, sealed: value }
  }

  /** Runs one store call; any failure, sync or async, becomes a `SessionStoreError`. */
  *#storeCall<T>(op: SessionStoreError['operation'], call: () => T): Steps<Awaited<T>> {
    try {
      return (yield* wait(call())) as Awaited<T>
    } catch (err) {
      throw new SessionStoreError(op, err)
    }
  }

  *#commit(state: SessionState, ctx: unknown): Steps<SessionCommit> {
    const outcome = yield* this.#write(state, ctx)
    const built = this.#responder.build(outcome, state.carried, () => state.secure)
    if (outcome !== undefined) {
      const written = outcome === CLEAR ? undefined : outcome
      state.rebase({
        id: written ? state.id : undefined,
        flash: written ? written.flash : [],
        cookies: built.carried,
        value: written?.value,
      })
    }
    return { ...built.commit, token: state.value ?? null }
  }

  /** Does the store writes; says what the client must be sent: nothing, a clear, or a value. */
  *#write(state: SessionState, ctx: unknown): Steps<WriteOutcome> {
    const o = this.options
    const { data, lifetime } = state
    const pending = data.pending()
    // A value JSON drops (a function, a Map) can serialise just like the old one; report it anyway.
    if (!pending.changed && data.wasTouched()) assertJson(data.touched())

    if (state.destroyed && !pending.changed) {
      const old = state.loadedId
      if (old !== undefined) {
        if (o.store) yield* this.#storeCall('delete', () => o.store!.delete(old, ctx))
        else yield* this.#revokeOld(state)
      }
      return state.hadCookie ? CLEAR : undefined
    }
    const rewrite = pending.changed || lifetime.renewed || state.regenerated || lifetime.refreshDue
    if (!rewrite && !state.stale) {
      // The cookie stays current: later requests bringing it skip the crypto.
      if (state.unsealed) this.codec!.keep(state.value!, state.unsealed)
      // A refused cookie is cleared once, so the browser stops sending it on every request.
      return state.refused ? CLEAR : undefined
    }

    const now = o.now()
    lifetime.beforeWrite(now)
    data.removeConsumed(pending.consumed)
    assertJson(data.values)
    const record: SessionRecord<Data> = {
      // A store may keep the object it is given: hand it a copy. A seal only serialises it.
      data: o.store ? JSON.parse(JSON.stringify(data.values)) : data.values,
      createdAt: lifetime.createdAt,
      expiresAt: lifetime.expiresAt,
    }
    if (lifetime.idleExpiresAt !== undefined) record.idleExpiresAt = lifetime.idleExpiresAt
    if (pending.flash.length > 0) record.flash = pending.flash
    const maxAge = Math.max(1, Math.ceil((lifetime.deadline() - now) / 1000))
    const id = state.ensureId(randomId)
    let value: string
    if (!o.store) {
      record.sid = id
      value = yield* this.#seal(state, record)
      this.#responder.checkSize(value)
      // After regenerate() or destroy(): the cookie the request brought must not work again.
      if (state.loadedId !== undefined && state.loadedId !== id) yield* this.#revokeOld(state)
    } else {
      if (rewrite) yield* this.#storeWrite(state, id, record, pending, ctx, now)
      value = yield* this.#signer!.signing(id)
    }
    return { value, maxAge, now, flash: pending.flash }
  }

  *#seal(state: SessionState, record: SessionRecord<Data>): Steps<string> {
    const o = this.options
    if (o.encoder) {
      return encodeURIComponent(yield* wait(o.encoder.encode(record, o.keys[0]!.secret)))
    }
    // The cookie this request brought is superseded: if an earlier request had it cached,
    // drop it, so the cache holds strings that may come back.
    if (state.value !== undefined && state.unsealed && this.codec!.isKept(state.unsealed)) {
      this.codec!.forget(state.value)
    }
    return yield* this.codec!.sealing(toCompact(record, o.purpose))
  }

  /** New entry first, old one after: a failure in between leaves the user logged in. */
  *#storeWrite(
    state: SessionState,
    id: string,
    record: SessionRecord<Data>,
    pending: { set: readonly string[]; deleted: readonly string[] },
    ctx: unknown,
    now: number,
  ): Steps<void> {
    const store = this.options.store as SessionStore
    const meta: WriteMeta = { now }
    const userAgent = state.request.header('user-agent')
    if (userAgent) meta.userAgent = userAgent
    const userId = this.#userKey === undefined ? undefined : userIdOf(record.data, this.#userKey)
    if (userId !== undefined) meta.userId = userId
    const old = state.loadedId
    if (old === id && store.patch) {
      // Same entry as loaded: merge this request's keys, so concurrent requests that change
      // different keys both survive.
      const patch = { set: pending.set, deleted: pending.deleted }
      yield* this.#storeCall('patch', () => store.patch!(id, record, patch, ctx, meta))
      return
    }
    yield* this.#storeCall('set', () => store.set(id, record, ctx, meta))
    if (old !== undefined && old !== id)
      yield* this.#storeCall('delete', () => store.delete(old, ctx))
  }

  /** Sealed mode with a revocation list: revokes the id the request arrived with. */
  *#revokeOld(state: SessionState): Steps<void> {
    const revocation = this.options.revocation
    const old = state.loadedId
    if (!revocation || old === undefined) return
    yield* this.#storeCall('set', () => revocation.revoke(old))
  }
}

/** The state behind a handle this library made; anything else is a developer error. */
function stateOf(handle: SessionHandle<any>): SessionState {
  if (handle instanceof SessionState) return handle
  throw new SessionError(
    'ERR_SESSION_MISSING',
    'commit() was given something that load() of a session engine did not return',
  )
}

/**
 * A session engine for a framework without an adapter: `load` a request view before the
 * handler, `commit` after it and append the headers it answers.
 *
 * @example
 * const engine = sessionEngine<{ visits?: number }>({ secret: process.env.SESSION_SECRET })
 */
export function sessionEngine<Data extends object = Record<string, any>, Ctx = unknown>(
  options?: SessionOptions<Ctx>,
): SessionEngineApi<Data, Ctx> {
  return new SessionEngine(options) as unknown as SessionEngineApi<Data, Ctx>
}
