import type { MaybePromise } from './types.ts'

export type { MaybePromise }

/** True for promises and other thenables (a store's driver may return its own kind). */
export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/**
 * `f(value)`, called right away when `value` is not a promise. Sealed sessions and Map stores never
 * wait for I/O: answering them synchronously spares every request a few microtask hops.
 */
export function chain<T, R>(value: MaybePromise<T>, f: (v: T) => MaybePromise<R>): MaybePromise<R> {
  return isPromise(value) ? Promise.resolve(value).then(f) : f(value)
}

/**
 * `ok(call())`, or `fail(error)` when `call` throws or its promise rejects. `ok` runs outside
 * the guard, so an error thrown by `ok` itself is not passed to `fail`.
 */
export function settle<T, R>(
  call: () => MaybePromise<T>,
  ok: (v: T) => MaybePromise<R>,
  fail: (err: unknown) => MaybePromise<R>,
): MaybePromise<R> {
  let value: MaybePromise<T>
  try {
    value = call()
  } catch (err) {
    return fail(err)
  }
  return isPromise(value) ? Promise.resolve(value).then(ok, fail) : ok(value)
}
