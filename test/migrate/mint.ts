// Session cookies minted by the real libraries we migrate from, each run as its README shows:
// iron-session 8, hono-session, hono-sessions (CookieStore), h3 2 and h3 1 (`h3-v1`).
import { H3, useSession as h3Session } from 'h3'
import {
  createApp,
  createRouter,
  defineEventHandler,
  useSession as h3v1Session,
  toWebHandler,
} from 'h3-v1'
import { Hono } from 'hono'
import honoSession from 'hono-session'
import { CookieStore, sessionMiddleware } from 'hono-sessions'
import { getIronSession } from 'iron-session'
import { type ParsedCookie, setCookies } from '../support.ts'

type Data = Record<string, unknown>

/** The Set-Cookie headers a library answered, as `name -> cookie`. */
export type Minted = Map<string, ParsedCookie>

const byName = (res: Response): Minted => new Map(setCookies(res).map((c) => [c.name, c]))

/** A Cookie header replaying every cookie that `minted` sets (Max-Age=0 ones left out). */
export function cookieHeader(...minted: Minted[]): string {
  return minted
    .flatMap((m) => [...m.values()])
    .filter((c) => c.attributes['max-age'] !== '0' && c.value !== '')
    .map((c) => `${c.name}=${c.value}`)
    .join('; ')
}

/** iron-session 8's `getIronSession(req, res, options)` and `save()`, over a Web Request. */
export async function ironSessionCookie(
  data: Data,
  options: { password: string | Record<string, string>; cookieName: string; ttl?: number },
): Promise<Minted> {
  const res = new Response()
  const s = await getIronSession<Data>(new Request('https://example.com/'), res, options)
  Object.assign(s, data)
  await s.save()
  return byName(res)
}

/** hono-session's middleware: `data` assigned to `c.session`, `flash` flashed. */
export async function honoSessionCookie(
  data: Data,
  options: { secret: string; maxAge?: number; cookieName?: string },
  flash: Data = {},
): Promise<Minted> {
  const app = new Hono().use(honoSession(options) as any).get('/', (c) => {
    const s = (c as any).session
    Object.assign(s, data)
    for (const [k, v] of Object.entries(flash)) s.flash(k, v)
    return c.text('ok')
  })
  return byName(await app.request('https://example.com/'))
}

/** hono-sessions' middleware with its CookieStore: `data` set, `flash` flashed. */
export async function honoSessionsCookie(
  data: Data,
  options: { encryptionKey: string; expireAfterSeconds?: number; sessionCookieName?: string },
  flash: Data = {},
): Promise<Minted> {
  const mw = sessionMiddleware({ store: new CookieStore(), ...options })
  const app = new Hono().use(mw as any).get('/', (c) => {
    const s = c.get('session' as never) as any
    for (const [k, v] of Object.entries(data)) s.set(k, v)
    for (const [k, v] of Object.entries(flash)) s.flash(k, v)
    return c.text('ok')
  })
  return byName(await app.request('https://example.com/'))
}

interface H3Config {
  password: string
  name?: string
  maxAge?: number
  idleTimeout?: number
}

/** h3 2's `useSession(event, config).update(data)`, through `app.fetch`. */
export async function h3Cookie(data: Data, config: H3Config): Promise<Minted> {
  const app = new H3().get('/', async (event) => {
    const s = await h3Session(event, config)
    await s.update(data)
    return 'ok'
  })
  return byName(await app.fetch(new Request('https://example.com/')))
}

/** h3 1's `useSession(event, config).update(data)`, through `toWebHandler`. */
export async function h3v1Cookie(data: Data, config: H3Config): Promise<Minted> {
  const app = createApp()
  const router = createRouter().get(
    '/',
    defineEventHandler(async (event) => {
      const s = await h3v1Session(event, config)
      await s.update(data)
      return 'ok'
    }),
  )
  app.use(router)
  return byName(await toWebHandler(app)(new Request('https://example.com/')))
}
