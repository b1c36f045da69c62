import { type Context, Elysia } from 'elysia'
import { SessionEngine } from '../core/engine.ts'
import { WebRequestView } from '../core/request.ts'
import type { SessionState } from '../core/state/session-state.ts'
import type {
  DefaultSessionData,
  FlashOf,
  Session,
  SessionCommit,
  SessionDataFor,
  SessionOptions,
  SessionSchema,
  UnsetFlash,
} from '../core/types.ts'
import {
  addHeaders,
  type Committed,
  nodeErrorMapping,
  type SetHeaders,
  seedOf,
} from './elysia-compat.ts'
import { genericByDefault } from './elysia-errors.ts'

/**
 * What the Elysia adapter passes to the store and `onInvalid` as their context: the parts of
 * Elysia's context that every request has, whatever its handlers use.
 *
 * @example
 * const store: SessionStore<ElysiaSessionContext> = {
 *   get: (id) => db.get(id),
 *   set: (id, record, { request }) => db.set(id, record, request.headers.get('user-agent')),
 *   delete: (id) => db.delete(id),
 * }
 */
export interface ElysiaSessionContext {
  request: Request
  /** Elysia's response settings (`status`, `headers`) for this request. */
  set: Context['set']
  /** The request path, like `/login`. */
  path: string
}

/**
 * The context `onInvalid` and the stores see, which is also the request view the engine reads:
 * one object per request instead of two.
 */
class RequestContext extends WebRequestView implements ElysiaSessionContext {
  constructor(
    request: Request,
    readonly set: Context['set'],
    readonly path: string,
  ) {
    super(request)
  }
}

/** One request's session between `derive` and commit. */
interface Open extends Committed {
  state: SessionState
  ctx: ElysiaSessionContext
  /** Committed already (onAfterHandle can run more than once for a request). */
  committed: boolean
  /** The response to use instead of the handler's, when ours had to go on a copy. */
  replaced?: Response | undefined
}

/**
 * Session plugin for Elysia: every handler, guard and hook of the app gets `session`, sealed
 * into the cookie by default or kept in `store`. A named plugin, so using it twice with equal
 * options registers it once.
 *
 * @example
 * const app = new Elysia()
 *   .use(session<{ userId?: string }>({ secret: process.env.SESSION_SECRET }))
 *   .get('/', ({ session }) => session.userId ?? 'anon')
 */
export function session<
  Data extends object = DefaultSessionData,
  Flash extends object = UnsetFlash,
  Schema extends SessionSchema = SessionSchema,
  FlashSchema extends SessionSchema = SessionSchema,
>(options?: SessionOptions<ElysiaSessionContext, Schema, FlashSchema>) {
  const engine = new SessionEngine(options)
  type D = SessionDataFor<Schema, Data>
  type Derived = { session: Session<D, FlashOf<Flash, D, FlashSchema>> }
  // Where a request's Open lives: on Elysia's context itself (derive's result is assigned onto
  // it), not in a WeakMap keyed by the Request, which costs two lookups a request. One symbol
  // per plugin: an app may use two sessions (two cookie names).
  const OPEN = Symbol('sealed-session.open')
  // Typed without the OPEN key: Elysia puts the derive's type on every handler's context.
  const open = (state: SessionState, ctx: ElysiaSessionContext) =>
    ({ session: state.session, [OPEN]: { state, ctx, committed: false } }) as unknown as Derived
  const finish = (set: Context['set'], response: unknown, o: Open, commit: SessionCommit) => {
    o.committed = true
    if (commit.headers.length === 0) return undefined
    return addHeaders(set, response, o, commit.headers)
  }
  const plugin = new Elysia({ name: 'sealed-session', seed: seedOf(options) })
  // Elysia reads these hooks' source to decide what each request needs: a context handed whole
  // to a function makes it parse every body (leaving it unreadable for the handler), query and
  // cookie. So the hooks only read properties of `context`, and never pass it on. It also awaits
  // a hook whose source looks asynchronous (a call right after `return` or `=>`, or the words
  // async/await), at a microtask or two per request: with a synchronous engine (sealed mode on
  // node:crypto, a Map store) the first pair of hooks does not look it (nor after Bun's
  // transpiler folds locals: hence no call in a return), and never waits.
  const synchronous = () =>
    plugin
      // derive runs before validation and guards, so beforeHandle can read the session.
      .derive({ as: 'global' }, (context) => {
        const ctx = new RequestContext(context.request, context.set, context.path)
        const state = engine.loadSync(ctx, ctx)
        return {
          session: state.session,
          [OPEN]: { state, ctx, committed: false },
        } as unknown as Derived
      })
      // Not reached when the handler or a guard throws: a failed request commits nothing.
      .onAfterHandle({ as: 'global' }, (context) => {
        const o = (context as { [OPEN]?: Open })[OPEN]
        if (!o || o.committed) return
        const commit = engine.commitSync(o.state, o.ctx)
        // Through a property: a transpiler would fold a local into `return finish(…)`.
        o.replaced = finish(context.set, context.responseValue, o, commit)
        return o.replaced
      })
  const asynchronous = () =>
    plugin
      .derive({ as: 'global' }, async (context) => {
        const ctx = new RequestContext(context.request, context.set, context.path)
        return open(await engine.load(ctx, ctx), ctx)
      })
      .onAfterHandle({ as: 'global' }, async (context) => {
        const o = (context as { [OPEN]?: Open })[OPEN]
        if (!o || o.committed) return
        const commit = await engine.commit(o.state, o.ctx)
        return finish(context.set, context.responseValue, o, commit)
      })
  // Both add the same `session`; only whether Elysia awaits the hooks differs. With a schema,
  // `synchronous` is a forecast (a refinement behind a failing object check may wait): the
  // hooks must then be able to wait, so the choice asks `alwaysSynchronous`.
  const withHooks = engine.alwaysSynchronous
    ? synchronous()
    : (asynchronous() as unknown as ReturnType<typeof synchronous>)
  if (nodeErrorMapping) withHooks.mapResponse({ as: 'global' }, nodeErrorMapping)
  return (
    withHooks
      // A hook after ours threw: the error response must not carry the session either. A
      // session error the app does not answer gets a generic 500 (elysia-errors.ts).
      .onError({ as: 'global' }, (context) => {
        genericByDefault(context.error)
        const o = (context as { [OPEN]?: Open })[OPEN]
        if (!o) return
        if (o.cookies) {
          o.cookies.length = 0
          const set = context.set.headers as SetHeaders
          for (const name of o.names ?? []) {
            if (set instanceof Headers) set.delete(name)
            else delete (set as Record<string, unknown>)[name]
          }
        }
        // What the handler's save() committed before it threw still reaches the client.
        const unsent = engine.unsent(o.state)
        if (unsent.headers.length > 0) addHeaders(context.set, undefined, o, unsent.headers)
      })
  )
}

export type { Session, SessionData, SessionOptions } from '../core/types.ts'
