// One request's session data: the values, which top-level keys changed, and the flash values,
// kept apart from the data. Knows nothing of ids, deadlines or cookies.
import { assertJsonValue, isPlainContainer, safeStringify } from '../json.ts'
import type { FlashRecord } from '../record.ts'

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
const UNCHANGED: PendingChanges = Object.freeze({ changed: false, set: NONE, deleted: NONE })

/**
 * The data of one session and what this request did to it. Values are handed out as they are
 * (plain objects and arrays): a key read as an object is compared by its JSON at commit, so a
 * nested change (`cart.items.push(x)`) is found without wrapping anything. Created per request;
 * after a commit, `rebase()` makes what was written the new starting point.
 */
export class DataState {
  readonly values: Data = new DataObject()
  /**
   * Counts calls that may change the session (data, flash, and the state's own methods): a
   * commit that waited compares it, to keep what the app changed while the write was in flight.
   */
  epoch = 0
  // Created on first use: most requests only read, and these cost an allocation each.
  /** JSON of each top-level key as loaded, taken when it is first set, deleted or read as an object. */
  #baseline: Map<string, string | undefined> | undefined
  /** The JSON `pending()` last found for each baseline key, for `rebase()`. */
  #seen: Map<string, string | undefined> | undefined
  /** The app read, wrote or called something: the flash values that arrived are consumed. */
  #touched = false
  /** The loaded data when a cache shares it (deep-frozen): its objects are copied on first read. */
  #shared: Data | undefined
  /** Flash values that arrived with the request; deep-frozen while `#arrivedShared`. */
  #arrived: FlashRecord | undefined
  #arrivedShared = false
  /** Flash keys a 0.1.0 store entry keeps in its data: removed from the entry on the next write. */
  #legacyKeys: readonly string[] = NONE
  /** Values flashed on this request, by key. */
  #flashed: Map<string, unknown[]> | undefined
  /** Arrived flash keys `reflash()` keeps: all of them (true) or these. */
  #kept: Set<string> | true | undefined
  /** The client holds flash values: as loaded, then as last written. */
  #flashHeld = false
  /** Their JSON; taken when first compared. */
  #flashHeldJson: string | undefined

  /**
   * Takes over loaded data and flash values. They must be this request's own copy, or `shared`:
   * kept (deep-frozen) by a cache for other requests, in which case an object or array is
   * copied the first time the app reads it, and nothing shared is ever changed. `flash` as a
   * list of keys is 0.1.0's form: those keys of `data` are the flash values.
   */
  adopt(data: Data, flash: FlashRecord | readonly string[] | undefined, shared: boolean): void {
    if (shared) this.#shared = data
    let arrived = flash as FlashRecord | undefined
    if (!Array.isArray(flash)) Object.assign(this.values, data)
    else {
      arrived = newRecord()
      const legacy: string[] = []
      for (const key of Object.keys(data)) {
        if (flash.includes(key)) {
          arrived[key] = [data[key]]
          legacy.push(key)
        } else this.values[key] = data[key]
      }
      this.#legacyKeys = legacy
      if (legacy.length === 0) return
    }
    if (arrived === undefined) return
    this.#arrived = arrived
    this.#arrivedShared = shared
    this.#flashHeld = true
  }

  /** Marks the session as used by this request: the flash values that arrived are consumed. */
  touch(): void {
    this.#touched = true
  }

  /** Records the JSON of `key` before its first change (set or delete). */
  #beforeChange(key: string): void {
    this.#baseline ??= new Map()
    if (this.#baseline.has(key)) return
    this.#baseline.set(key, key in this.values ? safeStringify(this.values[key]) : undefined)
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

  /** Flashes `value` under `key` for the next request (after any flashed before). */
  flash(key: string, value: unknown): void {
    assertJsonValue(value, key, true)
    // The next request reads the flashed value under `key`, not an older data value.
    this.delete(key)
    this.#flashed ??= new Map()
    const values = this.#flashed.get(key)
    if (values) values.push(value)
    else this.#flashed.set(key, [value])
  }

  /** Keeps the arrived flash values under `keys` (all of them when none) one more request. */
  reflash(keys: readonly string[]): void {
    this.epoch++
    this.#touched = true
    if (keys.length === 0) this.#kept = true
    else if (this.#kept !== true) {
      this.#kept ??= new Set()
      for (const key of keys) this.#kept.add(key)
    }
  }

  /**
   * The arrived flash values under `key`, oldest first (`[]` when none); without a key, all of
   * them by key (a new object each call, holding the same arrays).
   */
  arrivedFlash(key?: string): unknown[] | FlashRecord {
    this.#touched = true
    const arrived = this.#ownArrived()
    if (key === undefined) return Object.assign(newRecord(), arrived)
    return arrived && Object.hasOwn(arrived, key) ? arrived[key]! : []
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
    for (const key of Object.keys(this.values)) delete this.values[key]
    this.#touched = true
    this.#shared = undefined
    this.#baseline = undefined
    this.#seen = undefined
    this.#arrived = undefined
    this.#arrivedShared = false
    this.#legacyKeys = NONE
    this.#flashed = undefined
    this.#kept = undefined
    this.#flashHeld = false
    this.#flashHeldJson = undefined
  }

  /** True when this request set, deleted, or read as an object, any key: commit compares them. */
  anyKeyTracked(): boolean {
    return this.#baseline !== undefined && this.#baseline.size > 0
  }

  /** The current values of the keys `anyKeyTracked()` counts. */
  trackedValues(): Data {
    const out: Data = {}
    if (!this.#baseline) return out
    for (const key of this.#baseline.keys()) if (key in this.values) out[key] = this.values[key]
    return out
  }

  /** Computes what commit must write; changes nothing but the record `rebase()` reads. */
  pending(): PendingChanges {
    // A request that never touched the session changes nothing, flash values included.
    if (!this.#touched) return UNCHANGED
    const baseline = this.#baseline
    if (baseline === undefined && this.#flashed === undefined && !this.#flashHeld) return UNCHANGED
    const set: string[] = []
    const deleted: string[] = []
    if (baseline !== undefined) {
      const seen = new Map<string, string | undefined>()
      for (const [key, before] of baseline) {
        const present = key in this.values
        const now = present ? safeStringify(this.values[key]) : undefined
        seen.set(key, now)
        if (now !== before) (present ? set : deleted).push(key)
      }
      this.#seen = seen
    }
    const changed = set.length > 0 || deleted.length > 0 || this.#flashChanged()
    for (const key of this.#legacyKeys) {
      if (!(key in this.values) && !deleted.includes(key)) deleted.push(key)
    }
    return { changed, set, deleted }
  }

  /**
   * The flash values the next request gets: those kept by `reflash()`, then those flashed now;
   * all that arrived when the session was never touched. Throws `SessionDataError` for a value
   * flashed now that has since become something JSON cannot hold.
   */
  outgoingFlash(): FlashRecord | undefined {
    if (!this.#touched) return this.#arrived
    let out: FlashRecord | undefined
    const kept = this.#kept
    const arrived = this.#arrived
    if (kept !== undefined && arrived !== undefined) {
      for (const key of Object.keys(arrived)) {
        if (kept !== true && !kept.has(key)) continue
        out ??= newRecord()
        out[key] = arrived[key]!
      }
    }
    if (this.#flashed !== undefined) {
      out ??= newRecord()
      for (const [key, values] of this.#flashed) {
        assertJsonValue(values, key)
        out[key] = Object.hasOwn(out, key) ? out[key]!.concat(values) : values
      }
    }
    return out
  }

  #flashChanged(): boolean {
    const out = this.outgoingFlash()
    if (out === undefined || !this.#flashHeld) return out !== undefined || this.#flashHeld
    this.#flashHeldJson ??= JSON.stringify(this.#arrived)
    return JSON.stringify(out) !== this.#flashHeldJson
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
    this.#baseline = undefined
    this.#seen = undefined
    const keep = (key: string, json: string | undefined, changed: boolean) => {
      if (!changed && !isPlainContainer(this.values[key])) return
      this.#baseline ??= new Map()
      this.#baseline.set(key, json)
    }
    if (written !== undefined) {
      for (const key of new Set([...Object.keys(written), ...Object.keys(this.values)])) {
        const before = key in written ? safeStringify(written[key]) : undefined
        const now = key in this.values ? safeStringify(this.values[key]) : undefined
        keep(key, before, now !== before)
      }
    } else if (seen !== undefined) {
      for (const [key, json] of seen) keep(key, json, false)
    }
    this.#legacyKeys = NONE
    this.#flashHeld = flash !== undefined
    this.#flashHeldJson = flash && JSON.stringify(flash)
  }

  /**
   * The value of `key` for the app: the data's, else the latest value flashed under it (this
   * request's, then what arrived). An object or array is the session's own (the same one on
   * every read); its JSON is taken on the first read, to find nested changes at commit.
   */
  read(key: string): unknown {
    const v = this.values[key]
    if (v === undefined && !(key in this.values)) return this.#flashFallback(key)
    this.#touched = true
    if (!isPlainContainer(v)) return v
    this.#baseline ??= new Map()
    if (this.#baseline.has(key)) return v
    if (this.#shared === undefined || this.#shared[key] !== v) {
      this.#baseline.set(key, safeStringify(v))
      return v
    }
    // JSON in, JSON out: a frozen cache entry holds nothing else. The string is the snapshot.
    const json = JSON.stringify(v)
    const own = JSON.parse(json) as object
    this.values[key] = own
    this.#baseline.set(key, json)
    return own
  }

  #flashFallback(key: string): unknown {
    // Promise resolution probes `then` on what it resolves with (getSession's session): that
    // is not the app reading the session.
    if (key === 'then') return undefined
    this.#touched = true
    const mine = this.#flashed?.get(key)
    if (mine) return mine[mine.length - 1]
    const arrived = this.#arrived && Object.hasOwn(this.#arrived, key) && this.#ownArrived()![key]!
    return arrived ? arrived[arrived.length - 1] : undefined
  }

  /** The arrived flash values as this request's own copy (a shared one is copied once). */
  #ownArrived(): FlashRecord | undefined {
    if (this.#arrivedShared) {
      this.#arrivedShared = false
      this.#arrived = JSON.parse(JSON.stringify(this.#arrived)) as FlashRecord
    }
    return this.#arrived
  }

  /** A plain deep copy of the data (flash values are not data). */
  toJSON(): Data {
    this.#touched = true
    return JSON.parse(JSON.stringify(this.values))
  }
}

/** A record with no prototype, so any key (`__proto__` too) is an ordinary one. */
const newRecord = (): FlashRecord => Object.create(null) as FlashRecord
