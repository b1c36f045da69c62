import type { MiddlewareHandler } from 'hono'
import {
  CSRF_FORM_FIELD,
  CSRF_HEADER,
  type CsrfOptions,
  csrfPolicy,
  isFormContentType,
  verifyCsrfToken,
} from '../core/csrf.ts'
import { SessionError } from '../core/errors.ts'
import type { SessionMethods } from '../core/types.ts'

/**
 * CSRF protection for Hono: unsafe requests (POST, PUT, PATCH, DELETE, …) must come from the
 * same origin (`Sec-Fetch-Site` / `Origin`) or, with `token: true`, carry a valid synchronizer
 * token; anything else gets 403.
 *
 * @example
 * const app = new Hono()
 *   .use(session({ secret: process.env.SESSION_SECRET }))
 *   .use(csrf({ token: true }))
 *   .post('/transfer', (c) => c.text('done'))
 */
export function csrf(options?: CsrfOptions): MiddlewareHandler {
  const policy = csrfPolicy(options)
  return async function csrfMiddleware(c, next) {
    const verdict = policy.check({
      method: c.req.method,
      url: c.req.url,
      origin: c.req.header('origin'),
      secFetchSite: c.req.header('sec-fetch-site'),
    })
    if (verdict === 'allow' || (policy.token && (await hasValidToken(c)))) return next()
    return c.text('Forbidden', 403)
  }
}

async function hasValidToken(c: Parameters<MiddlewareHandler>[0]): Promise<boolean> {
  const session = c.get('session') as SessionMethods<any> | null | undefined
  if (!session) {
    throw new SessionError(
      'ERR_SESSION_MISSING',
      'csrf({ token: true }) needs session() middleware before it',
    )
  }
  let token: unknown = c.req.header(CSRF_HEADER)
  if (token === undefined && isFormContentType(c.req.header('content-type'))) {
    // Hono caches the parsed body, so the handler can still read it.
    try {
      token = (await c.req.parseBody())[CSRF_FORM_FIELD]
    } catch {
      return false
    }
  }
  return verifyCsrfToken(session, token)
}

export type { CsrfOptions } from '../core/csrf.ts'
export { csrfToken, verifyCsrfToken } from '../core/csrf.ts'
