import { deepFreeze } from '../util/freeze.ts'
import { applySessionPatch } from './record.ts'
import type { SessionRecord, SessionStore } from './types.ts'

/**
 * A record a `MapStore` wrote, deep-frozen: a request that reads one shares it as it shares a
 * cached unseal result (the data state copies an object or array on first read) instead of
 * copying it whole. Its class marks it (a record the app put in the Map is not one), for the
 * cost of an `instanceof` (a WeakSet of them cost more, in garbage collection, than the copy).
 */
export class KeptRecord {}

/** `record`'s fields in a frozen `KeptRecord`; its values (the engine's own copies) frozen too. */
function keep(record: SessionRecord<any>): SessionRecord<any> {
  return deepFreeze(Object.assign(new KeptRecord(), record))
}

/**
 * A plain `Map` as a store. Its get-merge-set runs in one synchronous step, so concurrent
 * requests that change different keys of one session both survive; and since nothing here
 * waits, an engine over it can answer synchronously.
 */
class MapStore implements SessionStore {
  readonly #map: Map<string, unknown>

  constructor(map: Map<string, unknown>) {
    this.#map = map
  }

  get(id: string): unknown {
    return this.#map.get(id)
  }

  // The engine hands a store a record of its own (nothing else holds its values): frozen as is.
  set(id: string, record: SessionRecord<any>): void {
    this.#map.set(id, keep(record))
  }

  delete(id: string): void {
    this.#map.delete(id)
  }

  patch(
    id: string,
    record: SessionRecord<any>,
    patch: { set: readonly string[]; deleted: readonly string[] },
  ): void {
    const stored = this.#map.get(id)
    const next = applySessionPatch(stored, record, patch)
    // Merged from a record the app put in the Map, it holds the app's objects: not ours to freeze.
    if (next) this.#map.set(id, stored instanceof KeptRecord ? keep(next) : next)
  }
}

/** A `Map` as a `SessionStore`. */
export function mapStore(map: Map<string, unknown>): SessionStore {
  return new MapStore(map)
}

/** True for stores that answer every call synchronously (those `mapStore` made). */
export function isSynchronousStore(store: object): boolean {
  return store instanceof MapStore
}
