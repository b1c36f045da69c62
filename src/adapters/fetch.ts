import { SessionEngine } from '../core/engine.ts'
import { SessionError } from '../core/errors.ts'
import { requestView } from '../core/request.ts'
import type { SessionState } from '../core/state/session-state.ts'
import type {
  DefaultSessionData,
  DefaultSessionFlash,
  FlashOf,
  Session,
  SessionDataFor,
  SessionOptions,
  SessionSchema,
  UnsetFlash,
} from '../core/types.ts'

/**
 * What the fetch adapter passes to the store and `onInvalid` as their context: the request and
 * the arguments the server passed after it (Workers' `env` and `ctx`, Bun's `server`, Deno's
 * `info`, a Next.js route's `{ params }`).
 *
 * @example
 * const store: SessionStore<FetchContext<[Env]>> = {
 *   get: (id, { args: [env] }) => env.SESSIONS.get(id, 'json'),
 *   set: (id, record, { args: [env] }) => env.SESSIONS.put(id, JSON.stringify(record)),
 *   delete: (id, { args: [env] }) => env.SESSIONS.delete(id),
 * }
 */
export interface FetchContext<Args extends readonly unknown[] = any[]> {
  request: Request
  args: Args
}

/**
 * The lower-level pair behind `withSession`, for servers and frameworks it does not wrap.
 *
 * @example
 * const { getSession, commitSession } = createSessionHandler({ secret })
 */
export interface SessionHandler<
  Data extends object = DefaultSessionData,
  Flash extends object = DefaultSessionFlash<Data>,
> {
  /**
   * Opens the session the request carries (a new one when it carries none or a bad one).
   * Arguments after the request reach the store and `onInvalid` as `FetchContext.args`.
   */
  getSession(request: Request, ...args: any[]): Promise<Session<Data, Flash>>
  /**
   * Writes what the request changed and answers `response` with the session's Set-Cookie (or
   * token header) added, including what `session.save()` committed; a copy when the response's
   * headers are immutable. Called again for the same session, it writes only what changed
   * since. Throws a `SessionError` (`ERR_SESSION_MISSING`) for a session this handler did not
   * open.
   */
  commitSession(session: Session<Data, Flash>, response: Response): Promise<Response>
}

/** Adds `headers` to `response`, copying it when its headers are immutable. */
function withHeaders(response: Response, headers: ReadonlyArray<readonly [string, string]>) {
  if (headers.length === 0) return response
  try {
    for (const [name, value] of headers) response.headers.append(name, value)
    return response
  } catch {
    // Response.redirect() and fetched responses have immutable headers: answer a copy.
    const copy = new Response(response.body, response)
    for (const [name, value] of headers) copy.headers.append(name, value)
    return copy
  }
}

/**
 * Opens and commits sessions for any Web-standard `Request`/`Response` server; call
 * `getSession` before your handler and `commitSession` on its response.
 *
 * @example
 * const sessions = createSessionHandler<{ userId?: string }>({ secret: process.env.SESSION_SECRET })
 * async function handle(request: Request) {
 *   const session = await sessions.getSession(request)
 *   session.userId ??= 'guest'
 *   return sessions.commitSession(session, new Response(`hi ${session.userId}`))
 * }
 */
export function createSessionHandler<
  Data extends object = DefaultSessionData,
  Flash extends object = UnsetFlash,
  Schema extends SessionSchema = SessionSchema,
  FlashSchema extends SessionSchema = SessionSchema,
>(
  options?: SessionOptions<FetchContext, Schema, FlashSchema>,
): SessionHandler<
  SessionDataFor<Schema, Data>,
  FlashOf<Flash, SessionDataFor<Schema, Data>, FlashSchema>
> {
  type D = SessionDataFor<Schema, Data>
  type F = FlashOf<Flash, D, FlashSchema>
  const engine = new SessionEngine(options)
  // The user holds only the session proxy; commit finds its state and context here.
  const open = new WeakMap<object, { state: SessionState; ctx: FetchContext }>()
  return {
    async getSession(request, ...args) {
      const ctx: FetchContext = { request, args }
      const state = await engine.load(requestView(request), ctx)
      open.set(state.session, { state, ctx })
      return state.session as Session<D, F>
    },
    async commitSession(session, response) {
      const entry = open.get(session)
      if (!entry) {
        throw new SessionError(
          'ERR_SESSION_MISSING',
          'commitSession() was given a session that this handler did not open with getSession()',
        )
      }
      // Committing again later writes only what changed since (a streamed response, say).
      return withHeaders(response, (await engine.commit(entry.state, entry.ctx)).headers)
    },
  }
}

/**
 * The answer to a session error no code of the app can catch (the store failed while loading or
 * committing, the data is not JSON): a generic 500 with the error logged, as Hono's default
 * handler answers it, so no message (`ECONNREFUSED …`) reaches the client. Other errors rethrow.
 */
function unhandled(error: unknown): Response {
  if (!(error instanceof SessionError)) throw error
  console.error(error)
  return new Response('Internal Server Error', {
    status: 500,
    headers: { 'content-type': 'text/plain;charset=utf-8' },
  })
}

/**
 * Wraps a Web-standard fetch handler so it receives the request's session as its second
 * argument; the server's other arguments follow it. Works with `Bun.serve`, `Deno.serve`,
 * Cloudflare Workers, Next.js route handlers and any server that calls `fetch(request, …)`.
 * A handler that throws commits nothing; the error reaches the server. A session error (a
 * failing store, a value JSON cannot hold assigned in the handler) answers a generic 500 and is
 * logged; to answer it yourself (a 503), use `createSessionHandler` and catch it.
 *
 * @example
 * Bun.serve({
 *   fetch: withSession<{ userId?: string }>({ secret: process.env.SESSION_SECRET }, (request, session) =>
 *     new Response(session.userId ?? 'anon'),
 *   ),
 * })
 */
export function withSession<
  Data extends object = DefaultSessionData,
  Args extends any[] = any[],
  Req extends Request = Request,
  Flash extends object = UnsetFlash,
  Schema extends SessionSchema = SessionSchema,
  FlashSchema extends SessionSchema = SessionSchema,
>(
  options: SessionOptions<FetchContext<Args>, Schema, FlashSchema> | undefined,
  handler: (
    request: Req,
    session: Session<
      SessionDataFor<Schema, Data>,
      FlashOf<Flash, SessionDataFor<Schema, Data>, FlashSchema>
    >,
    ...args: Args
  ) => Response | Promise<Response>,
): (request: Req, ...args: Args) => Promise<Response> {
  type D = SessionDataFor<Schema, Data>
  const { getSession, commitSession } = createSessionHandler<Data, Flash, Schema, FlashSchema>(
    options as SessionOptions<FetchContext, Schema, FlashSchema>,
  )
  return async function fetchWithSession(request, ...args) {
    let session: Session<D, FlashOf<Flash, D, FlashSchema>>
    try {
      session = await getSession(request, ...args)
    } catch (error) {
      return unhandled(error)
    }
    let response: Response
    try {
      response = await handler(request, session, ...args)
    } catch (error) {
      // A value JSON cannot hold is refused where the handler assigns it: a session error too.
      return unhandled(error)
    }
    return commitSession(session, response).catch(unhandled)
  }
}

export type { Session, SessionData, SessionOptions } from '../core/types.ts'
