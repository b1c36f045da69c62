// Drives the example through a real HTTP server on 127.0.0.1, like a browser would: node:http
// under Node, Bun.serve under Bun (loading @hono/node-server in Bun would replace the global
// Response for every other test file in the process).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Listening, listen } from '../../test/adapters/http.ts'
import { Jar, SECRET } from '../../test/support.ts'
import { createApp } from './app.ts'

let base = ''
let server: Listening

beforeAll(async () => {
  server = await listen(createApp(SECRET).fetch)
  base = server.base
})

afterAll(() => server.close())

// Jar.request takes anything with request(url, init); over HTTP that is fetch without redirects.
const http = {
  request: (url: string, init?: RequestInit) =>
    fetch(url.replace('http://localhost', base), { ...init, redirect: 'manual' }),
}

describe('examples/hono over HTTP', () => {
  it('signs in, shows the flash once, remembers the user, signs out', async () => {
    const jar = new Jar()
    const form = new URLSearchParams({ name: 'Ada' })
    const login = await jar.request(http, '/login', { method: 'POST', body: form })
    expect(login.status).toBe(303)
    expect(login.headers.get('location')).toBe('/')
    expect(jar.cookies.get('sid')).toMatch(/^Fe26\.2\*/)

    const first = await (await jar.request(http, '/')).text()
    expect(first).toContain('Welcome, Ada')
    expect(first).toContain('Signed in as <b>Ada</b> (visit 1)')
    const second = await (await jar.request(http, '/')).text()
    expect(second).not.toContain('Welcome, Ada')
    expect(second).toContain('(visit 2)')

    const me = await jar.request(http, '/me')
    expect(me.status).toBe(200)
    expect(await me.json()).toMatchObject({ name: 'Ada' })

    const logout = await jar.request(http, '/logout', { method: 'POST' })
    expect(logout.status).toBe(303)
    const after = await (await jar.request(http, '/')).text()
    expect(after).toContain('Signed out')
    expect(after).toContain('<form method="post" action="/login">')
    expect((await jar.request(http, '/me')).status).toBe(401)
  })

  it('escapes the name it echoes back', async () => {
    const jar = new Jar()
    await jar.request(http, '/login', {
      method: 'POST',
      body: new URLSearchParams({ name: '<script>x</script>' }),
    })
    const page = await (await jar.request(http, '/')).text()
    expect(page).not.toContain('<script>x</script>')
    expect(page).toContain('&lt;script&gt;')
  })

  it('asks for a name when the form is empty', async () => {
    const jar = new Jar()
    await jar.request(http, '/login', { method: 'POST', body: new URLSearchParams({ name: ' ' }) })
    expect(await (await jar.request(http, '/')).text()).toContain('Please enter a name')
    expect((await jar.request(http, '/me')).status).toBe(401)
  })
})
