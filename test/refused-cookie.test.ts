// A refused session cookie of ours (it verified: expired, signed but gone) is cleared once, so
// the browser stops sending it. One that never verified is left alone: a Set-Cookie clear hits
// the browser's own host-only cookie, never a copy a sibling subdomain planted beside it.
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { Jar, SECRET, testClock } from './support.ts'

const CLEAR =
  'sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax'

function app(now = Date.now) {
  return new Hono()
    .use(session({ secret: SECRET, maxAge: 60, now }))
    .get('/login', (c) => {
      c.session.userId = 'u1'
      return c.text('ok')
    })
    .get('/read', (c) => c.text(String(c.session.userId ?? 'anon')))
    .get('/write', (c) => {
      c.session.visited = true
      return c.text('ok')
    })
}

const get = (a: ReturnType<typeof app>, path: string, cookie: string) =>
  a.request(`http://localhost${path}`, { headers: { cookie } })

describe('refused cookies', () => {
  it('leaves a garbage cookie alone on a read-only request: nothing proves it ours', async () => {
    const res = await get(app(), '/read', 'sid=garbage')
    expect(await res.text()).toBe('anon')
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('clears an expired cookie, and the jar then sends nothing', async () => {
    const clock = testClock()
    const a = app(clock.now)
    const jar = new Jar()
    await jar.request(a, '/login')
    expect(jar.cookies.has('sid')).toBe(true)
    clock.advance(61)
    const res = await jar.request(a, '/read')
    expect(await res.text()).toBe('anon')
    expect(res.headers.getSetCookie()).toEqual([CLEAR])
    expect(jar.cookies.has('sid')).toBe(false)
  })

  it('replaces rather than clears when the request writes a new session', async () => {
    const res = await get(app(), '/write', 'sid=garbage')
    const cookies = res.headers.getSetCookie()
    expect(cookies).toHaveLength(1)
    expect(cookies[0]).toMatch(/^sid=Fe26\.2\*/)
  })

  it('does not clear when a valid duplicate was used, nor on a plain valid read', async () => {
    const a = app()
    const login = await a.request('http://localhost/login')
    const good = login.headers.getSetCookie()[0]!.split(';')[0]!
    const dup = await get(a, '/read', `sid=garbage; ${good}`)
    expect(await dup.text()).toBe('u1')
    expect(dup.headers.getSetCookie()).toEqual([])
    const plain = await get(a, '/read', good)
    expect(plain.headers.getSetCookie()).toEqual([])
  })

  it('sends nothing when there was no cookie at all', async () => {
    const res = await get(app(), '/read', 'other=1')
    expect(res.headers.getSetCookie()).toEqual([])
  })
})
