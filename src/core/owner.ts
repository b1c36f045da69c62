/**
 * What the per-user index of a store needs from a write: whose session it is and which client
 * wrote it. Shared by the stores that keep the index (memory, SQLite, Postgres, Redis).
 */

/** The user agent from a Hono, Elysia or fetch-style context, when it carries one. */
export function userAgentOf(ctx: any): string | undefined {
  try {
    const ua =
      ctx?.req?.header?.('user-agent') ??
      ctx?.request?.headers?.get?.('user-agent') ??
      ctx?.headers?.get?.('user-agent')
    return typeof ua === 'string' ? ua : undefined
  } catch {
    // A context is whatever the adapter passes; reading it must never fail a write.
    return undefined
  }
}

/** The owner of session data: a string (or finite number) under `userKey`. */
export function userIdOf(data: unknown, userKey: string): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined
  const value = (data as Record<string, unknown>)[userKey]
  if (typeof value === 'string') return value
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined
}
