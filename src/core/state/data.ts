// One request's session data: the values, which top-level keys changed, and (through
// FlashState) the flash values, kept apart from the data. Knows nothing of ids or cookies.
import { assertJsonValue, isPlainContainer, safeStringify } from '../json.ts'
import type { FlashRecord } from '../record.ts'
import { FlashState } from './flash.ts'

type Data = Record<string, unknown>

// Session data lives in an object with nothing to inherit (no `toString`, no `__proto__`
// setter): a key is data or absent. A constructor whose prototype has a null prototype makes
// such objects in V8's fast mode; Object.create(null) makes dictionary-mode ones, slower to fill.
const DataObject = function DataObject() {} as unknown as new () => Data
DataObject.prototype = Object.create(null)

/** What commit must write, derived from the data without changing it. */
export interface PendingChanges {
  /** True when the data or the flash values differ from what the client holds. */
  changed: boolean
  /** Top-level keys whose value differs from the loaded one (set or mutated). */
  set: string[]
  /** Top-level keys removed (and flash keys a 0.1.0 store entry keeps in its data). */
  deleted: string[]
}

const NONE: string[] = []
Object.freeze(NONE)
const OWN = { enumerable: true, writable: true, configurable: true }
/** Sets `key` as JSON.parse does: `__proto__` an own key, not the prototype. */
const put = (out: Data, key: string, value: unknown) => {
  if (key === '__proto__') Object.defineProperty(out, key, { value, ...OWN })
  else out[key] = value
}
const UNCHANGED: PendingChanges = Object.freeze({ changed: false, set: NONE, deleted: NONE })

/**
 * The data of one session and what this request did to it. Values are handed out as they are
 * (plain objects and arrays): a key read as an object is compared by its JSON at commit, so a
 * nested change (`cart.items.push(x)`) is found without wrapping anything. Created per request;
 * after a commit, `rebase()` makes what was written the new starting point.
 */
export class DataState {
  /** The data object the session proxy wraps: empty until `#fill()` when a cache shares the data. */
  readonly target: Data = new DataObject()
  /** Shared data not copied into `target` yet: most requests read a string or two, then commit. */
  #unfilled: Data | undefined
  /**
   * Counts calls that may change the session (data, flash, and the state's own methods): a
   * commit that waited compares it, to keep what the app changed while the write was in flight.
   */
  epoch = 0
  /** The flash values, made on first use (most sessions carry none); dropped by `clear()`. */
  #flash: FlashState | undefined
  // Created on first use: most requests only read, and these cost an allocation each.
  /** JSON of each top-level key as loaded, taken when it is first set, deleted or read as an object. */
  #baseline: Map<string, string | undefined> | undefined
  /** The JSON `pending()` last found for each baseline key, for `rebase()`. */
  #seen: Map<string, string | undefined> | undefined
  /** The app read, wrote or called something: the flash values that arrived are consumed. */
  #touched = false
  /** The loaded data when a cache shares it (deep-frozen): its objects are copied on first read. */
  #shared: Data | undefined
  /** Flash keys a 0.1.0 store entry keeps in its data: removed from the entry on the next write. */
  #legacyKeys: readonly string[] = NONE

  /**
   * Takes over loaded data and flash values. They must be this request's own copy, or `shared`:
   * kept (deep-frozen) by a cache for other requests, in which case an object or array is
   * copied the first time the app reads it, and nothing shared is ever changed. `flash` as a
   * list of keys is 0.1.0's form: those keys of `data` are the flash values.
   */
  adopt(data: Data, flash: FlashRecord | readonly string[] | undefined, shared: boolean): void {
    if (shared) this.#shared = data
    let arrived = flash as FlashRecord | undefined
    if (Array.isArray(flash)) {
      arrived = Object.create(null) as FlashRecord
      const legacy: string[] = []
      for (const key of Object.keys(data)) {
        if (!flash.includes(key)) this.target[key] = data[key]
        else {
          arrived[key] = [data[key]]
          legacy.push(key)
        }
      }
      this.#legacyKeys = legacy
      if (legacy.length === 0) return
    } else if (shared) this.#unfilled = data
    else this.#copy(data)
    if (arrived) this.flash.adopt(arrived, shared)
  }

  #copy(data: Data): void {
    // Not Object.assign: on Bun that costs several times this loop (bench/PROFILE.md).
    const keys = Object.keys(data)
    for (let i = 0; i < keys.length; i++) this.target[keys[i]!] = data[keys[i]!]
  }

  /** The session's data, every key present (the shared data copied in on first use). */
  get values(): Data {
    if (this.#unfilled !== undefined) {
      this.#copy(this.#unfilled)
      this.#unfilled = undefined
    }
    return this.target
  }

  /** The flash values of this request. */
  get flash(): FlashState {
    this.#flash ??= new FlashState()
    return this.#flash
  }

  /** Marks the session as used by this request: the flash values that arrived are consumed. */
  touch(): void {
    this.#touched = true
  }

  /** Sets `key`; a value JSON cannot hold throws a `SessionDataError` here, at the assignment. */
  set(key: string, value: unknown): void {
    assertJsonValue(value, key)
    this.#put(key, value)
  }

  #put(key: string, value: unknown): void {
    this.epoch++
    this.#touched = true
    if (key in this.values && Object.is(this.values[key], value)) return
    this.#beforeChange(key)
    this.values[key] = value
  }

  delete(key: string): void {
    this.epoch++
    this.#touched = true
    if (!(key in this.values)) return
    this.#beforeChange(key)
    delete this.values[key]
  }

  /** Records the JSON of `key` before its first change (set or delete). */
  #beforeChange(key: string): void {
    this.#baseline ??= new Map()
    if (!this.#baseline.has(key)) {
      this.#baseline.set(key, key in this.values ? safeStringify(this.values[key]) : undefined)
    }
  }

  /** Flashes `value` under `key`; the next request reads it under `key`, not an older data value. */
  flashValue(key: string, value: unknown): void {
    this.flash.add(key, value)
    this.delete(key)
  }

  /** Keeps the arrived flash values under `keys` (all when none) one more request. */
  reflash(keys: readonly string[]): void {
    this.epoch++
    this.#touched = true
    this.flash.keep(keys)
  }

  /** Replaces all data with the keys of `values` (`c.session = { … }`). */
  replace(values: object): void {
    const source = values as Data
    // Every value checked before any is taken: a refused replacement changes nothing.
    for (const key of Object.keys(source)) assertJsonValue(source[key], key)
    for (const key of Object.keys(this.values)) if (!Object.hasOwn(source, key)) this.delete(key)
    for (const key of Object.keys(source)) this.#put(key, source[key])
  }

  /** Drops every key, every flash value and all bookkeeping: what `destroy()` leaves. */
  clear(): void {
    this.#unfilled = undefined
    for (const key of Object.keys(this.target)) delete this.target[key]
    this.#touched = true
    this.#shared = this.#baseline = this.#seen = undefined
    this.#legacyKeys = NONE
    this.#flash = undefined
  }

  /** True when this request set, deleted, or read as an object, any key: commit compares them. */
  anyKeyTracked(): boolean {
    return this.#baseline !== undefined && this.#baseline.size > 0
  }

  /**
   * The data as a store may keep it, checked as `assertJson` checks it: JSON's copy of each
   * object or array but those still shared from a deep-frozen record (JSON already, and never
   * changed: the app's reads copy them), which go in as they are.
   */
  written(): Data {
    const out: Data = {}
    for (const key of Object.keys(this.values)) {
      let v = this.values[key]
      if (v === undefined) continue
      if (this.#shared?.[key] !== v) {
        assertJsonValue(v, key)
        if (typeof v === 'object') v = JSON.parse(JSON.stringify(v))
      }
      put(out, key, v)
    }
    return out
  }

  /**
   * `values` (what a commit writes, checked as JSON) copied as a JSON round trip would copy
   * them, when that takes no serialising: every value a string, number, boolean or null, or an
   * object still shared from the loaded deep-frozen record. Undefined when one is an object of
   * this request's own.
   */
  sharable(values: Data): Data | undefined {
    const out: Data = {}
    for (const key of Object.keys(values)) {
      const v = values[key]
      if (typeof v === 'object' && v !== null && this.#shared?.[key] !== v) return undefined
      // JSON writes -0 as 0.
      if (v !== undefined) put(out, key, v === 0 ? 0 : v)
    }
    return out
  }

  /** The current values of the keys `anyKeyTracked()` counts. */
  trackedValues(): Data {
    const out: Data = {}
    for (const key of this.#baseline?.keys() ?? [])
      if (key in this.values) out[key] = this.values[key]
    return out
  }

  /** Computes what commit must write; changes nothing but the record `rebase()` reads. */
  pending(): PendingChanges {
    // A request that never touched the session changes nothing, flash values included.
    const baseline = this.#baseline
    if (!this.#touched || (baseline === undefined && (this.#flash?.idle ?? true))) return UNCHANGED
    const set: string[] = []
    const deleted: string[] = []
    const seen = new Map<string, string | undefined>()
    for (const [key, before] of baseline ?? []) {
      const present = key in this.values
      const now = present ? safeStringify(this.values[key]) : undefined
      seen.set(key, now)
      if (now !== before) (present ? set : deleted).push(key)
    }
    this.#seen = seen
    const changed = set.length > 0 || deleted.length > 0 || !!this.#flash?.changed(true)
    for (const key of this.#legacyKeys) {
      if (!(key in this.values) && !deleted.includes(key)) deleted.push(key)
    }
    return { changed, set, deleted }
  }

  /** The flash values the next request gets (see `FlashState.outgoing`). */
  outgoingFlash(): FlashRecord | undefined {
    return this.#flash?.outgoing(this.#touched)
  }

  /**
   * After a commit: what was written is the new starting point, so committing again writes
   * only later changes. Keys read as objects stay compared (the app may still hold them); the
   * flash values written stay pending for the next request. `written`: a copy of the data as
   * written, when the app may have changed it while the write was in flight; what differs from
   * it stays pending.
   */
  rebase(flash: FlashRecord | undefined, written?: Data): void {
    const seen = this.#seen
    this.#baseline = this.#seen = undefined
    this.#legacyKeys = NONE
    if (flash || this.#flash) this.flash.rebase(flash)
    const keep = (key: string, json: string | undefined) => {
      this.#baseline ??= new Map()
      this.#baseline.set(key, json)
    }
    if (written) {
      for (const key of new Set([...Object.keys(written), ...Object.keys(this.values)])) {
        const before = key in written ? safeStringify(written[key]) : undefined
        const now = key in this.values ? safeStringify(this.values[key]) : undefined
        if (now !== before || isPlainContainer(this.values[key])) keep(key, before)
      }
    } else {
      for (const [key, json] of seen ?? []) if (isPlainContainer(this.values[key])) keep(key, json)
    }
  }

  /**
   * The value of `key` for the app: the data's, else the latest value flashed under it (this
   * request's, then what arrived). An object or array is the session's own (the same one on
   * every read); its JSON is taken on the first read, to find nested changes at commit.
   */
  read(key: string): unknown {
    // A string, number or boolean of shared data is handed out as it is, nothing copied. (An
    // absent key may find what Object.prototype has: functions, and an object for __proto__.)
    const unfilled = this.#unfilled
    if (unfilled !== undefined) {
      const shared = unfilled[key]
      const type = typeof shared
      if (shared !== undefined && type !== 'object' && type !== 'function') {
        this.#touched = true
        return shared
      }
    }
    const values = this.values
    const v = values[key]
    if (v === undefined && !(key in values)) {
      // Promise resolution probes `then` on what it resolves with (getSession's session): that
      // is not the app reading the session.
      if (key === 'then') return undefined
      this.#touched = true
      return this.#flash?.latest(key)
    }
    this.#touched = true
    if (!isPlainContainer(v)) return v
    this.#baseline ??= new Map()
    if (this.#baseline.has(key)) return v
    if (this.#shared?.[key] !== v) {
      this.#baseline.set(key, safeStringify(v))
      return v
    }
    // JSON in, JSON out: a frozen cache entry holds nothing else. The string is the snapshot.
    const json = JSON.stringify(v)
    const own = JSON.parse(json) as object
    values[key] = own
    this.#baseline.set(key, json)
    return own
  }

  /** A plain deep copy of the data (flash values are not data). */
  toJSON(): Data {
    this.#touched = true
    return JSON.parse(JSON.stringify(this.values))
  }
}
