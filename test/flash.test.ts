// Flash values: readable on exactly the next request, kept longer only by reflash() or a plain write.
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { Jar, SECRET, setCookies } from './support.ts'

function createApp() {
  const app = new Hono()
  app.use(session({ secret: SECRET }))
  app.post('/flash', (c) => {
    c.session.flash('notice', 'hi')
    return c.body(null, 204)
  })
  app.post('/flash-many', (c) => {
    c.session.flash('notice', 'hi')
    c.session.flash('error', { field: 'name', message: 'required' })
    return c.body(null, 204)
  })
  app.get('/', (c) => c.json({ data: c.session.toJSON(), hasChanged: c.session.hasChanged }))
  app.get('/reflash', (c) => {
    c.session.reflash()
    return c.json({ data: c.session.toJSON(), hasChanged: c.session.hasChanged })
  })
  app.post('/keep', (c) => {
    const notice = c.session.notice
    c.session.notice = notice
    return c.json({ data: c.session.toJSON() })
  })
  app.post('/login', (c) => {
    c.session.userId = 'u1'
    c.session.flash('notice', 'Welcome back')
    return c.redirect('/home', 303)
  })
  app.get('/home', (c) => c.text(`${c.session.notice ?? '-'} ${c.session.userId ?? 'anon'}`))
  return app
}

const read = async (app: Hono, jar: Jar) => {
  const res = await jar.request(app, '/')
  const body = (await res.json()) as { data: Record<string, unknown>; hasChanged: boolean }
  return { res, ...body }
}

describe('flash', () => {
  it('is readable on exactly the next request, then gone', async () => {
    const app = createApp()
    const jar = new Jar()
    const set = await jar.request(app, '/flash', { method: 'POST' })
    expect(setCookies(set)).toHaveLength(1)

    const next = await read(app, jar)
    expect(next.data).toEqual({ notice: 'hi' })
    // Consuming the flash changes the session: the response rewrites the cookie without it.
    expect(next.hasChanged).toBe(true)
    expect(setCookies(next.res)).toHaveLength(1)
    expect(setCookies(next.res)[0]?.value).toMatch(/^Fe26\.2\*/)

    const after = await read(app, jar)
    expect(after.data).toEqual({})
    expect(after.hasChanged).toBe(false)
    expect(after.res.headers.getSetCookie()).toEqual([])
  })

  it('the consuming response is what removes it: replaying the old cookie shows it again', async () => {
    const app = createApp()
    const jar = new Jar()
    await jar.request(app, '/flash', { method: 'POST' })
    const withFlash = jar.header()
    await read(app, jar)
    expect(jar.header()).not.toBe(withFlash)
    const replay = await app.request('http://localhost/', { headers: { cookie: withFlash } })
    expect(((await replay.json()) as any).data).toEqual({ notice: 'hi' })
  })

  it('is readable in the request that set it', async () => {
    const app = new Hono()
    app.use(session({ secret: SECRET }))
    app.get('/', (c) => {
      c.session.flash('notice', 'now')
      return c.text(String(c.session.notice))
    })
    const res = await app.request('http://localhost/')
    expect(await res.text()).toBe('now')
  })

  it('handles several flash values and keeps ordinary keys', async () => {
    const app = createApp()
    const jar = new Jar()
    await jar.request(app, '/login', { method: 'POST' })
    await jar.request(app, '/home')
    await jar.request(app, '/flash-many', { method: 'POST' })
    expect((await read(app, jar)).data).toEqual({
      userId: 'u1',
      notice: 'hi',
      error: { field: 'name', message: 'required' },
    })
    expect((await read(app, jar)).data).toEqual({ userId: 'u1' })
  })

  it('reflash() keeps every flash value exactly one more request', async () => {
    const app = createApp()
    const jar = new Jar()
    await jar.request(app, '/flash-many', { method: 'POST' })

    const kept = await jar.request(app, '/reflash')
    expect(((await kept.json()) as any).data).toEqual({
      notice: 'hi',
      error: { field: 'name', message: 'required' },
    })

    const once = await read(app, jar)
    expect(once.data).toEqual({ notice: 'hi', error: { field: 'name', message: 'required' } })
    expect(setCookies(once.res)).toHaveLength(1)

    const gone = await read(app, jar)
    expect(gone.data).toEqual({})
  })

  it('reflash() twice keeps them two more requests', async () => {
    const app = createApp()
    const jar = new Jar()
    await jar.request(app, '/flash', { method: 'POST' })
    await jar.request(app, '/reflash')
    const second = await jar.request(app, '/reflash')
    expect(((await second.json()) as any).data).toEqual({ notice: 'hi' })
    expect((await read(app, jar)).data).toEqual({ notice: 'hi' })
    expect((await read(app, jar)).data).toEqual({})
  })

  it('reflash() with nothing flashed changes nothing', async () => {
    const app = createApp()
    const jar = new Jar()
    await jar.request(app, '/login', { method: 'POST' })
    await jar.request(app, '/home')
    const res = await jar.request(app, '/reflash')
    expect(((await res.json()) as any).hasChanged).toBe(false)
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('assigning a flashed key plainly makes it permanent', async () => {
    const app = createApp()
    const jar = new Jar()
    await jar.request(app, '/flash', { method: 'POST' })
    const keep = await jar.request(app, '/keep', { method: 'POST' })
    expect(((await keep.json()) as any).data).toEqual({ notice: 'hi' })
    expect((await read(app, jar)).data).toEqual({ notice: 'hi' })
    expect((await read(app, jar)).data).toEqual({ notice: 'hi' })
  })

  it('flashing an existing ordinary key turns it into a flash value', async () => {
    const app = new Hono()
    app.use(session({ secret: SECRET }))
    app.post('/set', (c) => {
      c.session.notice = 'plain'
      return c.body(null, 204)
    })
    app.post('/flash', (c) => {
      c.session.flash('notice', 'flashed')
      return c.body(null, 204)
    })
    app.get('/', (c) => c.json(c.session.toJSON()))
    const jar = new Jar()
    await jar.request(app, '/set', { method: 'POST' })
    await jar.request(app, '/flash', { method: 'POST' })
    expect(await (await jar.request(app, '/')).json()).toEqual({ notice: 'flashed' })
    expect(await (await jar.request(app, '/')).json()).toEqual({})
  })

  it('survives a redirect: login flashes, the redirected page shows it once', async () => {
    const app = createApp()
    const jar = new Jar()
    const res = await jar.request(app, '/login', { method: 'POST' })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/home')
    expect(setCookies(res)).toHaveLength(1)

    expect(await (await jar.request(app, '/home')).text()).toBe('Welcome back u1')
    expect(await (await jar.request(app, '/home')).text()).toBe('- u1')
  })

  it('counts every request through the middleware, even one that never reads the session', async () => {
    const app = createApp()
    app.get('/elsewhere', (c) => c.text('x'))
    const jar = new Jar()
    await jar.request(app, '/flash', { method: 'POST' })
    await jar.request(app, '/elsewhere')
    expect((await read(app, jar)).data).toEqual({})
  })
})
