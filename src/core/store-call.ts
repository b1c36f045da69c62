import { isPromise } from '../util/steps.ts'
import { type SessionStoreError, storeError } from './errors.ts'
import type { MaybePromise } from './types.ts'

/**
 * `call()` answered as it came (a value, or a promise of it), with a failure, thrown or
 * rejected, turned into a `SessionStoreError`: for code outside the engine's steps that writes
 * to a store, such as the revocation list.
 */
export function storeCall<T>(
  op: SessionStoreError['operation'],
  call: () => unknown,
): MaybePromise<T> {
  const fail = (err: unknown): never => {
    throw storeError(op, err)
  }
  let value: unknown
  try {
    value = call()
  } catch (err) {
    fail(err)
  }
  return (
    isPromise(value) ? Promise.resolve(value).then(undefined, fail) : value
  ) as MaybePromise<T>
}

// One warning per store, however many requests it answers wrongly (a WeakSet: shared by every
// engine and list over the store, and gone with it).
const warnedStores = new WeakSet<object>()

/** The type of `value`: `typeof`, or `array`, `object` or the class name (`Date`). */
function typeName(value: unknown): string {
  if (typeof value !== 'object' || value === null) return value === null ? 'null' : typeof value
  const proto = Object.getPrototypeOf(value)
  if (Array.isArray(value)) return 'array'
  return proto === Object.prototype || proto === null ? 'object' : (proto.constructor?.name ?? '?')
}

/**
 * Tells the developer, once per store, that its `get()` answers something that is no record
 * (`{ data, createdAt, expiresAt, … }`): the type and shape only, never the content, which may
 * hold secrets; `outcome` says what is done with such answers.
 */
export function warnNotARecord(store: object, value: unknown, outcome: string): void {
  if (warnedStores.has(store)) return
  warnedStores.add(store)
  let shape = typeName(value)
  if (shape === 'object') {
    const o = value as Record<string, unknown>
    const keys = Object.keys(o)
    const fields = keys.slice(0, 8).map((k) => `${k.slice(0, 40)}: ${typeName(o[k])}`)
    shape = `{ ${fields.join(', ')}${keys.length > 8 ? ', …' : ''} }`
  }
  console.warn(
    `[sealed-session] store.get() returned ${shape}, not the record set() was given ({ data, createdAt, expiresAt, … }; parse JSON text back) or null/undefined: ${outcome}. Warned once per store.`,
  )
}
