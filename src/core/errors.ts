/**
 * Every error code sealed-session throws, so callers can `switch (err.code)`.
 */
export type SessionErrorCode =
  | 'ERR_SESSION_CONFIG'
  | 'ERR_SESSION_TOO_LARGE'
  | 'ERR_SESSION_DATA'
  | 'ERR_SESSION_STORE'
  | 'ERR_SESSION_RESERVED_KEY'
  | 'ERR_SESSION_MISSING'
  | 'ERR_SESSION_ASYNC'

/**
 * Base class of every error sealed-session throws.
 *
 * @example
 * try { … } catch (err) { if (err instanceof SessionError && err.code === 'ERR_SESSION_STORE') … }
 */
export class SessionError extends Error {
  /** A stable string naming the kind of failure. */
  readonly code: SessionErrorCode

  constructor(code: SessionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = this.constructor.name
  }
}

/** One bad option: its dotted path and what is wrong with it. */
export interface SessionConfigIssue {
  path: string
  message: string
}

/**
 * Thrown at construction when options are invalid; names every bad field at once.
 *
 * @example
 * session({ secret: 'short' }) // SessionConfigError: secret: must be at least 32 characters
 */
export class SessionConfigError extends SessionError {
  /** Every bad field, in the order found. */
  readonly issues: readonly SessionConfigIssue[]

  constructor(issues: readonly SessionConfigIssue[]) {
    const list = issues.map((i) => `${i.path || '(options)'}: ${i.message}`).join('; ')
    super('ERR_SESSION_CONFIG', `Invalid session options: ${list}`)
    this.issues = issues
  }
}

/**
 * Thrown at commit when the session cookie would exceed what browsers keep (4096 bytes).
 *
 * @example
 * c.session.blob = 'x'.repeat(10_000) // the response fails with SessionTooLargeError
 */
export class SessionTooLargeError extends SessionError {
  /** Bytes the Set-Cookie name=value pairs would take (all chunks, with `chunk`). */
  readonly size: number
  /** The limit that was exceeded, in bytes (4096 per cookie the session may span). */
  readonly limit: number

  constructor(size: number, limit: number, cookies = 1) {
    const where =
      cookies === 1
        ? `the ${limit}-byte limit browsers keep`
        : `the ${limit}-byte limit of ${cookies} cookies (chunk.maxChunks)`
    super(
      'ERR_SESSION_TOO_LARGE',
      `Session cookie is ${size} bytes, over ${where}; store less in the session or use a store`,
    )
    this.size = size
    this.limit = limit
  }
}

/**
 * Thrown at commit when session data cannot be stored as JSON; names the offending key.
 *
 * @example
 * c.session.when = new Date() // SessionDataError: session key "when" holds a Date
 */
export class SessionDataError extends SessionError {
  /** Dotted path of the value that is not JSON, such as `cart.items.0`. */
  readonly key: string

  constructor(key: string, message: string) {
    super('ERR_SESSION_DATA', message)
    this.key = key
  }
}

/**
 * Thrown when the session store fails (down, timed out, threw); the original error is `cause`.
 *
 * @example
 * app.onError((err, c) => err instanceof SessionStoreError ? c.text('try again', 503) : c.text('oops', 500))
 */
export class SessionStoreError extends SessionError {
  /** Which store call failed. */
  readonly operation: 'get' | 'set' | 'delete' | 'patch'

  constructor(operation: 'get' | 'set' | 'delete' | 'patch', cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause)
    super('ERR_SESSION_STORE', `Session store ${operation} failed: ${why}`, { cause })
    this.operation = operation
  }
}

/**
 * `cause` as a `SessionStoreError` of `operation`: already one (a store call made through
 * another, as the revocation list's inside the engine's) it is passed on, not wrapped again.
 */
export const storeError = (
  operation: SessionStoreError['operation'],
  cause: unknown,
): SessionStoreError =>
  cause instanceof SessionStoreError ? cause : new SessionStoreError(operation, cause)
