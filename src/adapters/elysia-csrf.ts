import { Elysia } from 'elysia'
import {
  CSRF_FORM_FIELD,
  CSRF_HEADER,
  type CsrfOptions,
  type CsrfPolicy,
  csrfPolicy,
  isFormContentType,
  verifyCsrfToken,
} from '../core/csrf.ts'
import { SessionError } from '../core/errors.ts'
import type { SessionMethods } from '../core/types.ts'

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

/**
 * CSRF protection for Elysia: unsafe requests (POST, PUT, PATCH, DELETE, …) must come from the
 * same origin (`Sec-Fetch-Site` / `Origin`) or, with `token: true`, carry a valid synchronizer
 * token; anything else gets 403.
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
  if (!policy.token) {
    // Before routing and body parsing: a refused request costs nothing more.
    return plugin.onRequest(({ request }) => {
      if (verdictOf(policy, request) === 'deny') return forbidden()
    })
  }
  // After parsing (the form field) and after session()'s derive (the session). Elysia reads
  // this hook's source to decide what to parse: `context.body` asks for the body.
  return plugin.onBeforeHandle({ as: 'global' }, (context) => {
    if (verdictOf(policy, context.request) === 'allow') return
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
}

export type { CsrfOptions } from '../core/csrf.ts'
export { csrfToken, verifyCsrfToken } from '../core/csrf.ts'
