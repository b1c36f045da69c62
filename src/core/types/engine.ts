// Public types of the boundary between an adapter and the engine.
import type { DefaultSessionData, Session } from './session.ts'

/**
 * The request as the engine reads it; adapters build one over their framework's request.
 *
 * @example
 * const view: SessionRequest = { header: (name) => req.headers.get(name), url: () => req.url }
 */
export interface SessionRequest {
  /** A request header by lower-case name (`cookie`, `authorization`, `user-agent`). */
  header(name: string): string | null | undefined
  /** The request URL; called only when `secure: 'auto'` must decide on a write. */
  url(): string | undefined
}

/** One cookie a commit sets or clears, as fields and as its `Set-Cookie` header value. */
export interface SessionCookie {
  name: string
  /** The value; `''` when the cookie is cleared. */
  value: string
  /** Seconds it lives; 0 clears it. */
  maxAge: number
  /** When it expires, epoch ms; 0 when cleared. */
  expires: number
  path: string
  domain?: string
  httpOnly: boolean
  secure: boolean
  sameSite: 'Strict' | 'Lax' | 'None'
  partitioned: boolean
  /** The whole `Set-Cookie` header value. */
  header: string
}

/** What a commit tells the response. */
export interface SessionCommit {
  /** Headers to append, in order: Set-Cookie values, or the token header with `transport: 'header'`. */
  readonly headers: ReadonlyArray<readonly [string, string]>
  /** The cookies those Set-Cookie headers set or clear. */
  readonly cookies: readonly SessionCookie[]
  /**
   * What the client presents from now on: the cookie value (chunks joined), the signed store id
   * or the bearer token; null when it holds no session.
   */
  readonly token: string | null
}

/** One opened session, as an adapter holds it between load and commit. */
export interface SessionHandle<Data extends object = DefaultSessionData> {
  /** The session the app reads and writes. */
  readonly session: Session<Data>
  /** Replaces all data with the keys of `values` (an adapter's `c.session = { … }`). */
  replace(values: object): void
}

/**
 * The engine behind every adapter, for frameworks without one: `load` before the handler,
 * `commit` after it, and append `commit.headers` to the response.
 *
 * @example
 * const engine = sessionEngine({ secret })
 * const handle = await engine.load({ header: (n) => req.headers.get(n), url: () => req.url }, req)
 * handle.session.visits = (handle.session.visits ?? 0) + 1
 * for (const [name, value] of (await engine.commit(handle, req)).headers) res.headers.append(name, value)
 */
export interface SessionEngine<Data extends object = DefaultSessionData, Ctx = unknown> {
  /**
   * True when `loadSync` and `commitSync` work: nothing the engine uses ever waits. With a
   * `schema`, a forecast from validating `{}`: a check that only real data reaches (a zod
   * refinement after the object check) may still wait, and the sync pair then throws
   * `ERR_SESSION_ASYNC`; use `load`/`commit` with such a schema.
   */
  readonly synchronous: boolean
  /** The session cookie's name. */
  readonly cookieName: string
  /** Opens the session a request carries; a bad or missing one gives a new, empty session. */
  load(request: SessionRequest, ctx: Ctx): Promise<SessionHandle<Data>>
  /** `load` without a promise; throws `ERR_SESSION_ASYNC` unless `synchronous`. */
  loadSync(request: SessionRequest, ctx: Ctx): SessionHandle<Data>
  /**
   * Writes what changed and says what to send. Committing again later writes only what changed
   * since (the handle is rebased on what was written).
   */
  commit(handle: SessionHandle<Data>, ctx: Ctx): Promise<SessionCommit>
  /** `commit` without a promise; throws `ERR_SESSION_ASYNC` unless `synchronous`. */
  commitSync(handle: SessionHandle<Data>, ctx: Ctx): SessionCommit
  /**
   * What `session.save()` committed that no response has carried yet, taken off the handle:
   * send it on a response that gets no final commit (the handler threw after saving). A final
   * `commit` includes it on its own.
   */
  unsent(handle: SessionHandle<Data>): SessionCommit
}
