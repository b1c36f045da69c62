import { SessionDataError } from './errors.ts'

function describe(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined
    case 'number':
      return Number.isFinite(value) ? undefined : String(value)
    case 'bigint':
      return 'a BigInt'
    case 'function':
      return 'a function'
    case 'symbol':
      return 'a symbol'
    case 'undefined':
      return 'undefined'
  }
  if (value === null || Array.isArray(value)) return undefined
  const proto = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) return undefined
  const name = (proto?.constructor as { name?: string } | undefined)?.name
  return name ? `a ${name}` : 'an object with a custom prototype'
}

const HINTS: Record<string, string> = {
  'a Date': '; store date.toISOString() or a timestamp instead',
  'a Map': '; store Object.fromEntries(map) instead',
  'a Set': '; store [...set] instead',
  'a BigInt': '; store it as a string instead',
}

/**
 * Throws `SessionDataError` naming the first value under `data` that JSON cannot store
 * faithfully (Date, Map, BigInt, NaN, functions, cycles, undefined in arrays, …).
 * `undefined` object properties are allowed: they simply are not stored.
 */
export function assertJson(data: Record<string, unknown>): void {
  for (const key of Object.keys(data)) assertJsonValue(data[key], key)
}

/**
 * `assertJson` for one value stored under `path`: `undefined` is allowed unless `inArray`
 * (a flash value is kept in an array).
 */
export function assertJsonValue(
  value: unknown,
  path: string,
  inArray = false,
  ancestors?: object[],
): void {
  // Strings, finite numbers, booleans and null are most values: answered without a call.
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return
    case 'number':
      if (Number.isFinite(value)) return
      break
    case 'undefined':
      if (!inArray) return
      break
    case 'object':
      if (value === null) return
  }
  const bad = describe(value)
  if (bad !== undefined) {
    throw new SessionDataError(
      path,
      `Session key "${path}" holds ${bad}, which cannot be stored as JSON${HINTS[bad] ?? ''}`,
    )
  }
  const object = value as object
  const seen = ancestors ?? []
  if (seen.includes(object)) {
    throw new SessionDataError(path, `Session key "${path}" holds a circular reference`)
  }
  seen.push(object)
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) assertJsonValue(object[i], `${path}.${i}`, true, seen)
  } else {
    for (const key of Object.keys(object)) {
      assertJsonValue((object as Record<string, unknown>)[key], `${path}.${key}`, false, seen)
    }
  }
  seen.pop()
}

/** JSON of `value`, or undefined when it has none or cannot be serialised. */
export function safeStringify(value: unknown): string | undefined {
  try {
    return JSON.stringify(value)
  } catch {
    // A value that cannot be serialised never equals a snapshot; commit reports it.
    return '\u0000unserialisable'
  }
}

/** True for objects the session proxy may wrap: plain objects and arrays. */
export function isPlainContainer(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false
  if (Array.isArray(value)) return true
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}
