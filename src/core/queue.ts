/**
 * Runs tasks for the same key one after another (different keys run freely), so a store's
 * read-merge-write of one session is never interleaved with another write of it in this
 * process. A failed task does not stop the ones queued behind it. Idle keys are forgotten.
 */
export function keyedQueue(): <T>(key: string, task: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<void>>()
  return (key, task) => {
    const run = (tails.get(key) ?? Promise.resolve()).then(task)
    const tail = run.then(
      () => undefined,
      () => undefined,
    )
    tails.set(key, tail)
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key)
    })
    return run
  }
}
