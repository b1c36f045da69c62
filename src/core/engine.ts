// The framework-free core: a request view in, a SessionState out; the state in, store writes
// and response headers out. Written once as steps (see util/steps.ts): synchronous where
// nothing waits, a promise where a store or WebCrypto does.
import type { IronCodec } from '../crypto/iron.ts'
import { nodeCrypto } from '../crypto/node-crypto.ts'
import { randomId } from '../crypto/random.ts'
import { runAsync, runSync, type Steps } from '../util/steps.ts'
import { SessionError } from './errors.ts'
import { assertJson } from './json.ts'
import { isSynchronousStore } from './map-store.ts'
import { type ResolvedOptions, resolveOptions } from './options.ts'
import { isExpired, type SealedRecord } from './record.ts'
import { readSession } from './request.ts'
import { CommitResult, NO_COOKIES, NO_HEADERS, type Outcome, Responder } from './response.ts'
import { EncoderSource, IronSource, type Source, StoreSource, storeCall } from './sources.ts'
import type { LifetimeRules } from './state/lifetime.ts'
import { SessionState } from './state/session-state.ts'
import type {
  InvalidReason,
  SessionCommit,
  SessionEngine as SessionEngineApi,
  SessionHandle,
  SessionOptions,
  SessionRecord,
  SessionRequest,
} from './types.ts'

type Data = Record<string, unknown>
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
  readonly #source: Source
  readonly #responder: Responder
  readonly #rules: LifetimeRules

  constructor(options?: SessionOptions) {
    const o = resolveOptions(options)
    this.options = o
    this.cookieName = o.cookieName
    const responder = new Responder(o)
    const checkSize = (value: string) => responder.checkSize(value)
    const iron = o.store || o.encoder ? undefined : new IronSource(o, checkSize)
    this.#source = o.store ? new StoreSource(o, o.store) : (iron ?? new EncoderSource(o, checkSize))
    this.codec = iron?.codec
    this.#responder = responder
    o.revocation?.retainFor(o.maxAgeMs / 1000)
    this.synchronous =
      nodeCrypto !== undefined &&
      (o.store
        ? isSynchronousStore(o.store)
        : !o.encoder && (!o.revocation || o.revocation.synchronous))
    this.#rules = {
      now: o.now,
      maxAgeMs: o.maxAgeMs,
      idleTimeoutMs: o.idleTimeoutMs,
      rolling: o.rolling,
    }
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
    const state = handle instanceof SessionState ? handle : undefined
    const untouched = state && this.#untouched(state)
    return untouched ? Promise.resolve(untouched) : runAsync(this.#commit(handle, ctx))
  }

  /** `commit` for a synchronous engine; throws `ERR_SESSION_ASYNC` on any other. */
  commitSync(handle: SessionHandle<any>, ctx: unknown): SessionCommit {
    if (!this.synchronous) throw notSynchronous()
    const state = handle instanceof SessionState ? handle : undefined
    return (state && this.#untouched(state)) || runSync(this.#commit(handle, ctx), notSynchronous)
  }

  *#load(request: SessionRequest, ctx: unknown): Steps<SessionState> {
    const o = this.options
    const found = readSession(request, o, this.#responder.chunkChars)
    // A bearer token is answered with an empty token header when refused, whoever sent it.
    const carried = { unchunked: o.transport === 'header' && found.values.length > 0, chunks: 0 }
    const state = new SessionState(this.#rules, request, o.cookie.secure, carried)
    // onInvalid hears the first refusal, or the last of a value that verified (an expired
    // session, not the shorter chunk set tried after it).
    let reason: InvalidReason | undefined
    for (let i = 0; i < found.values.length; i++) {
      const value = found.values[i]!
      if (value.length > this.#responder.maxAccepted) {
        reason ??= 'too-large'
        continue
      }
      const loaded = yield* this.#source.open(value, ctx)
      const span = found.spans[i]!
      let refused: InvalidReason | undefined
      let ours = true
      if (typeof loaded === 'string') {
        refused = loaded
        ours = this.#source.authentic(loaded)
      } else {
        const now = o.now()
        refused = isExpired(loaded.record, now)
          ? 'expired'
          : o.revocation
            ? yield* this.#revoked(loaded.record)
            : undefined
        if (!refused) {
          state.carry(span)
          state.open(loaded, now, loaded.unsealed)
          return state
        }
      }
      // A refused value of ours may be cleared when every value under its names was tried: an
      // untried one may be the browser's own, behind ones a sibling subdomain planted.
      if (ours && (span ? found.chunksComplete : found.unchunkedComplete)) state.carry(span)
      reason = ours ? refused : (reason ?? refused)
    }
    if (found.broken) reason ??= 'malformed'
    // No session opened: a new one, whose lifetime starts now.
    state.lifetime.restart()
    if (reason !== undefined) {
      if (state.hadCookie) state.refuse()
      o.onInvalid?.(reason, ctx)
    }
    return state
  }

  /** With a revocation list: why the list refuses `record`, or undefined. */
  *#revoked(record: SessionRecord<Data>): Steps<InvalidReason | undefined> {
    const revocation = this.options.revocation!
    // A seal with no session id could never be revoked: not one this configuration issues.
    if (record.sid === undefined) return 'invalid-data'
    const query = {
      id: record.sid,
      userId: record.data[revocation.userKey],
      createdAt: record.createdAt,
    }
    return (yield* storeCall('get', () => revocation.isRevoked(query))) ? 'revoked' : undefined
  }

  /**
   * Most requests only read: nothing to write, nothing to send. That is known without waiting
   * for anything, so it is answered before any steps start (the cookie stays current and its
   * unseal result is kept). Anything else, undefined.
   */
  #untouched(state: SessionState): SessionCommit | undefined {
    const { data, lifetime } = state
    if (state.destroyed || state.regenerated || state.stale || state.refused) return undefined
    if (lifetime.renewed || lifetime.refreshDue || data.anyKeyWritten()) return undefined
    if (data.pending().changed) return undefined
    this.#source.stillCurrent(state)
    return { headers: NO_HEADERS, cookies: NO_COOKIES, token: state.value ?? null }
  }

  *#commit(handle: SessionHandle<any>, ctx: unknown): Steps<SessionCommit> {
    // Inside the steps, so a foreign handle rejects commit() rather than throwing from it.
    const state = stateOf(handle)
    const outcome = yield* this.#write(state, ctx)
    const built = this.#responder.build(outcome, state)
    if (outcome !== undefined) {
      const written = outcome === CLEAR ? undefined : outcome
      state.rebase({
        id: written ? state.id : undefined,
        flash: written ? written.flash : [],
        cookies: built.carried,
        value: written?.value,
      })
    }
    return new CommitResult(built, state.value ?? null)
  }

  /** Does the store writes; says what the client must be sent: nothing, a clear, or a value. */
  *#write(state: SessionState, ctx: unknown): Steps<WriteOutcome> {
    const o = this.options
    const { data, lifetime } = state
    const pending = data.pending()
    // A value JSON drops (a function, a Map) can serialise just like the old one; report it anyway.
    if (!pending.changed && data.anyKeyWritten()) assertJson(data.writtenValues())

    if (state.destroyed && !pending.changed) {
      if (state.loadedId !== undefined) yield* this.#source.end(state.loadedId, ctx)
      return state.hadCookie ? CLEAR : undefined
    }
    const rewrite = pending.changed || lifetime.renewed || state.regenerated || lifetime.refreshDue
    if (!rewrite && !state.stale) {
      this.#source.stillCurrent(state)
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
    state.ensureId(randomId)
    const changes = { set: pending.set, deleted: pending.deleted, rewrite, now }
    const value = yield* this.#source.save(state, record, changes, ctx)
    const maxAge = Math.max(1, Math.ceil((lifetime.deadline() - now) / 1000))
    return { value, maxAge, now, flash: pending.flash }
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
