// One library's Hono app, timed in-process (`app.fetch(new Request(…))`) on run.ts' request.
// Each library runs in its own process: hono-session patches Hono's Context, and JIT state or
// heap growth of one library must not tax another.
//
// Usage (normally by run.ts): node --import tsx bench/hono-child.ts <library>[:cold]
//   libraries: baseline | floor | sealed | sealed-map | sealed-schema | hono-session | hono-sessions |
//              @hono/session | iron-session
// Scenarios: read (the same cookie again and again), write (a key changed, the new cookie sent
// next time; the baseline's write sets a plain cookie); with `:cold`, cold reads only (a new valid
// cookie every request). Cold reads run in a process of their own: the pool of cookies minted for
// them (and, for sealed-session, the minting engine) would otherwise tax the warm scenarios' heap
// and JIT, which no app serving only warm traffic pays.
import { Hono } from 'hono'
import { z } from 'zod'
import {
  built,
  Jar,
  LARGE_DATA,
  plainSetCookie,
  SECRET,
  SMALL_DATA,
  type Step,
  serveChild,
} from './lib.ts'

type Data = Record<string, unknown>
type Fetch = (req: Request) => Response | Promise<Response>

/** A library's app: /login stores `login` data, /read reads a key, /write changes one. */
interface Lib {
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
const URL_BASE = 'http://localhost'

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
async function sealedMinter(options: { store?: Map<string, unknown> } = {}) {
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

async function build(name: string): Promise<Lib> {
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

const [name = 'sealed', part] = (process.argv[2] ?? 'sealed').split(':')
const coldOnly = part === 'cold'
const lib = await build(name)

async function loginJar(data: Data): Promise<Jar> {
  login = data
  const res = await lib.fetch(new Request(`${URL_BASE}/login`))
  if (res.status !== 200) throw new Error(`${name} /login answered ${res.status}`)
  login = SMALL_DATA
  return new Jar().update(res)
}

const request = (path: string, cookie: string) =>
  lib.fetch(new Request(`${URL_BASE}${path}`, { headers: { cookie } }))

const scenarios: Record<string, Step> = {}

/** Writes: one jar per concurrent client, each sending the cookie it was just given. */
function writes(start: string): Step {
  const jars = new Map<number, Jar>()
  return async (client) => {
    let jar = jars.get(client)
    if (!jar) {
      jar = new Jar(start)
      jars.set(client, jar)
    }
    const res = await request('/write', jar.header())
    jar.update(res)
    await res.text()
  }
}

/** Sanity: a write must change the cookie the client holds (store mode keeps its id cookie). */
async function checkWrite(before: string): Promise<void> {
  const check = new Jar(before)
  check.update(await request('/write', check.header()))
  if (name !== 'sealed-map' && check.header() === before)
    throw new Error(`${name} write did not change the cookie`)
}

// Cold reads: every request brings a valid cookie of a new session, minted before the round
// (untimed) and used once. Before each round, 100 cold reads time the rate, and four times what
// the round (with its warm-up) needs at that rate is minted (the rate still climbs as the JIT
// warms up). The heap is then collected, so the
// garbage of minting is not collected while this or another process is timed.
const pool: string[] = []
const COLD = new Set(['sealed', 'hono-session', 'hono-sessions', '@hono/session', 'iron-session'])
let prepare: ((scenario: string, ms: number) => Promise<void>) | undefined
const gc = (globalThis as { gc?: () => void }).gc

if (lib.cookie !== undefined) {
  const cookie = lib.cookie
  scenarios.read = async () => {
    const res = await request('/read', cookie)
    await res.text()
  }
  if (name === 'baseline') {
    scenarios.write = writes(cookie)
    await checkWrite(cookie)
  }
} else {
  if (!coldOnly) {
    const readCookie = (await loginJar(SMALL_DATA)).header()
    // Sanity: the read must see the session, or the numbers measure an empty one.
    const seen = await (await request('/read', readCookie)).text()
    if (seen !== SMALL_DATA.userId) throw new Error(`${name} read ${seen}, not the session`)
    scenarios.read = async () => {
      const res = await request('/read', readCookie)
      await res.text()
    }
    const base = (await loginJar(SMALL_DATA)).header()
    scenarios.write = writes(base)
    await checkWrite(base)
  } else if (COLD.has(name)) {
    const mint = lib.mint ?? (async () => (await loginJar(SMALL_DATA)).header())
    const fresh = await mint()
    const coldSeen = await (await request('/read', fresh)).text()
    if (coldSeen !== SMALL_DATA.userId) throw new Error(`${name} cold read ${coldSeen}`)
    const cold: Step = async () => {
      const res = await request('/read', pool.pop() ?? (await mint()))
      await res.text()
    }
    scenarios.cold = cold
    prepare = async (scenario, ms) => {
      if (scenario !== 'cold') return
      while (pool.length < 300) pool.push(await mint())
      const t0 = performance.now()
      for (let i = 0; i < 100; i++) await cold(0)
      const want = Math.ceil((100 / (performance.now() - t0)) * (ms + 150) * 4) + 1000
      while (pool.length < want) pool.push(await mint())
      gc?.()
    }
  }
}

if (coldOnly && !scenarios.cold) throw new Error(`${name} has no cold reads to measure`)

serveChild(
  scenarios,
  async () => {
    if (lib.cookie !== undefined) return { op: 'bytes', small: null, large: null }
    const small = (await loginJar(SMALL_DATA)).bytes()
    const large = (await loginJar(LARGE_DATA)).bytes()
    return { op: 'bytes', small, large }
  },
  lib.notes,
  prepare,
)
