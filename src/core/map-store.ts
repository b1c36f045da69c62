import { applySessionPatch } from './record.ts'
import type { SessionRecord, SessionStore } from './types.ts'

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

  set(id: string, record: SessionRecord<any>): void {
    this.#map.set(id, record)
  }

  delete(id: string): void {
    this.#map.delete(id)
  }

  patch(
    id: string,
    record: SessionRecord<any>,
    patch: { set: readonly string[]; deleted: readonly string[] },
  ): void {
    const next = applySessionPatch(this.#map.get(id), record, patch)
    if (next) this.#map.set(id, next)
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
