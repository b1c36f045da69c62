/** Freezes `value` and every object and array under it; answers `value`. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    // for-in with an own check: the keys Object.keys gives, without an array per object.
    for (const key in value) if (Object.hasOwn(value, key)) deepFreeze(value[key])
  }
  return value
}
