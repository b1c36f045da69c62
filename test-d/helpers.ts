/**
 * Tiny type-assertion helpers for the type tests. Nothing here runs: `tsc` compiles these files
 * and fails when an assertion does not hold.
 */

/**
 * True only when `A` and `B` are the same type (`any` equals only `any`, and `string | undefined`
 * is not `string`). The deferred-conditional trick is the one type-fest and hono use.
 */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2
  ? true
  : false

/** True when `T` is `any`. */
export type IsAny<T> = 0 extends 1 & T ? true : false

/** Compiles only when `T` is `true`: `expect<Equal<typeof x, string>>()`. */
export function expect<T extends true>(): void {}

/** Compiles only when the value's type is exactly `T`: `expectType<string>()(x)`. */
export function expectType<T>(): <V>(value: V & ([Equal<V, T>] extends [true] ? unknown : never)) => void {
  return () => {}
}
