// The ways a Hono handler reaches its session: c.session, c.get/c.set('session'), c.var.session.
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { Jar, SECRET, setCookies } from './support.ts'

const CLEARED =
  'sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax'

function createApp() {
  const app = new Hono()
  app.use(session({ secret: SECRET }))
  app.post('/seed', (c) => {
    c.session.userId = 'u1'
    c.session.theme = 'dark'
    return c.body(null, 204)
  })
  app.get('/data', (c) => c.json({ isNew: c.session.isNew, data: c.session.toJSON() }))
  return app
}

async function seeded(app: Hono) {
  const jar = new Jar()
  await jar.request(app, '/seed', { method: 'POST' })
  return jar
}

const data = async (app: Hono, jar: Jar) =>
  (await (await jar.request(app, '/data')).json()) as { isNew: boolean; data: unknown }

describe('context access', () => {
  it('c.get("session") and c.var.session are the same object as c.session', async () => {
    const app = createApp()
    app.get('/same', (c) => {
      const s = c.session
      return c.json([c.get('session') === s, c.var.session === s, c.session === s])
    })
    expect(await (await app.request('http://localhost/same')).json()).toEqual([true, true, true])
  })

  it('a write through c.get("session") is persisted like one through c.session', async () => {
    const app = createApp()
    app.post('/via-get', (c) => {
      const s = c.get('session')!
      s.viaGet = 1
      c.var.session!.viaVar = 2
      return c.json(c.session.toJSON())
    })
    const jar = await seeded(app)
    const res = await jar.request(app, '/via-get', { method: 'POST' })
    expect(setCookies(res)).toHaveLength(1)
    const expected = { userId: 'u1', theme: 'dark', viaGet: 1, viaVar: 2 }
    expect(await res.json()).toEqual(expected)
    expect((await data(app, jar)).data).toEqual(expected)
  })

  it('a route module mounted with app.route(): c.get("session") is the session, and c.session = null (the typed way to end it) clears the cookie', async () => {
    const app = createApp()
    const account = new Hono()
      .get('/same', (c) => c.json([c.get('session') === c.session, c.get('session').userId]))
      .post('/logout', (c) => {
        c.session = null
        return c.body(null, 204)
      })
    app.route('/account', account)
    const jar = await seeded(app)
    expect(await (await jar.request(app, '/account/same')).json()).toEqual([true, 'u1'])
    const res = await jar.request(app, '/account/logout', { method: 'POST' })
    expect(res.headers.getSetCookie()).toEqual([CLEARED])
    expect(await data(app, jar)).toEqual({ isNew: true, data: {} })
  })

  it('c.set("session", null) destroys the session and clears the cookie', async () => {
    const app = createApp()
    app.post('/logout', (c) => {
      c.set('session', null as never) // typed as a session; untyped code may still pass null
      return c.body(null, 204)
    })
    const jar = await seeded(app)
    const res = await jar.request(app, '/logout', { method: 'POST' })
    expect(res.headers.getSetCookie()).toEqual([CLEARED])
    expect(await data(app, jar)).toEqual({ isNew: true, data: {} })
  })

  it('after c.set("session", null), c.session is empty and new writes start a fresh session', async () => {
    const app = createApp()
    app.post('/switch', (c) => {
      const oldId = c.session.id
      c.set('session', null as never) // typed as a session; untyped code may still pass null
      const empty = c.session.toJSON()
      c.session.userId = 'u2'
      return c.json({ empty, changedId: c.session.id !== oldId })
    })
    const jar = await seeded(app)
    const res = await jar.request(app, '/switch', { method: 'POST' })
    expect(await res.json()).toEqual({ empty: {}, changedId: true })
    expect(setCookies(res)[0]?.value).toMatch(/^Fe26\.2\*/)
    expect((await data(app, jar)).data).toEqual({ userId: 'u2' })
  })

  it('c.session = { a: 1 } replaces the data', async () => {
    const app = createApp()
    app.post('/replace', (c) => {
      c.session = { a: 1 }
      return c.json(c.session.toJSON())
    })
    const jar = await seeded(app)
    const res = await jar.request(app, '/replace', { method: 'POST' })
    expect(await res.json()).toEqual({ a: 1 })
    expect(setCookies(res)).toHaveLength(1)
    expect(await data(app, jar)).toEqual({ isNew: false, data: { a: 1 } })
  })

  it('c.set("session", { … }) replaces the data too', async () => {
    const app = createApp()
    app.post('/replace', (c) => {
      c.set('session', { theme: 'light' } as any)
      return c.body(null, 204)
    })
    const jar = await seeded(app)
    await jar.request(app, '/replace', { method: 'POST' })
    expect((await data(app, jar)).data).toEqual({ theme: 'light' })
  })

  it('replacing the data with an equal copy is no change', async () => {
    const app = createApp()
    app.post('/same', (c) => {
      c.session = { userId: 'u1', theme: 'dark' }
      return c.json(c.session.hasChanged)
    })
    app.post('/self', (c) => {
      const same = c.session
      c.session = same
      return c.json(c.session.hasChanged)
    })
    const jar = await seeded(app)
    for (const path of ['/same', '/self']) {
      const res = await jar.request(app, path, { method: 'POST' })
      expect(await res.json()).toBe(false)
      expect(res.headers.getSetCookie()).toEqual([])
    }
  })

  it('a handler returning Response.redirect() (immutable headers) still gets its Set-Cookie', async () => {
    const app = createApp()
    app.post('/login', (c) => {
      c.session.userId = 'u-redirect'
      return Response.redirect('http://localhost/data', 302)
    })
    const jar = new Jar()
    const res = await jar.request(app, '/login', { method: 'POST' })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('http://localhost/data')
    const cookies = setCookies(res)
    expect(cookies.map((c) => c.name)).toEqual(['sid'])
    expect((await data(app, jar)).data).toEqual({ userId: 'u-redirect' })
  })

  it('a handler returning Response.redirect() after logout still clears the cookie', async () => {
    const app = createApp()
    app.post('/logout', (c) => {
      c.session = null
      return Response.redirect('http://localhost/', 303)
    })
    const jar = await seeded(app)
    const res = await jar.request(app, '/logout', { method: 'POST' })
    expect(res.status).toBe(303)
    expect(res.headers.getSetCookie()).toEqual([CLEARED])
  })

  it('keeps Set-Cookie headers the handler added itself', async () => {
    const app = createApp()
    app.post('/both', (c) => {
      c.session.userId = 'u3'
      c.header('set-cookie', 'other=1; Path=/', { append: true })
      return c.text('ok')
    })
    const res = await new Jar().request(app, '/both', { method: 'POST' })
    expect(
      setCookies(res)
        .map((c) => c.name)
        .sort(),
    ).toEqual(['other', 'sid'])
  })

  it('session() on different apps with different cookie names do not interfere', async () => {
    const shop = new Hono()
    shop.use(session({ secret: SECRET, cookieName: 'shop_sid' }))
    shop.post('/add', (c) => {
      c.session.cart = [...(c.session.cart ?? []), c.req.query('sku')]
      return c.body(null, 204)
    })
    shop.get('/', (c) => c.json(c.session.toJSON()))

    const admin = new Hono()
    admin.use(session({ secret: SECRET, cookieName: 'admin_sid' }))
    admin.post('/login', (c) => {
      c.session.admin = true
      return c.body(null, 204)
    })
    admin.get('/', (c) => c.json(c.session.toJSON()))

    const jar = new Jar()
    const added = await jar.request(shop, '/add?sku=a', { method: 'POST' })
    expect(setCookies(added).map((c) => c.name)).toEqual(['shop_sid'])
    const logged = await jar.request(admin, '/login', { method: 'POST' })
    expect(setCookies(logged).map((c) => c.name)).toEqual(['admin_sid'])
    await jar.request(shop, '/add?sku=b', { method: 'POST' })

    // The jar sends both cookies to both apps; each reads only its own.
    expect(jar.cookies.size).toBe(2)
    const shopRead = await jar.request(shop, '/')
    expect(await shopRead.json()).toEqual({ cart: ['a', 'b'] })
    expect(shopRead.headers.getSetCookie()).toEqual([])
    const adminRead = await jar.request(admin, '/')
    expect(await adminRead.json()).toEqual({ admin: true })
    expect(adminRead.headers.getSetCookie()).toEqual([])
  })
})
