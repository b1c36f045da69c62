// The Hono apps the benchmarks time: the no-session baseline, the floor (one empty
// middleware), sealed-session (sealed, Map store, zod schema) and the peers, each with the same
// routes (/login, /read, /write). Built by hono-child.ts (one library per process) and
// hono-together.ts (the baseline and ours in one process).
import { Hono } from 'hono'
import { z } from 'zod'
import { built, Jar, plainSetCookie, SECRET, SMALL_DATA } from './lib.ts'

export type Data = Record<string, unknown>
type Fetch = (req: Request) => Response | Promise<Response>

/** A library's app: /login stores `login` data, /read reads a key, /write changes one. */
export interface Lib {
  fetch: Fetch
  /** Cookie header the no-session baseline sends (it has no /login). */
  cookie?: string
  notes?: Record<string, string>
  /**
   * A Cookie header of a new session the app has never seen (cold reads); a library's own
   * /login by default. sealed-session mints with another engine, so none of its caches is warm.
   */
  mint?: () => Promise<string>
}

let login: Data = SMALL_DATA
export const URL_BASE = 'http://localhost'

/** The cookies a /login of `lib` storing `data` leaves in a new jar. */
export async function loginJar(lib: Lib, data: Data = SMALL_DATA): Promise<Jar> {
  login = data
  try {
    const res = await lib.fetch(new Request(`${URL_BASE}/login`))
    if (res.status !== 200) throw new Error(`/login answered ${res.status}`)
    return new Jar().update(res)
  } finally {
    login = SMALL_DATA
  }
}

const routes = (
  app: Hono<any>,
  h: {
    login: (c: any, data: Data) => unknown
    read: (c: any) => unknown
    write: (c: any) => unknown
  },
) =>
  app
    .get('/login', async (c) => {
      await h.login(c, login)
      return c.text('ok')
    })
    .get('/read', async (c) => c.text(String(await h.read(c))))
    .get('/write', async (c) => {
      await h.write(c)
      return c.text('ok')
    })

/**
 * The Cookie header of a sealed-session login, for the apps without a session to send: made by
 * the engine directly, so their process never loads the Hono adapter (which installs
 * `c.session` on Hono's Context).
 */
async function sealedCookie(): Promise<string> {
  return (await sealedMinter())()
}

/**
 * Mints sealed-session login cookies with an engine of its own: its caches (derived keys, unseal
 * results) are not the app's, as with cookies another instance behind a load balancer sealed.
 */
export async function sealedMinter(options: { store?: Map<string, unknown> } = {}) {
  const { SessionEngine } = (await import(
    built('core/engine.js')
  )) as typeof import('../src/core/engine.ts')
  const engine = new SessionEngine({ secret: SECRET, ...options })
  return async () => {
    const state = await engine.load({ header: () => undefined, url: () => URL_BASE }, undefined)
    Object.assign(state.session, SMALL_DATA)
    const { headers } = await engine.commit(state, undefined)
    return headers[0]![1].split(';', 1)[0]!
  }
}

/** The baseline's write: a plain cookie of the same length, new every request, no session. */
function plainWrite(c: any): void {
  c.header('set-cookie', plainSetCookie(c.req.header('cookie')), { append: true })
}

export async function build(name: string): Promise<Lib> {
  switch (name) {
    case 'baseline':
    case 'floor': {
      // The same routes and handler shape as every library's app, minus the session. The floor
      // adds the least any session middleware does: read the Cookie header, set a context
      // variable, await the handler, look at the outcome. What separates it from the baseline
      // is Hono's cost of one more middleware, not session work.
      const floor = async (c: any, next: () => Promise<void>) => {
        c.set('session', c.req.header('cookie'))
        await next()
        if (c.error) return
      }
      const app = routes(name === 'floor' ? new Hono().use(floor) : new Hono(), {
        login: () => undefined,
        read: () => SMALL_DATA.userId,
        write: plainWrite,
      })
      return { fetch: app.fetch, cookie: await sealedCookie() }
    }
    case 'sealed':
    case 'sealed-map':
    case 'sealed-schema': {
      const { session } = (await import(
        built('adapters/hono.js')
      )) as typeof import('../src/adapters/hono.ts')
      const store = name === 'sealed-map' ? new Map() : undefined
      // The session data's shape, as an app would declare it (zod 4).
      const schema =
        name === 'sealed-schema'
          ? z.object({
              userId: z.string().optional(),
              name: z.string().optional(),
              role: z.enum(['admin', 'user']).optional(),
              theme: z.string().optional(),
              notes: z.string().optional(),
              count: z.number().int().default(0),
            })
          : undefined
      const app = routes(new Hono().use(session({ secret: SECRET, store, schema })), {
        login: (c) => Object.assign(c.session, login),
        read: (c) => c.session.userId,
        write: (c) => {
          c.session.count = (Number(c.session.count) || 0) + 1
        },
      })
      return {
        fetch: app.fetch,
        mint: name === 'sealed' ? await sealedMinter() : undefined,
      }
    }
    case 'hono-session': {
      const { default: session } = await import('hono-session')
      const app = routes(new Hono().use(session({ secret: SECRET }) as any), {
        login: (c) => Object.assign(c.session, login),
        read: (c) => c.session.userId,
        write: (c) => {
          c.session.count = (Number(c.session.count) || 0) + 1
        },
      })
      return { fetch: app.fetch }
    }
    case 'hono-sessions': {
      const { sessionMiddleware, CookieStore } = await import('hono-sessions')
      const mw = sessionMiddleware({
        store: new CookieStore(),
        encryptionKey: SECRET,
        expireAfterSeconds: 3600,
        cookieOptions: { sameSite: 'Lax', path: '/', httpOnly: true },
      })
      const app = routes(new Hono().use(mw as any), {
        login: (c) => {
          const s = c.get('session')
          for (const [k, v] of Object.entries(login)) s.set(k, v)
        },
        read: (c) => c.get('session').get('userId'),
        write: (c) => {
          const s = c.get('session')
          s.set('count', (Number(s.get('count')) || 0) + 1)
        },
      })
      return {
        fetch: app.fetch,
        notes: {
          read: 'hono-sessions re-seals and sets its cookie on every request (expiry extension), reads included',
        },
      }
    }
    case '@hono/session': {
      const honoSession = await import('@hono/session')
      // Its README asks for a 32-byte hex string (it derives the JWE key with HKDF).
      const secret = Buffer.from(SECRET).subarray(0, 32).toString('hex')
      // (A plain call: the name `useSession` trips Biome's React-hooks rule.)
      const middleware = honoSession.useSession.call(undefined, {
        secret,
        duration: { absolute: 3600 },
      })
      const app = routes(new Hono().use(middleware as any), {
        login: (c) => c.var.session.update(login),
        read: async (c) => ((await c.var.session.get()) as Data | null)?.userId,
        write: (c) =>
          c.var.session.update((d: Data | null) => ({
            ...d,
            count: (Number(d?.count) || 0) + 1,
          })),
      })
      return { fetch: app.fetch }
    }
    case 'iron-session': {
      // By hand in the handler, the way its README shows for Request/Response.
      const { getIronSession } = await import('iron-session')
      const options = {
        password: SECRET,
        cookieName: 'iron',
        cookieOptions: { secure: false },
      }
      const handle = async (req: Request, fn: (s: any) => unknown): Promise<Response> => {
        const res = new Response()
        const s = await getIronSession<Data>(req, res, options)
        const body = String(await fn(s))
        return new Response(body, { headers: res.headers })
      }
      const app = new Hono()
        .get('/login', (c) =>
          handle(c.req.raw, async (s) => {
            Object.assign(s, login)
            await s.save()
            return 'ok'
          }),
        )
        .get('/read', (c) => handle(c.req.raw, (s) => s.userId))
        .get('/write', (c) =>
          handle(c.req.raw, async (s) => {
            s.count = (Number(s.count) || 0) + 1
            await s.save()
            return 'ok'
          }),
        )
      return { fetch: app.fetch }
    }
    default:
      throw new Error(`unknown library ${name}`)
  }
}
