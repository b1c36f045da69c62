// Where a session's record lives between requests, one class each: inside the sealed cookie
// (iron, or a custom encoder) or in a store under a signed id. The engine picks one at
// construction and never asks again which mode it is in.
import { IdSigner } from '../crypto/id-signer.ts'
import { IronCodec, type UnsealResult } from '../crypto/iron.ts'
import { nodeCrypto } from '../crypto/node-crypto.ts'
import { type Steps, wait } from '../util/steps.ts'
import { type SessionStoreError, storeError } from './errors.ts'
import { isSynchronousStore, KeptRecord } from './map-store.ts'
import type { ResolvedOptions } from './options.ts'
import {
  fromCompact,
  isExpired,
  ownCopy,
  type SealedRecord,
  toCompact,
  userIdOf,
} from './record.ts'
import type { Opened, SessionState } from './state/session-state.ts'
import { warnNotARecord } from './store-call.ts'
import type {
  InvalidReason,
  SessionRecord,
  SessionRequest,
  SessionStore,
  WriteMeta,
} from './types.ts'

type Data = Record<string, unknown>

const NOT_A_SESSION = "its sessions are refused as 'invalid-data'"

/** What opening one value gave: the record and its facts, or why it was refused. */
export type Loaded = (Opened & { unsealed?: UnsealResult<SealedRecord> }) | InvalidReason

/** The keys one request changed, for a store's atomic patch. */
export interface Changes {
  set: readonly string[]
  deleted: readonly string[]
  /** Anything to write at all (false: only the id is signed again, with a newer key). */
  rewrite: boolean
  /** The write's time, epoch ms. */
  now: number
}

/** One place a session's record lives. */
export interface Source {
  /**
   * Opens one value a request carried (a sealed string, or a signed id); `missed`: `cached`
   * was just asked for it and had nothing.
   */
  open(value: string, ctx: unknown, missed?: boolean): Steps<Loaded>
  /** What a cache answers for `value` without any steps, when it holds a valid record; else undefined (then `open`). */
  cached?(value: string): Opened | undefined
  /** `open` of a value `cached` did not answer, without steps, where nothing needs to wait. */
  fresh?(value: string): Loaded
  /**
   * Whether a value `open` refused for `reason` had passed its MAC or signature check: it was
   * one of ours (stale, or unreadable), so the response may clear it.
   */
  authentic(reason: InvalidReason): boolean
  /** Keeps `record` for `state` (whose id is set) and answers the value the client holds next. */
  save(
    state: SessionState,
    record: SessionRecord<Data>,
    changes: Changes,
    ctx: unknown,
  ): Steps<string>
  /**
   * Ends the session the client holds (`state.loadedId`, set), at logout or regenerate:
   * deletes its entry, or revokes it.
   */
  end(state: SessionState, ctx: unknown): Steps<void>
  /** The value the request brought stays current: nothing was written. */
  stillCurrent(state: SessionState): void
  /** Store mode: tells the store a request read the session and changed nothing. */
  touch?(state: SessionState, ctx: unknown): unknown
}

/** Runs one store call; any failure, sync or async, becomes a `SessionStoreError`. */
export function* storeCall<T>(
  op: SessionStoreError['operation'],
  call: () => T,
): Steps<Awaited<T>> {
  try {
    return (yield* wait(call())) as Awaited<T>
  } catch (err) {
    throw storeError(op, err)
  }
}

/** Sealed mode with the built-in iron codec (and, optionally, a revocation list). */
export class IronSource implements Source {
  readonly codec: IronCodec<SealedRecord>
  readonly #o: ResolvedOptions
  readonly #checkSize: (value: string) => void

  /** @param checkSize throws when a value fits in no cookie (before anything is revoked) */
  constructor(o: ResolvedOptions, checkSize: (value: string) => void) {
    this.#o = o
    this.#checkSize = checkSize
    this.codec = new IronCodec(o.keys, { now: o.now, revive: fromCompact })
    // Only node:crypto opens a seal without waiting.
    if (!nodeCrypto) this.fresh = undefined
  }

  *open(value: string, _ctx?: unknown, missed = false): Steps<Loaded> {
    // A cookie seen before is answered from the cache without any steps.
    const hit = missed ? undefined : this.cached(value)
    if (hit) return hit
    // On node:crypto without steps (the engine calls `fresh` itself first), else on WebCrypto.
    return this.#loaded(value, yield* this.codec.unsealingFresh(value, false))
  }

  fresh?(value: string): Loaded {
    return this.#loaded(value, this.codec.unsealFresh(value, false)!)
  }

  /**
   * What an unseal the cache did not answer gives the request. Kept by the codec only if the
   * request does not reseal it (see stillCurrent): a cookie superseded at once would fill the
   * cache with strings that do not come back.
   */
  #loaded(value: string, result: UnsealResult<SealedRecord>): Loaded {
    if (!result.ok) return result.reason
    if (result.value.purpose !== this.#o.purpose) return 'wrong-purpose'
    // Shared with the cache once kept: the request copies what it changes.
    const { value: record, stale } = result
    return {
      record,
      storeId: undefined,
      stale,
      shared: true,
      sealed: value,
      cached: false,
      unsealed: result,
    }
  }

  cached(value: string): Opened | undefined {
    const hit = this.codec.lookup(value)
    if (!hit?.ok || hit.value.purpose !== this.#o.purpose) return undefined
    const { value: record, stale } = hit
    return { record, storeId: undefined, stale, shared: true, sealed: value, cached: true }
  }

  authentic(reason: InvalidReason): boolean {
    // Both after the MAC; the codec refuses the rest before or at it (an iron expiry is read
    // unsigned). Another purpose was still sealed with our key (a `purpose` that changed).
    return reason === 'invalid-data' || reason === 'wrong-purpose'
  }

  *save(state: SessionState, record: SessionRecord<Data>): Steps<string> {
    // The cookie this request brought is superseded: if the cache holds it (opened, or sealed
    // by us), drop it, so the cache holds strings that may come back.
    if (state.value !== undefined) this.codec.forget(state.value)
    // Read before the seal waits: the app may change the session meanwhile.
    const { id, loadedId } = state
    record.sid = id
    // Remembered by the codec (write-through): the client's next request is answered without
    // crypto, from a copy nothing the app changes later reaches. As the record an unseal would
    // open when copying the data costs nothing (see sharable); else as its JSON, parsed then.
    const o = this.#o
    const compact = toCompact(record, o.purpose)
    // A schema fills its defaults in on the request that opens the seal; flash values are objects.
    const data = !o.schema && !o.flashSchema && !record.flash && state.data.sharable(record.data)
    const sealed = yield* this.codec.sealing(
      compact,
      true,
      data ? [data, ...compact.slice(1)] : undefined,
    )
    this.#checkSize(sealed)
    // After regenerate(): the cookie the request brought must not work again.
    if (loadedId !== undefined && loadedId !== id) yield* this.end(state)
    // A device registry registers a login, or a deadline that moved.
    const revocation = o.revocation
    if (revocation?.seen)
      yield* storeCall('set', () => revocation.seen!(record, state.request, true))
    return sealed
  }

  *end(state: SessionState): Steps<void> {
    const revocation = this.#o.revocation
    // Only a session with a user is revoked: a copy of an anonymous one opens no account, and
    // ending the anonymous sessions anyone can make must not grow the list (SECURITY.md).
    if (!revocation || !state.loadedHasUser) return
    const id = state.loadedId!
    const expiresAt = state.loadedExpiresAt
    yield* storeCall('set', () => revocation.revoke(id, { expiresAt }))
  }

  stillCurrent(state: SessionState): void {
    // Later requests bringing the same cookie skip the crypto.
    if (state.unsealed) this.codec.keep(state.value!, state.unsealed)
  }
}

/** Sealed mode with the app's own `encoder`. */
export class EncoderSource implements Source {
  readonly #o: ResolvedOptions
  readonly #checkSize: (value: string) => void

  constructor(o: ResolvedOptions, checkSize: (value: string) => void) {
    this.#o = o
    this.#checkSize = checkSize
  }

  *open(value: string): Steps<Loaded> {
    const o = this.#o
    let decoded: unknown
    try {
      decoded = yield* wait(o.encoder!.decode(value, o.keys[0]!.secret))
    } catch {
      return 'tampered'
    }
    if (decoded === null || decoded === undefined) return 'tampered'
    const record = ownCopy(decoded)
    if (!record) return 'invalid-data'
    return {
      record,
      storeId: undefined,
      stale: false,
      shared: false,
      sealed: undefined,
      cached: false,
    }
  }

  authentic(reason: InvalidReason): boolean {
    // The encoder decoded it, so its own checks (if any) passed.
    return reason === 'invalid-data'
  }

  *save(state: SessionState, record: SessionRecord<Data>): Steps<string> {
    record.sid = state.id
    const o = this.#o
    const value = encodeURIComponent(yield* wait(o.encoder!.encode(record, o.keys[0]!.secret)))
    this.#checkSize(value)
    return value
  }

  *end(): Steps<void> {}

  stillCurrent(): void {}
}

/**
 * `WriteMeta` whose user agent is read from the request only when a store asks: a header
 * lookup costs about a microsecond on Node, and a `Map` or a custom store never asks.
 */
class Meta implements WriteMeta {
  readonly now: number
  readonly userId: string | undefined
  readonly #request: SessionRequest

  constructor(now: number, userId: string | undefined, request: SessionRequest) {
    this.now = now
    this.userId = userId
    this.#request = request
  }

  get userAgent(): string | undefined {
    return this.#request.header('user-agent') || undefined
  }
}

/** Store mode: the record in `store`, a signed random id in the cookie. */
export class StoreSource implements Source {
  readonly #o: ResolvedOptions
  readonly #store: SessionStore
  readonly #signer: IdSigner
  /** The data key the store's per-user index reads, for `WriteMeta.userId`. */
  readonly #userKey: string | undefined

  constructor(o: ResolvedOptions, store: SessionStore) {
    this.#o = o
    this.#store = store
    this.#signer = new IdSigner(o.keys, o.purpose)
    const userKey = (store as { userKey?: unknown }).userKey
    this.#userKey = userKey === false ? undefined : typeof userKey === 'string' ? userKey : 'userId'
    // Only for a store that records reads: the engine runs steps for each read that has `touch`.
    if (!store.touch) this.touch = undefined
    // A Map store answers at once, and what it holds of ours is frozen: no steps needed.
    if (!isSynchronousStore(store) || o.schema) this.cached = undefined
  }

  /**
   * Map store: the record of a cookie whose signature this ring verified before, without steps;
   * undefined for anything else (`open` then decides, and drops an expired entry).
   */
  cached?(value: string): Opened | undefined {
    const verified = this.#signer.known(value)
    if (!verified) return undefined
    let record: unknown
    try {
      record = this.#store.get(verified.id, undefined)
    } catch {
      // A Map subclass that throws: `open` asks again and reports it as a store error.
      return undefined
    }
    if (!(record instanceof KeptRecord) || isExpired(record as SessionRecord, this.#o.now()))
      return undefined
    const { id, stale } = verified
    return {
      record: record as SessionRecord<Data>,
      storeId: id,
      stale,
      shared: true,
      sealed: value,
      cached: false,
    }
  }

  *open(value: string, ctx: unknown): Steps<Loaded> {
    const verified = yield* this.#signer.verifying(value)
    if (!verified) return 'tampered'
    const { id } = verified
    const stored = yield* storeCall('get', () => this.#store.get(id, ctx))
    if (stored === null || stored === undefined) return 'not-found'
    // A record a Map store wrote is deep-frozen: shared with the request, which copies what it
    // reads as an object. Any other store may hand back what it keeps, and a `schema` fills its
    // defaults into the data: the request gets a copy.
    const shared = !this.#o.schema && stored instanceof KeptRecord
    const record = shared ? (stored as SessionRecord<Data>) : ownCopy(stored)
    if (!record) {
      warnNotARecord(this.#store, stored, NOT_A_SESSION)
      return 'invalid-data'
    }
    if (isExpired(record, this.#o.now())) {
      yield* this.#drop(id, ctx)
      return 'expired'
    }
    return {
      record,
      storeId: id,
      stale: verified.stale,
      shared,
      sealed: value,
      cached: false,
    }
  }

  authentic(reason: InvalidReason): boolean {
    // Only a failed signature is refused before the id is known to be ours.
    return reason !== 'tampered'
  }

  /** New entry first, old one after: a failure in between leaves the user logged in. */
  *save(
    state: SessionState,
    record: SessionRecord<Data>,
    changes: Changes,
    ctx: unknown,
  ): Steps<string> {
    const id = state.id!
    if (changes.rewrite) {
      const store = this.#store
      const userId = this.#userKey === undefined ? undefined : userIdOf(record.data, this.#userKey)
      const meta = new Meta(changes.now, userId, state.request)
      const old = state.loadedId
      if (old === id && store.patch) {
        // Same entry as loaded: merge this request's keys, so concurrent requests that change
        // different keys both survive.
        const patch = { set: changes.set, deleted: changes.deleted }
        yield* storeCall('patch', () => store.patch!(id, record, patch, ctx, meta))
      } else {
        yield* storeCall('set', () => store.set(id, record, ctx, meta))
        if (old !== undefined && old !== id) yield* this.#drop(old, ctx)
      }
    }
    return yield* this.#signer.signing(id)
  }

  *end(state: SessionState, ctx: unknown): Steps<void> {
    yield* this.#drop(state.loadedId!, ctx)
  }

  touch?(state: SessionState, ctx: unknown): unknown {
    const { touch } = this.#store
    const id = state.loadedId
    if (!touch || id === undefined) return undefined
    const userId =
      this.#userKey === undefined ? undefined : userIdOf(state.data.values, this.#userKey)
    // The store throttles: most calls answer at once, without a write.
    return touch.call(this.#store, id, ctx, new Meta(this.#o.now(), userId, state.request))
  }

  *#drop(id: string, ctx: unknown): Steps<void> {
    yield* storeCall('delete', () => this.#store.delete(id, ctx))
  }

  stillCurrent(): void {}
}
