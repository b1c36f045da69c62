// Where a session's record lives between requests, one class each: inside the sealed cookie
// (iron, or a custom encoder) or in a store under a signed id. The engine picks one at
// construction and never asks again which mode it is in.
import { IdSigner } from '../crypto/id-signer.ts'
import { IronCodec, type UnsealResult } from '../crypto/iron.ts'
import { type Steps, wait } from '../util/steps.ts'
import { SessionStoreError } from './errors.ts'
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
import type {
  InvalidReason,
  SessionRecord,
  SessionRequest,
  SessionStore,
  WriteMeta,
} from './types.ts'

type Data = Record<string, unknown>

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
  /** Opens one value a request carried (a sealed string, or a signed id). */
  open(value: string, ctx: unknown): Steps<Loaded>
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
  /** Ends the session the request arrived with (logout): deletes its entry, if it has one. */
  end(id: string, ctx: unknown): Steps<void>
  /** The value the request brought stays current: nothing was written. */
  stillCurrent(state: SessionState): void
}

/** Runs one store call; any failure, sync or async, becomes a `SessionStoreError`. */
export function* storeCall<T>(
  op: SessionStoreError['operation'],
  call: () => T,
): Steps<Awaited<T>> {
  try {
    return (yield* wait(call())) as Awaited<T>
  } catch (err) {
    throw new SessionStoreError(op, err)
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
  }

  *open(value: string): Steps<Loaded> {
    // A cookie seen before is answered from the cache without any steps.
    const hit = this.codec.lookup(value)
    // Kept by the codec only if this request does not reseal it (see stillCurrent): a cookie
    // superseded at once would fill the cache with strings that do not come back.
    const result = hit ?? (yield* this.codec.unsealingFresh(value, false))
    if (!result.ok) return result.reason
    if (result.value.purpose !== this.#o.purpose) return 'wrong-purpose'
    // Shared with the cache (now or once kept): the request copies what it changes.
    const { value: record, stale } = result
    return {
      record,
      storeId: undefined,
      stale,
      shared: true,
      sealed: value,
      cached: hit !== undefined,
      unsealed: hit ? undefined : result,
    }
  }

  authentic(reason: InvalidReason): boolean {
    // Both after the MAC; the codec refuses the rest before or at it (an iron expiry is read
    // unsigned). Another purpose was still sealed with our key (a `purpose` that changed).
    return reason === 'invalid-data' || reason === 'wrong-purpose'
  }

  *save(state: SessionState, record: SessionRecord<Data>): Steps<string> {
    // The cookie this request brought is superseded: if an earlier request had it cached,
    // drop it, so the cache holds strings that may come back.
    if (state.cached) this.codec.forget(state.value!)
    record.sid = state.id
    const sealed = yield* this.codec.sealing(toCompact(record, this.#o.purpose))
    this.#checkSize(sealed)
    // After regenerate(): the cookie the request brought must not work again.
    if (state.loadedId !== undefined && state.loadedId !== state.id) {
      yield* this.end(state.loadedId)
    }
    return sealed
  }

  *end(id: string): Steps<void> {
    const revocation = this.#o.revocation
    if (revocation) yield* storeCall('set', () => revocation.revoke(id))
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
  }

  *open(value: string, ctx: unknown): Steps<Loaded> {
    const verified = yield* this.#signer.verifying(value)
    if (!verified) return 'tampered'
    const { id } = verified
    const stored = yield* storeCall('get', () => this.#store.get(id, ctx))
    if (stored === null || stored === undefined) return 'not-found'
    const record = ownCopy(stored)
    if (!record) return 'invalid-data'
    if (isExpired(record, this.#o.now())) {
      yield* this.end(id, ctx)
      return 'expired'
    }
    return {
      record,
      storeId: id,
      stale: verified.stale,
      shared: false,
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
        if (old !== undefined && old !== id) yield* this.end(old, ctx)
      }
    }
    return yield* this.#signer.signing(id)
  }

  *end(id: string, ctx: unknown): Steps<void> {
    yield* storeCall('delete', () => this.#store.delete(id, ctx))
  }

  stillCurrent(): void {}
}
