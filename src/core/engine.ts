// The framework-free core: a request view in, a SessionState out; the state in, store writes
// and response headers out. Written once as steps (see util/steps.ts): synchronous where
// nothing waits, a promise where a store or WebCrypto does.
import type { IronCodec, UnsealResult } from '../crypto/iron.ts'
import { nodeCrypto } from '../crypto/node-crypto.ts'
import { randomId } from '../crypto/random.ts'
import { BoundedCache, smallKey } from '../util/cache.ts'
import { isPromise, run, runAsync, runSync, type Steps, wait } from '../util/steps.ts'
import { SessionError } from './errors.ts'
import { assertJson } from './json.ts'
import { isSynchronousStore } from './map-store.ts'
import type { BoundMigrator, Migrator } from './migration.ts'
import { type ResolvedOptions, resolveOptions } from './options.ts'
import { type FlashRecord, isExpired, type SealedRecord, sessionDeadline } from './record.ts'
import { type Found, readSession } from './request.ts'
import {
  CommitResult,
  mergeCommits,
  NO_COOKIES,
  NO_HEADERS,
  type Outcome,
  Responder,
} from './response.ts'
import { isAsync, schemaError, validate, validateFlash } from './schema.ts'
import {
  EncoderSource,
  IronSource,
  type Loaded,
  type Source,
  StoreSource,
  storeCall,
} from './sources.ts'
import type { LifetimeRules } from './state/lifetime.ts'
import { type CommitStart, type Opened, type Saver, SessionState } from './state/session-state.ts'
import type {
  InvalidReason,
  SessionCommit,
  SessionDataFor,
  SessionEngine as SessionEngineApi,
  SessionHandle,
  SessionOptions,
  SessionRecord,
  SessionRequest,
  SessionSchema,
} from './types.ts'

type Data = Record<string, unknown>
/** What a write decided: nothing, a clear, or a value with the flash values it carries. */
type WriteOutcome =
  | Exclude<Outcome, object>
  | {
      value: string
      maxAge: number
      now: number
      flash: FlashRecord | undefined
      id: string
      /** The client already holds this cookie, alive as long: written, but nothing to send. */
      held: boolean
    }

const CLEAR = 'clear'
/** What `#cached` answers when the codec's cache does not hold the first value. */
const MISSED = 'missed'
/**
 * The front cache: whole Cookie headers of sessions the codec's cache answered, up to this
 * many characters each and `FRONT_ENTRIES` in all (a few MB at the very most).
 */
const FRONT_MAX_CHARS = 2048
const FRONT_ENTRIES = 2048
/**
 * A header's slot in the front cache: eight characters of the end of the first value after
 * `name` (the session cookie's MAC, as a rule), mixed into a small integer. V8
 * hashes a whole header more slowly than it parses it. Headers that mix alike share a slot
 * (the later one keeps it): those of one session with different other cookies, mostly. The
 * whole header is compared on every hit.
 */
function frontKey(header: string, name: string): number {
  const at = header.indexOf(name)
  let end = at === -1 ? header.length : header.indexOf(';', at)
  if (end === -1) end = header.length
  return smallKey(header, end, Math.max(at, end - 48))
}

/** A Cookie header the front cache holds: what it opened, valid until `until` (epoch ms). */
interface FrontEntry {
  header: string
  opened: Opened
  until: number
  /** Its slot (`frontKey`). */
  slot: number
}
const EMPTY: SessionCommit = Object.freeze({
  headers: NO_HEADERS,
  cookies: NO_COOKIES,
  token: null,
})
const noop = () => {}
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
export class SessionEngine implements SessionEngineApi<any, unknown>, Saver {
  readonly options: ResolvedOptions
  /** The built-in iron codec (sealed mode without a custom encoder). */
  readonly codec: IronCodec<SealedRecord> | undefined
  readonly synchronous: boolean
  /**
   * `synchronous`, and no schema: with one, `synchronous` is a forecast from a probe that may not
   * reach a check that waits. Adapters that choose `loadSync`/`commitSync` once, at setup, ask this.
   */
  readonly alwaysSynchronous: boolean
  readonly cookieName: string
  readonly #source: Source
  readonly #responder: Responder
  readonly #rules: LifetimeRules
  readonly #migrators: readonly BoundMigrator[]
  /** The request header a session comes in: `cookie`, or `authorization` for bearer tokens. */
  readonly #carrier: 'cookie' | 'authorization'
  /**
   * Cookie headers seen whole, with what they opened (sealed mode, no revocation list): what a
   * header decides then depends on nothing but the clock. Filled from cache hits only, so a
   * forged cookie never gets in; bounded like the codec's cache.
   */
  readonly #front: BoundedCache<number, FrontEntry> | undefined
  /** `<cookie name>=`, what `frontKey` looks for. */
  readonly #frontName: string
  /** A `schema` or `flashSchema` checks what a request brings. */
  readonly #checked: boolean

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
    this.#checked = !!(o.schema || o.flashSchema)
    this.#carrier = o.transport === 'header' ? 'authorization' : 'cookie'
    this.#frontName = `${o.cookieName}=`
    this.#front =
      o.transport === 'cookie' && iron && !o.revocation
        ? new BoundedCache(FRONT_ENTRIES)
        : undefined
    // Checked by resolveOptions: every entry has bind(). A session it opens is checked like ours.
    const check = (record: SessionRecord<Data>) => this.#invalid(record)
    this.#migrators = ((options?.migrateFrom ?? []) as readonly Migrator[]).map((m) =>
      m.bind(o, check),
    )
    const revocation = o.revocation
    revocation?.retainFor(o.maxAgeMs / 1000)
    this.synchronous =
      nodeCrypto !== undefined &&
      !(o.schema && isAsync(o.schema)) &&
      !(o.flashSchema && isAsync(o.flashSchema)) &&
      (o.store
        ? isSynchronousStore(o.store)
        : !o.encoder && (!o.revocation || o.revocation.synchronous))
    this.alwaysSynchronous = this.synchronous && !this.#checked
    this.#rules = {
      now: o.now,
      maxAgeMs: o.maxAgeMs,
      idleTimeoutMs: o.idleTimeoutMs,
      rolling: o.rolling,
      longestMs: revocation && (() => revocation.maxAge * 1000),
    }
  }

  /** Entries in the front cache of Cookie headers (0 where there is none), for benchmarks and tests. */
  frontCacheSize(): number {
    return this.#front?.size ?? 0
  }

  /**
   * Opens the session a request carries. A missing, invalid or expired cookie yields a new
   * empty session (and `onInvalid`); only a failing store rejects (`SessionStoreError`).
   */
  load(request: SessionRequest, ctx: unknown): Promise<SessionState> {
    const opened = this.#begin(request, ctx)
    return Promise.resolve(opened instanceof SessionState ? opened : runAsync(opened))
  }

  /** `load` for a synchronous engine; throws `ERR_SESSION_ASYNC` on any other. */
  loadSync(request: SessionRequest, ctx: unknown): SessionState {
    if (!this.synchronous) throw notSynchronous()
    const opened = this.#begin(request, ctx)
    return opened instanceof SessionState ? opened : runSync(opened, notSynchronous)
  }

  /** The session a cache answers for the request, or the steps that open it. */
  #begin(request: SessionRequest, ctx: unknown): SessionState | Steps<SessionState> {
    const header = request.header(this.#carrier)
    // The header's front-cache slot, computed once: a miss here may be an insert in #cached.
    const slot = header && this.#front ? frontKey(header, this.#frontName) : -1
    const seen = slot === -1 ? undefined : this.#seenHeader(header!, slot, request, ctx)
    if (seen) return seen
    const found = readSession(header, this.options, this.#responder.chunkChars)
    const first = this.#cached(request, ctx, found, header, slot)
    return first instanceof SessionState ? first : this.#load(request, ctx, found, first)
  }

  /**
   * Writes what the request changed and answers the headers that carry the session. Rejects
   * with `SessionDataError` for non-JSON data, `SessionTooLargeError` for an oversized session
   * and `SessionStoreError` when the store fails. The state is rebased on what was written, so
   * a later commit writes only what changed since.
   */
  commit(handle: SessionHandle<any>, ctx: unknown): Promise<SessionCommit> {
    const state = handle instanceof SessionState ? handle : undefined
    // A save() in flight writes first; this commit then writes only what changed since.
    if (state?.saving) return state.saving.then(() => this.commit(handle, ctx))
    const untouched = state && this.#untouched(state)
    const result = !untouched
      ? runAsync(this.#commit(handle, ctx))
      : this.#source.touch
        ? runAsync(this.#touched(state!, untouched, ctx))
        : Promise.resolve(untouched)
    return state?.outbox ? result.then((commit) => this.#deliver(state, commit)) : result
  }

  /** `commit` for a synchronous engine; throws `ERR_SESSION_ASYNC` on any other. */
  commitSync(handle: SessionHandle<any>, ctx: unknown): SessionCommit {
    if (!this.synchronous) throw notSynchronous()
    const state = handle instanceof SessionState ? handle : undefined
    if (state?.saving) throw notSynchronous()
    const commit =
      (state && this.#untouched(state)) || runSync(this.#commit(handle, ctx), notSynchronous)
    return state?.outbox ? this.#deliver(state, commit) : commit
  }

  /**
   * `session.save()`: commits now and keeps the headers for the response, which the final
   * commit (or `unsent()`) hands over; resolves to what the client presents next. Saves run
   * one after another; on a synchronous engine the write is done when save() returns.
   */
  save(state: SessionState, ctx: unknown): Promise<string | null> {
    const keep = (commit: SessionCommit) => {
      state.outbox = state.outbox ? mergeCommits(state.outbox, commit) : commit
      return commit.token
    }
    const start = (): string | null | PromiseLike<string | null> => {
      const untouched = this.#untouched(state)
      if (untouched) return keep(untouched)
      const commit = run(this.#commit(state, ctx))
      return isPromise(commit) ? commit.then(keep) : keep(commit)
    }
    let result: string | null | PromiseLike<string | null>
    try {
      result = state.saving ? state.saving.then(start) : start()
    } catch (err) {
      return Promise.reject(err)
    }
    if (!isPromise(result)) return Promise.resolve(result)
    const settled: Promise<unknown> = Promise.resolve(result).then(noop, noop)
    state.saving = settled
    void settled.then(() => {
      if (state.saving === settled) state.saving = undefined
    })
    return Promise.resolve(result)
  }

  /**
   * What `save()` committed that no response carried yet, taken off the session: for a
   * response that will not get a final commit (the handler threw after saving).
   */
  unsent(handle: SessionHandle<any>): SessionCommit {
    const state = stateOf(handle)
    const commit = state.outbox ?? EMPTY
    state.outbox = undefined
    return commit
  }

  /** `commit` with what earlier saves committed in front of it; the session's outbox is emptied. */
  #deliver(state: SessionState, commit: SessionCommit): SessionCommit {
    const merged = mergeCommits(state.outbox!, commit)
    state.outbox = undefined
    return merged
  }

  #state(request: SessionRequest, ctx: unknown, found: Found | undefined): SessionState {
    const o = this.options
    // A bearer token is answered with an empty token header when refused, whoever sent it.
    const carried = { unchunked: o.transport === 'header' && !!found?.values.length, chunks: 0 }
    const state = new SessionState(
      this.#rules,
      request,
      o.cookie.secure,
      carried,
      o.revocation?.userKey,
    )
    state.saver = this
    state.ctx = ctx
    return state
  }

  /**
   * The session of a Cookie header seen before, whole (most reads): one map lookup instead of
   * parsing the header and asking the codec's cache. Undefined when the header is not one the
   * front cache holds, or its session has expired since (the usual path then decides).
   */
  #seenHeader(
    header: string,
    slot: number,
    request: SessionRequest,
    ctx: unknown,
  ): SessionState | undefined {
    const seen = this.#front!.get(slot)
    if (!seen || seen.header !== header) return
    const now = this.options.now()
    if (now >= seen.until || isExpired(seen.opened.record, now)) return
    return this.#opened(request, ctx, undefined, seen.opened, now, 0)
  }

  /** A state holding what a cache answered for the value the request carried as `span`. */
  #opened(
    request: SessionRequest,
    ctx: unknown,
    found: Found | undefined,
    opened: Opened,
    now: number,
    span: number,
    unsealed?: UnsealResult<SealedRecord>,
  ): SessionState {
    const state = this.#state(request, ctx, found)
    state.carry(span)
    state.open(opened, now, unsealed)
    return state
  }

  /**
   * The session of a cookie the codec's cache answers, opened with no steps: what `#load`
   * would open first. Anything else is left to `#load`, with what the cache said of the
   * first value (`MISSED`, or a record that expired), so it does not ask again.
   */
  #cached(
    request: SessionRequest,
    ctx: unknown,
    found: Found,
    header: string | null | undefined,
    slot: number,
  ): SessionState | Loaded | typeof MISSED | undefined {
    const o = this.options
    const source = this.#source
    const value = found.values[0]
    // Only values this engine accepted are cached: under maxAccepted, past the schema.
    if (o.revocation || value === undefined || !source.cached) return
    let opened: Loaded | undefined = source.cached(value)
    if (!opened) {
      // Not cached: opened here where nothing waits and nothing but the deadline is checked
      // after (a cold read on node:crypto). A refusal, or an expired session, #load decides.
      if (!source.fresh || this.#checked || value.length > this.#responder.maxAccepted)
        return MISSED
      opened = source.fresh(value)
      if (typeof opened === 'string') return opened
    }
    const now = o.now()
    if (isExpired(opened.record, now)) return opened
    // The header alone decides this session: the next request with the same header skips
    // the parse (a header carrying chunks, or more than one value, is parsed every time).
    const span = found.spans[0]!
    const whole = span === 0 && found.values.length === 1 && !found.broken
    const state = this.#opened(request, ctx, found, opened, now, span, opened.unsealed)
    // Kept at commit, when the request did not reseal: a write's header never comes back.
    if (opened.cached && slot !== -1 && whole && header!.length <= FRONT_MAX_CHARS) {
      state.front = { header: header!, opened, until: this.codec!.sealUntil(value), slot }
    }
    return state
  }

  *#load(
    request: SessionRequest,
    ctx: unknown,
    found: Found,
    first: Loaded | typeof MISSED | undefined,
  ): Steps<SessionState> {
    const o = this.options
    const { schema } = o
    const state = this.#state(request, ctx, found)
    // onInvalid hears the first refusal, or the last of a value that verified (an expired
    // session, not the shorter chunk set tried after it).
    let reason: InvalidReason | undefined
    for (let i = 0; i < found.values.length; i++) {
      const value = found.values[i]!
      if (value.length > this.#responder.maxAccepted) {
        reason ??= 'too-large'
        continue
      }
      const loaded: Loaded =
        i === 0 && first !== undefined && first !== MISSED
          ? first
          : yield* this.#source.open(value, ctx, i === 0 && first === MISSED)
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
          : // A cached seal passed on the request that had it cached (only opened ones are kept).
            this.#checked && !loaded.cached && (yield* this.#invalid(loaded.record))
            ? 'invalid-data'
            : o.revocation
              ? yield* this.#revoked(loaded.record, request)
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
    // Another library's cookie (migrateFrom): taken over once, sealed in our format on the response.
    for (const m of this.#migrators) {
      reason = yield* m.open(request, state, reason)
      if (!state.isNew) return state
    }
    // No session opened: a new one, whose lifetime starts now and whose data is the defaults.
    state.lifetime.restart()
    if (schema) {
      const fresh: Data = {}
      yield* validate(schema, fresh, fresh)
      state.data.adopt(fresh, undefined, false)
    }
    if (reason !== undefined) {
      if (state.hadCookie) state.refuse()
      o.onInvalid?.(reason, ctx)
    }
    return state
  }

  /**
   * `invalid-data` when the data or flash values a request brought fail `schema` or
   * `flashSchema`; passing, the schema's defaults are filled into `record.data`.
   */
  *#invalid(record: SessionRecord<Data>): Steps<InvalidReason | undefined> {
    const { schema, flashSchema } = this.options
    let data = record.data
    let flash = record.flash
    // 0.1.0's form (and a migrated one's): the flash values are these keys of the data.
    if (Array.isArray(flash)) {
      const byKey: FlashRecord = Object.create(null)
      data = { ...data }
      for (const key of flash) {
        if (!(key in data)) continue
        byKey[key] = [data[key]]
        delete data[key]
      }
      flash = byKey
    }
    if (schema && (yield* validate(schema, data, record.data))) return 'invalid-data'
    if (flashSchema && flash && (yield* validateFlash(flashSchema, flash))) return 'invalid-data'
    return undefined
  }

  /** With a revocation list: why the list refuses `record`, or undefined (then it was seen). */
  *#revoked(
    record: SessionRecord<Data>,
    request: SessionRequest,
  ): Steps<InvalidReason | undefined> {
    const revocation = this.options.revocation!
    // A seal with no session id could never be revoked: not one this configuration issues.
    if (record.sid === undefined) return 'invalid-data'
    const query = {
      id: record.sid,
      userId: record.data[revocation.userKey],
      createdAt: record.createdAt,
    }
    if (yield* storeCall('get', () => revocation.isRevoked(query))) return 'revoked'
    // A device registry moves its last-seen time (throttled: most reads write nothing).
    if (revocation.seen) yield* storeCall('set', () => revocation.seen!(record, request, false))
  }

  /**
   * Most requests only read: nothing to write, nothing to send. That is known without waiting
   * for anything, so it is answered before any steps start (the cookie stays current and its
   * unseal result is kept). Anything else, undefined.
   */
  #untouched(state: SessionState): SessionCommit | undefined {
    const { data, lifetime } = state
    if (state.destroyed || state.regenerated || state.stale || state.refused) return undefined
    if (lifetime.renewed || lifetime.refreshDue || data.anyKeyTracked()) return undefined
    if (data.pending().changed) return undefined
    this.#source.stillCurrent(state)
    const front = state.front as FrontEntry | undefined
    if (front) this.#front!.set(front.slot, front)
    return { headers: NO_HEADERS, cookies: NO_COOKIES, token: state.value ?? null }
  }

  /** A read that changed nothing, told to the store (last seen), then `commit`. */
  *#touched(state: SessionState, commit: SessionCommit, ctx: unknown): Steps<SessionCommit> {
    yield* this.#seen(state, ctx)
    return commit
  }

  /**
   * Tells the store a read changed nothing. Only the last-seen time is at stake, so a store that
   * fails it does not fail the read (as the device registry's read-time writes).
   */
  *#seen(state: SessionState, ctx: unknown): Steps<void> {
    try {
      yield* wait(this.#source.touch!(state, ctx))
    } catch {}
  }

  *#commit(handle: SessionHandle<any>, ctx: unknown): Steps<SessionCommit> {
    // Inside the steps, so a foreign handle rejects commit() rather than throwing from it.
    const state = stateOf(handle)
    // Only a write that waits lets the app change the session meanwhile (an unawaited save()).
    const start: CommitStart | undefined = this.synchronous
      ? undefined
      : { epoch: state.data.epoch, id: state.id, destroyed: state.destroyed, data: undefined }
    const outcome = yield* this.#write(state, ctx, start)
    // A write the client's cookie already carries sends nothing (build's answer for undefined).
    const built = this.#responder.build(
      typeof outcome === 'object' && outcome.held ? undefined : outcome,
      state,
    )
    if (outcome !== undefined) {
      const written = outcome === CLEAR ? undefined : outcome
      const rebase = {
        id: written?.id,
        flash: written?.flash,
        cookies: built.carried,
        value: written?.value,
      }
      state.rebase(rebase, start)
    }
    return new CommitResult(built, state.value ?? null, this.options.cookie)
  }

  /** Does the store writes; says what the client must be sent: nothing, a clear, or a value. */
  *#write(state: SessionState, ctx: unknown, start?: CommitStart): Steps<WriteOutcome> {
    const o = this.options
    const { data, lifetime } = state
    const pending = data.pending()
    // A value JSON drops (a function, a Map) can serialise just like the old one; report it anyway.
    if (!pending.changed && data.anyKeyTracked()) assertJson(data.trackedValues())

    if (state.destroyed && !pending.changed) {
      if (state.loadedId !== undefined) yield* this.#source.end(state, ctx)
      return state.hadCookie ? CLEAR : undefined
    }
    const rewrite = pending.changed || lifetime.renewed || state.regenerated || lifetime.refreshDue
    if (!rewrite && !state.stale) {
      this.#source.stillCurrent(state)
      if (this.#source.touch) yield* this.#seen(state, ctx)
      // A refused cookie is cleared once, so the browser stops sending it on every request.
      return state.refused ? CLEAR : undefined
    }

    const now = o.now()
    lifetime.beforeWrite(now)
    // A store may keep the object it is given: hand it a copy. A seal only serialises it, but a
    // write that may wait keeps a copy too, to tell what the app changed meanwhile.
    const copy = o.store || start ? data.written() : undefined
    if (!copy) assertJson(data.values)
    if (start) start.data = copy
    // The schema checks what is written: an async check lets the app change the session meanwhile.
    const issue = o.schema && (yield* validate(o.schema, copy ?? data.values))
    if (issue) throw schemaError(issue)
    const outgoing = data.outgoingFlash()
    const flash: FlashRecord | undefined =
      outgoing && (o.store || start) ? JSON.parse(JSON.stringify(outgoing)) : outgoing
    const flashIssue = flash && o.flashSchema && (yield* validateFlash(o.flashSchema, flash))
    if (flashIssue) throw schemaError(flashIssue)
    const record: SessionRecord<Data> = {
      data: copy ?? data.values,
      createdAt: lifetime.createdAt,
      expiresAt: lifetime.expiresAt,
    }
    if (lifetime.idleExpiresAt !== undefined) record.idleExpiresAt = lifetime.idleExpiresAt
    if (flash) record.flash = flash
    const id = state.ensureId(randomId)
    const changes = { set: pending.set, deleted: pending.deleted, rewrite, now }
    const value = yield* this.#source.save(state, record, changes, ctx)
    const maxAge = Math.max(1, Math.ceil((sessionDeadline(record) - now) / 1000))
    // Store mode: a write under the id the request brought, signed alike, to the deadline its
    // cookie was set to, would set that same cookie again (as express-session, we do not).
    // Against what the request brought, not an earlier commit's: that response may not be sent.
    // (Only a session this engine opened has `brought`: no foreign or chunk cookie to clear.)
    const held =
      value === state.brought &&
      sessionDeadline(record) === state.broughtDeadline &&
      o.transport === 'cookie'
    return { value, maxAge, now, flash, id, held }
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
export function sessionEngine<
  Data extends object = Record<string, any>,
  Ctx = unknown,
  Schema extends SessionSchema = SessionSchema,
>(options?: SessionOptions<Ctx, Schema>): SessionEngineApi<SessionDataFor<Schema, Data>, Ctx> {
  return new SessionEngine(options) as unknown as SessionEngineApi<
    SessionDataFor<Schema, Data>,
    Ctx
  >
}
