import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import type { SessionOptions } from '../src/core/types.ts'
import { Jar, type ParsedCookie, SECRET, setCookies, testClock } from './support.ts'

const clock = testClock()

function createApp(options: Partial<SessionOptions> = {}) {
  return new Hono()
    .use(session({ secret: SECRET, now: clock.now, ...options }))
    .get('/login', (c) => {
      c.session.userId = 'u1'
      return c.text('ok')
    })
    .get('/me', (c) => c.text(c.session.userId ?? 'anon'))
    .get('/logout', (c) => {
      c.session = null
      return c.text('bye')
    })
}

/** The one Set-Cookie of a login on `url`. */
async function loginCookie(options: Partial<SessionOptions>, url = 'http://localhost/login') {
  const res = await createApp(options).request(url)
  const cookies = setCookies(res)
  expect(cookies).toHaveLength(1)
  return cookies[0]!
}

const expires = (seconds: number) => new Date(clock.now() + seconds * 1000).toUTCString()

/** Attributes other than Max-Age and Expires, which the tests check separately. */
function flags(cookie: ParsedCookie): Record<string, string> {
  const { 'max-age': _m, expires: _e, ...rest } = cookie.attributes
  return rest
}

describe('default attributes', () => {
  it('on http://localhost: HttpOnly; SameSite=Lax; Path=/ and no Secure', async () => {
    const cookie = await loginCookie({})
    expect(cookie.name).toBe('sid')
    expect(cookie.attributes).toEqual({
      'max-age': '86400',
      expires: expires(86400),
      path: '/',
      httponly: '',
      samesite: 'Lax',
    })
  })

  it('the whole header, byte for byte', async () => {
    const cookie = await loginCookie({})
    expect(cookie.raw).toBe(
      `sid=${cookie.value}; Max-Age=86400; Expires=${expires(86400)}; Path=/; HttpOnly; SameSite=Lax`,
    )
  })

  it('on https://example.com: also Secure', async () => {
    const cookie = await loginCookie({}, 'https://example.com/login')
    expect(flags(cookie)).toEqual({ path: '/', httponly: '', secure: '', samesite: 'Lax' })
  })

  it('on plain http to a host that is not localhost: still Secure', async () => {
    for (const url of [
      'http://example.com/login',
      'http://localhost.example.com/login',
      'http://192.168.1.10:3000/login',
      'http://[::2]/login',
    ]) {
      const cookie = await loginCookie({}, url)
      expect(flags(cookie)).toEqual({ path: '/', httponly: '', secure: '', samesite: 'Lax' })
    }
  })

  it('on plain http to this machine under other spellings: no Secure', async () => {
    for (const url of [
      'http://localhost:3000/login',
      'http://127.0.0.1/login',
      'http://[::1]:8080/login',
      'http://app.localhost/login',
    ]) {
      const cookie = await loginCookie({}, url)
      expect(flags(cookie)).toEqual({ path: '/', httponly: '', samesite: 'Lax' })
    }
  })

  it('https://localhost is Secure', async () => {
    const cookie = await loginCookie({}, 'https://localhost/login')
    expect(cookie.attributes.secure).toBe('')
  })
})

describe('the cookie option passes through', () => {
  it('domain, path and sameSite Strict', async () => {
    const cookie = await loginCookie(
      { cookie: { domain: 'example.com', path: '/app', sameSite: 'Strict' } },
      'https://example.com/login',
    )
    expect(flags(cookie)).toEqual({
      domain: 'example.com',
      path: '/app',
      httponly: '',
      secure: '',
      samesite: 'Strict',
    })
  })

  it('sameSite None with Partitioned', async () => {
    const cookie = await loginCookie(
      { cookie: { sameSite: 'None', partitioned: true } },
      'https://example.com/login',
    )
    expect(flags(cookie)).toEqual({
      path: '/',
      httponly: '',
      secure: '',
      samesite: 'None',
      partitioned: '',
    })
  })

  it('lower-case sameSite is written in canonical case', async () => {
    expect((await loginCookie({ cookie: { sameSite: 'strict' } })).attributes.samesite).toBe(
      'Strict',
    )
    expect((await loginCookie({ cookie: { sameSite: 'none' } })).attributes.samesite).toBe('None')
  })

  it('secure: false drops Secure even on https', async () => {
    const cookie = await loginCookie({ cookie: { secure: false } }, 'https://example.com/login')
    expect(flags(cookie)).toEqual({ path: '/', httponly: '', samesite: 'Lax' })
  })

  it('secure: true sets Secure even on http://localhost', async () => {
    const cookie = await loginCookie({ cookie: { secure: true } })
    expect(cookie.attributes.secure).toBe('')
  })

  it('httpOnly: false drops HttpOnly', async () => {
    const cookie = await loginCookie({ cookie: { httpOnly: false } })
    expect(flags(cookie)).toEqual({ path: '/', samesite: 'Lax' })
  })

  it('Max-Age and Expires follow maxAge in seconds', async () => {
    for (const maxAge of [60, 3600, 7 * 86400]) {
      const cookie = await loginCookie({ maxAge })
      expect(cookie.attributes['max-age']).toBe(String(maxAge))
      expect(cookie.attributes.expires).toBe(expires(maxAge))
    }
  })

  it('the cookie clearing a session carries the same Path and Domain', async () => {
    const options = { cookie: { domain: 'example.com', path: '/app' } }
    const app = createApp(options)
    const jar = new Jar()
    await jar.request(app, 'https://example.com/login')
    const res = await jar.request(app, 'https://example.com/logout')
    const [cleared] = setCookies(res)
    expect(cleared!.value).toBe('')
    expect(cleared!.attributes).toEqual({
      'max-age': '0',
      expires: 'Thu, 01 Jan 1970 00:00:00 GMT',
      domain: 'example.com',
      path: '/app',
      httponly: '',
      secure: '',
      samesite: 'Lax',
    })
  })
})

describe('cookie names', () => {
  it('cookieName is used on write and on read; the default name is then ignored', async () => {
    const app = createApp({ cookieName: 'app_session' })
    const jar = new Jar()
    const [written] = jar.take(await app.request('http://localhost/login'))
    expect(written!.name).toBe('app_session')
    expect(await (await jar.request(app, '/me')).text()).toBe('u1')

    const value = jar.cookies.get('app_session')!
    const asDefault = await app.request('http://localhost/me', {
      headers: { cookie: `sid=${value}` },
    })
    expect(await asDefault.text()).toBe('anon')
    // A different name that merely ends with the configured one is not it either.
    const suffix = await app.request('http://localhost/me', {
      headers: { cookie: `my_app_session=${value}` },
    })
    expect(await suffix.text()).toBe('anon')
  })

  it('__Host-sid works on read and write, always with Secure and never a Domain', async () => {
    for (const url of ['http://localhost', 'https://example.com']) {
      const app = createApp({ cookieName: '__Host-sid' })
      const jar = new Jar()
      const res = await jar.request(app, `${url}/login`)
      const [cookie] = setCookies(res)
      expect(cookie!.name).toBe('__Host-sid')
      expect(flags(cookie!)).toEqual({ path: '/', httponly: '', secure: '', samesite: 'Lax' })
      expect(await (await jar.request(app, `${url}/me`)).text()).toBe('u1')
    }
  })

  it('prefixes in other cases (__host-, __SECURE-) get Secure on localhost too, as browsers require', async () => {
    for (const cookieName of ['__host-sid', '__SECURE-sid']) {
      const cookie = await loginCookie({ cookieName }, 'http://localhost/login')
      expect(cookie.name).toBe(cookieName)
      expect(flags(cookie)).toEqual({ path: '/', httponly: '', secure: '', samesite: 'Lax' })
    }
  })

  it('__Host-sid is read even when the header has a plain sid too', async () => {
    const app = createApp({ cookieName: '__Host-sid' })
    const jar = new Jar()
    await jar.request(app, 'https://example.com/login')
    const value = jar.cookies.get('__Host-sid')!
    const res = await app.request('https://example.com/me', {
      headers: { cookie: `sid=garbage; __Host-sid=${value}` },
    })
    expect(await res.text()).toBe('u1')
  })

  it('__Secure-sid always has Secure', async () => {
    const cookie = await loginCookie({ cookieName: '__Secure-sid' })
    expect(cookie.name).toBe('__Secure-sid')
    expect(cookie.attributes.secure).toBe('')
  })
})
