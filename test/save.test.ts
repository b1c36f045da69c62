// session.save(): commits now, answers the value the client presents next, keeps the headers for
// the response; later changes are committed again at the end of the request (issue 13).
import { Elysia } from 'elysia'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { session as elysiaSession } from '../src/adapters/elysia.ts'
import { createSessionHandler, withSession } from '../src/adapters/fetch.ts'
import { session } from '../src/adapters/hono.ts'
import type { SessionOptions, SessionStore } from '../src/core/types.ts'
import { Jar, loggingStore, SECRET, setCookies } from './support.ts'

/** A store whose every call waits, so save() really is asynchronous. */
function asyncStore() {
  const inner = loggingStore()
  const later = <T>(f: () => T) => new Promise<T>((r) => setTimeout(() => r(f()), 1))
  const store: SessionStore = {
    get: (id, ctx) => later(() => inner.store.get(id, ctx)),
    set: (id, record, ctx) => later(() => inner.store.set(id, record, ctx)),
    delete: (id, ctx) => later(() => inner.store.delete(id, ctx)),
  }
  return { ...inner, store }
}

function honoApp(options: SessionOptions = {}) {
  const app = new Hono().use(session({ secret: SECRET, ...options }))
  app.get('/', (c) => c.json(c.session.toJSON()))
  return app
}

describe('save() on Hono', () => {
  it('sealed: answers the cookie value this response sets, and the next request opens it', async () => {
    const app = honoApp()
    app.post('/login', async (c) => {
      c.session.userId = 'u1'
      return c.json({ token: await c.session.save() })
    })
    const jar = new Jar()
    const res = await jar.request(app, '/login', { method: 'POST' })
    const { token } = (await res.json()) as { token: string }
    const cookies = setCookies(res)
    expect(cookies).toHaveLength(1)
    expect(typeof token).toBe('string')
    expect(cookies[0]!.value).toBe(token)
    expect(await (await jar.request(app, '/')).json()).toEqual({ userId: 'u1' })
  })

  it('store mode: answers the signed id the cookie carries; the store is written by save()', async () => {
    const { store, calls, map } = loggingStore()
    const app = honoApp({ store })
    let writtenAtSave = -1
    app.post('/login', async (c) => {
      c.session.userId = 'u1'
      const token = await c.session.save()
      writtenAtSave = calls.length
      return c.json({ token, stored: map.size })
    })
    const jar = new Jar()
    const res = await jar.request(app, '/login', { method: 'POST' })
    const body = (await res.json()) as { token: string; stored: number }
    expect(writtenAtSave).toBe(1)
    expect(body.stored).toBe(1)
    expect(setCookies(res).map((c) => c.value)).toEqual([body.token])
    // Nothing changed after save(): the end of the request writes nothing more.
    expect(calls).toHaveLength(1)
    expect(await (await jar.request(app, '/')).json()).toEqual({ userId: 'u1' })
  })

  it('chunked: answers the joined value of the chunks', async () => {
    const app = honoApp({ chunk: true })
    app.post('/big', async (c) => {
      c.session.blob = 'x'.repeat(6000)
      return c.json({ token: await c.session.save() })
    })
    const jar = new Jar()
    const res = await jar.request(app, '/big', { method: 'POST' })
    const { token } = (await res.json()) as { token: string }
    const cookies = setCookies(res)
    expect(cookies.length).toBeGreaterThan(1)
    expect(cookies.map((c) => c.value).join('')).toBe(token)
    expect(((await (await jar.request(app, '/')).json()) as { blob: string }).blob).toHaveLength(
      6000,
    )
  })

  it('header transport: answers the token, which a client then sends as a bearer token', async () => {
    const app = honoApp({ transport: 'header' })
    app.post('/api/login', async (c) => {
      await c.session.regenerate()
      c.session.userId = 'api-user'
      return c.json({ token: await c.session.save() })
    })
    const res = await app.request('/api/login', { method: 'POST' })
    const { token } = (await res.json()) as { token: string }
    expect(token.length).toBeGreaterThan(20)
    // The header carries the same token (one header, not one per commit).
    expect(res.headers.get('session-token')).toBe(token)
    const me = await app.request('/', { headers: { authorization: `Bearer ${token}` } })
    expect(await me.json()).toEqual({ userId: 'api-user' })
  })

  it('after destroy(): null, and the response clears the cookie', async () => {
    const app = honoApp()
    app.post('/login', (c) => {
      c.session.userId = 'u1'
      return c.body(null, 204)
    })
    app.post('/logout', async (c) => {
      c.session.destroy()
      return c.json({ token: await c.session.save() })
    })
    const jar = new Jar()
    await jar.request(app, '/login', { method: 'POST' })
    const res = await jar.request(app, '/logout', { method: 'POST' })
    expect(await res.json()).toEqual({ token: null })
    const cookies = setCookies(res)
    expect(cookies).toHaveLength(1)
    expect(cookies[0]!.attributes['max-age']).toBe('0')
    expect(jar.cookies.size).toBe(0)
  })

  it('changes after save() are committed at the end; the response carries one cookie, the last', async () => {
    const app = honoApp()
    app.post('/two-steps', async (c) => {
      c.session.step = 1
      const first = await c.session.save()
      c.session.step = 2
      c.session.more = true
      return c.json({ first })
    })
    const jar = new Jar()
    const res = await jar.request(app, '/two-steps', { method: 'POST' })
    const { first } = (await res.json()) as { first: string }
    const cookies = setCookies(res)
    expect(cookies).toHaveLength(1)
    expect(cookies[0]!.value).not.toBe(first)
    expect(await (await jar.request(app, '/')).json()).toEqual({ step: 2, more: true })
  })

  it('a session that shrinks after a chunked save(): the stale chunks are cleared', async () => {
    const app = honoApp({ chunk: true })
    app.post('/shrink', async (c) => {
      c.session.blob = 'y'.repeat(6000)
      await c.session.save()
      c.session.blob = 'small'
      return c.body(null, 204)
    })
    const jar = new Jar()
    const res = await jar.request(app, '/shrink', { method: 'POST' })
    const set = setCookies(res).filter((c) => c.attributes['max-age'] !== '0')
    expect(set.map((c) => c.name)).toEqual(['sid'])
    expect([...jar.cookies.keys()]).toEqual(['sid'])
    expect(await (await jar.request(app, '/')).json()).toEqual({ blob: 'small' })
  })

  it('what save() committed stays committed when the handler throws later', async () => {
    const { store, map } = loggingStore()
    const app = honoApp({ store })
    app.onError((_err, c) => c.text('failed', 500))
    app.post('/login-then-fail', async (c) => {
      await c.session.regenerate()
      c.session.userId = 'u1'
      await c.session.save()
      c.session.userId = 'not-saved'
      throw new Error('after save')
    })
    const jar = new Jar()
    const res = await jar.request(app, '/login-then-fail', { method: 'POST' })
    expect(res.status).toBe(500)
    // The store entry of the saved session, and its cookie on the error response.
    expect(map.size).toBe(1)
    expect(setCookies(res)).toHaveLength(1)
    expect(await (await jar.request(app, '/')).json()).toEqual({ userId: 'u1' })
  })

  it('saves in a row, not awaited: each writes in order, the last one wins', async () => {
    const { store, calls, map } = asyncStore()
    const app = honoApp({ store })
    app.post('/burst', async (c) => {
      c.session.n = 1
      const a = c.session.save()
      c.session.n = 2
      const b = c.session.save()
      const tokens = await Promise.all([a, b])
      return c.json({ same: tokens[0] === tokens[1] })
    })
    const jar = new Jar()
    const res = await jar.request(app, '/burst', { method: 'POST' })
    expect(await res.json()).toEqual({ same: true })
    expect(calls.filter((c) => c.startsWith('set'))).toHaveLength(2)
    expect([...map.values()][0].data).toEqual({ n: 2 })
    expect(setCookies(res)).toHaveLength(1)
  })

  it('a failed save() rejects with the store error, and the end of the request tries again', async () => {
    let fail = true
    const { store: inner, map } = loggingStore()
    const store: SessionStore = {
      ...inner,
      set: (id, record, ctx) => {
        if (fail) throw new Error('store down')
        return inner.set(id, record, ctx)
      },
    }
    const app = honoApp({ store })
    app.post('/retry', async (c) => {
      c.session.userId = 'u1'
      const err = await c.session.save().catch((e: unknown) => e)
      fail = false
      return c.json({ code: (err as { code?: string }).code })
    })
    const jar = new Jar()
    const res = await jar.request(app, '/retry', { method: 'POST' })
    expect(await res.json()).toEqual({ code: 'ERR_SESSION_STORE' })
    expect(map.size).toBe(1)
    expect(await (await jar.request(app, '/')).json()).toEqual({ userId: 'u1' })
  })
})

describe('save() on the fetch adapter', () => {
  it('withSession: the handler saves, changes more, and the response carries the final cookie', async () => {
    const handler = withSession({ secret: SECRET }, async (request, s) => {
      if (new URL(request.url).pathname === '/') return Response.json(s.toJSON())
      s.a = 1
      const token = await s.save()
      s.b = 2
      return Response.json({ token })
    })
    const app = { request: (url: string, init?: RequestInit) => handler(new Request(url, init)) }
    const jar = new Jar()
    const res = await jar.request(app, '/login', { method: 'POST' })
    expect(setCookies(res)).toHaveLength(1)
    expect(await (await jar.request(app, '/')).json()).toEqual({ a: 1, b: 2 })
  })

  it('createSessionHandler: save() headers reach commitSession, which may be called twice', async () => {
    const { store, calls } = loggingStore()
    const sessions = createSessionHandler({ secret: SECRET, store })
    const s = await sessions.getSession(new Request('http://localhost/'))
    s.x = 1
    const token = await s.save()
    const res = await sessions.commitSession(s, new Response(''))
    expect(setCookies(res).map((c) => c.value)).toEqual([token])
    expect(calls).toHaveLength(1)
    // A second commit with nothing new: no write, no header.
    expect(setCookies(await sessions.commitSession(s, new Response('')))).toHaveLength(0)
  })
})

describe('save() on Elysia', () => {
  it('answers the cookie value; later changes reach the final cookie', async () => {
    const app = new Elysia()
      .use(elysiaSession({ secret: SECRET }))
      .get('/', ({ session: s }) => s.toJSON())
      .post('/login', async ({ session: s }) => {
        s.userId = 'e1'
        const token = await s.save()
        s.theme = 'dark'
        return { token }
      })
    const client = {
      request: (url: string, init?: RequestInit) => app.handle(new Request(url, init)),
    }
    const jar = new Jar()
    const res = await jar.request(client, '/login', { method: 'POST' })
    const { token } = (await res.json()) as { token: string }
    const cookies = setCookies(res)
    expect(cookies).toHaveLength(1)
    expect(typeof token).toBe('string')
    expect(await (await jar.request(client, '/')).json()).toEqual({ userId: 'e1', theme: 'dark' })
  })

  it('with a store: answers the signed id of the cookie', async () => {
    const { store } = asyncStore()
    const app = new Elysia()
      .use(elysiaSession({ secret: SECRET, store }))
      .post('/login', async ({ session: s }) => {
        s.userId = 'e2'
        return { token: await s.save() }
      })
    const res = await app.handle(new Request('http://localhost/login', { method: 'POST' }))
    const { token } = (await res.json()) as { token: string }
    expect(setCookies(res).map((c) => c.value)).toEqual([token])
  })
})

describe('changes made while a write is in flight are kept', () => {
  const engineOf = async (store: SessionStore) => {
    const { SessionEngine } = await import('../src/core/engine.ts')
    const { requestOf } = await import('./support.ts')
    const engine = new SessionEngine({ secret: SECRET, store })
    const state = await engine.load(requestOf(), undefined)
    return { engine, state }
  }
  const stored = (map: Map<string, any>) => [...map.values()].map((r) => r.data)

  // Failed before issue 13: the first commit's rebase forgot a change made while it waited.
  it('engine: a key set during an async commit is written by the next commit', async () => {
    const { store, map } = asyncStore()
    const { engine, state } = await engineOf(store)
    state.session.a = 1
    const first = engine.commit(state, undefined)
    state.session.late = 2
    await first
    await engine.commit(state, undefined)
    expect(stored(map)).toEqual([{ a: 1, late: 2 }])
  })

  it('a nested change and a flash during an unawaited save() reach the final commit', async () => {
    const { store, map } = asyncStore()
    const { engine, state } = await engineOf(store)
    const s = state.session
    s.cart = { items: [] as string[] }
    const saving = s.save()
    s.cart.items.push('apple')
    s.flash('notice', 'added')
    await saving
    await engine.commit(state, undefined)
    const [record] = [...map.values()]
    // Flash values are kept apart from the data, by key.
    expect(record.data).toEqual({ cart: { items: ['apple'] } })
    expect(record.flash).toEqual({ notice: ['added'] })
  })

  it('destroy() during an unawaited save(): the saved entry is deleted and the cookie cleared', async () => {
    const { store, map, calls } = asyncStore()
    const { engine, state } = await engineOf(store)
    state.session.userId = 'u1'
    const saving = state.session.save()
    state.session.destroy()
    await saving
    const commit = await engine.commit(state, undefined)
    expect(map.size).toBe(0)
    expect(calls.at(-1)).toMatch(/^delete /)
    expect(commit.token).toBeNull()
    expect(commit.headers.map(([, v]) => v).at(-1)).toMatch(/^sid=; Max-Age=0/)
  })

  it('regenerate() during an unawaited save(): the saved id is deleted, the data lives under a new id', async () => {
    const { store, map, calls } = asyncStore()
    const { engine, state } = await engineOf(store)
    state.session.cart = ['a']
    const saving = state.session.save()
    const savedAs = state.id
    await state.session.regenerate()
    state.session.userId = 'u1'
    await saving
    await engine.commit(state, undefined)
    expect(calls).toContain(`delete ${savedAs}`)
    expect([...map.keys()]).not.toContain(savedAs)
    expect(stored(map)).toEqual([{ cart: ['a'], userId: 'u1' }])
  })
})

describe('save() then a throw on Elysia', () => {
  it('the error response carries what save() committed', async () => {
    const { store, map } = loggingStore()
    const app = new Elysia()
      .use(elysiaSession({ secret: SECRET, store }))
      .get('/', ({ session: s }) => s.toJSON())
      .post('/login-then-fail', async ({ session: s }) => {
        await s.regenerate()
        s.userId = 'e3'
        await s.save()
        throw new Error('after save')
      })
    const client = {
      request: (url: string, init?: RequestInit) => app.handle(new Request(url, init)),
    }
    const jar = new Jar()
    const res = await jar.request(client, '/login-then-fail', { method: 'POST' })
    expect(res.status).toBe(500)
    expect(map.size).toBe(1)
    expect(setCookies(res)).toHaveLength(1)
    expect(await (await jar.request(client, '/')).json()).toEqual({ userId: 'e3' })
  })
})
