import type { SessionRequest, SessionStore } from '../src/core/types.ts'

// Shared test helpers: a cookie jar that replays Set-Cookie like a browser, a clock, secrets.

/** A request view for engine-level tests: a Cookie header (and others) over `url`. */
export function requestOf(
  cookie?: string,
  url = 'https://example.com/',
  headers: Record<string, string> = {},
): SessionRequest {
  return {
    header: (name) => (name === 'cookie' ? cookie : headers[name]),
    url: () => url,
  }
}

/** A secret long enough for every option check. */
export const SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz'
export const OLD_SECRET = 'old-secret-0123456789-abcdefghijklmnopqrstuvwxyz'

/** Anything with Hono's `request(path, init)`. */
export interface Requestable {
  request(input: string, init?: RequestInit): Response | Promise<Response>
}

/** One parsed Set-Cookie header. */
export interface ParsedCookie {
  name: string
  value: string
  /** Attribute names lower-cased; valueless attributes map to ''. */
  attributes: Record<string, string>
  raw: string
}

export function parseSetCookie(raw: string): ParsedCookie {
  const [pair = '', ...attrs] = raw.split(';')
  const eq = pair.indexOf('=')
  const attributes: Record<string, string> = {}
  for (const a of attrs) {
    const i = a.indexOf('=')
    const key = (i === -1 ? a : a.slice(0, i)).trim().toLowerCase()
    attributes[key] = i === -1 ? '' : a.slice(i + 1).trim()
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes, raw }
}

/** Every Set-Cookie of a response, parsed. */
export function setCookies(res: Response): ParsedCookie[] {
  return res.headers.getSetCookie().map(parseSetCookie)
}

/** A browser-like cookie jar for one client: sends what it holds, keeps what it is sent. */
export class Jar {
  readonly cookies = new Map<string, string>()

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  /** Stores the response's cookies; Max-Age=0 deletes. */
  take(res: Response): ParsedCookie[] {
    const parsed = setCookies(res)
    for (const c of parsed) {
      if (c.attributes['max-age'] === '0' || c.value === '') this.cookies.delete(c.name)
      else this.cookies.set(c.name, c.value)
    }
    return parsed
  }

  async request(app: Requestable, path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    if (this.cookies.size > 0 && !headers.has('cookie')) headers.set('cookie', this.header())
    const url = path.startsWith('http') ? path : `http://localhost${path}`
    const res = await app.request(url, { ...init, headers })
    this.take(res)
    return res
  }
}

/** A clock tests move by hand (epoch milliseconds). */
export function testClock(start = Date.UTC(2026, 0, 1)) {
  let t = start
  return {
    now: () => t,
    /** Moves the clock forward by `seconds`. */
    advance(seconds: number) {
      t += seconds * 1000
    },
  }
}

/**
 * A Map store that logs every write by name and id (`set <id>`, `delete <id>`, and with
 * `patch: true` a `patch` that never brings back an entry another request removed).
 */
export function loggingStore(options: { patch?: boolean } = {}) {
  const map = new Map<string, any>()
  const calls: string[] = []
  const store: SessionStore = {
    get: (id) => map.get(id),
    set: (id, record) => {
      calls.push(`set ${id}`)
      map.set(id, record)
    },
    delete: (id) => {
      calls.push(`delete ${id}`)
      map.delete(id)
    },
  }
  if (options.patch) {
    store.patch = (id, record) => {
      calls.push(`patch ${id}`)
      if (map.has(id)) map.set(id, record)
    }
  }
  return { store, calls, map }
}

/**
 * A sealed payload (as iron-webcrypto unseals it) in the keys of versions 1 and 2
 * (`{ d, c, e, i?, s?, p, f? }`), so a test reads what a cookie holds whatever its version.
 * Version 3 is an array, decoded here from its documented layout (src/core/record.ts), not by
 * the library: `[data, created - 2026-01-01, expires - created, sid or 0, idle - created or 0,
 * purpose or 0 (then 'sid'), flash]`, trailing empty places left out.
 */
export function payloadOf(raw: unknown): Record<string, any> {
  if (!Array.isArray(raw)) return raw as Record<string, any>
  const [d, created, expires, s, idle, p, f] = raw
  const c = created + Date.UTC(2026, 0, 1)
  const out: Record<string, any> = { d, c, e: c + expires, p: p || 'sid' }
  if (s) out.s = s
  if (idle) out.i = c + idle
  if (f !== undefined) out.f = f
  return out
}
