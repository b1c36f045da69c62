import { IronCodec } from '../encoders/iron.ts'
import {
  clearCookie,
  cookieAttributes,
  isLocalHttp,
  MAX_COOKIE_BYTES,
  readBearer,
  readCookie,
  serializeCookie,
} from './cookie.ts'
import { IdSigner, randomId } from './crypto.ts'
import { SessionStoreError, SessionTooLargeError } from './errors.ts'
import { assertJson, isPlainContainer } from './json.ts'
import { type ResolvedOptions, resolveOptions } from './options.ts'
import { SessionState } from './session.ts'
import type { InvalidReason, SessionOptions, SessionRecord } from './types.ts'

type Data = Record<string, unknown>
type Loaded = { record: SessionRecord<Data>; id?: string; stale: boolean } | InvalidReason

// A cookie longer than anything we write is refused before any crypto or store work.
const MAX_ACCEPTED_LENGTH = MAX_COOKIE_BYTES

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

// Sealed cookies carry the record with one-letter keys: fewer bytes in every request.
interface Compact {
  d: Data
  c: number
  e: number
  i?: number
  f?: string[]
  s?: string
}

const toCompact = (r: SessionRecord<Data>): Compact => {
  const c: Compact = { d: r.data, c: r.createdAt, e: r.expiresAt }
  if (r.idleExpiresAt !== undefined) c.i = r.idleExpiresAt
  if (r.flash) c.f = r.flash
  if (r.sid) c.s = r.sid
  return c
}

const fromCompact = (v: unknown): SessionRecord<Data> | undefined => {
  if (typeof v !== 'object' || v === null) return undefined
  const c = v as Compact
  return asRecord({
    data: c.d,
    createdAt: c.c,
    expiresAt: c.e,
    idleExpiresAt: c.i,
    flash: c.f,
    sid: c.s,
  })
}

/**
 * The framework-free core: turns a request's Cookie header into a `SessionState`, and that
 * state back into Set-Cookie values and store writes. Adapters call `load` before the handler
 * and `commit` after it; they never decide what is written.
 */
export class SessionEngine {
  readonly options: ResolvedOptions
  readonly codec: IronCodec | undefined
  readonly #signer: IdSigner | undefined
  // Set-Cookie attributes are fixed per engine but for Secure, which depends on the request.
  readonly #attrs: { secure: string; plain: string }

  constructor(options?: SessionOptions) {
    this.options = resolveOptions(options)
    const o = this.options
    this.codec = o.store || o.encoder ? undefined : new IronCodec(o.keys, { now: o.now })
    this.#signer = o.store ? new IdSigner(o.keys) : undefined
    this.#attrs = {
      secure: cookieAttributes(o.cookie, o.cookieName, true),
      plain: cookieAttributes(o.cookie, o.cookieName, false),
    }
  }

  /**
   * Opens the session a request carries. A missing, invalid or expired cookie yields a new
   * empty session (and `onInvalid`); only a failing store throws (`SessionStoreError`).
   *
   * @param cookieHeader the request's Cookie header
   * @param ctx the framework context, passed to the store and `onInvalid`
   * @param url the request URL, to decide `Secure` when `cookie.secure` is `'auto'`
   */
  async load(
    cookieHeader: string | null | undefined,
    ctx: unknown,
    url?: string,
    authorization?: string | null,
  ): Promise<SessionState> {
    const o = this.options
    const secure = o.cookie.secure === 'auto' ? !isLocalHttp(url) : o.cookie.secure
    const state = new SessionState(o.now, o.maxAge, secure, o.idleTimeout)
    let reason: InvalidReason | undefined
    const values =
      o.transport === 'header' ? readBearer(authorization) : readCookie(cookieHeader, o.cookieName)
    for (const value of values) {
      state.hadCookie = true
      const loaded: Loaded =
        value.length > MAX_ACCEPTED_LENGTH
          ? 'too-large'
          : o.store
            ? await this.#loadFromStore(value, ctx)
            : await this.#loadSealed(value)
      if (typeof loaded === 'string') {
        reason = loaded
        continue
      }
      const now = o.now()
      const { record } = loaded
      if (
        now >= record.expiresAt ||
        (record.idleExpiresAt !== undefined && now >= record.idleExpiresAt)
      ) {
        reason = 'expired'
        if (loaded.id !== undefined) {
          const id = loaded.id
          await this.#storeCall('delete', () => o.store!.delete(id, ctx))
        }
        continue
      }
      state.adopt(record, loaded.id)
      state.stale = loaded.stale
      if (o.rolling) state.touchDue = this.#rollingDue(state, now)
      return state
    }
    if (reason !== undefined) {
      state.refused = true
      o.onInvalid?.(reason, ctx)
    }
    return state
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

  async #loadSealed(value: string): Promise<Loaded> {
    const o = this.options
    if (o.encoder) {
      let decoded: unknown
      try {
        decoded = await o.encoder.decode(value, o.keys[0]!.secret)
      } catch {
        return 'tampered'
      }
      if (decoded === null || decoded === undefined) return 'tampered'
      const record = ownCopy(decoded)
      return record ? { record, stale: false } : 'invalid-data'
    }
    const result = await this.codec!.unseal(value)
    if (!result.ok) return result.reason
    const record = fromCompact(result.value)
    return record ? { record, stale: result.stale } : 'invalid-data'
  }

  async #loadFromStore(value: string, ctx: unknown): Promise<Loaded> {
    const verified = await this.#signer!.verify(value)
    if (!verified) return 'tampered'
    const stored = await this.#storeCall('get', () => this.options.store!.get(verified.id, ctx))
    if (stored === null || stored === undefined) return 'not-found'
    const record = ownCopy(stored)
    return record ? { record, id: verified.id, stale: verified.stale } : 'invalid-data'
  }

  /** Runs one store call; any failure, sync or async, becomes a `SessionStoreError`. */
  async #storeCall(op: SessionStoreError['operation'], call: () => unknown): Promise<unknown> {
    try {
      return await call()
    } catch (err) {
      throw new SessionStoreError(op, err)
    }
  }

  /**
   * Writes what the request changed and returns the response headers that carry the session:
   * Set-Cookie (cookie transport) or the token header (header transport); none when nothing
   * changed. Throws `SessionDataError` for non-JSON data, `SessionTooLargeError` for an
   * oversized session and `SessionStoreError` when the store fails.
   */
  async commitHeaders(state: SessionState, ctx: unknown): Promise<Array<[string, string]>> {
    const o = this.options
    const outcome = await this.#write(state, ctx)
    if (outcome === undefined) return []
    if (o.transport === 'header') return [[o.tokenHeader, outcome === 'clear' ? '' : outcome.value]]
    const attrs = state.secure ? this.#attrs.secure : this.#attrs.plain
    return [
      [
        'set-cookie',
        outcome === 'clear'
          ? clearCookie(o.cookieName, attrs)
          : serializeCookie(o.cookieName, outcome.value, outcome.maxAge, attrs, outcome.now),
      ],
    ]
  }

  /** Like `commitHeaders`, but only the Set-Cookie values (cookie transport). */
  async commit(state: SessionState, ctx: unknown): Promise<string[]> {
    const headers = await this.commitHeaders(state, ctx)
    return headers.filter(([name]) => name === 'set-cookie').map(([, value]) => value)
  }

  /** Does the store writes; says what the client must be sent: nothing, a clear, or a value. */
  async #write(
    state: SessionState,
    ctx: unknown,
  ): Promise<undefined | 'clear' | { value: string; maxAge: number; now: number }> {
    const o = this.options
    const pending = state.pending()
    // A value JSON drops (a function, a Map) can serialise just like the old one; report it anyway.
    if (!pending.changed && state.wasTouched()) assertJson(state.touched())

    if (state.destroyed && !pending.changed) {
      const old = state.loadedId
      if (old !== undefined) await this.#storeCall('delete', () => o.store!.delete(old, ctx))
      return state.hadCookie ? 'clear' : undefined
    }
    const rewrite = pending.changed || state.renewed || state.regenerated || state.touchDue
    // A refused cookie is cleared once, so the browser stops sending it on every request.
    if (!rewrite && !state.stale) return state.refused ? 'clear' : undefined

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
    let value: string
    if (o.store) {
      if (rewrite) {
        // New entry first, old one after: a failure in between leaves the user logged in.
        const store = o.store
        const old = state.loadedId
        if (old === id && store.patch) {
          // Same entry as loaded: merge this request's keys, so concurrent requests that change
          // different keys both survive.
          const patch = { set: pending.set, deleted: pending.deleted }
          await this.#storeCall('patch', () => store.patch!(id, record, patch, ctx))
        } else {
          await this.#storeCall('set', () => store.set(id, record, ctx))
          if (old !== undefined && old !== id) {
            await this.#storeCall('delete', () => store.delete(old, ctx))
          }
        }
      }
      value = await this.#signer!.sign(id)
    } else {
      record.sid = id
      value = o.encoder
        ? encodeURIComponent(await o.encoder.encode(record, o.keys[0]!.secret))
        : await this.codec!.seal(toCompact(record))
    }
    const size = o.cookieName.length + 1 + value.length
    if (size > MAX_COOKIE_BYTES) throw new SessionTooLargeError(size, MAX_COOKIE_BYTES)
    return { value, maxAge, now }
  }
}
