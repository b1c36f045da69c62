// transport: 'header' — the session travels as a bearer token for clients without cookies.
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import type { SessionOptions } from '../src/index.ts'
import { SECRET } from './support.ts'

function app(options: SessionOptions = {}) {
  return new Hono()
    .use(session({ secret: SECRET, transport: 'header', ...options }))
    .post('/login', (c) => {
      c.session.userId = 'u1'
      return c.text('ok')
    })
    .get('/me', (c) => c.text(String(c.session.userId ?? 'anon')))
    .post('/logout', (c) => {
      c.session = null
      return c.text('bye')
    })
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe('bearer transport', () => {
  it('returns the session as a token header, never a cookie, and reads it back', async () => {
    const a = app()
    const login = await a.request('/login', { method: 'POST' })
    expect(login.headers.getSetCookie()).toEqual([])
    const token = login.headers.get('session-token')!
    expect(token).toMatch(/^Fe26\.2\*/)
    const me = await a.request('/me', { headers: bearer(token) })
    expect(await me.text()).toBe('u1')
    // Unchanged: no new token.
    expect(me.headers.get('session-token')).toBeNull()
  })

  it('accepts the scheme in any case and ignores cookies', async () => {
    const a = app()
    const token = (await a.request('/login', { method: 'POST' })).headers.get('session-token')!
    const lower = await a.request('/me', { headers: { authorization: `bearer ${token}` } })
    expect(await lower.text()).toBe('u1')
    const cookieOnly = await a.request('/me', { headers: { cookie: `sid=${token}` } })
    expect(await cookieOnly.text()).toBe('anon')
  })

  it('logout answers an empty token header, telling the client to drop it', async () => {
    const a = app({ store: new Map() })
    const token = (await a.request('/login', { method: 'POST' })).headers.get('session-token')!
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{43}$/)
    const out = await a.request('/logout', { method: 'POST', headers: bearer(token) })
    expect(out.headers.get('session-token')).toBe('')
    expect(await (await a.request('/me', { headers: bearer(token) })).text()).toBe('anon')
  })

  it('a bad token is a fresh session plus an empty token header, never a 500', async () => {
    const reasons: string[] = []
    const a = app({ onInvalid: (r) => void reasons.push(r) })
    const res = await a.request('/me', { headers: bearer('Fe26.2**garbage') })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('anon')
    expect(res.headers.get('session-token')).toBe('')
    expect(reasons).toEqual(['malformed'])
  })

  it('the header name is configurable; other schemes are not read', async () => {
    const a = app({ tokenHeader: 'X-Auth-Session' })
    const token = (await a.request('/login', { method: 'POST' })).headers.get('x-auth-session')!
    expect(token).toMatch(/^Fe26\.2\*/)
    const basic = await a.request('/me', { headers: { authorization: `Basic ${token}` } })
    expect(await basic.text()).toBe('anon')
  })

  it('is off by default: a cookie app ignores Authorization', async () => {
    const a = app()
    const token = (await a.request('/login', { method: 'POST' })).headers.get('session-token')!
    const cookieApp = new Hono()
      .use(session({ secret: SECRET }))
      .get('/me', (c) => c.text(String(c.session.userId ?? 'anon')))
    expect(await (await cookieApp.request('/me', { headers: bearer(token) })).text()).toBe('anon')
  })

  it('rejects a bad header name at construction', () => {
    expect(() => session({ secret: SECRET, transport: 'header', tokenHeader: 'bad name' })).toThrow(
      /tokenHeader/,
    )
  })
})
