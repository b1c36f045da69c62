// What a client sees when a session error goes unanswered (the store fails on load or commit,
// the data is not JSON): on Hono, Elysia and the fetch adapter the same generic 500, with no
// message, class or code in the body or headers, and the error logged for the developer. The
// app's own error handler sees the error first, class and code intact, and the documented 503
// recipes for store outages work as written. In-process and over real HTTP, under Node and Bun.
import { Elysia } from 'elysia'
import { Hono } from 'hono'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { session as elysiaSession } from '../src/adapters/elysia.ts'
import { createSessionHandler, withSession } from '../src/adapters/fetch.ts'
import { session as honoSession } from '../src/adapters/hono.ts'
import { SessionDataError, type SessionError, SessionStoreError } from '../src/core/errors.ts'
import type { Session, SessionStore } from '../src/core/types.ts'
import { listen as listenElysia, serverAdapter } from './adapters/fixtures/elysia.ts'
import { listen as listenFetch } from './adapters/http.ts'
import { muteConsole } from './quiet-console.ts'
import { SECRET } from './support.ts'

// What the failing store throws: a driver message with an address and a made-up credential.
const LEAK = 'connect ECONNREFUSED 10.9.8.7:6379 (auth s3cr3t-7d1e)'
// None of these may reach a client: the store's words, ours, our classes and codes.
const NEVER = ['ECONNREFUSED', 's3cr3t', '10.9.8.7', 'Session', 'ERR_', 'Date', 'toISOString']

type Op = 'get' | 'set' | 'delete'

/** A store that fails, on demand, the way a driver does when its server is unreachable. */
function flaky(kind: 'async' | 'Map') {
  const failing = new Set<Op>()
  const check = (op: Op) => {
    if (failing.has(op)) throw new Error(LEAK)
  }
  if (kind === 'Map') {
    // A Map subclass: the engine stays synchronous (Elysia's loadSync/commitSync path).
    class FailingMap extends Map<string, unknown> {
      override get(id: string) {
        check('get')
        return super.get(id)
      }
      override set(id: string, value: unknown) {
        check('set')
        return super.set(id, value)
      }
      override delete(id: string) {
        check('delete')
        return super.delete(id)
      }
    }
    return { failing, store: new FailingMap() as SessionStore }
  }
  const rows = new Map<string, unknown>()
  const store: SessionStore = {
    get: async (id) => {
      check('get')
      return rows.get(id)
    },
    set: async (id, record) => {
      check('set')
      rows.set(id, record)
    },
    delete: async (id) => {
      check('delete')
      rows.delete(id)
    },
  }
  return { failing, store }
}

// --- The documented recipes (README "Errors", docs/adapter-elysia.md, docs/adapter-fetch.md) ---

/** Hono: `app.onError` answers store outages with 503, anything else as Hono's default does. */
function honoRecipe(app: Hono<any>) {
  app.onError((err, c) => {
    if (err instanceof SessionStoreError) {
      c.header('Retry-After', '5')
      return c.text('Service Unavailable', 503)
    }
    console.error(err)
    return c.text('Internal Server Error', 500)
  })
}

/** Elysia: an `onError` after `session()`; other session errors keep the generic 500. */
const elysiaRecipe = ({ error }: { error: unknown }) => {
  if (error instanceof SessionStoreError) {
    return new Response('Service Unavailable', { status: 503, headers: { 'retry-after': '5' } })
  }
}

/** fetch: `createSessionHandler`, whose getSession/commitSession reject with the error. */
function fetchRecipe(
  sessions: ReturnType<typeof createSessionHandler>,
  handler: (request: Request, session: Session) => Response | Promise<Response>,
) {
  return async (request: Request): Promise<Response> => {
    try {
      const session = await sessions.getSession(request)
      const response = await handler(request, session)
      return await sessions.commitSession(session, response)
    } catch (err) {
      if (err instanceof SessionStoreError) {
        return new Response('Service Unavailable', { status: 503, headers: { 'retry-after': '5' } })
      }
      throw err
    }
  }
}

// --- One app per adapter: the same three routes, the same store ----------------------------

type Seen = { error: unknown; code?: unknown }
type Built = { fetch(request: Request): Promise<Response>; listen?(): Promise<Served> }
type Served = { base: string; close(): Promise<void> }
type Handling = 'default' | 'recipe' | 'observe'

const routes = {
  login(s: Session) {
    s.userId = 'u1'
    return 'ok'
  },
  me: (s: Session) => String(s.userId ?? 'anon'),
  date(s: Session) {
    s.when = new Date(0)
    return 'ok'
  },
}

function honoApp(store: SessionStore, handling: Handling, seen: Seen[]): Built {
  const app = new Hono().use(honoSession({ secret: SECRET, store }))
  app.get('/login', (c) => c.text(routes.login(c.session)))
  app.get('/me', (c) => c.text(routes.me(c.session)))
  app.get('/date', (c) => c.text(routes.date(c.session)))
  if (handling === 'recipe') honoRecipe(app)
  if (handling === 'observe') {
    app.onError((err, c) => {
      seen.push({ error: err, code: (err as SessionError).code })
      return c.text('handled by the app', 500)
    })
  }
  return {
    fetch: async (request) => app.fetch(request),
    listen: () => listenFetch((request) => app.fetch(request)),
  }
}

function elysiaApp(store: SessionStore, handling: Handling, seen: Seen[], adapter?: unknown) {
  const base = new Elysia(adapter ? { adapter: adapter as never } : {}).use(
    elysiaSession({ secret: SECRET, store }),
  )
  const withErrors =
    handling === 'recipe'
      ? base.onError(elysiaRecipe)
      : handling === 'observe'
        ? base.onError(({ error, code }) => {
            seen.push({ error, code })
            return new Response('handled by the app', { status: 500 })
          })
        : base
  return withErrors
    .get('/login', ({ session }) => routes.login(session))
    .get('/me', ({ session }) => routes.me(session))
    .get('/date', ({ session }) => routes.date(session))
}

function elysiaBuilt(store: SessionStore, handling: Handling, seen: Seen[]): Built {
  const app = elysiaApp(store, handling, seen)
  return {
    fetch: (request) => app.handle(request),
    listen: async () => listenElysia(elysiaApp(store, handling, seen, await serverAdapter())),
  }
}

function fetchApp(store: SessionStore, handling: Handling, seen: Seen[]): Built {
  const handler = (request: Request, s: Session) => {
    const path = new URL(request.url).pathname.slice(1) as keyof typeof routes
    return new Response(routes[path](s))
  }
  let fetch: (request: Request) => Promise<Response>
  if (handling === 'default') fetch = withSession({ secret: SECRET, store }, handler)
  else if (handling === 'recipe')
    fetch = fetchRecipe(createSessionHandler({ secret: SECRET, store }), handler)
  else {
    const sessions = createSessionHandler({ secret: SECRET, store })
    fetch = async (request) => {
      try {
        const s = await sessions.getSession(request)
        return await sessions.commitSession(s, await handler(request, s))
      } catch (error) {
        seen.push({ error, code: (error as SessionError).code })
        return new Response('handled by the app', { status: 500 })
      }
    }
  }
  return { fetch, listen: () => listenFetch(fetch) }
}

const adapters = { hono: honoApp, elysia: elysiaBuilt, fetch: fetchApp } as const

/** Logs in (with the store working) and answers the session cookie. */
async function login(app: Built): Promise<string> {
  const res = await app.fetch(new Request('http://localhost/login'))
  expect(res.status).toBe(200)
  return res.headers.getSetCookie()[0]!.split(';')[0]!
}

/** Asserts `res` is the generic 500 and carries nothing of the error. */
async function expectGeneric(res: Response): Promise<void> {
  const body = await res.text()
  expect(res.status).toBe(500)
  expect(body).toBe('Internal Server Error')
  expect(res.headers.getSetCookie()).toEqual([])
  const headers = JSON.stringify([...res.headers])
  for (const word of NEVER) {
    expect(body).not.toContain(word)
    expect(headers).not.toContain(word)
  }
}

for (const [name, build] of Object.entries(adapters)) {
  for (const kind of ['async', 'Map'] as const) {
    describe(`${name}: session errors, ${kind === 'Map' ? 'a Map store' : 'an async store'}`, () => {
      let muted: ReturnType<typeof muteConsole>
      beforeEach(() => {
        muted = muteConsole()
      })
      afterEach(() => muted.restore())
      const errorsLogged = () =>
        (console.error as unknown as { mock: { calls: unknown[][] } }).mock.calls.map((c) => c[0])

      it('by default, a store failing on load or commit, or non-JSON data, answers a generic 500 and logs the error once', async () => {
        const { failing, store } = flaky(kind)
        const app = build(store, 'default', [])
        const cookie = await login(app)

        failing.add('get')
        await expectGeneric(
          await app.fetch(new Request('http://localhost/me', { headers: { cookie } })),
        )
        failing.clear()
        // A new session's first write.
        failing.add('set')
        await expectGeneric(await app.fetch(new Request('http://localhost/login')))
        failing.clear()
        await expectGeneric(
          await app.fetch(new Request('http://localhost/date', { headers: { cookie } })),
        )

        // The developer gets each error, class and all, once.
        const logged = errorsLogged()
        expect(logged).toHaveLength(3)
        expect(logged[0]).toBeInstanceOf(SessionStoreError)
        expect((logged[0] as SessionStoreError).operation).toBe('get')
        expect((logged[0] as SessionStoreError).message).toContain('ECONNREFUSED')
        expect((logged[1] as SessionStoreError).operation).toBe('set')
        expect(logged[2]).toBeInstanceOf(SessionDataError)
        // The store recovers: the session the client holds was never lost.
        const me = await app.fetch(new Request('http://localhost/me', { headers: { cookie } }))
        expect(await me.text()).toBe('u1')
      })

      it("the app's error handler sees the error with its class and code, and its answer is sent", async () => {
        const { failing, store } = flaky(kind)
        const seen: Seen[] = []
        const app = build(store, 'observe', seen)
        const cookie = await login(app)
        failing.add('get')
        const res = await app.fetch(new Request('http://localhost/me', { headers: { cookie } }))
        expect(res.status).toBe(500)
        expect(await res.text()).toBe('handled by the app')
        expect(seen).toHaveLength(1)
        expect(seen[0]!.error).toBeInstanceOf(SessionStoreError)
        expect(seen[0]!.code).toBe('ERR_SESSION_STORE')
        expect((seen[0]!.error as SessionStoreError).operation).toBe('get')
        expect(((seen[0]!.error as Error).cause as Error).message).toBe(LEAK)
        // Answered by the app: nothing logged by us.
        expect(errorsLogged()).toEqual([])
      })

      it('the documented 503 recipe answers store outages with 503 and Retry-After, nothing else', async () => {
        const { failing, store } = flaky(kind)
        const app = build(store, 'recipe', [])
        const cookie = await login(app)
        for (const [op, path, headers] of [
          ['get', '/me', { cookie }],
          ['set', '/login', {}],
        ] as const) {
          failing.add(op)
          const res = await app.fetch(new Request(`http://localhost${path}`, { headers }))
          failing.clear()
          expect(res.status).toBe(503)
          expect(res.headers.get('retry-after')).toBe('5')
          const body = await res.text()
          expect(body).toBe('Service Unavailable')
          expect(res.headers.getSetCookie()).toEqual([])
          for (const word of NEVER) {
            expect(body).not.toContain(word)
            expect(JSON.stringify([...res.headers])).not.toContain(word)
          }
        }
        // Other session errors are not outages: Hono's and Elysia's recipes leave them the
        // generic 500; the fetch recipe rethrows them to the server.
        const date = new Request('http://localhost/date', { headers: { cookie } })
        if (name === 'fetch') await expect(app.fetch(date)).rejects.toBeInstanceOf(SessionDataError)
        else await expectGeneric(await app.fetch(date))
      })
    })
  }

  it(`${name}: over real HTTP, a failing store answers the generic 500`, async () => {
    const muted = muteConsole()
    const { failing, store } = flaky('async')
    const served = await build(store, 'default', []).listen!()
    try {
      const first = await fetch(`${served.base}/login`)
      const cookie = first.headers.getSetCookie()[0]!.split(';')[0]!
      failing.add('get')
      const res = await fetch(`${served.base}/me`, { headers: { cookie } })
      await expectGeneric(res)
      expect(muted.calls().error).toBe(1)
    } finally {
      muted.restore()
      await served.close()
    }
  })
}
