// What the fetch adapter does beyond the shared contract: immutable responses, server
// arguments, the getSession/commitSession pair and bearer transport.
import { describe, expect, it } from 'vitest'
import { createSessionHandler, type FetchContext, withSession } from '../../src/adapters/fetch.ts'
import { SessionError } from '../../src/core/errors.ts'
import type { Session, SessionStore } from '../../src/core/types.ts'
import { Jar, OLD_SECRET, SECRET, setCookies } from '../support.ts'

type Data = { userId?: string; notice?: string }

/** `Jar.request` wants `request(url, init)`; this is any fetch handler called in-process. */
const requestable = (fetch: (request: Request) => Promise<Response>) => ({
  request: (url: string, init?: RequestInit) => fetch(new Request(url, init)),
})

/** A response whose headers refuse changes on every runtime (Bun's redirect headers do not). */
function immutableResponse(body: string, init: ResponseInit): Response {
  const res = new Response(body, init)
  const frozen = new Headers(res.headers)
  for (const method of ['append', 'set', 'delete'] as const) {
    Object.defineProperty(frozen, method, {
      value: () => {
        throw new TypeError('immutable')
      },
    })
  }
  Object.defineProperty(res, 'headers', { value: frozen })
  return res
}

describe('withSession', () => {
  it('adds Set-Cookie to a Response.redirect()', async () => {
    const handler = withSession<Data>({ secret: SECRET }, (_request, session) => {
      session.userId = 'u1'
      return Response.redirect('http://localhost/home', 303)
    })
    const res = await handler(new Request('http://localhost/login', { method: 'POST' }))
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('http://localhost/home')
    const [cookie, ...more] = setCookies(res)
    expect(more).toEqual([])
    expect(cookie?.name).toBe('sid')
    expect(cookie?.value).toMatch(/^Fe26\.2\*/)
  })

  it('answers a copy, body and headers kept, when the response headers are immutable', async () => {
    const original = immutableResponse('moved', {
      status: 302,
      statusText: 'Found',
      headers: { location: '/next', 'x-kept': 'yes' },
    })
    const handler = withSession<Data>({ secret: SECRET }, (_request, session) => {
      session.notice = 'hi'
      return original
    })
    const res = await handler(new Request('http://localhost/'))
    expect(res).not.toBe(original)
    expect(res.status).toBe(302)
    expect(res.statusText).toBe('Found')
    expect(res.headers.get('location')).toBe('/next')
    expect(res.headers.get('x-kept')).toBe('yes')
    expect(await res.text()).toBe('moved')
    expect(setCookies(res).map((c) => c.name)).toEqual(['sid'])
  })

  it('returns the handler response itself when nothing changed', async () => {
    const original = new Response('same')
    const handler = withSession<Data>({ secret: SECRET }, () => original)
    const res = await handler(new Request('http://localhost/'))
    expect(res).toBe(original)
    expect(res.headers.get('set-cookie')).toBeNull()
  })

  it('passes Workers-style env and ctx to the handler and the store', async () => {
    type Env = { GREETING: string }
    type Ctx = { waitUntil(p: Promise<unknown>): void }
    const seen: unknown[][] = []
    const map = new Map<string, unknown>()
    const store: SessionStore<FetchContext<[Env, Ctx]>> = {
      get: (id, ctx) => {
        seen.push(['get', ctx.request.url, ...ctx.args])
        return map.get(id)
      },
      set: (id, record, ctx) => {
        seen.push(['set', ctx.request.url, ...ctx.args])
        map.set(id, record)
      },
      delete: (id) => map.delete(id),
    }
    const worker = {
      fetch: withSession<Data, [Env, Ctx]>({ secret: SECRET, store }, (_req, session, env, ctx) => {
        ctx.waitUntil(Promise.resolve())
        session.userId ??= env.GREETING
        return new Response(session.userId)
      }),
    }
    const env: Env = { GREETING: 'hello' }
    const ctx: Ctx = { waitUntil: () => {} }
    const jar = new Jar()
    const app = requestable((request) => worker.fetch(request, env, ctx))
    expect(await (await jar.request(app, '/a')).text()).toBe('hello')
    expect(await (await jar.request(app, '/b')).text()).toBe('hello')
    expect(seen).toEqual([
      ['set', 'http://localhost/a', env, ctx],
      ['get', 'http://localhost/b', env, ctx],
    ])
    expect(seen[0]?.[2]).toBe(env)
    expect(seen[0]?.[3]).toBe(ctx)
  })

  it('passes every server argument through, whatever their number', async () => {
    const received: unknown[] = []
    const handler = withSession({ secret: SECRET }, (_request, _session, ...args: unknown[]) => {
      received.push(...args)
      return new Response('ok')
    })
    const server = { upgrade: () => false }
    await handler(new Request('http://localhost/'), server)
    await handler(new Request('http://localhost/'))
    expect(received).toEqual([server])
    expect(received[0]).toBe(server)
  })

  it('commits nothing when the handler throws, and rethrows its error', async () => {
    const map = new Map<string, unknown>()
    const failure = new Error('boom')
    const handler = withSession<Data>({ secret: SECRET, store: map }, async (request, session) => {
      session.userId = 'u1'
      if (new URL(request.url).pathname === '/throw') throw failure
      return new Response('ok')
    })
    const jar = new Jar()
    const app = requestable(handler)
    await jar.request(app, '/login')
    expect(map.size).toBe(1)
    const [id] = map.keys()
    const before = JSON.stringify(map.get(id!))
    const cookie = jar.header()
    await expect(jar.request(app, '/throw')).rejects.toBe(failure)
    expect(jar.header()).toBe(cookie)
    expect(map.size).toBe(1)
    expect(JSON.stringify(map.get(id!))).toBe(before)
  })

  it('reads and answers the session as a bearer token with transport: header', async () => {
    const handler = withSession<Data>(
      { secret: SECRET, transport: 'header' },
      async (request, session) => {
        if (request.method === 'POST') {
          await session.regenerate()
          session.userId = 'u1'
        }
        return Response.json({ userId: session.userId ?? null })
      },
    )
    const login = await handler(new Request('http://localhost/login', { method: 'POST' }))
    expect(login.headers.get('set-cookie')).toBeNull()
    const token = login.headers.get('session-token')
    expect(token).toMatch(/^Fe26\.2\*/)

    const me = await handler(
      new Request('http://localhost/me', { headers: { authorization: `Bearer ${token}` } }),
    )
    expect(await me.json()).toEqual({ userId: 'u1' })
    expect(me.headers.get('session-token')).toBeNull()

    // The same token in a cookie is not read: header transport takes only Authorization.
    const viaCookie = await handler(
      new Request('http://localhost/me', { headers: { cookie: `sid=${token}` } }),
    )
    expect(await viaCookie.json()).toEqual({ userId: null })
  })
})

describe('createSessionHandler', () => {
  it('opens a session with getSession and writes it with commitSession', async () => {
    const sessions = createSessionHandler<Data>({ secret: SECRET })
    const first = await sessions.getSession(new Request('http://localhost/'))
    expect(first.isNew).toBe(true)
    first.userId = 'u1'
    first.flash('notice', 'saved')
    const response = new Response('ok')
    const committed = await sessions.commitSession(first, response)
    expect(committed).toBe(response)
    const [cookie] = setCookies(committed)
    expect(cookie?.name).toBe('sid')
    expect(cookie?.attributes).toMatchObject({ httponly: '', path: '/', samesite: 'Lax' })

    const second = await sessions.getSession(
      new Request('http://localhost/', { headers: { cookie: `sid=${cookie?.value}` } }),
    )
    expect(second.isNew).toBe(false)
    expect(second.userId).toBe('u1')
    expect(second.notice).toBe('saved')
    // Reading the flash consumed it: this commit rewrites the cookie without it.
    const next = setCookies(await sessions.commitSession(second, new Response('ok')))
    expect(next).toHaveLength(1)
    const third = await sessions.getSession(
      new Request('http://localhost/', { headers: { cookie: `sid=${next[0]?.value}` } }),
    )
    expect(third.userId).toBe('u1')
    expect(third.notice).toBeUndefined()
  })

  it('refuses a session it did not open, with a SessionError', async () => {
    const a = createSessionHandler({ secret: SECRET })
    const b = createSessionHandler({ secret: SECRET })
    const session = await a.getSession(new Request('http://localhost/'))
    session.x = 1
    const err = await b.commitSession(session, new Response('')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SessionError)
    expect((err as SessionError).code).toBe('ERR_SESSION_MISSING')
    expect((err as SessionError).message).toContain('did not open with getSession()')

    const plain = { x: 1 } as unknown as Session
    await expect(a.commitSession(plain, new Response(''))).rejects.toBeInstanceOf(SessionError)
  })

  // Issue 13: commitSession accepts a second commit (it refused one before).
  it('commits the same session again: only what changed since, nothing when nothing did', async () => {
    const map = new Map<string, unknown>()
    const writes: string[] = []
    const store = {
      get: (id: string) => map.get(id),
      set: (id: string, record: unknown) => {
        writes.push(id)
        map.set(id, record)
      },
      delete: (id: string) => map.delete(id),
    }
    const sessions = createSessionHandler({ secret: SECRET, store })
    const session = await sessions.getSession(new Request('http://localhost/'))
    session.x = 1
    const first = setCookies(await sessions.commitSession(session, new Response('')))
    expect(first).toHaveLength(1)
    expect(writes).toHaveLength(1)
    // Nothing changed since: no write, no header.
    expect(setCookies(await sessions.commitSession(session, new Response('')))).toHaveLength(0)
    expect(writes).toHaveLength(1)
    session.y = 2
    const again = setCookies(await sessions.commitSession(session, new Response('')))
    // The same store entry, written again; the cookie carries the same signed id.
    expect(writes).toEqual([writes[0], writes[0]])
    expect(again.map((c) => c.value)).toEqual(first.map((c) => c.value))
    expect((map.get(writes[0]!) as { data: unknown }).data).toEqual({ x: 1, y: 2 })
  })

  it('a store session committed to two responses: each carries the cookie the request did not bring', async () => {
    const map = new Map<string, unknown>()
    const old = createSessionHandler({ secret: OLD_SECRET, store: map })
    const login = await old.getSession(new Request('http://localhost/'))
    login.userId = 'u1'
    const [cookie] = setCookies(await old.commitSession(login, new Response('')))
    const sessions = createSessionHandler({ secret: [SECRET, OLD_SECRET], store: map })
    const request = new Request('http://localhost/', {
      headers: { cookie: `${cookie!.name}=${cookie!.value}` },
    })
    const session = await sessions.getSession(request)
    session.x = 1
    // Re-signed with the newest key: set on the first response…
    const [first] = setCookies(await sessions.commitSession(session, new Response('')))
    expect(first?.value).not.toBe(cookie!.value)
    session.y = 2
    // …and on the second too, which may be the one sent: the client still holds the old one.
    const [second] = setCookies(await sessions.commitSession(session, new Response('')))
    expect(second?.value).toBe(first?.value)
  })

  it('hands extra getSession arguments to the store as FetchContext.args', async () => {
    const calls: FetchContext[] = []
    const map = new Map<string, unknown>()
    const sessions = createSessionHandler({
      secret: SECRET,
      store: {
        get: (id) => map.get(id),
        set: (id, record, ctx) => {
          calls.push(ctx)
          map.set(id, record)
        },
        delete: (id) => map.delete(id),
      },
    })
    const request = new Request('http://localhost/')
    const frameworkContext = { locals: {} }
    const session = await sessions.getSession(request, frameworkContext)
    session.x = 1
    await sessions.commitSession(session, new Response(''))
    expect(calls).toHaveLength(1)
    expect(calls[0]?.request).toBe(request)
    expect(calls[0]?.args).toEqual([frameworkContext])
  })
})

describe('types', () => {
  it('types the session from the Data parameter', async () => {
    const handler = withSession<{ userId?: string }>({ secret: SECRET }, (_request, session) => {
      const id: string | undefined = session.userId
      // @ts-expect-error userId is a string
      session.userId = 1
      // @ts-expect-error flash keys are data keys
      session.flash('nope', 'x')
      return new Response(id ?? 'anon')
    })
    // A number is refused only by the types; the session itself takes any JSON.
    expect(await (await handler(new Request('http://localhost/'))).text()).toBe('anon')
  })
})
