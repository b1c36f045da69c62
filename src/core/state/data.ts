// One request's session data: the values, which top-level keys changed (nested mutation
// included), and the flash bookkeeping. Knows nothing of ids, deadlines or cookies.
import { isPlainContainer, safeStringify } from '../json.ts'

type Data = Record<string, unknown>

// Session data lives in an object with nothing to inherit (no `toString`, no `__proto__`
// setter): a key is data or absent. A constructor whose prototype has a null prototype makes
// such objects in V8's fast mode; Object.create(null) makes dictionary-mode ones, slower to fill.
const DataObject = function DataObject() {} as unknown as new () => Data
DataObject.prototype = Object.create(null)

// Proxies hand out wrapped nested objects; assigning one back must store the plain object.
const rawOf = new WeakMap<object, object>()

/** The plain object behind a value read from a session (itself when it is not a wrapper). */
export const unwrap = (value: unknown): unknown =>
  typeof value === 'object' && value !== null ? (rawOf.get(value) ?? value) : value

/** What commit must write, derived from the data without changing it. */
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
 * The data of one session and what this request did to it. Created per request; after a
 * commit, `rebase()` makes what was written the new starting point.
 */
export class DataState {
  readonly values: Data = new DataObject()
  /**
   * Counts calls that may change the session (data, flash, and the state's own methods): a
   * commit that waited compares it, to keep what the app changed while the write was in flight.
   */
  epoch = 0
  // Created on first use: most requests only read, and these cost an allocation each.
  /** JSON of each top-level key as loaded, taken the first time the key is touched. */
  #baseline: Map<string, string | undefined> | undefined
  #loadedFlash: readonly string[] = NONE
  /** Keys passed to flash() (or kept by reflash()) on this request. */
  #flashed: Set<string> | undefined
  /** Loaded flash keys the app assigned outright, which makes them ordinary keys. */
  #assignedFlash: Set<string> | undefined
  #nested: WeakMap<object, object> | undefined
  /** The loaded data when a cache shares it (deep-frozen): its objects are copied on first read. */
  #shared: Data | undefined

  /**
   * Takes over loaded data. It must be this request's own copy, or `shared`: kept (deep-frozen)
   * by a cache for other requests, in which case an object or array under a key is copied the
   * first time the app reads that key, and nothing shared is ever changed.
   */
  adopt(data: Data, flash: readonly string[] | undefined, shared: boolean): void {
    Object.assign(this.values, data)
    if (shared) this.#shared = data
    this.#loadedFlash = flash ?? NONE
  }

  /** Records the loaded JSON of `key` before its first change (set, delete or nested mutation). */
  beforeChange(key: string): void {
    this.epoch++
    this.#baseline ??= new Map()
    if (this.#baseline.has(key)) return
    this.#baseline.set(key, key in this.values ? safeStringify(this.values[key]) : undefined)
  }

  set(key: string, value: unknown): void {
    this.epoch++
    // Only a loaded flash key turns ordinary by being assigned; others need no record of it.
    if (this.#loadedFlash.length > 0 && this.#loadedFlash.includes(key)) {
      this.#assignedFlash ??= new Set()
      this.#assignedFlash.add(key)
    }
    this.#flashed?.delete(key)
    const raw = unwrap(value)
    if (key in this.values && Object.is(this.values[key], raw)) return
    this.beforeChange(key)
    this.values[key] = raw
  }

  delete(key: string): void {
    this.epoch++
    this.#flashed?.delete(key)
    if (!(key in this.values)) return
    this.beforeChange(key)
    delete this.values[key]
  }

  /** Sets `key` for this request and the next one only. */
  flash(key: string, value: unknown): void {
    this.set(key, value)
    this.#assignedFlash?.delete(key)
    this.#flashed ??= new Set()
    this.#flashed.add(key)
  }

  /** Keeps every loaded flash key for one more request. */
  reflash(): void {
    this.epoch++
    for (const key of this.#loadedFlash) {
      this.#flashed ??= new Set()
      this.#flashed.add(key)
      this.#assignedFlash?.delete(key)
    }
  }

  /** Replaces all data with the keys of `values` (`c.session = { … }`). */
  replace(values: object): void {
    const source = unwrap(values) as Data
    for (const key of Object.keys(this.values)) if (!(key in source)) this.delete(key)
    for (const key of Object.keys(source)) this.set(key, source[key])
  }

  /** Removes consumed flash keys before a write (`pending().consumed`). */
  removeConsumed(keys: readonly string[]): void {
    for (const key of keys) delete this.values[key]
  }

  /** Drops every key and all bookkeeping: what `destroy()` leaves. */
  clear(): void {
    for (const key of Object.keys(this.values)) delete this.values[key]
    this.#shared = undefined
    this.#baseline = undefined
    this.#loadedFlash = NONE
    this.#flashed = undefined
    this.#assignedFlash = undefined
  }

  /** True when this request set, deleted or mutated any key. */
  anyKeyWritten(): boolean {
    return this.#baseline !== undefined && this.#baseline.size > 0
  }

  /** The current values of the keys this request set, deleted or mutated. */
  writtenValues(): Data {
    const out: Data = {}
    if (!this.#baseline) return out
    for (const key of this.#baseline.keys()) if (key in this.values) out[key] = this.values[key]
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
      const present = key in this.values
      if ((present ? safeStringify(this.values[key]) : undefined) !== before) {
        ;(present ? set : deleted).push(key)
      }
    }
    const consumed: string[] = []
    for (const key of this.#loadedFlash) {
      if (!this.#flashed?.has(key) && !this.#assignedFlash?.has(key) && key in this.values) {
        consumed.push(key)
      }
    }
    const flash: string[] = []
    for (const key of this.#flashed ?? []) if (key in this.values) flash.push(key)
    const changed =
      set.length > 0 ||
      deleted.length > 0 ||
      consumed.length > 0 ||
      flash.length !== this.#loadedFlash.length ||
      flash.some((k) => !this.#loadedFlash.includes(k))
    return { changed, consumed, flash, set, deleted: deleted.concat(consumed) }
  }

  /**
   * After a commit: what was written is the new starting point, so committing again writes
   * only later changes. The flash keys written stay pending for the next request.
   */
  rebase(flash: readonly string[], written?: Data): void {
    const flashedLater = written ? this.#flashed : undefined
    this.#baseline = undefined
    this.#assignedFlash = undefined
    this.#loadedFlash = flash
    this.#flashed = flash.length > 0 ? new Set(flash) : undefined
    if (!written) return
    // The app changed the session while the write was in flight: what differs from what was
    // written (`written`, a copy taken before it) stays pending, and so do later flash keys.
    if (flashedLater) this.#flashed = new Set([...flash, ...flashedLater])
    const baseline = new Map<string, string | undefined>()
    for (const key of new Set([...Object.keys(written), ...Object.keys(this.values)])) {
      const before = key in written ? safeStringify(written[key]) : undefined
      const now = key in this.values ? safeStringify(this.values[key]) : undefined
      if (now !== before) baseline.set(key, before)
    }
    if (baseline.size > 0) this.#baseline = baseline
  }

  /** The value of `key` for the app: objects wrapped to track mutation. */
  read(key: string): unknown {
    const v = this.values[key]
    if (!isPlainContainer(v)) return v
    if (this.#shared === undefined || this.#shared[key] !== v) return this.#wrap(v, key)
    // JSON in, JSON out: a frozen cache entry holds nothing else.
    const own = JSON.parse(JSON.stringify(v)) as object
    this.values[key] = own
    return this.#wrap(own, key)
  }

  /** A plain deep copy of the data. */
  toJSON(): Data {
    return JSON.parse(JSON.stringify(this.values))
  }

  #wrap(value: object, topKey: string): object {
    this.#nested ??= new WeakMap()
    let proxy = this.#nested.get(value)
    if (proxy) return proxy
    proxy = new Proxy(value, new DataState.#NestedTraps(this, topKey))
    this.#nested.set(value, proxy)
    rawOf.set(proxy, value)
    return proxy
  }

  // Traps of an object or array under a top-level key: a change records that key's baseline.
  static readonly #NestedTraps = class NestedTraps implements ProxyHandler<object> {
    readonly #data: DataState
    readonly #topKey: string

    constructor(data: DataState, topKey: string) {
      this.#data = data
      this.#topKey = topKey
    }

    get(target: object, key: string | symbol, receiver: unknown): unknown {
      const v = Reflect.get(target, key, receiver)
      return isPlainContainer(v) ? this.#data.#wrap(v, this.#topKey) : v
    }

    set(target: object, key: string | symbol, v: unknown): boolean {
      const raw = unwrap(v)
      if (Object.hasOwn(target, key) && Object.is((target as any)[key], raw)) return true
      this.#data.beforeChange(this.#topKey)
      return Reflect.set(target, key, raw)
    }

    deleteProperty(target: object, key: string | symbol): boolean {
      if (!Object.hasOwn(target, key)) return true
      this.#data.beforeChange(this.#topKey)
      return Reflect.deleteProperty(target, key)
    }

    defineProperty(target: object, key: string | symbol, descriptor: PropertyDescriptor): boolean {
      this.#data.beforeChange(this.#topKey)
      return Reflect.defineProperty(target, key, descriptor)
    }
  }
}
