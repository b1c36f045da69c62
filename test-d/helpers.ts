/**
 * Tiny type-assertion helpers for the type tests. Nothing here runs: `tsc` compiles these files
 * and fails when an assertion does not hold.
 */

/**
 * True only when `A` and `B` are the same type (`any` equals only `any`, and `string | undefined`
 * is not `string`). Uses the usual deferred-conditional trick, which compares types exactly.
 */
export type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false

/** True when `T` is `any`. */
export type IsAny<T> = 0 extends 1 & T ? true : false

/** Compiles only when `T` is `true`: `expect<Equal<typeof x, string>>()`. */
export declare function expect<T extends true>(): void
