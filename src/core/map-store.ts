import { applySessionPatch, type SessionRecord, type SessionStore } from './types.ts'

/**
 * A plain `Map` as a store. Its get-merge-set runs in one synchronous step, so concurrent
 * requests that change different keys of one session both survive.
 */
export function mapStore(map: Map<string, unknown>): SessionStore {
  return {
    get: (id) => map.get(id),
    set: (id, record) => void map.set(id, record),
    delete: (id) => void map.delete(id),
    patch: (id, record: SessionRecord<any>, patch) => {
      const next = applySessionPatch(map.get(id), record, patch)
      if (next) map.set(id, next)
    },
  }
}
