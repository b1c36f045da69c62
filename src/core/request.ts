// What the engine reads from a request: the session cookie (whole or in chunks) or bearer token,
// and whether the request came over plain-HTTP localhost (for `secure: 'auto'`).
import type { ResolvedOptions } from './options.ts'
import type { SessionRequest } from './types.ts'

/** Browsers keep at most 4096 bytes of a cookie's name plus value (RFC 6265 §6.1). */
export const MAX_COOKIE_BYTES = 4096

/** How many same-named cookies are tried before giving up (a duplicate may come from another path). */
const MAX_CANDIDATES = 3

/**
 * Every value of cookie `name` in a Cookie header, in order, percent-decoded where needed.
 * Never throws: a value that does not decode is returned as it came.
 */
export function readCookie(header: string | null | undefined, name: string): string[] {
  if (!header) return []
  const found: string[] = []
  let from = 0
  while (from < header.length && found.length < MAX_CANDIDATES) {
    const at = header.indexOf(name, from)
    if (at === -1) break
    from = at + name.length
    // The match must be a whole name: at the start or after ';' plus optional spaces, then '='.
    let before = at - 1
    while (before >= 0 && (header.charCodeAt(before) === 32 || header.charCodeAt(before) === 9))
      before--
    if (before >= 0 && header.charCodeAt(before) !== 59) continue
    let eq = from
    while (eq < header.length && header.charCodeAt(eq) === 32) eq++
    if (header.charCodeAt(eq) !== 61) continue
    let end = header.indexOf(';', eq + 1)
    if (end === -1) end = header.length
    let value = header.slice(eq + 1, end).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
      value = value.slice(1, -1)
    if (value.includes('%')) {
      try {
        value = decodeURIComponent(value)
      } catch {
        // Left as it is: it will fail verification and count as malformed.
      }
    }
    // An empty value is what a cleared cookie looks like: no session, not an attack.
    if (value !== '') found.push(value)
    from = end
  }
  return found
}

/** Chunk cookies of a session: `<name>.0`, `<name>.1`, … (at most 10). */
export interface Chunks {
  /** The chunks joined, when `<name>.0` up to the last present one are all there. */
  value: string | undefined
  /** How many chunk names the header carries (highest index + 1): what to clear. */
  seen: number
  /** Chunks that do not join into one value: a gap, more than `max`, or only later ones. */
  broken: boolean
}

/** Most chunk cookies any configuration writes (`<name>.0` … `<name>.9`). */
export const MAX_CHUNKS = 10

/** Reads the chunk cookies `<name>.0` … of a chunked session, up to `max` of them. */
export function readChunks(header: string | null | undefined, name: string, max: number): Chunks {
  const none: Chunks = { value: undefined, seen: 0, broken: false }
  if (!header?.includes(`${name}.`)) return none
  const parts: (string | undefined)[] = []
  let seen = 0
  for (let i = 0; i < MAX_CHUNKS; i++) {
    const value = readCookie(header, `${name}.${i}`)[0]
    parts.push(value)
    if (value !== undefined) seen = i + 1
  }
  if (seen === 0) return none
  const present = parts.slice(0, seen)
  if (seen > max || present.some((p) => p === undefined))
    return { value: undefined, seen, broken: true }
  return { value: present.join(''), seen, broken: false }
}

/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), as a one-element
 * list like `readCookie`'s, or an empty list.
 */
export function readBearer(header: string | null | undefined): string[] {
  if (!header || header.length < 8 || header.slice(0, 7).toLowerCase() !== 'bearer ') return []
  const token = header.slice(7).trim()
  return token === '' ? [] : [token]
}

// Plain HTTP to localhost, 127.0.0.1, [::1] or *.localhost, with any port.
const LOCAL_HTTP =
  /^http:\/\/(?:localhost|127\.0\.0\.1|\[::1\]|[^/?#:[\]]+\.localhost)(?::\d*)?(?:[/?#]|$)/i

/** True for plain-HTTP requests to this machine, where browsers may refuse `Secure` cookies. */
export function isLocalHttp(url: string | undefined): boolean {
  return url !== undefined && LOCAL_HTTP.test(url)
}

/** Which of our cookies a request carried, or the last commit wrote. */
export interface CarriedCookies {
  /** The unchunked `<name>` cookie (or, with header transport, a bearer token). */
  unchunked: boolean
  /** Chunk cookies `<name>.0` …: the highest index present plus one. */
  chunks: number
  /**
   * Cookies of a library we migrate from, cleared by the next write: set on a request's record
   * by the `migrateFrom` entry that found them.
   */
  others?: readonly string[]
}

/** The session values a request carries, in the order to try them, and which cookies came. */
export interface Found extends CarriedCookies {
  values: string[]
  /** Chunk cookies that do not join into one value. */
  broken: boolean
}

/** Reads the session cookie(s) or bearer token of `request`, as the options say. */
export function readSession(request: SessionRequest, o: ResolvedOptions): Found {
  if (o.transport === 'header') {
    const values = readBearer(request.header('authorization'))
    return { values, unchunked: values.length > 0, chunks: 0, broken: false }
  }
  const header = request.header('cookie')
  const values = readCookie(header, o.cookieName)
  const found: Found = { values, unchunked: values.length > 0, chunks: 0, broken: false }
  if (o.maxChunks === 1) return found
  const chunks = readChunks(header, o.cookieName, o.maxChunks)
  found.chunks = chunks.seen
  found.broken = chunks.broken
  if (chunks.value !== undefined) values.push(chunks.value)
  return found
}

/** The engine's view of a Web-standard `Request`: one small object, no closures. */
class WebRequestView implements SessionRequest {
  readonly #request: Request

  constructor(request: Request) {
    this.#request = request
  }

  header(name: string): string | null {
    return this.#request.headers.get(name)
  }

  url(): string {
    return this.#request.url
  }
}

/** The engine's view of a Web-standard `Request`. */
export function requestView(request: Request): SessionRequest {
  return new WebRequestView(request)
}
