import { applySessionPatch, type SessionRecord, type SessionStore } from './types.ts'

/**
 * A plain `Map` as a store. Its get-merge-set runs in one synchronous step, so concurrent
 * requests that change different keys of one session both survive.
 */
export function mapStore(map: Map<string, unknown>): SessionStore {
  const store: SessionStore = {
    get: (id) => map.get(id),
    set: (id, record) => void map.set(id, record),
    delete: (id) => void map.delete(id),
    patch: (id, record: SessionRecord<any>, patch) => {
      const next = applySessionPatch(map.get(id), record, patch)
      if (next) map.set(id, next)
    },
  }
  synchronous.add(store)
  return store
}

const synchronous = new WeakSet<object>()

/** True for stores that answer every call synchronously (those `mapStore` made). */
export function isSynchronousStore(store: object): boolean {
  return synchronous.has(store)
}
