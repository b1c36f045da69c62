/**
 * A bounded cache with least-recently-used eviction done in generations: entries live in a
 * young map; when it fills, it becomes the old map and the previous old map is dropped. A hit
 * in the old map moves the entry to the young one. Hits cost one or two `Map.get`s with no
 * reordering, and the cache never holds more than `2 * half` entries.
 */
export class BoundedCache<K, V> {
  #young = new Map<K, V>()
  #old = new Map<K, V>()
  readonly #half: number

  /** @param max the most entries kept (rounded up to an even number) */
  constructor(max: number) {
    this.#half = Math.max(1, Math.ceil(max / 2))
  }

  get(key: K): V | undefined {
    const young = this.#young.get(key)
    if (young !== undefined) return young
    const old = this.#old.get(key)
    if (old !== undefined) {
      this.#old.delete(key)
      this.#put(key, old)
    }
    return old
  }

  set(key: K, value: V): void {
    // A new key (the usual case) costs a delete and a set; `has` only when the young map is full.
    this.#old.delete(key)
    if (this.#young.size < this.#half || this.#young.has(key)) this.#young.set(key, value)
    else this.#put(key, value)
  }

  #put(key: K, value: V): void {
    if (this.#young.size >= this.#half) {
      this.#old = this.#young
      this.#young = new Map()
    }
    this.#young.set(key, value)
  }

  delete(key: K): void {
    // A Map emptied by a delete is rehashed (shrunk) by V8, in the old generation once the Map
    // lived long; a write loop of one client did that on every request. A new Map costs less.
    if (this.#young.delete(key) && this.#young.size === 0) this.#young = new Map()
    this.#old.delete(key)
  }

  clear(): void {
    this.#young.clear()
    this.#old.clear()
  }

  get size(): number {
    return this.#young.size + this.#old.size
  }
}

/**
 * Characters `end - 1`, `end - 7`, … down to (not including) `stop`, FNV-1a-mixed into a small
 * integer: V8's fastest Map key, for caches whose keys are long strings with a random part.
 * Strings that mix alike share a key; their users compare the whole string on a hit.
 */
export function smallKey(s: string, end: number, stop: number): number {
  let key = 0x811c9dc5
  for (let i = end - 1; i > stop; i -= 6) key = Math.imul(key ^ s.charCodeAt(i), 0x01000193)
  return key & 0x3fffffff
}
