import { cookies, headers } from 'next/headers.js'
import { type NextRequest, NextResponse } from 'next/server.js'
import { SessionEngine } from '../core/engine.ts'
import { SessionConfigError, SessionError } from '../core/errors.ts'
import type { SessionState } from '../core/session.ts'
import type { DefaultSessionData, SessionOptions } from '../core/types.ts'

// Next has no "exports" map: the `.js` specifiers above resolve under plain Node ESM and bundlers.

type CookieJar = Awaited<ReturnType<typeof cookies>>
type HeaderList = Awaited<ReturnType<typeof headers>>

/**
 * What stores and `onInvalid` receive as the framework context in the Next adapter: the
 * request's cookies and headers (from `next/headers`, or the proxy's request).
 *
 * @example
 * nextSession({ secret, onInvalid: (reason, ctx) => log(reason, ctx.headers.get('user-agent')) })
 */
export interface NextSessionContext {
  cookies: Pick<CookieJar, 'get' | 'getAll'>
  headers: Pick<HeaderList, 'get'>
}

/**
 * Options of `nextSession()`: the core `SessionOptions` (cookie transport only; for bearer
 * tokens use `sealed-session/fetch` in Route Handlers).
 *
 * @example
 * nextSession<{ userId?: string }>({ secret: process.env.SESSION_SECRET, maxAge: 7 * 86400 })
 */
export type NextSessionOptions = SessionOptions<NextSessionContext>

/**
 * Methods of the Next session handle. Every method that changes the session writes the cookie
 * at once through `cookies().set()`, so it only works where Next lets code set cookies (Route
 * Handlers, Server Actions); await it before `redirect()`.
 *
 * @example
 * const s = await session()
 * await s.set('theme', 'dark') // written now
 */
export interface NextSessionMethods<Data> {
  /** The session id (store key in store mode, an internal id in sealed mode). */
  readonly id: string
  /** True when this request arrived without a valid session. */
  readonly isNew: boolean
  /** True when the session differs from what the request brought (written or not). */
  readonly hasChanged: boolean
  /** When the session ends if nothing renews it. */
  readonly expiresAt: Date
  /** When the session was first created. */
  readonly createdAt: Date
  /** The value of `key`, like `session[key]` (next-app-session's `get`). */
  get<K extends keyof Data & string>(key: K): Data[K] | undefined
  /** A plain copy of all session data (next-app-session's `all`). */
  all(): Data
  /** Sets `key` and writes the cookie. */
  set<K extends keyof Data & string>(key: K, value: Data[K]): Promise<void>
  /** Replaces all session data with `values` and writes the cookie. */
  setAll(values: Data): Promise<void>
  /** Sets `key` for the next request only and writes the cookie. */
  flash<K extends keyof Data & string>(key: K, value: Data[K]): Promise<void>
  /** Keeps the flash values this request brought for one more request; writes the cookie. */
  reflash(): Promise<void>
  /** Gives the session a new id, keeping its data (call it on login); writes the cookie. */
  regenerate(): Promise<void>
  /**
   * Restarts the absolute lifetime and writes the cookie.
   *
   * @param maxAge lifetime in seconds; defaults to the `maxAge` option
   */
  renew(maxAge?: number): Promise<void>
  /** Ends the session: deletes its store entry and clears the cookie. */
  destroy(): Promise<void>
  /**
   * Writes what changed since the last write: properties assigned directly
   * (`session.count = 1`), flash values this request consumed, a rolling refresh or a re-seal
   * with a newer key. Writes nothing when there is nothing to write.
   */
  save(): Promise<void>
  /** A plain copy of the session data. */
  toJSON(): Data
}

/**
 * A Next session handle whose data has no declared shape: any key reads as `any`.
 *
 * @example
 * const s: OpenNextSession<Record<string, any>> = await nextSession()()
 */
export interface OpenNextSession<Data> extends NextSessionMethods<Data> {
  [key: string]: any
}

/**
 * The handle `await session()` gives: data as properties (`session.userId`), plus
 * `get`/`set`/`all`/`setAll`/`save` and the session methods of `NextSessionMethods`.
 *
 * @example
 * const s: NextSession<{ userId?: string }> = await session()
 */
export type NextSession<Data extends object = DefaultSessionData> = string extends keyof Data
  ? OpenNextSession<Data>
  : Data & NextSessionMethods<Data>

/**
 * What `session()` returns: a promise of the handle that also answers next-app-session's
 * `await session().get('key')`, `.set(key, value)`, `.all()`, `.setAll(obj)` and `.destroy()`.
 *
 * @example
 * const counter = (await session().get('counter')) ?? 0
 * await session().set('counter', counter + 1)
 */
export type NextSessionPromise<Data extends object = DefaultSessionData> = Promise<
  NextSession<Data>
> & {
  get<K extends keyof Data & string>(key: K): Promise<Data[K] | undefined>
  all(): Promise<Data>
  set<K extends keyof Data & string>(key: K, value: Data[K]): Promise<void>
  setAll(values: Data): Promise<void>
  destroy(): Promise<void>
}

/**
 * The function `nextSession()` makes: call it for the current request's session.
 *
 * @example
 * export const session: NextSessionFunction<{ userId?: string }> = nextSession({ secret })
 */
export interface NextSessionFunction<Data extends object = DefaultSessionData> {
  /** This request's session, through `cookies()` and `headers()` from `next/headers`. */
  (): NextSessionPromise<Data>
  /**
   * For `proxy.ts` (`middleware.ts` before Next 16): on a GET that is not a prefetch, writes what
   * merely reading the session would write (consumed flash values, rolling refresh, re-seal
   * with a newer key, clearing a refused cookie) as a Set-Cookie on the response, while the
   * page still reads the session the request brought. This is how a flash value shown by a
   * Server Component goes away. In store mode flash values are left for the next write,
   * since the page reads the same store entry after the proxy. Appends to `response` when
   * given, else answers `NextResponse.next()`.
   */
  proxy(request: NextRequest, response?: Response): Promise<Response>
}

// Names the Next handle answers itself, beside the core session's.
const HANDLE_KEYS = new Set([
  'get',
  'all',
  'set',
  'setAll',
  'flash',
  'reflash',
  'regenerate',
  'renew',
  'destroy',
  'save',
])

/** The request's session cookie as a Cookie header, from values Next has already decoded. */
function cookieHeader(jar: NextSessionContext['cookies'], name: string): string {
  return jar
    .getAll(name)
    .map((c) => `${name}=${c.value}`)
    .join('; ')
}

/** Enough of the request URL for the engine to decide `Secure` (plain-HTTP localhost or not). */
function requestUrl(list: NextSessionContext['headers']): string {
  const proto = list.get('x-forwarded-proto')?.split(',')[0]?.trim() || 'https'
  return `${proto}://${list.get('host') ?? ''}/`
}

/** The engine's Set-Cookie value as the object `cookies().set()` takes. */
function toNextCookie(setCookie: string): Parameters<CookieJar['set']>[0] & object {
  const [pair = '', ...attrs] = setCookie.split('; ')
  const eq = pair.indexOf('=')
  const cookie: Parameters<CookieJar['set']>[0] & object = {
    name: pair.slice(0, eq),
    value: pair.slice(eq + 1),
  }
  for (const attr of attrs) {
    const at = attr.indexOf('=')
    const key = (at === -1 ? attr : attr.slice(0, at)).toLowerCase()
    const value = at === -1 ? '' : attr.slice(at + 1)
    if (key === 'max-age') cookie.maxAge = Number(value)
    else if (key === 'expires') cookie.expires = new Date(value)
    else if (key === 'path') cookie.path = value
    else if (key === 'domain') cookie.domain = value
    else if (key === 'httponly') cookie.httpOnly = true
    else if (key === 'secure') cookie.secure = true
    else if (key === 'samesite') cookie.sameSite = value.toLowerCase() as 'lax' | 'strict' | 'none'
    else if (key === 'partitioned') cookie.partitioned = true
  }
  return cookie
}

/** Wraps a loaded state in the Next handle; `write` commits it through `cookies().set()`. */
function createHandle(state: SessionState, write: () => Promise<void>): NextSession<any> {
  const s = state.session
  const methods: Record<string, unknown> = {
    get: (key: string) => s[key],
    all: () => s.toJSON(),
    async set(key: string, value: unknown) {
      s[key] = value
      await write()
    },
    async setAll(values: object) {
      state.replace(values)
      await write()
    },
    async flash(key: string, value: unknown) {
      s.flash(key, value)
      await write()
    },
    async reflash() {
      s.reflash()
      await write()
    },
    async regenerate() {
      await s.regenerate()
      await write()
    },
    async renew(maxAge?: number) {
      s.renew(maxAge)
      await write()
    },
    async destroy() {
      s.destroy()
      await write()
    },
    save: write,
  }
  return new Proxy(s, {
    get(target, key) {
      if (typeof key === 'string' && HANDLE_KEYS.has(key)) return methods[key]
      return Reflect.get(target, key)
    },
    set(target, key, value) {
      if (typeof key === 'string' && HANDLE_KEYS.has(key)) {
        throw new SessionError(
          'ERR_SESSION_RESERVED_KEY',
          `"${key}" is a method of the Next session handle; write it with session.set('${key}', value)`,
        )
      }
      return Reflect.set(target, key, value)
    },
  }) as NextSession<any>
}

/**
 * Sessions for the Next.js App Router: `await session()` reads the session in Server
 * Components, and reads and writes it in Route Handlers and Server Actions, through
 * `cookies()` from `next/headers`. Each changing method writes the cookie at once; assign
 * properties directly and call `save()` to write several changes in one go.
 *
 * @example
 * // lib/session.ts
 * export const session = nextSession<{ userId?: string; notice?: string }>({
 *   secret: process.env.SESSION_SECRET,
 * })
 * // app/actions.ts ('use server')
 * export async function login(form: FormData) {
 *   const s = await session()
 *   await s.regenerate()
 *   s.userId = String(form.get('name'))
 *   await s.flash('notice', 'Welcome')
 *   redirect('/')
 * }
 */
export function nextSession<Data extends object = DefaultSessionData>(
  options?: NextSessionOptions,
): NextSessionFunction<Data> {
  if (options?.transport === 'header') {
    throw new SessionConfigError([
      {
        path: 'transport',
        message:
          "the Next adapter writes cookies only; use withSession from 'sealed-session/fetch' in Route Handlers for bearer tokens",
      },
    ])
  }
  const engine = new SessionEngine(options)
  // One handle per request: `cookies()` answers the same object throughout a request.
  const handles = new WeakMap<object, Promise<NextSession<Data>>>()

  async function open(): Promise<NextSession<Data>> {
    const jar = await cookies()
    let handle = handles.get(jar)
    if (!handle) {
      handle = load(jar)
      handles.set(jar, handle)
    }
    return handle
  }

  async function load(jar: CookieJar): Promise<NextSession<Data>> {
    const list = await headers()
    const ctx: NextSessionContext = { cookies: jar, headers: list }
    const state = await engine.load(
      cookieHeader(jar, engine.options.cookieName),
      ctx,
      requestUrl(list),
    )
    // Writes run one after another, so an unawaited flash() and a later save() keep their order.
    let last: Promise<void> = Promise.resolve()
    const write = (): Promise<void> => {
      const run = last
        .catch(() => {})
        .then(async () => {
          for (const [name, value] of await engine.commitHeaders(state, ctx)) {
            // Throws in a Server Component: Next allows cookie writes only where a response is built.
            if (name === 'set-cookie') jar.set(toNextCookie(value))
          }
        })
      last = run
      return run
    }
    return createHandle(state, write) as NextSession<Data>
  }

  const session = (() => {
    const handle = open()
    return Object.assign(handle, {
      get: async (key: string) => (await handle).get(key as never),
      all: async () => (await handle).all(),
      set: async (key: string, value: unknown) => (await handle).set(key as never, value as never),
      setAll: async (values: Data) => (await handle).setAll(values),
      destroy: async () => (await handle).destroy(),
    })
  }) as NextSessionFunction<Data>

  session.proxy = async (request, response) => {
    const res = response ?? NextResponse.next()
    const prefetch =
      request.headers.get('next-router-prefetch') !== null ||
      /prefetch/i.test(request.headers.get('purpose') ?? request.headers.get('sec-purpose') ?? '')
    if (request.method !== 'GET' || prefetch) return res
    const ctx: NextSessionContext = { cookies: request.cookies, headers: request.headers }
    const name = engine.options.cookieName
    const state = await engine.load(cookieHeader(request.cookies, name), ctx, request.url)
    if (engine.options.store) state.session.reflash()
    // A raw header, not `res.cookies.set()`: Next would show that cookie to the page, and the
    // page must still see the flash values this response consumes.
    for (const [header, value] of await engine.commitHeaders(state, ctx)) {
      if (header === 'set-cookie') res.headers.append('set-cookie', value)
    }
    return res
  }

  return session
}

export type { Session, SessionData, SessionOptions } from '../core/types.ts'
