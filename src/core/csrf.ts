import { fromBase64Url, randomBytes, toBase64Url } from '../crypto/random.ts'
import { SessionConfigError, type SessionConfigIssue } from './errors.ts'
import { CSRF_SESSION_KEY } from './record.ts'
import type { SessionMethods } from './types.ts'
import { boolean, each, is, object } from './validate.ts'

export { CSRF_SESSION_KEY } from './record.ts'
/** Form field `csrf()` reads a token from. */
export const CSRF_FORM_FIELD = '_csrf'
/** Request header `csrf()` reads a token from. */
export const CSRF_HEADER = 'x-csrf-token'

// RFC 9110 §9.2.1: GET, HEAD, OPTIONS and TRACE are safe; everything else may change state.
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])
const SECRET_BYTES = 24

/**
 * Options of the `csrf()` middleware.
 *
 * @example
 * csrf({ origins: ['https://admin.example.com'], token: true })
 */
export interface CsrfOptions {
  /**
   * Origins besides the request's own whose unsafe requests are allowed, such as
   * `https://admin.example.com` (scheme, host and port; no path).
   *
   * @default []
   */
  origins?: readonly string[]
  /**
   * Allow unsafe requests that carry neither `Origin` nor `Sec-Fetch-Site`: every current browser
   * sends one of them, so such requests come from non-browser clients (curl, servers).
   *
   * @default false
   */
  allowMissingOrigin?: boolean
  /**
   * Accept a valid synchronizer token (`_csrf` form field or `x-csrf-token` header, made by
   * `csrfToken(session)`) when the origin check fails. Needs `session()` before `csrf()`.
   *
   * @default false
   */
  token?: boolean
}

/** What the framework-free check needs from a request. */
export interface CsrfRequest {
  method: string
  /** The full request URL; its origin is the request's own origin. */
  url: string
  origin: string | null | undefined
  secFetchSite: string | null | undefined
}

/** The outcome of the origin check: `allow`, or `deny` (a token may still allow it). */
export type CsrfVerdict = 'allow' | 'deny'

/** Validated options, built once per middleware. */
export interface CsrfPolicy {
  /** Allows or denies a request on its method and origin headers alone. */
  check(request: CsrfRequest): CsrfVerdict
  /** Whether a synchronizer token may stand in for a failed origin check. */
  readonly token: boolean
}

/** The serialised origin of `value`, or undefined when it is not a bare http(s) origin. */
function parseOrigin(value: string): string | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return undefined
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '') {
    return undefined
  }
  return url.origin
}

const checkCsrfOptions = object<CsrfOptions>({
  origins: each(
    is(
      (v): v is string => typeof v === 'string' && parseOrigin(v) !== undefined,
      'must be an http(s) origin such as https://example.com (no path)',
    ),
  ),
  allowMissingOrigin: boolean,
  token: boolean,
})

/**
 * Validates `csrf()` options and returns the policy; throws one `SessionConfigError` naming
 * every bad field.
 *
 * @example
 * const policy = csrfPolicy({ origins: ['https://admin.example.com'] })
 * policy.check({ method: 'POST', url, origin: req.headers.get('origin'), secFetchSite: null })
 */
export function csrfPolicy(options: CsrfOptions = {}): CsrfPolicy {
  const issues: SessionConfigIssue[] = []
  if (!checkCsrfOptions(options, '', issues)) throw new SessionConfigError(issues)
  // Every origin parsed above; the set holds their serialised forms, as browsers send them.
  const allowed = new Set((options.origins ?? []).map((o) => parseOrigin(o)!))
  const allowMissing = options.allowMissingOrigin ?? false
  return {
    token: options.token ?? false,
    check({ method, url, origin, secFetchSite }) {
      if (SAFE_METHODS.has(method.toUpperCase())) return 'allow'
      // Fetch Metadata (https://w3c.github.io/webappsec-fetch-metadata/): the browser says who
      // initiated the request; 'none' is the user (address bar, bookmark).
      if (secFetchSite === 'same-origin' || secFetchSite === 'none') return 'allow'
      if (origin) {
        // Browsers serialise Origin themselves (RFC 6454 §7); 'null' (sandboxed, privacy) never matches.
        if (allowed.has(origin)) return 'allow'
        let own: string | undefined
        try {
          own = new URL(url).origin
        } catch {
          own = undefined
        }
        return origin === own ? 'allow' : 'deny'
      }
      return secFetchSite ? 'deny' : allowMissing ? 'allow' : 'deny'
    },
  }
}

/** The session's token secret, or undefined when it has none (or not one we made). */
function secretOf(session: SessionMethods<any>): Uint8Array | undefined {
  const stored = (session as unknown as Record<string, unknown>)[CSRF_SESSION_KEY]
  if (typeof stored !== 'string') return undefined
  const bytes = fromBase64Url(stored)
  return bytes?.length === SECRET_BYTES ? bytes : undefined
}

/**
 * A synchronizer token for an HTML form, bound to `session`: its random secret is stored in the
 * session under `_csrf` on first use, and each call returns a freshly masked token, so the page
 * never repeats a byte string that compression side channels (BREACH) could recover.
 *
 * @example
 * app.get('/form', (c) => c.html(`<input type="hidden" name="_csrf" value="${csrfToken(c.session)}">`))
 */
export function csrfToken(session: SessionMethods<any>): string {
  let secret = secretOf(session)
  if (!secret) {
    secret = randomBytes(SECRET_BYTES)
    ;(session as unknown as Record<string, unknown>)[CSRF_SESSION_KEY] = toBase64Url(secret)
  }
  const pad = randomBytes(SECRET_BYTES)
  const token = new Uint8Array(SECRET_BYTES * 2)
  token.set(pad)
  for (let i = 0; i < SECRET_BYTES; i++) token[SECRET_BYTES + i] = pad[i]! ^ secret[i]!
  return toBase64Url(token)
}

/**
 * True when `token` was made by `csrfToken()` for this session; compares in constant time and
 * never creates a secret.
 *
 * @example
 * if (!verifyCsrfToken(c.session, form._csrf)) return c.text('Forbidden', 403)
 */
export function verifyCsrfToken(session: SessionMethods<any>, token: unknown): boolean {
  const secret = secretOf(session)
  if (!secret || typeof token !== 'string') return false
  const bytes = fromBase64Url(token)
  if (!bytes || bytes.length !== SECRET_BYTES * 2) return false
  let diff = 0
  for (let i = 0; i < SECRET_BYTES; i++) {
    diff |= bytes[i]! ^ bytes[SECRET_BYTES + i]! ^ secret[i]!
  }
  return diff === 0
}

/** True for bodies a browser form sends, the only ones `csrf()` reads a `_csrf` field from. */
export function isFormContentType(contentType: string | null | undefined): boolean {
  const type = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase()
  return type === 'application/x-www-form-urlencoded' || type === 'multipart/form-data'
}
