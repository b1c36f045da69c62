// A refused cookie is never worth a log line: attackers decide how many arrive. These helpers
// silence the console during adversarial tests and fail a test that wrote to it.
import { afterEach, beforeEach, expect, vi } from 'vitest'

const METHODS = ['error', 'warn', 'log', 'info', 'debug'] as const
type Method = (typeof METHODS)[number]

/** No call on any console method. */
export const NO_CONSOLE_CALLS: Record<Method, number> = Object.fromEntries(
  METHODS.map((m) => [m, 0]),
) as Record<Method, number>

/** Silences the console and counts calls per method until `restore()`. */
export function muteConsole() {
  const spies = METHODS.map((m) => vi.spyOn(console, m).mockImplementation(() => {}))
  return {
    calls: (): Record<Method, number> =>
      Object.fromEntries(METHODS.map((m, i) => [m, spies[i]!.mock.calls.length])) as Record<
        Method,
        number
      >,
    restore: (): void => {
      for (const s of spies) s.mockRestore()
    },
  }
}

/** Every test of the calling file runs with the console muted and fails if it wrote a line. */
export function failOnConsoleOutput(): void {
  let muted: ReturnType<typeof muteConsole>
  beforeEach(() => {
    muted = muteConsole()
  })
  afterEach(() => {
    const calls = muted.calls()
    muted.restore()
    expect(calls).toEqual(NO_CONSOLE_CALLS)
  })
}
