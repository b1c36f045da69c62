import { type Context, Elysia } from 'elysia'
import { SessionEngine } from '../core/engine.ts'
import type { SessionState } from '../core/session.ts'
import type { DefaultSessionData, MaybePromise, Session, SessionOptions } from '../core/types.ts'

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

/** One request's session between `derive` and commit. */
interface Open {
  state: SessionState
  ctx: ElysiaSessionContext
  /** Committed already (onAfterHandle can run more than once for a request). */
  committed: boolean
  /** The Set-Cookie values committed for this response; emptied if a later hook throws. */
  cookies?: string[]
  /** The other headers committed (the bearer token header). */
  names?: string[]
  /** The response to use instead of the handler's, when ours had to go on a copy. */
  replaced?: Response | undefined
}

type SetHeaders = Context['set']['headers'] | Headers

/**
 * Puts our Set-Cookie values on `set.headers` so that they survive Elysia's cookie jar: when a
 * handler changed `cookie.x.value`, Elysia assigns the jar's serialisation to
 * `set.headers['set-cookie']` after every hook has run, replacing what was there. The
 * accessor keeps ours beside whatever is assigned.
 */
function keepSetCookie(headers: SetHeaders, ours: string[]): void {
  if (headers instanceof Headers) {
    for (const value of ours) headers.append('set-cookie', value)
    return
  }
  const list = (v: unknown): string[] =>
    v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]
  const record = headers as Record<string, unknown>
  let others = list(record['set-cookie'])
  Object.defineProperty(record, 'set-cookie', {
    configurable: true,
    enumerable: true,
    // One value stays a string: Elysia turns an array into a Headers object (one Set-Cookie
    // per value), on which its Node and Web-standard adapters then lose the content type.
    get: () => (others.length === 0 && ours.length === 1 ? ours[0] : [...others, ...ours]),
    set: (value: unknown) => {
      others = list(value)
    },
  })
}

/**
 * Adds the committed headers to `set`, from where Elysia copies them onto the response, a
 * Response the handler returned included. Answers a Response to use instead when ours must go
 * on the handler's Response itself.
 */
function addHeaders(
  c: Context['set'],
  response: unknown,
  open: Open,
  headers: Array<[string, string]>,
): Response | undefined {
  const set = c.headers as SetHeaders
  const cookies: string[] = []
  open.names = []
  for (const [name, value] of headers) {
    if (name === 'set-cookie') {
      cookies.push(value)
      continue
    }
    open.names.push(name)
    if (set instanceof Headers) set.set(name, value)
    else (set as Record<string, string>)[name] = value
  }
  open.cookies = cookies
  if (cookies.length === 0) return undefined
  // Will Set-Cookie hold values beside ours (the handler's cookie jar, or its own header)?
  const jar = c.cookie !== undefined && Object.keys(c.cookie).length > 0
  const more = jar || set instanceof Headers || set['set-cookie'] !== undefined
  if (more && response instanceof Response && response.headers.has('set-cookie')) {
    // Elysia drops set's Set-Cookie values when there are several and the handler's Response
    // sets its own: ours go on that Response (a copy when its headers are immutable).
    let out = response
    try {
      for (const value of cookies) out.headers.append('set-cookie', value)
    } catch {
      out = new Response(response.body, response)
      for (const value of cookies) out.headers.append('set-cookie', value)
    }
    open.cookies = []
    return out
  }
  // Several Set-Cookie values make Elysia's Node and Web-standard adapters drop the JSON
  // content type of an object body; state it up front.
  const proto =
    typeof response === 'object' && response !== null ? Object.getPrototypeOf(response) : 0
  const json = Array.isArray(response) || proto === Object.prototype || proto === null
  if (more && json && !(set instanceof Headers) && !set['content-type']) {
    set['content-type'] = 'application/json'
  }
  keepSetCookie(set, cookies)
  return undefined
}

// Dedup identity for objects and functions in the options (a Map store, onInvalid, now()).
const identities = new WeakMap<object, number>()
let lastIdentity = 0

/** FNV-1a: the seed must tell secrets apart without carrying them into Elysia's plugin list. */
function fingerprint(text: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return (h >>> 0).toString(36)
}

/**
 * Elysia skips a named plugin whose name and seed it has seen: equal options give an equal
 * seed, while distinct stores, encoders and callbacks (same JSON, different object) do not.
 */
function seedOf(options: SessionOptions<any> | undefined): string {
  return JSON.stringify(options ?? {}, function (key, value: unknown) {
    if (key === 'secret' && this === options) return `secret:${fingerprint(JSON.stringify(value))}`
    const proto =
      typeof value === 'object' && value !== null ? Object.getPrototypeOf(value) : undefined
    const plain = proto === Object.prototype || proto === null || Array.isArray(value)
    if (typeof value === 'function' || (proto !== undefined && !plain)) {
      const object = value as object
      let id = identities.get(object)
      if (id === undefined) {
        id = ++lastIdentity
        identities.set(object, id)
      }
      return `#${id}`
    }
    return value
  })
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
export function session<Data extends object = DefaultSessionData>(
  options?: SessionOptions<ElysiaSessionContext>,
) {
  const engine = new SessionEngine(options)
  type Derived = { session: Session<Data> }
  const bearer = engine.options.transport === 'header'
  // Where a request's Open lives: on Elysia's context itself (derive's result is assigned onto
  // it), not in a WeakMap keyed by the Request, which costs two lookups a request. One symbol
  // per plugin: an app may use two sessions (two cookie names).
  const OPEN = Symbol('sealed-session.open')
  const load = (request: Request, ctx: ElysiaSessionContext): MaybePromise<SessionState> => {
    const h = request.headers
    return engine.load(
      bearer ? undefined : h.get('cookie'),
      ctx,
      () => request.url,
      bearer ? h.get('authorization') : undefined,
    )
  }
  // Typed without the OPEN key: Elysia puts the derive's type on every handler's context.
  const open = (state: SessionState, ctx: ElysiaSessionContext) =>
    ({ session: state.session, [OPEN]: { state, ctx, committed: false } }) as unknown as Derived
  const finish = (
    set: Context['set'],
    response: unknown,
    o: Open,
    headers: Array<[string, string]>,
  ): Response | undefined => {
    o.committed = true
    if (headers.length === 0) return undefined
    return addHeaders(set, response, o, headers)
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
        const { request } = context
        const ctx: ElysiaSessionContext = {
          request,
          set: context.set,
          path: context.path,
        }
        const state = load(request, ctx) as SessionState
        return {
          session: state.session,
          [OPEN]: { state, ctx, committed: false },
        } as unknown as Derived
      })
      // Not reached when the handler or a guard throws: a failed request commits nothing.
      .onAfterHandle({ as: 'global' }, (context) => {
        const o = (context as { [OPEN]?: Open })[OPEN]
        if (!o || o.committed) return
        const headers = engine.commitHeaders(o.state, o.ctx) as Array<[string, string]>
        // Through a property: a transpiler would fold a local into `return finish(…)`.
        o.replaced = finish(context.set, context.responseValue, o, headers)
        return o.replaced
      })
  const asynchronous = () =>
    plugin
      .derive({ as: 'global' }, async (context) => {
        const { request } = context
        const ctx: ElysiaSessionContext = {
          request,
          set: context.set,
          path: context.path,
        }
        return open(await load(request, ctx), ctx)
      })
      .onAfterHandle({ as: 'global' }, async (context) => {
        const o = (context as { [OPEN]?: Open })[OPEN]
        if (!o || o.committed) return
        const headers = await engine.commitHeaders(o.state, o.ctx)
        return finish(context.set, context.responseValue, o, headers)
      })
  // Both add the same `session`; only whether Elysia awaits the hooks differs.
  const withHooks = engine.synchronous
    ? synchronous()
    : (asynchronous() as unknown as ReturnType<typeof synchronous>)
  return (
    withHooks
      // A hook after ours threw: the error response must not carry the session either.
      .onError({ as: 'global' }, (context) => {
        const o = (context as { [OPEN]?: Open })[OPEN]
        if (!o?.cookies) return
        o.cookies.length = 0
        const set = context.set.headers as SetHeaders
        for (const name of o.names ?? []) {
          if (set instanceof Headers) set.delete(name)
          else delete (set as Record<string, unknown>)[name]
        }
      })
  )
}

export type { Session, SessionData, SessionOptions } from '../core/types.ts'
