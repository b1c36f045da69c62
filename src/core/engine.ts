import { IronCodec, type UnsealResult } from '../encoders/iron.ts'
import {
  clearCookie,
  cookieAttributes,
  isLocalHttp,
  MAX_COOKIE_BYTES,
  readBearer,
  readChunks,
  readCookie,
  serializeCookie,
} from './cookie.ts'
import { IdSigner, nodeCrypto, randomId } from './crypto.ts'
import { SessionStoreError, SessionTooLargeError } from './errors.ts'
import { assertJson, isPlainContainer } from './json.ts'
import { isSynchronousStore } from './map-store.ts'
import { chain, isPromise, type MaybePromise, settle } from './maybe.ts'
import { type ResolvedOptions, resolveOptions } from './options.ts'
import { isSynchronousRevocation, retainRevocations } from './revocation.ts'
import { SessionState } from './session.ts'
import type { InvalidReason, SessionOptions, SessionRecord } from './types.ts'

type Data = Record<string, unknown>
type Loaded =
  | {
      record: SessionRecord<Data>
      id?: string
      stale: boolean
      /** The record is kept by a cache: the request must copy what it may change. */
      shared?: boolean
      /** The sealed string it was opened from (sealed mode). */
      sealed?: string
      /** What the codec answered for it, to keep in its cache once the request is done. */
      result?: UnsealResult<SealedRecord>
    }
  | InvalidReason
type Outcome = undefined | 'clear' | { value: string; maxAge: number; now: number }

const NO_HEADERS: Array<[string, string]> = []
const identity = <T>(v: T): T => v

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((k) => typeof k === 'string')

/** The record inside a value read from a cookie or store, or undefined when it is not one. */
function asRecord(value: unknown): SessionRecord<Data> | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const r = value as Record<string, unknown>
  if (!isPlainContainer(r.data) || Array.isArray(r.data)) return undefined
  if (!isTime(r.createdAt) || !isTime(r.expiresAt)) return undefined
  if (r.idleExpiresAt !== undefined && !isTime(r.idleExpiresAt)) return undefined
  if (r.flash !== undefined && !isStringArray(r.flash)) return undefined
  if (r.sid !== undefined && typeof r.sid !== 'string') return undefined
  return r as unknown as SessionRecord<Data>
}

/**
 * A record with a deep copy of its data, or undefined when it is not a record of JSON data.
 * Stores and custom decoders may hand back an object they keep (a Map does): the request works
 * on its own copy, so a handler that fails half way leaves the kept session as it was.
 */
function ownCopy(value: unknown): SessionRecord<Data> | undefined {
  const record = asRecord(value)
  if (!record) return undefined
  try {
    return { ...record, data: JSON.parse(JSON.stringify(record.data)) as Data }
  } catch {
    return undefined
  }
}

/** A record opened from a seal, with the purpose it was sealed for. */
type SealedRecord = SessionRecord<Data> & { purpose?: string }

// Sealed cookies carry the record with one-letter keys: fewer bytes in every request.
interface Compact {
  d: Data
  c: number
  e: number
  i?: number
  f?: string[]
  s?: string
  /** The purpose (`options.purpose`) it was sealed for. */
  p: string
}

const toCompact = (r: SessionRecord<Data>, purpose: string): Compact => {
  const c: Compact = { d: r.data, c: r.createdAt, e: r.expiresAt, p: purpose }
  if (r.idleExpiresAt !== undefined) c.i = r.idleExpiresAt
  if (r.flash) c.f = r.flash
  if (r.sid) c.s = r.sid
  return c
}

const fromCompact = (v: unknown): SealedRecord | undefined => {
  if (typeof v !== 'object' || v === null) return undefined
  const c = v as Compact
  const record = asRecord({
    data: c.d,
    createdAt: c.c,
    expiresAt: c.e,
    idleExpiresAt: c.i,
    flash: c.f,
    sid: c.s,
    purpose: c.p,
  }) as SealedRecord | undefined
  return record && (record.purpose === undefined || typeof record.purpose === 'string')
    ? record
    : undefined
}

/**
 * The framework-free core: turns a request's Cookie header into a `SessionState`, and that
 * state back into Set-Cookie values and store writes. Adapters call `load` before the handler
 * and `commit` after it; they never decide what is written.
 */
export class SessionEngine {
  readonly options: ResolvedOptions
  readonly codec: IronCodec<SealedRecord> | undefined
  /**
   * True when `load` and `commitHeaders` never wait: sealed mode on `node:crypto` (with no
   * custom encoder, and a revocation list, if any, in a `Map`) or a `Map` store. Adapters whose
   * framework treats synchronous hooks more cheaply may then register synchronous ones.
   */
  readonly synchronous: boolean
  readonly #signer: IdSigner | undefined
  // Set-Cookie attributes are fixed per engine but for Secure, which depends on the request.
  readonly #attrs: { secure: string; plain: string }
  // A cookie longer than anything we write is refused before any crypto or store work.
  readonly #maxAccepted: number
  /** Characters of value one chunk cookie holds (`<name>.<digit>=` takes the rest of 4096). */
  readonly #chunkChars: number

  constructor(options?: SessionOptions) {
    this.options = resolveOptions(options)
    const o = this.options
    this.codec =
      o.store || o.encoder ? undefined : new IronCodec(o.keys, { now: o.now, revive: fromCompact })
    this.#signer = o.store ? new IdSigner(o.keys, o.purpose) : undefined
    if (o.revocation) retainRevocations(o.revocation, o.maxAge)
    this.synchronous =
      nodeCrypto !== undefined &&
      (o.store
        ? isSynchronousStore(o.store)
        : !o.encoder && (!o.revocation || isSynchronousRevocation(o.revocation)))
    this.#attrs = {
      secure: cookieAttributes(o.cookie, o.cookieName, true),
      plain: cookieAttributes(o.cookie, o.cookieName, false),
    }
    this.#chunkChars = MAX_COOKIE_BYTES - (o.cookieName.length + 3)
    this.#maxAccepted = o.maxChunks === 1 ? MAX_COOKIE_BYTES : o.maxChunks * this.#chunkChars
  }

  /**
   * Opens the session a request carries. A missing, invalid or expired cookie yields a new
   * empty session (and `onInvalid`); only a failing store throws (`SessionStoreError`).
   * Answers synchronously when nothing asynchronous was involved (sealed mode on `node:crypto`,
   * a `Map` store), so adapters can skip a microtask; `await` works either way.
   *
   * @param cookieHeader the request's Cookie header
   * @param ctx the framework context, passed to the store and `onInvalid`
   * @param url the request URL (or a function that reads it, called only when a cookie is
   *   written), to decide `Secure` when `cookie.secure` is `'auto'`
   * @param authorization the Authorization header (read only when `transport` is `'header'`)
   */
  load(
    cookieHeader: string | null | undefined,
    ctx: unknown,
    url?: string | (() => string | undefined),
    authorization?: string | null,
  ): MaybePromise<SessionState> {
    const o = this.options
    const secure =
      o.cookie.secure !== 'auto'
        ? o.cookie.secure
        : typeof url === 'function'
          ? () => !isLocalHttp(url())
          : !isLocalHttp(url)
    const state = new SessionState(o.now, o.maxAge, secure, o.idleTimeout)
    const values =
      o.transport === 'header' ? readBearer(authorization) : readCookie(cookieHeader, o.cookieName)
    let reason: InvalidReason | undefined
    if (o.maxChunks > 1) {
      state.sentPlain = values.length > 0
      const chunks = readChunks(cookieHeader, o.cookieName, o.maxChunks)
      state.sentChunks = chunks.seen
      if (chunks.value !== undefined) values.push(chunks.value)
      if (chunks.broken) {
        state.hadCookie = true
        reason = 'malformed'
      }
    }
    if (values.length === 0 && reason === undefined) return state
    return this.#openFrom(state, values, 0, reason, ctx)
  }

  /** Tries the cookie values from `i` on; the first one that opens is adopted. */
  #openFrom(
    state: SessionState,
    values: string[],
    i: number,
    reason: InvalidReason | undefined,
    ctx: unknown,
  ): MaybePromise<SessionState> {
    for (; i < values.length; i++) {
      state.hadCookie = true
      const value = values[i]!
      const outcome =
        value.length > this.#maxAccepted
          ? 'too-large'
          : chain(
              this.options.store ? this.#loadFromStore(value, ctx) : this.#loadSealed(value),
              (loaded) => this.#accept(state, loaded, ctx),
            )
      if (isPromise(outcome)) {
        const next = i + 1
        return outcome.then((r) =>
          r === undefined ? state : this.#openFrom(state, values, next, r, ctx),
        )
      }
      if (outcome === undefined) return state
      reason = outcome
    }
    if (reason !== undefined) {
      state.refused = true
      this.options.onInvalid?.(reason, ctx)
    }
    return state
  }

  /** Adopts a loaded record unless it expired; answers why not, or undefined when adopted. */
  #accept(
    state: SessionState,
    loaded: Loaded,
    ctx: unknown,
  ): MaybePromise<InvalidReason | undefined> {
    if (typeof loaded === 'string') return loaded
    const o = this.options
    const now = o.now()
    const { record } = loaded
    if (
      now >= record.expiresAt ||
      (record.idleExpiresAt !== undefined && now >= record.idleExpiresAt)
    ) {
      const id = loaded.id
      if (id === undefined) return 'expired'
      return chain(
        this.#storeCall('delete', () => o.store!.delete(id, ctx)),
        () => 'expired' as const,
      )
    }
    const revocation = o.revocation
    if (revocation && record.sid !== undefined) {
      const query = {
        id: record.sid,
        userId: record.data[revocation.userKey],
        createdAt: record.createdAt,
      }
      return chain(
        this.#storeCall('get', () => revocation.isRevoked(query)),
        (revoked): MaybePromise<InvalidReason | undefined> =>
          revoked ? 'revoked' : this.#adopt(state, loaded, now),
      )
    }
    return this.#adopt(state, loaded, now)
  }

  #adopt(state: SessionState, loaded: Exclude<Loaded, InvalidReason>, now: number): undefined {
    state.adopt(loaded.record, loaded.id, loaded.shared === true)
    state.sealedValue = loaded.sealed
    state.unsealed = loaded.result
    state.stale = loaded.stale
    if (this.options.rolling) state.touchDue = this.#rollingDue(state, now)
    return undefined
  }

  /** True once half the rolling window has passed since the deadline was last moved. */
  #rollingDue(state: SessionState, now: number): boolean {
    const { idleTimeout, maxAge } = this.options
    if (idleTimeout !== undefined) {
      // A record sealed before idleTimeout was configured has no idle deadline yet.
      if (state.idleExpiresAt === undefined) return true
      return state.idleExpiresAt - now <= idleTimeout / 2
    }
    return state.expiresAt - now <= maxAge / 2
  }

  #loadSealed(value: string): MaybePromise<Loaded> {
    const o = this.options
    if (o.encoder) {
      const encoder = o.encoder
      return settle(
        () => encoder.decode(value, o.keys[0]!.secret),
        (decoded): Loaded => {
          if (decoded === null || decoded === undefined) return 'tampered'
          const record = ownCopy(decoded)
          return record ? { record, stale: false } : 'invalid-data'
        },
        (): Loaded => 'tampered',
      )
    }
    // Kept by the codec only if this request does not reseal it (see #write): a cookie that is
    // superseded at once would fill the cache with strings that do not come back.
    return chain(this.codec!.unseal(value, false), (result): Loaded => {
      if (!result.ok) return result.reason
      if (result.value.purpose !== o.purpose) return 'wrong-purpose'
      // Shared with the cache (now or once kept): the request copies what it changes.
      return { record: result.value, stale: result.stale, shared: true, sealed: value, result }
    })
  }

  #loadFromStore(value: string, ctx: unknown): MaybePromise<Loaded> {
    return chain(this.#signer!.verify(value), (verified) => {
      if (!verified) return 'tampered'
      return chain(
        this.#storeCall('get', () => this.options.store!.get(verified.id, ctx)),
        (stored): Loaded => {
          if (stored === null || stored === undefined) return 'not-found'
          const record = ownCopy(stored)
          return record ? { record, id: verified.id, stale: verified.stale } : 'invalid-data'
        },
      )
    })
  }

  /** Sealed mode with a revocation list: revokes the id the request arrived with. */
  #revokeOld(state: SessionState): MaybePromise<unknown> {
    const revocation = this.options.revocation
    const old = state.loadedId
    if (!revocation || old === undefined) return undefined
    return this.#storeCall('set', () => revocation.revoke(old))
  }

  /** Runs one store call; any failure, sync or async, becomes a `SessionStoreError`. */
  #storeCall(op: SessionStoreError['operation'], call: () => unknown): MaybePromise<unknown> {
    return settle(call, identity, (err) => {
      throw new SessionStoreError(op, err)
    })
  }

  /**
   * Writes what the request changed and returns the response headers that carry the session:
   * Set-Cookie (cookie transport) or the token header (header transport); none when nothing
   * changed. Throws `SessionDataError` for non-JSON data, `SessionTooLargeError` for an
   * oversized session and `SessionStoreError` when the store fails. Like `load`, answers
   * synchronously when nothing asynchronous was involved.
   */
  commitHeaders(state: SessionState, ctx: unknown): MaybePromise<Array<[string, string]>> {
    return chain(this.#write(state, ctx), (outcome) => {
      if (outcome === undefined) return NO_HEADERS
      const o = this.options
      if (o.transport === 'header') {
        return [[o.tokenHeader, outcome === 'clear' ? '' : outcome.value]]
      }
      const attrs = state.secure ? this.#attrs.secure : this.#attrs.plain
      if (o.maxChunks > 1) return this.#chunkedHeaders(state, outcome, attrs)
      return [
        [
          'set-cookie',
          outcome === 'clear'
            ? clearCookie(o.cookieName, attrs)
            : serializeCookie(o.cookieName, outcome.value, outcome.maxAge, attrs, outcome.now),
        ],
      ]
    })
  }

  /**
   * Set-Cookie values with chunking on: one cookie when the value fits, else `<name>.0` …;
   * whichever form the request carried and this response does not write is cleared.
   */
  #chunkedHeaders(
    state: SessionState,
    outcome: 'clear' | { value: string; maxAge: number; now: number },
    attrs: string,
  ): Array<[string, string]> {
    const name = this.options.cookieName
    const headers: Array<[string, string]> = []
    let plain = false
    let chunks = 0
    if (outcome !== 'clear') {
      const { value, maxAge, now } = outcome
      if (name.length + 1 + value.length <= MAX_COOKIE_BYTES) {
        plain = true
        headers.push(['set-cookie', serializeCookie(name, value, maxAge, attrs, now)])
      } else {
        for (let at = 0; at < value.length; at += this.#chunkChars, chunks++) {
          const part = value.slice(at, at + this.#chunkChars)
          headers.push([
            'set-cookie',
            serializeCookie(`${name}.${chunks}`, part, maxAge, attrs, now),
          ])
        }
      }
    }
    // A clear with nothing seen still clears the plain name: the browser may hold it.
    const clearPlain =
      !plain && (state.sentPlain || (outcome === 'clear' && state.sentChunks === 0))
    if (clearPlain) headers.push(['set-cookie', clearCookie(name, attrs)])
    for (let i = chunks; i < state.sentChunks; i++) {
      headers.push(['set-cookie', clearCookie(`${name}.${i}`, attrs)])
    }
    return headers
  }

  /** Like `commitHeaders`, but only the Set-Cookie values (cookie transport). */
  async commit(state: SessionState, ctx: unknown): Promise<string[]> {
    const headers = await this.commitHeaders(state, ctx)
    return headers.filter(([name]) => name === 'set-cookie').map(([, value]) => value)
  }

  /** Does the store writes; says what the client must be sent: nothing, a clear, or a value. */
  #write(state: SessionState, ctx: unknown): MaybePromise<Outcome> {
    const o = this.options
    const pending = state.pending()
    // A value JSON drops (a function, a Map) can serialise just like the old one; report it anyway.
    if (!pending.changed && state.wasTouched()) assertJson(state.touched())

    if (state.destroyed && !pending.changed) {
      const old = state.loadedId
      const outcome = state.hadCookie ? 'clear' : undefined
      if (old === undefined) return outcome
      return chain(
        o.store
          ? this.#storeCall('delete', () => o.store!.delete(old, ctx))
          : this.#revokeOld(state),
        () => outcome,
      )
    }
    const rewrite = pending.changed || state.renewed || state.regenerated || state.touchDue
    if (!rewrite && !state.stale) {
      // The cookie stays current: later requests bringing it skip the crypto.
      if (state.unsealed)
        this.codec!.keep(state.sealedValue!, state.unsealed as UnsealResult<SealedRecord>)
      // A refused cookie is cleared once, so the browser stops sending it on every request.
      return state.refused ? 'clear' : undefined
    }

    const now = o.now()
    if (state.touchDue && o.idleTimeout === undefined) state.expiresAt = now + o.maxAge
    if (o.idleTimeout !== undefined) state.idleExpiresAt = now + o.idleTimeout
    for (const key of pending.consumed) delete state.data[key]
    assertJson(state.data)
    const record: SessionRecord<Data> = {
      // A store may keep the object it is given: hand it a copy. A seal only serialises it.
      data: o.store ? JSON.parse(JSON.stringify(state.data)) : state.data,
      createdAt: state.createdAt,
      expiresAt: state.expiresAt,
    }
    if (state.idleExpiresAt !== undefined) record.idleExpiresAt = state.idleExpiresAt
    if (pending.flash.length > 0) record.flash = pending.flash
    const maxAge = Math.max(1, Math.ceil((state.deadline() - now) / 1000))

    state.id ??= randomId()
    const id = state.id
    const sized = (value: string): Outcome => {
      const size = o.cookieName.length + 1 + value.length
      if (size > MAX_COOKIE_BYTES) {
        if (o.maxChunks === 1) throw new SessionTooLargeError(size, MAX_COOKIE_BYTES)
        const chunks = Math.ceil(value.length / this.#chunkChars)
        if (chunks > o.maxChunks) {
          const total = value.length + chunks * (o.cookieName.length + 3)
          throw new SessionTooLargeError(total, o.maxChunks * MAX_COOKIE_BYTES, o.maxChunks)
        }
      }
      return { value, maxAge, now }
    }
    if (!o.store) {
      record.sid = id
      if (o.encoder) {
        const encoder = o.encoder
        return chain(encoder.encode(record, o.keys[0]!.secret), (v) => sized(encodeURIComponent(v)))
      }
      // The cookie this request brought is superseded: if an earlier request had it cached,
      // drop it, so the cache holds strings that may come back.
      if (state.sealedValue !== undefined && state.unsealed && Object.isFrozen(state.unsealed)) {
        this.codec!.forget(state.sealedValue)
      }
      const outcome = chain(this.codec!.seal(toCompact(record, o.purpose)), sized)
      // After regenerate() or destroy(): the cookie the request brought must not work again.
      if (o.revocation === undefined || state.loadedId === undefined || state.loadedId === id) {
        return outcome
      }
      return chain(outcome, (written) => chain(this.#revokeOld(state), () => written))
    }
    const signed = () => chain(this.#signer!.sign(id), sized)
    if (!rewrite) return signed()
    // New entry first, old one after: a failure in between leaves the user logged in.
    const store = o.store
    const old = state.loadedId
    if (old === id && store.patch) {
      // Same entry as loaded: merge this request's keys, so concurrent requests that change
      // different keys both survive.
      const patch = { set: pending.set, deleted: pending.deleted }
      return chain(
        this.#storeCall('patch', () => store.patch!(id, record, patch, ctx)),
        signed,
      )
    }
    return chain(
      this.#storeCall('set', () => store.set(id, record, ctx)),
      () =>
        old !== undefined && old !== id
          ? chain(
              this.#storeCall('delete', () => store.delete(old, ctx)),
              signed,
            )
          : signed(),
    )
  }
}
