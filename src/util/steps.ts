// The engine's work is written once, as generator functions that `yield* wait(x)` wherever a
// store, encoder or WebCrypto call may answer with a promise. `run` drives them synchronously
// until a promise actually appears, so sealed mode on node:crypto and Map stores never wait,
// while async stores get plain async behaviour from the same code.

/** Work that may wait: a generator that yields only promises. */
export type Steps<T> = Generator<PromiseLike<unknown>, T, unknown>

/** True for promises and other thenables (a store's driver may return its own kind). */
export function isPromise(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/** Inside steps: the value of `value`, waiting only when it is a promise. */
export function* wait<T>(value: T | PromiseLike<T>): Generator<PromiseLike<unknown>, T, unknown> {
  if (!isPromise(value)) return value
  return (yield value) as T
}

/** Runs `steps` to the end: synchronously while nothing waits, then as a promise. */
export function run<T>(steps: Steps<T>): T | Promise<T> {
  const first = steps.next()
  return first.done ? first.value : finish(steps, first.value)
}

async function finish<T>(steps: Steps<T>, pending: PromiseLike<unknown>): Promise<T> {
  for (;;) {
    let value: unknown
    let failed = false
    try {
      value = await pending
    } catch (err) {
      value = err
      failed = true
    }
    // A rejection goes back into the steps, where try/catch turns it into a session error.
    const result = failed ? steps.throw(value) : steps.next(value)
    if (result.done) return result.value
    pending = result.value
  }
}

/** `steps` run to the end, always as a promise (a synchronous throw becomes a rejection). */
export function runAsync<T>(steps: Steps<T>): Promise<T> {
  try {
    const value = run(steps)
    return isPromise(value) ? (value as Promise<T>) : Promise.resolve(value)
  } catch (err) {
    return Promise.reject(err)
  }
}

/** Runs `steps` that must not wait; a promise on the way throws `refuse()`, never hangs. */
export function runSync<T>(steps: Steps<T>, refuse: () => Error): T {
  const first = steps.next()
  if (first.done) return first.value
  // Nobody will await it: keep a rejection from surfacing as unhandled.
  Promise.resolve(first.value).then(undefined, () => {})
  steps.return(undefined as T)
  throw refuse()
}
