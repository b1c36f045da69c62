// csrf() for Hono and Elysia: the same-origin check on unsafe methods, and the session-bound
// synchronizer token for HTML forms. One table of cases runs against both adapters in-process.
import { Elysia } from 'elysia'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { session as elysiaSession } from '../src/adapters/elysia.ts'
import { csrf as elysiaCsrf } from '../src/adapters/elysia-csrf.ts'
import { session as honoSession } from '../src/adapters/hono.ts'
import { csrfToken, csrf as honoCsrf, verifyCsrfToken } from '../src/adapters/hono-csrf.ts'
import { CSRF_SESSION_KEY, type CsrfOptions, csrfPolicy } from '../src/core/csrf.ts'
import { SessionConfigError } from '../src/core/errors.ts'
import { SessionState } from '../src/core/state/session-state.ts'
import { Jar, type Requestable, requestOf, SECRET } from './support.ts'

const BASE = 'http://localhost'

interface Built {
  app: Requestable
  /** How many times an unsafe handler ran: a refused request must not reach it. */
  ran: () => number
  errors: unknown[]
}

function buildHono(options: CsrfOptions | undefined, withSession = true): Built {
  let ran = 0
  const errors: unknown[] = []
  const app = new Hono()
  if (withSession) app.use(honoSession({ secret: SECRET }))
  app
    .use(honoCsrf(options))
    .get('/form', (c) => c.text(csrfToken(c.session)))
    .get('/read', (c) => c.text('read'))
    .on(['POST', 'PUT', 'PATCH', 'DELETE'], '/act', async (c) => {
      ran++
      const type = c.req.header('content-type') ?? ''
      if (type.includes('form')) {
        const form = await c.req.parseBody()
        return c.text(`ok ${String(form.amount)}`)
      }
      return c.text('ok')
    })
  app.onError((err, c) => {
    errors.push(err)
    return c.text('error', 500)
  })
  return { app, ran: () => ran, errors }
}

function buildElysia(options: CsrfOptions | undefined): Built {
  let ran = 0
  const act = ({ body }: { body: unknown }) => {
    ran++
    const amount = (body as Record<string, unknown> | undefined)?.amount
    return amount === undefined ? 'ok' : `ok ${String(amount)}`
  }
  const app = new Elysia()
    .use(elysiaSession({ secret: SECRET }))
    .use(elysiaCsrf(options))
    .get('/form', ({ session }) => csrfToken(session))
    .get('/read', () => 'read')
    .post('/act', act)
    .put('/act', act)
    .patch('/act', act)
    .delete('/act', act)
  return {
    app: { request: (url, init) => app.handle(new Request(url, init)) },
    ran: () => ran,
    errors: [],
  }
}

const frameworks = { hono: buildHono, elysia: buildElysia } as const

/** Headers of a request from a browser page on `origin` (its Fetch Metadata and Origin). */
function from(site: string | null, origin: string | null): Record<string, string> {
  const h: Record<string, string> = {}
  if (site !== null) h['sec-fetch-site'] = site
  if (origin !== null) h.origin = origin
  return h
}

for (const [name, build] of Object.entries(frameworks)) {
  describe(`${name}: csrf() origin check`, () => {
    const send = async (
      built: Built,
      method: string,
      headers: Record<string, string>,
      path = '/act',
    ) => {
      const res = await built.app.request(`${BASE}${path}`, { method, headers })
      return { status: res.status, text: await res.text() }
    }

    it('safe methods are always allowed, whoever sent them', async () => {
      const built = build(undefined)
      for (const headers of [
        from('cross-site', 'https://evil.example'),
        from(null, null),
        from('same-site', 'null'),
      ]) {
        expect(await send(built, 'GET', headers, '/read')).toEqual({ status: 200, text: 'read' })
      }
    })

    it('same-origin unsafe requests are allowed: Sec-Fetch-Site same-origin or none, or a matching Origin', async () => {
      const built = build(undefined)
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
        for (const headers of [
          from('same-origin', BASE),
          from('same-origin', null),
          from('none', null),
          from(null, BASE),
        ]) {
          expect(await send(built, method, headers)).toEqual({ status: 200, text: 'ok' })
        }
      }
      expect(built.ran()).toBe(16)
    })

    it('cross-site unsafe requests get 403 and never reach the handler', async () => {
      const built = build(undefined)
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
        for (const headers of [
          from('cross-site', 'https://evil.example'),
          from('same-site', 'http://sub.localhost'),
          from('cross-site', null),
          from(null, 'https://evil.example'),
          from(null, 'null'),
          // Same host, other scheme or port: another origin (RFC 6454).
          from(null, 'https://localhost'),
          from(null, 'http://localhost:8080'),
          from(null, 'http://localhost.evil.example'),
        ]) {
          expect(await send(built, method, headers)).toEqual({ status: 403, text: 'Forbidden' })
        }
      }
      expect(built.ran()).toBe(0)
    })

    it('no Origin and no Sec-Fetch-Site: 403 by default, allowed with allowMissingOrigin', async () => {
      expect((await send(build(undefined), 'POST', {})).status).toBe(403)
      const lenient = build({ allowMissingOrigin: true })
      expect(await send(lenient, 'POST', {})).toEqual({ status: 200, text: 'ok' })
      // Only the missing case is relaxed.
      expect((await send(lenient, 'POST', from('cross-site', null))).status).toBe(403)
      expect((await send(lenient, 'POST', from(null, 'https://evil.example'))).status).toBe(403)
    })

    it('origins lists trusted other origins', async () => {
      const built = build({ origins: ['https://admin.example.com', 'http://localhost:5173/'] })
      for (const origin of ['https://admin.example.com', 'http://localhost:5173']) {
        expect(await send(built, 'POST', from('cross-site', origin))).toEqual({
          status: 200,
          text: 'ok',
        })
      }
      expect((await send(built, 'POST', from('cross-site', 'https://evil.example'))).status).toBe(
        403,
      )
      expect((await send(built, 'POST', from('cross-site', 'https://example.com'))).status).toBe(
        403,
      )
    })
  })

  describe(`${name}: csrf({ token: true }) synchronizer token`, () => {
    /** A client whose page was loaded from GET /form: its cookie jar and the token. */
    async function visitor(built: Built) {
      const jar = new Jar()
      const res = await jar.request(built.app, '/form')
      expect(res.status).toBe(200)
      const token = await res.text()
      expect(token).toMatch(/^[A-Za-z0-9_-]{64}$/)
      expect(jar.cookies.has('sid')).toBe(true)
      return { jar, token }
    }

    const post = (jar: Jar, built: Built, body: BodyInit, headers: Record<string, string> = {}) =>
      jar.request(built.app, '/act', { method: 'POST', body, headers })

    it('a form post carrying the token is allowed without Origin or Sec-Fetch-Site; the handler still reads the form', async () => {
      const built = build({ token: true })
      const { jar, token } = await visitor(built)
      const res = await post(jar, built, new URLSearchParams({ _csrf: token, amount: '10' }))
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('ok 10')
      // Multipart forms too.
      const form = new FormData()
      form.set('_csrf', token)
      form.set('amount', '11')
      const multi = await post(jar, built, form)
      expect(multi.status).toBe(200)
      expect(await multi.text()).toBe('ok 11')
      expect(built.ran()).toBe(2)
    })

    it('the token is accepted from the x-csrf-token header, even cross-site', async () => {
      const built = build({ token: true })
      const { jar, token } = await visitor(built)
      const res = await post(jar, built, '', {
        'x-csrf-token': token,
        ...from('cross-site', 'https://evil.example'),
      })
      expect(res.status).toBe(200)
    })

    it('every token the session handed out verifies; the stored secret is made once', async () => {
      const built = build({ token: true })
      const { jar, token } = await visitor(built)
      const cookie = jar.cookies.get('sid')
      const again = await jar.request(built.app, '/form')
      const second = await again.text()
      expect(second).not.toBe(token)
      // Nothing changed in the session, so no new cookie.
      expect(again.headers.getSetCookie()).toEqual([])
      expect(jar.cookies.get('sid')).toBe(cookie)
      for (const t of [token, second]) {
        expect((await post(jar, built, new URLSearchParams({ _csrf: t }))).status).toBe(200)
      }
    })

    it('a mismatched, missing or foreign token gets 403 and never reaches the handler', async () => {
      const built = build({ token: true })
      const { jar, token } = await visitor(built)
      const other = await visitor(built)
      const flipped = (token[0] === 'A' ? 'B' : 'A') + token.slice(1)
      const bad: Array<[BodyInit, Record<string, string>]> = [
        [new URLSearchParams({ _csrf: flipped }), {}],
        [new URLSearchParams({ _csrf: other.token }), {}],
        [new URLSearchParams({ _csrf: token.slice(0, 63) }), {}],
        [new URLSearchParams({ _csrf: '' }), {}],
        [new URLSearchParams({ amount: '1' }), {}],
        ['', { 'x-csrf-token': 'nope' }],
        ['', from('cross-site', 'https://evil.example')],
        // A token sent as JSON is not a form field.
        [JSON.stringify({ _csrf: token }), { 'content-type': 'application/json' }],
      ]
      for (const [body, headers] of bad) {
        const res = await post(jar, built, body, headers)
        expect(res.status).toBe(403)
        expect(await res.text()).toBe('Forbidden')
      }
      // The right token without the session it belongs to.
      const stranger = new Jar()
      expect((await post(stranger, built, new URLSearchParams({ _csrf: token }))).status).toBe(403)
      expect(built.ran()).toBe(0)
    })

    it('same-origin requests still pass on the origin check alone', async () => {
      const built = build({ token: true })
      const res = await post(new Jar(), built, '', from('same-origin', BASE))
      expect(res.status).toBe(200)
    })
  })
}

describe('hono: csrf({ token: true }) without session()', () => {
  it('is a configuration mistake: ERR_SESSION_MISSING, not a silent pass', async () => {
    const built = buildHono({ token: true }, false)
    const res = await built.app.request(`${BASE}/act`, { method: 'POST' })
    expect(res.status).toBe(500)
    expect(built.errors).toHaveLength(1)
    expect((built.errors[0] as { code?: string }).code).toBe('ERR_SESSION_MISSING')
    // Without token mode the origin check needs no session.
    const plain = buildHono(undefined, false)
    expect((await plain.app.request(`${BASE}/act`, { method: 'POST' })).status).toBe(403)
  })
})

describe('csrfToken / verifyCsrfToken', () => {
  const fresh = () =>
    new SessionState(
      { now: Date.now, maxAgeMs: 86_400_000, idleTimeoutMs: undefined, rolling: false },
      requestOf(),
      true,
      { unchunked: false, chunks: 0 },
    ).session

  it('stores a random secret under _csrf on first use and marks the session changed', () => {
    const s = fresh()
    expect(s.hasChanged).toBe(false)
    const token = csrfToken(s)
    expect(typeof s[CSRF_SESSION_KEY]).toBe('string')
    expect(s[CSRF_SESSION_KEY]).toMatch(/^[A-Za-z0-9_-]{32}$/)
    expect(s.hasChanged).toBe(true)
    const secret = s[CSRF_SESSION_KEY]
    csrfToken(s)
    expect(s[CSRF_SESSION_KEY]).toBe(secret)
    expect(verifyCsrfToken(s, token)).toBe(true)
    expect(fresh()[CSRF_SESSION_KEY]).toBeUndefined()
  })

  it('never verifies without a secret, and never creates one', () => {
    const s = fresh()
    const token = csrfToken(fresh())
    expect(verifyCsrfToken(s, token)).toBe(false)
    expect(s[CSRF_SESSION_KEY]).toBeUndefined()
    expect(s.hasChanged).toBe(false)
  })

  it('refuses tokens of the wrong type or shape, and secrets it did not make', () => {
    const s = fresh()
    const token = csrfToken(s)
    for (const bad of [undefined, null, 42, [token], `${token}A`, token.slice(1), `${token}=`]) {
      expect(verifyCsrfToken(s, bad)).toBe(false)
    }
    s[CSRF_SESSION_KEY] = 'short'
    expect(verifyCsrfToken(s, token)).toBe(false)
    // A secret that is not ours is replaced on the next csrfToken().
    const next = csrfToken(s)
    expect(s[CSRF_SESSION_KEY]).not.toBe('short')
    expect(verifyCsrfToken(s, next)).toBe(true)
  })
})

describe('csrfPolicy options', () => {
  it('bad options throw one SessionConfigError naming every bad field', () => {
    let caught: unknown
    try {
      csrfPolicy({
        origins: ['https://ok.example', 'https://a.example/path', 'not a url', 'ftp://x.example'],
        allowMissingOrigin: 'yes' as never,
        token: 1 as never,
      })
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(SessionConfigError)
    expect((caught as SessionConfigError).issues.map((i) => i.path)).toEqual([
      'origins.1',
      'origins.2',
      'origins.3',
      'allowMissingOrigin',
      'token',
    ])
  })

  it('an unknown option (a typo) and a non-array origins are refused', () => {
    const issuesOf = (options: unknown) => {
      try {
        csrfPolicy(options as CsrfOptions)
      } catch (err) {
        expect(err).toBeInstanceOf(SessionConfigError)
        return (err as SessionConfigError).issues
      }
      return []
    }
    expect(issuesOf({ tokens: true })).toEqual([{ path: '', message: 'unknown option "tokens"' }])
    expect(issuesOf({ allowmissingorigin: true })[0]?.message).toContain(
      'did you mean "allowMissingOrigin"?',
    )
    expect(issuesOf({ origins: null }).map((i) => i.path)).toEqual(['origins'])
    expect(issuesOf({ origins: 'https://a.example' }).map((i) => i.path)).toEqual(['origins'])
  })

  it('the adapters validate at construction', () => {
    expect(() => honoCsrf({ origins: ['nope'] })).toThrow(SessionConfigError)
    expect(() => elysiaCsrf({ origins: ['nope'] })).toThrow(SessionConfigError)
  })
})

describe('the CSRF secret across login and logout', () => {
  it('a token minted before regenerate() does not verify after it; a new one does', async () => {
    const app = new Hono()
      .use(honoSession({ secret: SECRET }))
      .get('/form', (c) => c.text(csrfToken(c.session)))
      .post('/login', async (c) => {
        await c.session.regenerate()
        c.session.userId = 'u1'
        return c.text('ok')
      })
      .post('/check', async (c) => c.text(String(verifyCsrfToken(c.session, await c.req.text()))))
    const jar = new Jar()
    const before = await (await jar.request(app, '/form')).text()
    expect(await (await jar.request(app, '/check', { method: 'POST', body: before })).text()).toBe(
      'true',
    )
    await jar.request(app, '/login', { method: 'POST' })
    expect(await (await jar.request(app, '/check', { method: 'POST', body: before })).text()).toBe(
      'false',
    )
    const after = await (await jar.request(app, '/form')).text()
    expect(await (await jar.request(app, '/check', { method: 'POST', body: after })).text()).toBe(
      'true',
    )
  })
})
