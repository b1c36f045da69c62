// What the engine reads from a request: the session cookie (whole or in chunks) or bearer token,
// and whether the request came over plain-HTTP localhost (for `secure: 'auto'`).
import type { ResolvedOptions } from './options.ts'
import type { SessionRequest } from './types.ts'

/** Browsers keep at most 4096 bytes of a cookie's name plus value (RFC 6265 §6.1). */
export const MAX_COOKIE_BYTES = 4096

/** How many same-named cookies are tried before giving up (a duplicate may come from another path). */
export const MAX_CANDIDATES = 3

/**
 * Set by `scan`: the header holds a cookie named `<name>.…` (a chunk, perhaps). Read right
 * after the call, so one pass over the header answers both questions.
 */
let dotted = false

/**
 * Values of cookie `name` in a Cookie header, in order, unquoted; percent-decoded where needed
 * unless `raw`. Collects up to `limit` of them plus one more, so the caller can tell whether
 * any were left out. One pass; nothing is allocated for other cookies. Never throws: a value that does not decode is returned as it came.
 */
function scan(header: string, name: string, limit: number, raw: boolean): string[] {
  const found: string[] = []
  dotted = false
  let from = 0
  while (from < header.length && found.length <= limit) {
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
    if (header.charCodeAt(eq) !== 61) {
      if (header.charCodeAt(from) === 46) dotted = true
      continue
    }
    let end = header.indexOf(';', eq + 1)
    if (end === -1) end = header.length
    let value = header.slice(eq + 1, end).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
      value = value.slice(1, -1)
    if (!raw) value = percentDecoded(value)
    // An empty value is what a cleared cookie looks like: no session, not an attack.
    if (value !== '') found.push(value)
    from = end
  }
  return found
}

function percentDecoded(value: string): string {
  if (!value.includes('%')) return value
  try {
    return decodeURIComponent(value)
  } catch {
    // Left as it is: it will fail verification and count as malformed.
    return value
  }
}

/**
 * The first `MAX_CANDIDATES` values of cookie `name` in a Cookie header, in order,
 * percent-decoded where needed. Never throws.
 */
export function readCookie(header: string | null | undefined, name: string): string[] {
  if (!header) return []
  const found = scan(header, name, MAX_CANDIDATES, false)
  if (found.length > MAX_CANDIDATES) found.length = MAX_CANDIDATES
  return found
}

/** Values tried per chunk name: the browser's own, and one a sibling subdomain may plant. */
export const CHUNK_CANDIDATES = 2
/** Joined chunk sets tried per request, each a MAC check. */
export const MAX_CHUNK_SETS = 4

/**
 * Adds the chunk sets of a chunked session, `<name>.0` … `<name>.<max - 1>`, to `found`. The
 * writer cuts a value into chunks of exactly `size` characters but the last, so only sets
 * of that shape are joined, and indexes from `max` on are ignored: a planted `<name>.7`, a
 * duplicate `<name>.0` from a sibling subdomain or a stray later index leaves the browser's own
 * set readable. Up to `CHUNK_CANDIDATES` values per name are combined, longest sets first, at
 * most `MAX_CHUNK_SETS` sets in all.
 */
function readChunks(found: Found, header: string, name: string, max: number, size: number): void {
  // Values per index, as sent: joined first and decoded after (a cut may split a %XX escape).
  const parts: string[][] = []
  for (let i = 0; i < max; i++) {
    const values = scan(header, `${name}.${i}`, CHUNK_CANDIDATES, true)
    if (values.length > CHUNK_CANDIDATES) {
      values.length = CHUNK_CANDIDATES
      found.chunksComplete = false
    }
    parts.push(values)
  }
  const from = found.values.length
  let full = false
  // Every join of one value per index, the first values sent first: for n chunks, 0 … n - 2
  // full and the last 1 … size long. The work stops at the cap.
  const join = (n: number, i: number, joined: string): void => {
    if (full) return
    if (i === n) {
      full = found.values.length - from === MAX_CHUNK_SETS
      if (full) found.chunksComplete = false
      else {
        found.values.push(percentDecoded(joined))
        found.spans.push(n)
      }
      return
    }
    for (const v of parts[i]!) {
      if (i < n - 1 ? v.length === size : v.length <= size) join(n, i + 1, joined + v)
    }
  }
  // Longest first; one chunk would have fit one cookie, so it is never a set.
  const gap = parts.findIndex((values) => values.length === 0)
  for (let n = gap === -1 ? max : gap; n >= 2; n--) join(n, 0, '')
  found.broken = found.values.length === from && parts.some((values) => values.length > 0)
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
  /** Chunk cookies `<name>.0` …: how many. */
  chunks: number
  /**
   * Cookies of a library we migrate from, cleared by the next write: set on a request's record
   * by the `migrateFrom` entry that found them.
   */
  others?: readonly string[]
}

/** The session values a request carries, in the order to try them. */
export interface Found {
  values: string[]
  /** Per value: 0 for the unchunked cookie (or a bearer token), else how many chunks it joins. */
  spans: number[]
  /** Every unchunked value is in `values` (none past `MAX_CANDIDATES`). */
  unchunkedComplete: boolean
  /** Every set the chunk cookies could form is in `values` (none past the bounds). */
  chunksComplete: boolean
  /** Chunk cookies came that form no set. */
  broken: boolean
}

/**
 * Reads the session cookie(s) or bearer token from `header` (the request's Cookie header, or
 * its Authorization header for bearer tokens), as the options say; `chunkChars` is the length
 * of every chunk but the last.
 */
export function readSession(
  header: string | null | undefined,
  o: ResolvedOptions,
  chunkChars: number,
): Found {
  let values: string[] = []
  if (o.transport === 'header') values = readBearer(header)
  else if (header) values = scan(header, o.cookieName, MAX_CANDIDATES, false)
  const unchunkedComplete = values.length <= MAX_CANDIDATES
  if (!unchunkedComplete) values.length = MAX_CANDIDATES
  const found: Found = {
    values,
    spans: values.map(() => 0),
    unchunkedComplete,
    chunksComplete: true,
    broken: false,
  }
  // Chunk cookies: seen by the scan (header transport has none), or past where it stopped.
  const chunked = dotted || (!unchunkedComplete && header!.includes(`${o.cookieName}.`))
  if (header && o.maxChunks > 1 && chunked) {
    readChunks(found, header, o.cookieName, o.maxChunks, chunkChars)
  }
  return found
}

/** The engine's view of a Web-standard `Request`: one small object, no closures. */
export class WebRequestView implements SessionRequest {
  constructor(readonly request: Request) {}

  header(name: string): string | null {
    return this.request.headers.get(name)
  }

  url(): string {
    return this.request.url
  }
}

/** The engine's view of a Web-standard `Request`. */
export function requestView(request: Request): SessionRequest {
  return new WebRequestView(request)
}
