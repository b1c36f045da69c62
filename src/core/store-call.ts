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
