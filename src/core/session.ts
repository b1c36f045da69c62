import { randomId } from './crypto.ts'
import { SessionError } from './errors.ts'
import { isPlainContainer, safeStringify } from './json.ts'
import { type Session, type SessionMethods, type SessionRecord, sessionDeadline } from './types.ts'

type Data = Record<string, unknown>
type SessionFunctions = Pick<
  SessionMethods<any>,
  'flash' | 'reflash' | 'regenerate' | 'renew' | 'destroy' | 'toJSON'
>

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
  'toJSON',
])

// Session data lives in an object with nothing to inherit (no `toString`, no `__proto__`
// setter): a key is data or absent. A constructor whose prototype has a null prototype makes
// such objects in V8's fast mode; Object.create(null) makes dictionary-mode ones, slower to fill.
const SessionDataObject = function SessionDataObject() {} as unknown as new () => Data
SessionDataObject.prototype = Object.create(null)

// Proxies hand out wrapped nested objects; assigning one back must store the plain object.
const rawOf = new WeakMap<object, object>()
const unwrap = (value: unknown): unknown =>
  typeof value === 'object' && value !== null ? (rawOf.get(value) ?? value) : value

function reservedKeyError(key: string): SessionError {
  return new SessionError(
    'ERR_SESSION_RESERVED_KEY',
    `"${key}" is part of the session API and cannot be used as a session data key`,
  )
}

/** What commit must write, derived from the state without changing it. */
export interface PendingChanges {
  /** True when the data (including flash bookkeeping) differs from what was loaded. */
  changed: boolean
  /** Loaded flash keys to remove now. */
  consumed: string[]
  /** Flash keys to carry to the next request. */
  flash: string[]
  /** Top-level keys whose value differs from the loaded one (set or mutated). */
  set: string[]
  /** Top-level keys removed, consumed flash keys included. */
  deleted: string[]
}

const NONE: string[] = []
Object.freeze(NONE)
const UNCHANGED: PendingChanges = Object.freeze({
  changed: false,
  consumed: NONE,
  flash: NONE,
  set: NONE,
  deleted: NONE,
})

/**
 * One request's session: the data, its timestamps and what happened to it. The engine creates
 * it on load and reads it on commit; the app sees it only through `session`, a proxy that
 * records which top-level keys changed, including nested mutation.
 */
export class SessionState {
  readonly data: Data
  createdAt: number
  /** Absolute deadline, epoch ms. */
  expiresAt: number
  /** Idle deadline, epoch ms. */
  idleExpiresAt: number | undefined
  /** Session id now (store key, or the sealed session's internal id); made on demand. */
  id: string | undefined
  /**
   * Id the request arrived with: the store key to delete on regenerate/destroy, or the sealed
   * session's internal id to revoke then.
   */
  loadedId: string | undefined
  /** The request carried the session cookie unchunked (`<name>`): clear it when writing chunks. */
  sentPlain = false
  /** Chunk cookies (`<name>.0` …) the request carried: stale ones are cleared on write. */
  sentChunks = 0
  /** The sealed string the session was opened from (sealed mode). */
  sealedValue: string | undefined
  /** The codec's answer for `sealedValue`: frozen once cached, for commit to keep or drop. */
  unsealed: object | undefined
  isNew = true
  /** A session cookie of ours arrived with the request (valid or not). */
  hadCookie = false
  /** A session cookie arrived and was refused (bad, expired, unknown): clear it on the response. */
  refused = false
  renewed = false
  regenerated = false
  destroyed = false
  /** Opened with an older key: re-seal or re-sign with the newest. */
  stale = false
  /** Rolling refresh is due on this response. */
  touchDue = false
  #secure: boolean | (() => boolean)

  // Created on first use: most requests only read, and these cost an allocation each.
  /** JSON of each top-level key as loaded, taken the first time the key is touched. */
  #baseline: Map<string, string | undefined> | undefined
  #loadedFlash: readonly string[] = []
  /** Keys passed to flash() (or kept by reflash()) on this request. */
  #flashed: Set<string> | undefined
  /** Loaded flash keys the app assigned plainly, which makes them ordinary keys. */
  #plain: Set<string> | undefined
  #nested: WeakMap<object, object> | undefined
  #methods: SessionFunctions | undefined
  /** The loaded data when a cache shares it (deep-frozen): its objects are copied on first read. */
  #shared: Data | undefined
  readonly #now: () => number
  readonly #maxAge: number
  readonly #idleTimeout: number | undefined
  readonly session: Session<any>

  /**
   * @param secure whether responses set the Secure attribute, or a function that decides it
   *   when a cookie is first written (reading a request's URL costs, and most requests write none)
   */
  constructor(
    now: () => number,
    maxAge: number,
    secure: boolean | (() => boolean),
    idleTimeout?: number,
  ) {
    this.#now = now
    this.#maxAge = maxAge
    this.#idleTimeout = idleTimeout
    this.#secure = secure
    const at = now()
    this.createdAt = at
    this.expiresAt = at + maxAge
    // A new session's idle deadline, so `expiresAt` is right before the first commit.
    this.idleExpiresAt = idleTimeout === undefined ? undefined : at + idleTimeout
    this.id = undefined
    this.loadedId = undefined
    this.data = new SessionDataObject()
    this.session = this.#createProxy()
  }

  /** Whether to set the Secure attribute on this response. */
  get secure(): boolean {
    if (typeof this.#secure === 'function') this.#secure = this.#secure()
    return this.#secure
  }

  set secure(value: boolean) {
    this.#secure = value
  }

  /**
   * Takes over a loaded record. Its data must be this request's own copy, or `shared`: kept
   * (deep-frozen) by a cache for other requests, in which case an object or array under a key
   * is copied the first time the app reads that key, and nothing shared is ever changed.
   * `storeId` is the store key in store mode; sealed sessions keep their id in `record.sid`.
   */
  adopt(record: SessionRecord<Data>, storeId: string | undefined, shared = false): void {
    Object.assign(this.data, record.data)
    if (shared) this.#shared = record.data
    this.createdAt = record.createdAt
    this.expiresAt = record.expiresAt
    this.idleExpiresAt = record.idleExpiresAt
    this.#loadedFlash = record.flash ?? []
    this.id = storeId ?? record.sid
    this.loadedId = this.id
    this.isNew = false
  }

  /** Earlier of the absolute and idle deadlines, epoch ms. */
  deadline(): number {
    return sessionDeadline(this)
  }

  /** Records the loaded JSON of `key` before its first change. */
  #touch(key: string): void {
    this.#baseline ??= new Map()
    if (this.#baseline.has(key)) return
    this.#baseline.set(key, key in this.data ? safeStringify(this.data[key]) : undefined)
  }

  #set(key: string, value: unknown): void {
    if (RESERVED_KEYS.has(key)) throw reservedKeyError(key)
    // Only a loaded flash key turns ordinary by being assigned; others need no record of it.
    if (this.#loadedFlash.length > 0 && this.#loadedFlash.includes(key)) {
      this.#plain ??= new Set()
      this.#plain.add(key)
    }
    this.#flashed?.delete(key)
    const raw = unwrap(value)
    if (key in this.data && Object.is(this.data[key], raw)) return
    this.#touch(key)
    this.data[key] = raw
  }

  #delete(key: string): void {
    if (RESERVED_KEYS.has(key)) throw reservedKeyError(key)
    this.#flashed?.delete(key)
    if (!(key in this.data)) return
    this.#touch(key)
    delete this.data[key]
  }

  /** Replaces all data with the keys of `values` (used for `c.session = { … }`). */
  replace(values: object): void {
    if (values === this.session) return
    const source = unwrap(values) as Data
    for (const key of Object.keys(this.data)) if (!(key in source)) this.#delete(key)
    for (const key of Object.keys(source)) this.#set(key, source[key])
  }

  /** True when this request set, deleted or mutated any key. */
  wasTouched(): boolean {
    return this.#baseline !== undefined && this.#baseline.size > 0
  }

  /** The current values of the keys this request set, deleted or mutated. */
  touched(): Data {
    const out: Data = {}
    if (!this.#baseline) return out
    for (const key of this.#baseline.keys()) if (key in this.data) out[key] = this.data[key]
    return out
  }

  /** Computes what commit must write; changes nothing. */
  pending(): PendingChanges {
    // Most requests only read: no key touched, no flash in or out.
    if (
      this.#baseline === undefined &&
      this.#flashed === undefined &&
      this.#loadedFlash.length === 0
    )
      return UNCHANGED
    const set: string[] = []
    const deleted: string[] = []
    for (const [key, before] of this.#baseline ?? []) {
      const present = key in this.data
      if ((present ? safeStringify(this.data[key]) : undefined) !== before) {
        ;(present ? set : deleted).push(key)
      }
    }
    const consumed: string[] = []
    for (const key of this.#loadedFlash) {
      if (!this.#flashed?.has(key) && !this.#plain?.has(key) && key in this.data) consumed.push(key)
    }
    const flash: string[] = []
    for (const key of this.#flashed ?? []) if (key in this.data) flash.push(key)
    const changed =
      set.length > 0 ||
      deleted.length > 0 ||
      consumed.length > 0 ||
      flash.length !== this.#loadedFlash.length ||
      flash.some((k) => !this.#loadedFlash.includes(k))
    return { changed, consumed, flash, set, deleted: deleted.concat(consumed) }
  }

  destroy(): void {
    for (const key of Object.keys(this.data)) delete this.data[key]
    this.destroyed = true
    this.#shared = undefined
    this.#baseline = undefined
    this.#loadedFlash = []
    this.#flashed = undefined
    this.#plain = undefined
    this.renewed = false
    this.regenerated = false
    this.touchDue = false
    this.stale = false
    this.id = undefined
    const at = this.#now()
    this.createdAt = at
    this.expiresAt = at + this.#maxAge
    this.idleExpiresAt = this.#idleTimeout === undefined ? undefined : at + this.#idleTimeout
  }

  /** The value of data key `key` for the app: objects wrapped to track mutation. */
  #read(key: string): unknown {
    const v = this.data[key]
    if (!isPlainContainer(v)) return v
    if (this.#shared === undefined || this.#shared[key] !== v) return this.#wrap(v, key)
    // JSON in, JSON out: a frozen cache entry holds nothing else.
    const own = JSON.parse(JSON.stringify(v)) as object
    this.data[key] = own
    return this.#wrap(own, key)
  }

  #wrap(value: object, topKey: string): object {
    this.#nested ??= new WeakMap()
    let proxy = this.#nested.get(value)
    if (proxy) return proxy
    proxy = new Proxy(value, new SessionState.#NestedTraps(this, topKey))
    this.#nested!.set(value, proxy)
    rawOf.set(proxy, value)
    return proxy
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
        return this.pending().changed
      case 'expiresAt':
        return new Date(this.deadline())
      case 'createdAt':
        return new Date(this.createdAt)
    }
    this.#methods ??= this.#createMethods()
    return (this.#methods as unknown as Record<string, unknown>)[key]
  }

  #createMethods(): SessionFunctions {
    const state = this
    return {
      flash(key, value) {
        state.#set(key, value)
        state.#plain?.delete(key)
        state.#flashed ??= new Set()
        state.#flashed.add(key)
      },
      reflash() {
        for (const key of state.#loadedFlash) {
          state.#flashed ??= new Set()
          state.#flashed.add(key)
          state.#plain?.delete(key)
        }
      },
      regenerate() {
        // A new session as far as anyone can tell: new id, and its lifetime starts now (a
        // login after a long anonymous visit gets the whole maxAge).
        state.regenerated = true
        state.id = randomId()
        const at = state.#now()
        state.createdAt = at
        state.expiresAt = at + state.#maxAge
        if (state.#idleTimeout !== undefined) state.idleExpiresAt = at + state.#idleTimeout
        return Promise.resolve()
      },
      renew(maxAge) {
        if (maxAge !== undefined && !(Number.isFinite(maxAge) && maxAge > 0)) {
          throw new RangeError(`renew(maxAge) takes a positive number of seconds, got ${maxAge}`)
        }
        const at = state.#now()
        state.expiresAt = at + (maxAge === undefined ? state.#maxAge : maxAge * 1000)
        state.renewed = true
      },
      destroy() {
        state.destroy()
      },
      toJSON() {
        return JSON.parse(JSON.stringify(state.data))
      },
    }
  }

  #createProxy(): Session<any> {
    return new Proxy(this.data, new SessionState.#Traps(this)) as Session<any>
  }

  // Traps of an object or array under a top-level key: a change marks that key touched.
  static readonly #NestedTraps = class NestedTraps implements ProxyHandler<object> {
    readonly #state: SessionState
    readonly #topKey: string

    constructor(state: SessionState, topKey: string) {
      this.#state = state
      this.#topKey = topKey
    }

    get(target: object, key: string | symbol, receiver: unknown): unknown {
      const v = Reflect.get(target, key, receiver)
      return isPlainContainer(v) ? this.#state.#wrap(v, this.#topKey) : v
    }

    set(target: object, key: string | symbol, v: unknown): boolean {
      const raw = unwrap(v)
      if (Object.hasOwn(target, key) && Object.is((target as any)[key], raw)) return true
      this.#state.#touch(this.#topKey)
      return Reflect.set(target, key, raw)
    }

    deleteProperty(target: object, key: string | symbol): boolean {
      if (!Object.hasOwn(target, key)) return true
      this.#state.#touch(this.#topKey)
      return Reflect.deleteProperty(target, key)
    }

    defineProperty(target: object, key: string | symbol, descriptor: PropertyDescriptor): boolean {
      this.#state.#touch(this.#topKey)
      return Reflect.defineProperty(target, key, descriptor)
    }
  }

  // The proxy's traps as one small object per request (prototype methods, one field) rather than
  // a handler literal of six fresh closures. Inside the class body, so it reaches private state.
  static readonly #Traps = class Traps implements ProxyHandler<Data> {
    readonly #state: SessionState

    constructor(state: SessionState) {
      this.#state = state
    }

    get(target: Data, key: string | symbol): unknown {
      if (typeof key === 'symbol') return Reflect.get(target, key)
      if (RESERVED_KEYS.has(key)) return this.#state.#api(key)
      return this.#state.#read(key)
    }

    getOwnPropertyDescriptor(target: Data, key: string | symbol): PropertyDescriptor | undefined {
      const descriptor = Reflect.getOwnPropertyDescriptor(target, key)
      // The value as a read sees it (copied and wrapped), so it cannot bypass tracking.
      if (descriptor && typeof key === 'string') descriptor.value = this.#state.#read(key)
      return descriptor
    }

    set(_target: Data, key: string | symbol, value: unknown): boolean {
      if (typeof key === 'symbol') return false
      this.#state.#set(key, value)
      return true
    }

    deleteProperty(_target: Data, key: string | symbol): boolean {
      if (typeof key === 'symbol') return false
      this.#state.#delete(key)
      return true
    }

    defineProperty(_target: Data, key: string | symbol, descriptor: PropertyDescriptor): boolean {
      if (typeof key === 'symbol' || !('value' in descriptor)) return false
      this.#state.#set(key, descriptor.value)
      return true
    }

    has(target: Data, key: string | symbol): boolean {
      return (typeof key === 'string' && RESERVED_KEYS.has(key)) || key in target
    }
  }
}
