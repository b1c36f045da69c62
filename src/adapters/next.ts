import { cookies, headers } from 'next/headers.js'
import { type NextRequest, NextResponse } from 'next/server.js'
import { SessionEngine } from '../core/engine.ts'
import { SessionConfigError } from '../core/errors.ts'
import type {
  DefaultSessionData,
  DefaultSessionFlash,
  FlashOf,
  SessionCookie,
  SessionDataFor,
  SessionOptions,
  SessionRequest,
  SessionSchema,
  UnsetFlash,
} from '../core/types.ts'
import { isActionRedirectRender, renderInBrowser } from './next-compat.ts'
import { createHandle, type NextSession, type NextSessionPromise } from './next-handle.ts'

export type {
  NextSession,
  NextSessionMethods,
  NextSessionPromise,
  OpenNextSession,
} from './next-handle.ts'

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
export type NextSessionOptions<
  Schema extends SessionSchema = SessionSchema,
  FlashSchema extends SessionSchema = SessionSchema,
> = SessionOptions<NextSessionContext, Schema, FlashSchema>

/**
 * The function `nextSession()` makes: call it for the current request's session.
 *
 * @example
 * export const session: NextSessionFunction<{ userId?: string }> = nextSession({ secret })
 */
export interface NextSessionFunction<
  Data extends object = DefaultSessionData,
  Flash extends object = DefaultSessionFlash<Data>,
> {
  /** This request's session, through `cookies()` and `headers()` from `next/headers`. */
  (): NextSessionPromise<Data, Flash>
  /**
   * For `proxy.ts` (`middleware.ts` before Next 16): on a GET that is not a prefetch (set
   * `skipProxyUrlNormalize: true` in next.config, else Next hides the App Router's prefetch
   * headers from the proxy, and a `<Link>` prefetch consumes a flash value), writes what
   * merely reading the session would write (consumed flash values, rolling refresh, re-seal
   * with a newer key, clearing a refused cookie) as a Set-Cookie on the response, while the
   * page still reads the session the request brought. This is how a flash value shown by a
   * Server Component goes away. In store mode flash values are left for the next write,
   * since the page reads the same store entry after the proxy. Appends to `response` when
   * given, else answers `NextResponse.next()`.
   */
  proxy(request: NextRequest, response?: Response): Promise<Response>
}

/**
 * The session's cookies (plain and chunks) as the engine should read them. Next's jar keeps one
 * value per name (the last sent), so a copy planted beside the browser's own by a sibling
 * subdomain would hide it: the raw Cookie header, which keeps every copy, is read instead. The
 * jar wins when it differs from that header, since it then shows cookies written during this
 * request (a Server Action's, before the page renders; the proxy's).
 */
function sessionCookies(ctx: NextSessionContext, name: string | undefined): string {
  // Every cookie when `name` is undefined (migrateFrom reads the old library's too).
  const ours = (n: string) => name === undefined || n === name || n.startsWith(`${name}.`)
  const jar = ctx.cookies.getAll().filter((c) => ours(c.name))
  const raw = ctx.headers.get('cookie') ?? ''
  // The header as Next parses it (@edge-runtime/cookies): the last value per name, decoded,
  // and values that do not decode left out.
  const parsed = new Map<string, string>()
  for (const pair of raw.split(/; */)) {
    const eq = pair.indexOf('=')
    if (eq === -1 || !ours(pair.slice(0, eq))) continue
    try {
      parsed.set(pair.slice(0, eq), decodeURIComponent(pair.slice(eq + 1)))
    } catch {
      // Next leaves it out too.
    }
  }
  const same = jar.length === parsed.size && jar.every((c) => parsed.get(c.name) === c.value)
  return same ? raw : jar.map((c) => `${c.name}=${c.value}`).join('; ')
}

/**
 * The engine's view of a Next request: the session's cookies, headers, and enough of the URL
 * to decide `Secure` (plain-HTTP localhost or not, outside production).
 */
function requestView(
  ctx: NextSessionContext,
  name: string | undefined,
  url?: string,
): SessionRequest {
  const cookie = sessionCookies(ctx, name)
  const list = ctx.headers
  return {
    header: (n) => (n === 'cookie' ? cookie : list.get(n)),
    url: () => {
      if (url !== undefined) return url
      const proto = list.get('x-forwarded-proto')?.split(',')[0]?.trim() || 'https'
      return `${proto}://${list.get('host') ?? ''}/`
    },
  }
}

/** A cookie the engine wrote, as the object `cookies().set()` takes. */
function toNextCookie(c: SessionCookie): Parameters<CookieJar['set']>[0] & object {
  const cookie: Parameters<CookieJar['set']>[0] & object = {
    name: c.name,
    value: c.value,
    maxAge: c.maxAge,
    expires: new Date(c.expires),
    path: c.path,
    httpOnly: c.httpOnly,
    secure: c.secure,
    sameSite: c.sameSite.toLowerCase() as 'lax' | 'strict' | 'none',
  }
  if (c.domain) cookie.domain = c.domain
  if (c.partitioned) cookie.partitioned = true
  return cookie
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
export function nextSession<
  Data extends object = DefaultSessionData,
  Flash extends object = UnsetFlash,
  Schema extends SessionSchema = SessionSchema,
  FlashSchema extends SessionSchema = SessionSchema,
>(
  options?: NextSessionOptions<Schema, FlashSchema>,
): NextSessionFunction<
  SessionDataFor<Schema, Data>,
  FlashOf<Flash, SessionDataFor<Schema, Data>, FlashSchema>
> {
  type D = SessionDataFor<Schema, Data>
  type F = FlashOf<Flash, D, FlashSchema>
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
  // With migrateFrom the old library's cookie, under its own name, is read too.
  const cookieName = options?.migrateFrom ? undefined : engine.cookieName
  // One handle per request: `cookies()` answers the same object throughout a request.
  const handles = new WeakMap<object, Promise<NextSession<D, F>>>()

  async function open(): Promise<NextSession<D, F>> {
    const jar = await cookies()
    let handle = handles.get(jar)
    if (!handle) {
      handle = load(jar)
      handles.set(jar, handle)
    }
    return handle
  }

  async function load(jar: CookieJar): Promise<NextSession<D, F>> {
    const list = await headers()
    const ctx: NextSessionContext = { cookies: jar, headers: list }
    const state = await engine.load(requestView(ctx, cookieName), ctx)
    // Writes run one after another, so an unawaited flash() and a later save() keep their order.
    let last: Promise<unknown> = Promise.resolve()
    const write = (): Promise<string | null> => {
      const run = last
        .catch(() => {})
        .then(async () => {
          // Throws in a Server Component: Next allows cookie writes only where a response is built.
          const commit = await engine.commit(state, ctx)
          for (const cookie of commit.cookies) jar.set(toNextCookie(cookie))
          return commit.token
        })
      last = run
      return run
    }
    return createHandle(state, write) as NextSession<D, F>
  }

  const session = (() => {
    const handle = open()
    return Object.assign(handle, {
      get: async (key: string) => (await handle).get(key as never),
      all: async () => (await handle).all(),
      set: async (key: string, value: unknown) => (await handle).set(key as never, value as never),
      setAll: async (values: D) => (await handle).setAll(values),
      destroy: async () => (await handle).destroy(),
    })
  }) as NextSessionFunction<D, F>

  session.proxy = async (request, response) => {
    const res = response ?? NextResponse.next()
    // The App Router's headers reach the proxy only with `skipProxyUrlNormalize: true` in
    // next.config (Next strips them otherwise); the others come from the browser itself.
    const headers = request.headers
    const prefetch =
      headers.has('next-router-prefetch') ||
      headers.has('next-router-segment-prefetch') ||
      /prefetch/i.test(headers.get('purpose') ?? headers.get('sec-purpose') ?? '')
    if (request.method !== 'GET' || prefetch) return res
    const ctx: NextSessionContext = { cookies: request.cookies, headers }
    const state = await engine.load(requestView(ctx, cookieName, request.url), ctx)
    // The page reads the session after the proxy: for the flash values it shows, this is the
    // request that consumes them (or, in store mode, keeps them for the next write).
    if (engine.options.store) state.session.reflash()
    else state.data.touch()
    // A raw header, not `res.cookies.set()`: Next would show that cookie to the page, and the
    // page must still see the flash values this response consumes.
    const commit = await engine.commit(state, ctx)
    // Next would drop this Set-Cookie on a Server Action's redirect render (next-compat.ts).
    if (commit.headers.length > 0 && isActionRedirectRender(request)) return renderInBrowser()
    for (const [name, value] of commit.headers) res.headers.append(name, value)
    return res
  }

  return session
}

export type { Session, SessionData, SessionOptions } from '../core/types.ts'
