// Drives the example through a real HTTP server on 127.0.0.1, like a browser would: Elysia on
// Bun's server under `bun test`, on @elysiajs/node under vitest. The last test starts the
// documented command, `bun examples/elysia/server.ts`, itself.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listen, serverAdapter } from '../../test/adapters/fixtures/elysia.ts'
import { Jar, SECRET } from '../../test/support.ts'
import { createApp } from './app.ts'

let server: { base: string; close(): Promise<void> }

beforeAll(async () => {
  const adapter = await serverAdapter()
  server = await listen(createApp(SECRET, adapter ? { adapter } : {}))
})

afterAll(() => server.close())

// Jar.request takes anything with request(url, init); over HTTP that is fetch without redirects.
const http = {
  request: (url: string, init?: RequestInit) =>
    fetch(url.replace('http://localhost', server.base), { ...init, redirect: 'manual' }),
}

describe('examples/elysia over HTTP', () => {
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

  it("switches the theme with Elysia's cookie API while the session flashes a notice", async () => {
    const jar = new Jar()
    await jar.request(http, '/login', {
      method: 'POST',
      body: new URLSearchParams({ name: 'Ada' }),
    })
    await jar.request(http, '/') // read the welcome flash
    const res = await jar.request(http, '/theme', { method: 'POST' })
    expect(res.status).toBe(303)
    expect(
      res.headers
        .getSetCookie()
        .map((c) => c.split('=')[0])
        .sort(),
    ).toEqual(['sid', 'theme'])
    expect(jar.cookies.get('theme')).toBe('dark')
    const page = await (await jar.request(http, '/')).text()
    expect(page).toContain('<body class="dark">')
    expect(page).toContain('Theme: dark')
    expect(page).toContain('Signed in as <b>Ada</b>')
  })

  it('escapes the name it echoes back', async () => {
    const jar = new Jar()
    await jar.request(http, '/login', {
      method: 'POST',
      body: new URLSearchParams({ name: '<script>x</script>' }),
    })
    const page = await (await jar.request(http, '/')).text()
    expect(page).not.toContain('<script>x</script>')
    expect(page).toContain('&#60;script&#62;')
  })

  it('asks for a name when the form is empty', async () => {
    const jar = new Jar()
    await jar.request(http, '/login', { method: 'POST', body: new URLSearchParams({ name: ' ' }) })
    expect(await (await jar.request(http, '/')).text()).toContain('Please enter a name')
    expect((await jar.request(http, '/me')).status).toBe(401)
  })
})

describe('bun examples/elysia/server.ts', () => {
  it('starts on the port it prints and serves the sign-in page', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url))
    const bun = 'Bun' in globalThis ? process.execPath : `${root}node_modules/.bin/bun`
    const child = spawn(bun, ['examples/elysia/server.ts'], {
      cwd: root,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', SESSION_SECRET: SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    try {
      const base = await new Promise<string>((resolve, reject) => {
        let out = ''
        const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 10_000)
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString()
          const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
          if (match?.[1]) {
            clearTimeout(timer)
            resolve(match[1])
          }
        })
        child.stderr.on('data', (chunk: Buffer) => {
          out += chunk.toString()
        })
        child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)))
      })
      const res = await fetch(`${base}/`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
      expect(await res.text()).toContain('<form method="post" action="/login">')
      // The first visit counts, so it sets the session cookie.
      expect(res.headers.get('set-cookie')).toMatch(/^sid=Fe26\.2\*/)
    } finally {
      child.kill()
    }
  }, 15_000)
})
