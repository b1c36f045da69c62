import { type AnyElysia, Elysia } from 'elysia'
import {
  CSRF_FORM_FIELD,
  CSRF_HEADER,
  type CsrfOptions,
  type CsrfPolicy,
  csrfPolicy,
  isFormContentType,
  verifyCsrfToken,
} from '../core/csrf.ts'
import { SessionConfigError, SessionError } from '../core/errors.ts'
import type { SessionMethods } from '../core/types.ts'
import { genericByDefault } from './elysia-errors.ts'

const forbidden = () =>
  new Response('Forbidden', {
    status: 403,
    headers: { 'content-type': 'text/plain;charset=utf-8' },
  })

const verdictOf = (policy: CsrfPolicy, request: Request) =>
  policy.check({
    method: request.method,
    url: request.url,
    origin: request.headers.get('origin'),
    secFetchSite: request.headers.get('sec-fetch-site'),
  })

// Methods a route can take that the origin check always allows (RFC 9110 §9.2.1), and
// WebSocket routes (an upgrade is a GET).
const SAFE_ROUTES = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'WS'])

/** The token check runs on routes registered after it only: earlier unsafe ones are refused. */
function assertNoRoutesBefore(app: AnyElysia): void {
  const early = app.routes
    .filter((route) => !SAFE_ROUTES.has(String(route.method).toUpperCase()))
    .map((route) => `${route.method} ${route.path}`)
  if (early.length === 0) return
  const list =
    early.length > 3
      ? `${early.slice(0, 3).join(', ')} and ${early.length - 3} more`
      : early.join(', ')
  throw new SessionConfigError([
    {
      path: 'token',
      message: `csrf({ token: true }) must be used before the routes it protects: ${list} would skip the token check; move .use(csrf(…)) above them`,
    },
  ])
}

/**
 * CSRF protection for Elysia: unsafe requests (POST, PUT, PATCH, DELETE, …) must come from the
 * same origin (`Sec-Fetch-Site` / `Origin`) or, with `token: true`, carry a valid synchronizer
 * token; anything else gets 403. The origin check covers every route of the app, whatever the
 * order; with `token: true`, use it before the routes it protects (it throws otherwise).
 *
 * @example
 * const app = new Elysia()
 *   .use(session({ secret: process.env.SESSION_SECRET }))
 *   .use(csrf({ token: true }))
 *   .post('/transfer', () => 'done')
 */
export function csrf(options?: CsrfOptions) {
  const policy = csrfPolicy(options)
  const plugin = new Elysia({ name: 'sealed-session/csrf', seed: JSON.stringify(options ?? {}) })
  // onRequest runs before routing, for every route of the app (registered before this plugin
  // or after, in a parent app too) and for unknown paths: a refused request costs nothing more.
  if (!policy.token) {
    const checked = plugin.onRequest(({ request }) => {
      if (verdictOf(policy, request) === 'deny') return forbidden()
    })
    return (app: AnyElysia) => app.use(checked) as unknown as typeof checked
  }
  // With a token, a request the origin check refuses may still pass: the token needs the parsed
  // form and the session (session()'s derive), so it is checked in beforeHandle, which Elysia
  // runs only on routes registered after it. Requests the origin check allows skip it.
  const needsToken = new WeakSet<Request>()
  const checked = plugin
    .onRequest(({ request }) => {
      if (verdictOf(policy, request) === 'deny') needsToken.add(request)
    })
    // Elysia reads this hook's source to decide what to parse: `context.body` asks for the body.
    .onBeforeHandle({ as: 'global' }, (context) => {
      if (!needsToken.has(context.request)) return
      const session = (context as { session?: SessionMethods<any> }).session
      if (!session) {
        throw new SessionError(
          'ERR_SESSION_MISSING',
          'csrf({ token: true }) needs the session() plugin before it',
        )
      }
      const headers = context.request.headers
      let token: unknown = headers.get(CSRF_HEADER) ?? undefined
      if (token === undefined && isFormContentType(headers.get('content-type'))) {
        const body = context.body as Record<string, unknown> | null | undefined
        token = typeof body === 'object' && body !== null ? body[CSRF_FORM_FIELD] : undefined
      }
      if (!verifyCsrfToken(session, token)) return forbidden()
    })
    // ERR_SESSION_MISSING on a route without session(): a generic 500 unless the app answers.
    .onError({ as: 'global' }, ({ error }) => genericByDefault(error))
  return (app: AnyElysia) => {
    assertNoRoutesBefore(app)
    return app.use(checked) as unknown as typeof checked
  }
}

export type { CsrfOptions } from '../core/csrf.ts'
export { csrfToken, verifyCsrfToken } from '../core/csrf.ts'
