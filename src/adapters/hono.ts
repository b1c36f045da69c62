import type { Context, Env, Input, MiddlewareHandler } from 'hono'
import * as hono from 'hono'
import { SessionEngine } from '../core/engine.ts'
import { SessionError } from '../core/errors.ts'
import type { SessionState } from '../core/state/session-state.ts'
import type {
  DefaultSessionData,
  DefaultSessionFlash,
  FlashOf,
  Session,
  SessionCommit,
  SessionDataFor,
  SessionOptions,
  SessionRequest,
  SessionSchema,
  UnsetFlash,
} from '../core/types.ts'

/**
 * Hono `Env` fragment that `session()` adds: `c.var.session` / `c.get('session')` and `c.session`.
 *
 * @example
 * const app = new Hono<SessionEnv<{ userId?: string }>>()
 */
export type SessionEnv<
  Data extends object = DefaultSessionData,
  Flash extends object = DefaultSessionFlash<Data>,
> = {
  Variables: { session: Session<Data, Flash> }
}

/** The session type a context's `Env` carries, or the global one. */
export type SessionOf<E> = E extends { Variables: { session: infer S } }
  ? S extends object
    ? S
    : Session
  : Session

/** The data type of a session (what `toJSON()` returns), so a replacement object is checked. */
export type SessionDataOf<S> = S extends { toJSON(): infer D } ? D : Record<string, unknown>

declare module 'hono' {
  interface Context<E extends Env = any, P extends string = any, I extends Input = {}> {
    /**
     * This request's session (from `session()` middleware). Assign `null` to end it, or an
     * object to replace its data.
     */
    get session(): SessionOf<E>
    set session(value: SessionOf<E> | SessionDataOf<SessionOf<E>> | null)
  }
  interface ContextVariableMap {
    /**
     * The request's session, typed non-null like `c.session` (in route modules too). Hono types
     * `c.get` and `c.set` from this one entry, so a null here would make every read nullable:
     * end a session with `c.session = null` or `c.session.destroy()` (a `c.set('session', null)`
     * from untyped code still ends it).
     */
    session: Session
  }
}

const STATE = Symbol.for('sealed-session.state')
const patched = new WeakSet<object>()

type WithState = Context & { [STATE]?: SessionState }

/** Applies `c.set('session', …)` done by the app: null ends the session, an object replaces it. */
function sync(c: WithState, state: SessionState): void {
  const value = c.get('session') as unknown
  if (value === state.session) return
  if (value === null || value === undefined) state.destroy()
  else if (typeof value === 'object') state.replace(value)
  c.set('session', state.session)
}

function stateOf(c: WithState, verb: string): SessionState {
  const state = c[STATE]
  if (state) return state
  throw new SessionError(
    'ERR_SESSION_MISSING',
    `c.session was ${verb} on a route that session() middleware does not cover; add app.use(session(…)) before it`,
  )
}

// `c.session` is an accessor on Hono's Context prototype, installed once: it costs nothing per
// request and works for any Hono copy the app uses. Installed up front too (older Hono exports
// Context as a type only), so an uncovered route throws ERR_SESSION_MISSING from the start.
const honoContext = (hono as { Context?: { prototype: object } }).Context

function installOn(proto: object): void {
  if (patched.has(proto)) return
  patched.add(proto)
  if (Object.hasOwn(proto, 'session')) return
  Object.defineProperty(proto, 'session', {
    configurable: true,
    get(this: WithState) {
      const state = stateOf(this, 'read')
      sync(this, state)
      return state.session
    },
    set(this: WithState, value: unknown) {
      const state = stateOf(this, 'set')
      this.set('session', value as never)
      sync(this, state)
    },
  })
}

/** The request view the engine reads: headers and, only when needed, the URL. */
class HonoRequest implements SessionRequest {
  readonly #c: Context
  constructor(c: Context) {
    this.#c = c
  }
  header(name: string): string | undefined {
    return this.#c.req.header(name)
  }
  url(): string {
    return this.#c.req.url
  }
}

/**
 * Session middleware for Hono: `c.session` (also `c.get('session')`) holds the request's
 * session, sealed into the cookie by default or kept in `store`.
 *
 * @example
 * const app = new Hono()
 *   .use(session<{ userId?: string }>({ secret: process.env.SESSION_SECRET }))
 *   .get('/', (c) => c.text(c.session.userId ?? 'anon'))
 */
export function session<
  Data extends object = DefaultSessionData,
  Flash extends object = UnsetFlash,
  Schema extends SessionSchema = SessionSchema,
  FlashSchema extends SessionSchema = SessionSchema,
>(
  options?: SessionOptions<Context, Schema, FlashSchema>,
): MiddlewareHandler<
  SessionEnv<
    SessionDataFor<Schema, Data>,
    FlashOf<Flash, SessionDataFor<Schema, Data>, FlashSchema>
  >
> {
  const engine = new SessionEngine(options)
  if (honoContext) installOn(honoContext.prototype)
  // A synchronous engine is not awaited: two microtask turns fewer a request (ARCHITECTURE.md,
  // "Synchronous and asynchronous"). Its save() never leaves a write in flight.
  const noWait = engine.alwaysSynchronous
  return async function sessionMiddleware(c, next) {
    installOn(Object.getPrototypeOf(c) as object)
    const request = new HonoRequest(c)
    const state = noWait ? engine.loadSync(request, c) : await engine.load(request, c)
    ;(c as WithState)[STATE] = state
    c.set('session', state.session as never)
    await next()
    // A handler that threw writes nothing more; what its save() committed still reaches the client.
    if (c.error) return append(c, engine.unsent(state).headers)
    sync(c as WithState, state)
    const commit = noWait ? engine.commitSync(state, c) : await engine.commit(state, c)
    append(c, commit.headers)
  }
}

function append(c: Context, headers: SessionCommit['headers']): void {
  if (headers.length === 0) return
  try {
    for (const [name, value] of headers) c.res.headers.append(name, value)
  } catch {
    // Immutable headers (Response.redirect(), a fetched response): Hono copies the response.
    for (const [name, value] of headers) c.header(name, value, { append: true })
  }
}

export type { Session, SessionData, SessionOptions } from '../core/types.ts'
