// Elysia's csrf() and the order routes are registered in: Elysia runs a beforeHandle hook only on
// routes registered after it, so the origin check lives in onRequest (every route, either
// order, a parent app's too) and the token check, which needs the session and the parsed form,
// refuses to be used after unsafe routes that it would not reach. Runs under Node and Bun.
import { Elysia } from 'elysia'
import { describe, expect, it } from 'vitest'
import { session } from '../src/adapters/elysia.ts'
import { csrf, csrfToken } from '../src/adapters/elysia-csrf.ts'
import { SessionConfigError } from '../src/core/errors.ts'
import { muteConsole } from './quiet-console.ts'
import { Jar, SECRET } from './support.ts'

const CROSS_SITE = { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }
const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin', origin: 'http://localhost' }

type App = { handle(request: Request): Promise<Response> }
const target = (app: App) => ({
  request: (url: string, init?: RequestInit) => app.handle(new Request(url, init)),
})

async function post(app: App, path: string, headers: Record<string, string>, body?: BodyInit) {
  const res = await app.handle(
    new Request(`http://localhost${path}`, { method: 'POST', headers, body }),
  )
  return { status: res.status, text: await res.text() }
}

describe('elysia csrf() without token: the origin check covers every route, whatever the order', () => {
  it('routes before session(), between session() and csrf(), and after csrf() all get 403 cross-site', async () => {
    const ran: string[] = []
    const act = (name: string) => () => {
      ran.push(name)
      return name
    }
    const app = new Elysia()
      .post('/before-session', act('before-session'))
      .use(session({ secret: SECRET }))
      .post('/before-csrf', act('before-csrf'))
      .use(csrf())
      .post('/after', act('after'))
    for (const path of ['/before-session', '/before-csrf', '/after']) {
      expect(await post(app, path, CROSS_SITE)).toEqual({ status: 403, text: 'Forbidden' })
    }
    expect(ran).toEqual([])
    for (const path of ['/before-session', '/before-csrf', '/after']) {
      expect((await post(app, path, SAME_ORIGIN)).status).toBe(200)
    }
    expect(ran).toEqual(['before-session', 'before-csrf', 'after'])
  })

  it('inside a plugin, it also covers the parent app’s routes registered before the plugin', async () => {
    let ran = 0
    const guarded = new Elysia().use(csrf()).post('/inner', () => 'inner')
    const app = new Elysia()
      .post('/early', () => {
        ran++
        return 'early'
      })
      .use(guarded)
    expect((await post(app, '/early', CROSS_SITE)).status).toBe(403)
    expect((await post(app, '/inner', CROSS_SITE)).status).toBe(403)
    expect(ran).toBe(0)
  })
})

describe('elysia csrf({ token: true }) and route order', () => {
  it('refuses to be used after unsafe routes it would not check, naming them', () => {
    const build = () =>
      new Elysia()
        .use(session({ secret: SECRET }))
        .post('/transfer', () => 'sent')
        .put('/profile', () => 'saved')
        .use(csrf({ token: true }))
    let caught: unknown
    try {
      build()
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(SessionConfigError)
    const issues = (caught as SessionConfigError).issues
    expect(issues).toHaveLength(1)
    expect(issues[0]!.path).toBe('token')
    expect(issues[0]!.message).toContain('POST /transfer, PUT /profile')
    expect(issues[0]!.message).toContain('must be used before the routes it protects')
    // An `all()` route and routes of a plugin used before it count too.
    expect(() =>
      new Elysia()
        .use(session({ secret: SECRET }))
        .all('/any', () => 'x')
        .use(csrf({ token: true })),
    ).toThrow(/ALL \/any/)
    expect(() =>
      new Elysia()
        .use(session({ secret: SECRET }))
        .use(new Elysia().patch('/plugged', () => 'x'))
        .use(csrf({ token: true })),
    ).toThrow(/PATCH \/plugged/)
  })

  it('safe routes before it are fine: they never need a token', async () => {
    const app = new Elysia()
      .use(session({ secret: SECRET }))
      .get('/form', ({ session }) => csrfToken(session))
      .head('/ping', () => '')
      .use(csrf({ token: true }))
      .post('/act', () => 'ok')
    const jar = new Jar()
    const token = await (await jar.request(target(app), '/form')).text()
    const res = await jar.request(target(app), '/act', {
      method: 'POST',
      headers: { 'x-csrf-token': token, ...CROSS_SITE },
    })
    expect(res.status).toBe(200)
  })

  for (const order of ['session() then csrf()', 'csrf() then session()'] as const) {
    it(`${order}: routes after both need the origin or a valid token, and still read the form`, async () => {
      let ran = 0
      const base = new Elysia()
      const both =
        order === 'session() then csrf()'
          ? base.use(session({ secret: SECRET })).use(csrf({ token: true }))
          : base.use(csrf({ token: true })).use(session({ secret: SECRET }))
      const app = both
        .get('/form', ({ session }) => csrfToken(session))
        .post('/act', ({ body }) => {
          ran++
          const amount = (body as Record<string, unknown> | undefined)?.amount
          return amount === undefined ? 'ok' : `ok ${String(amount)}`
        })
      const jar = new Jar()
      const token = await (await jar.request(target(app), '/form')).text()
      const send = async (headers: Record<string, string>, body?: BodyInit) => {
        const res = await jar.request(target(app), '/act', { method: 'POST', headers, body })
        return { status: res.status, text: await res.text() }
      }
      // Cross-site without a token, or with a wrong one: refused before the handler.
      expect(await send(CROSS_SITE)).toEqual({ status: 403, text: 'Forbidden' })
      // A different last character (an 'A' in place of an 'A' was the same token: 1 run in 64).
      const wrong = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`
      expect(await send({ ...CROSS_SITE, 'x-csrf-token': wrong })).toEqual({
        status: 403,
        text: 'Forbidden',
      })
      expect(await send({}, new URLSearchParams({ amount: '1' }))).toEqual({
        status: 403,
        text: 'Forbidden',
      })
      expect(ran).toBe(0)
      // With the token (header or form field), or from the same origin: through.
      expect(await send({ ...CROSS_SITE, 'x-csrf-token': token })).toEqual({
        status: 200,
        text: 'ok',
      })
      expect(await send({}, new URLSearchParams({ _csrf: token, amount: '7' }))).toEqual({
        status: 200,
        text: 'ok 7',
      })
      expect(await send(SAME_ORIGIN)).toEqual({ status: 200, text: 'ok' })
      expect(ran).toBe(3)
    })
  }

  it('a route between csrf() and session() fails closed: a refused origin is a 500, never the handler', async () => {
    let ran = 0
    const errors: unknown[] = []
    const app = new Elysia()
      .onError(({ error }) => {
        errors.push(error)
      })
      .use(csrf({ token: true }))
      .post('/between', () => {
        ran++
        return 'ran'
      })
      .use(session({ secret: SECRET }))
    const muted = muteConsole()
    let logged: number
    let res: Awaited<ReturnType<typeof post>>
    try {
      res = await post(app, '/between', CROSS_SITE)
      logged = muted.calls().error
    } finally {
      muted.restore()
    }
    expect(logged).toBe(1)
    expect(res.status).toBe(500)
    // The generic answer: the app saw the error, the client sees nothing of it.
    expect(res.text).toBe('Internal Server Error')
    expect(ran).toBe(0)
    expect((errors[0] as { code?: string }).code).toBe('ERR_SESSION_MISSING')
    // The origin check alone still lets same-origin requests through.
    expect((await post(app, '/between', SAME_ORIGIN)).status).toBe(200)
  })

  it('inside a plugin, the parent’s routes registered after the plugin get the token check too', async () => {
    let ran = 0
    const guarded = new Elysia()
      .use(session({ secret: SECRET }))
      .use(csrf({ token: true }))
      .post('/inner', () => 'inner')
    const app = new Elysia().use(guarded).post('/later', () => {
      ran++
      return 'later'
    })
    expect((await post(app, '/inner', CROSS_SITE)).status).toBe(403)
    expect((await post(app, '/later', CROSS_SITE)).status).toBe(403)
    expect(ran).toBe(0)
  })
})
