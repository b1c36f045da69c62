// What the engine sends back: Set-Cookie values (one cookie, or chunks, and clears for the
// ones the client holds but this response does not write) or the bearer token header, as
// strings ready to append and as fields for frameworks with a cookie API.
import { SessionTooLargeError } from './errors.ts'
import type { ResolvedCookie, ResolvedOptions } from './options.ts'
import { type CarriedCookies, MAX_COOKIE_BYTES } from './request.ts'
import type { SessionCommit, SessionCookie } from './types.ts'

/** What a commit sends: nothing, a clear, or a new value living `maxAge` seconds from `now`. */
export type Outcome = undefined | 'clear' | { value: string; maxAge: number; now: number }

/** A built response part and which cookies the client holds after it. */
export interface Built {
  headers: SessionCommit['headers']
  /** The cookies set or cleared, one per Set-Cookie header (none for the token header). */
  parts: readonly Part[]
  secure: boolean
  carried: CarriedCookies
}

/** No headers, no cookies: what a commit that writes nothing answers. */
export const NO_HEADERS: SessionCommit['headers'] = Object.freeze([])
export const NO_COOKIES: SessionCommit['cookies'] = Object.freeze([])

/** The attribute part of Set-Cookie (everything after name=value) for one request. */
export function cookieAttributes(cookie: ResolvedCookie, secure: boolean): string {
  let attrs = `; Path=${cookie.path}`
  if (cookie.domain) attrs += `; Domain=${cookie.domain}`
  if (cookie.httpOnly) attrs += '; HttpOnly'
  if (secure) attrs += '; Secure'
  attrs += `; SameSite=${cookie.sameSite}`
  if (cookie.partitioned) attrs += '; Partitioned'
  return attrs
}

let expiresSecond = Number.NaN
let expiresText = ''

/** `name=value` living `maxAge` seconds from `now` (epoch ms), with attributes. */
export function serializeCookie(
  name: string,
  value: string,
  maxAge: number,
  attrs: string,
  now: number,
): string {
  // Expires too, for the few clients that ignore Max-Age. It has a resolution of one second:
  // requests within the same second share the string.
  const second = Math.floor(now / 1000) + maxAge
  if (second !== expiresSecond) {
    expiresSecond = second
    expiresText = new Date(second * 1000).toUTCString()
  }
  return `${name}=${value}; Max-Age=${maxAge}; Expires=${expiresText}${attrs}`
}

/** A Set-Cookie value that deletes cookie `name` (same Path and Domain, already expired). */
export function clearCookie(name: string, attrs: string): string {
  return `${name}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT${attrs}`
}

/** Builds the response part of each commit of one engine; attribute strings are made once. */
export class Responder {
  readonly #o: ResolvedOptions
  // Set-Cookie attributes are fixed per engine but for Secure, which depends on the request.
  readonly #attrs: { secure: string; insecure: string }
  /** Characters of value one chunk cookie holds (`<name>.<digit>=` takes the rest of 4096). */
  readonly chunkChars: number
  /** The longest value a request may bring: anything longer is refused before any crypto. */
  readonly maxAccepted: number
  /** `__Host-` and `__Secure-` cookies are ignored by browsers without Secure, even on localhost. */
  readonly #prefixed: boolean

  constructor(o: ResolvedOptions) {
    this.#o = o
    const lower = o.cookieName.toLowerCase()
    this.#prefixed = lower.startsWith('__host-') || lower.startsWith('__secure-')
    this.#attrs = {
      secure: cookieAttributes(o.cookie, true),
      insecure: cookieAttributes(o.cookie, this.#prefixed),
    }
    this.chunkChars = MAX_COOKIE_BYTES - (o.cookieName.length + 3)
    this.maxAccepted = o.maxChunks === 1 ? MAX_COOKIE_BYTES : o.maxChunks * this.chunkChars
  }

  /** Throws `SessionTooLargeError` when `value` fits in no cookie (or no allowed chunks). */
  checkSize(value: string): void {
    const o = this.#o
    const size = o.cookieName.length + 1 + value.length
    if (size <= MAX_COOKIE_BYTES || o.transport === 'header') return
    if (o.maxChunks === 1) throw new SessionTooLargeError(size, MAX_COOKIE_BYTES)
    const chunks = Math.ceil(value.length / this.chunkChars)
    if (chunks > o.maxChunks) {
      const total = value.length + chunks * (o.cookieName.length + 3)
      throw new SessionTooLargeError(total, o.maxChunks * MAX_COOKIE_BYTES, o.maxChunks)
    }
  }

  /** The headers (and cookies) for `outcome`, given what the client holds and Secure. */
  build(outcome: Outcome, state: { carried: CarriedCookies; secure: boolean }): Built {
    const { carried } = state
    if (outcome === undefined) return { headers: NO_HEADERS, parts: [], secure: false, carried }
    const o = this.#o
    if (o.transport === 'header') {
      const token = outcome === 'clear' ? '' : outcome.value
      return {
        headers: [[o.tokenHeader, token]],
        parts: [],
        secure: false,
        carried: { unchunked: token !== '', chunks: 0 },
      }
    }
    const secure = this.#prefixed || state.secure
    const attrs = secure ? this.#attrs.secure : this.#attrs.insecure
    // Name, value, Max-Age and time of each cookie; their fields are made only when asked for.
    const parts: Part[] = []
    const name = o.cookieName
    let unchunked = false
    let chunks = 0
    if (outcome !== 'clear') {
      const { value, maxAge, now } = outcome
      if (o.maxChunks === 1 || name.length + 1 + value.length <= MAX_COOKIE_BYTES) {
        unchunked = true
        parts.push([name, value, maxAge, now])
      } else {
        for (let at = 0; at < value.length; at += this.chunkChars, chunks++) {
          parts.push([`${name}.${chunks}`, value.slice(at, at + this.chunkChars), maxAge, now])
        }
      }
    }
    // Only what the request proved ours is cleared (see CarriedCookies).
    if (!unchunked && carried.unchunked) parts.push([name, '', 0, 0])
    for (let i = chunks; i < carried.chunks; i++) parts.push([`${name}.${i}`, '', 0, 0])
    for (const other of carried.others ?? []) parts.push([other, '', 0, 0])
    const headers = parts.map(([n, v, maxAge, now]): [string, string] => [
      'set-cookie',
      maxAge === 0 ? clearCookie(n, attrs) : serializeCookie(n, v, maxAge, attrs, now),
    ])
    return { headers, parts, secure, carried: { unchunked, chunks } }
  }
}

/** One cookie to set or clear: name, value, Max-Age (0 clears), time of the write. */
type Part = [name: string, value: string, maxAge: number, now: number]

/**
 * What `commit()` answers: headers and token at once, the cookies as fields made on first
 * read (only frameworks with a cookie API, Next, read them; the others append the headers).
 */
export class CommitResult implements SessionCommit {
  readonly headers: SessionCommit['headers']
  readonly token: string | null
  readonly #built: Built
  readonly #cookie: ResolvedCookie
  #cookies: SessionCookie[] | undefined

  constructor(built: Built, token: string | null, cookie: ResolvedCookie) {
    this.headers = built.headers
    this.token = token
    this.#built = built
    this.#cookie = cookie
  }

  get cookies(): readonly SessionCookie[] {
    const c = this.#cookie
    const { parts, headers, secure } = this.#built
    this.#cookies ??= parts.map(([name, value, maxAge, now], i) => {
      const cookie: SessionCookie = {
        name,
        value,
        maxAge,
        expires: maxAge === 0 ? 0 : (Math.floor(now / 1000) + maxAge) * 1000,
        path: c.path,
        httpOnly: c.httpOnly,
        secure,
        sameSite: c.sameSite,
        partitioned: c.partitioned,
        header: headers[i]![1],
      }
      if (c.domain) cookie.domain = c.domain
      return cookie
    })
    return this.#cookies
  }
}

/** What a header replaces in a later commit: a cookie by its name, the token header by its own. */
const slotOf = ([name, value]: readonly [string, string]) =>
  name === 'set-cookie' ? `cookie:${value.slice(0, value.indexOf('='))}` : name

/**
 * One response's part for two commits of a session, `earlier` then `later`: a cookie (or the
 * token header) the later one writes replaces the earlier one's; the rest of the earlier one
 * stays (a chunk it cleared, say), so the response carries the session as the later commit left it.
 */
export function mergeCommits(earlier: SessionCommit, later: SessionCommit): SessionCommit {
  if (earlier.headers.length === 0) return later
  if (later.headers.length === 0) {
    return {
      headers: earlier.headers,
      get cookies() {
        return earlier.cookies
      },
      token: later.token,
    }
  }
  const replaced = new Set(later.headers.map(slotOf))
  const kept: number[] = []
  earlier.headers.forEach((header, i) => {
    if (!replaced.has(slotOf(header))) kept.push(i)
  })
  return {
    headers: [...kept.map((i) => earlier.headers[i]!), ...later.headers],
    get cookies() {
      const names = new Set(later.cookies.map((cookie) => cookie.name))
      return [...earlier.cookies.filter((cookie) => !names.has(cookie.name)), ...later.cookies]
    },
    token: later.token,
  }
}
