// One request's flash values, apart from the data: what arrived, what this request flashes or
// keeps, and what the client holds. Knows nothing of the data itself.
import { assertJsonValue } from '../json.ts'
import type { FlashRecord } from '../record.ts'

/** A record with no prototype, so any key (`__proto__` too) is an ordinary one. */
const newRecord = (): FlashRecord => Object.create(null)

/** The flash values of one session during one request. */
export class FlashState {
  /** Arrived with the request; deep-frozen (kept by a cache) while `#shared`. */
  #arrived: FlashRecord | undefined
  #shared = false
  /** Values flashed on this request, by key. */
  #flashed: Map<string, unknown[]> | undefined
  /** Arrived keys `keep()` keeps: all of them (true) or these. */
  #kept: Set<string> | true | undefined
  /** JSON of what the client holds, '' for nothing; undefined: what arrived, not taken yet. */
  #held: string | undefined = ''

  /** Takes the flash values that arrived; `shared` ones are copied before the app sees them. */
  adopt(arrived: FlashRecord, shared: boolean): void {
    this.#arrived = arrived
    this.#shared = shared
    this.#held = undefined
  }

  /** True when nothing arrived and nothing was flashed: commit has no flash work. */
  get idle(): boolean {
    return this.#flashed === undefined && this.#held === ''
  }

  /** Flashes `value` under `key` for the next request (after any flashed before). */
  add(key: string, value: unknown): void {
    assertJsonValue(value, key, true)
    this.#flashed ??= new Map()
    const values = this.#flashed.get(key)
    if (values) values.push(value)
    else this.#flashed.set(key, [value])
  }

  /** Keeps the arrived values under `keys` (all of them when none) one more request. */
  keep(keys: readonly string[]): void {
    if (keys.length === 0) this.#kept = true
    else if (this.#kept !== true) {
      this.#kept ??= new Set()
      for (const key of keys) this.#kept.add(key)
    }
  }

  /** The latest value under `key`: flashed on this request, else arrived. */
  latest(key: string): unknown {
    const values = this.#flashed?.get(key) ?? this.arrived(key)
    return values[values.length - 1]
  }

  /**
   * The arrived values under `key`, oldest first (`[]` when none); without a key, all of them
   * by key (a new object each call, holding the same arrays).
   */
  arrived(key: string): unknown[]
  arrived(key?: string): unknown[] | FlashRecord
  arrived(key?: string): unknown[] | FlashRecord {
    if (this.#shared) {
      this.#shared = false
      this.#arrived = JSON.parse(JSON.stringify(this.#arrived))
    }
    const arrived = this.#arrived
    if (key === undefined) return Object.assign(newRecord(), arrived)
    return arrived && Object.hasOwn(arrived, key) ? arrived[key]! : []
  }

  /**
   * The values the next request gets: those kept, then those flashed now; all that arrived
   * when the session was not `touched`. Throws `SessionDataError` for a value flashed now that
   * has since become something JSON cannot hold.
   */
  outgoing(touched: boolean): FlashRecord | undefined {
    const arrived = this.#arrived
    if (!touched) return arrived
    let out: FlashRecord | undefined
    const kept = this.#kept
    if (kept !== undefined && arrived !== undefined) {
      for (const key of Object.keys(arrived)) {
        if (kept !== true && !kept.has(key)) continue
        out ??= newRecord()
        out[key] = arrived[key]!
      }
    }
    for (const [key, values] of this.#flashed ?? []) {
      assertJsonValue(values, key)
      out ??= newRecord()
      out[key] = Object.hasOwn(out, key) ? out[key]!.concat(values) : values
    }
    return out
  }

  /** True when what the next request gets differs from what the client holds. */
  changed(touched: boolean): boolean {
    const out = this.outgoing(touched)
    this.#held ??= JSON.stringify(this.#arrived)
    return (out ? JSON.stringify(out) : '') !== this.#held
  }

  /** After a commit: the client holds `written`. What was flashed or kept stays pending. */
  rebase(written: FlashRecord | undefined): void {
    this.#held = written ? JSON.stringify(written) : ''
  }
}
