// Builds examples/next with `next build`, serves it with `next start` on 127.0.0.1 and drives it
// over HTTP: the adapter contract through Route Handlers (sealed and store mode), then the
// sign-in form posted to its Server Action the way a browser without JavaScript posts it, a
// chunked session, and a session with a schema.
// Slow (next build takes a minute or two), so `bun test` skips `*.next.test.ts`.
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sessionEngine } from '../../src/core/engine.ts'
import { type ContractClient, contractCases } from '../../test/adapters/contract.ts'
import { Jar, requestOf, SECRET, setCookies } from '../../test/support.ts'

const dir = fileURLToPath(new URL('.', import.meta.url))
const nextBin = fileURLToPath(new URL('../../node_modules/next/dist/bin/next', import.meta.url))
// NODE_ENV as `next build` / `next start` have it in production (vitest's own is 'test').
const env = {
  ...process.env,
  NODE_ENV: 'production' as const,
  SESSION_SECRET: SECRET,
  NEXT_TELEMETRY_DISABLED: '1',
}

let base = ''
let server: ChildProcess | undefined
let output = ''

/** Runs `next <args>` with this Node; resolves with its exit code. */
function next(args: string[], options: { detached?: boolean } = {}): ChildProcess {
  const child = spawn(process.execPath, [nextBin, ...args], { cwd: dir, env, ...options })
  child.stdout?.on('data', (d) => {
    output += d
  })
  child.stderr?.on('data', (d) => {
    output += d
  })
  return child
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
}

beforeAll(async () => {
  const started = Date.now()
  // NEXT_EXAMPLE_SKIP_BUILD=1 reuses the last build while working on the test itself.
  if (!process.env.NEXT_EXAMPLE_SKIP_BUILD) {
    const code = await new Promise<number | null>((resolve) => {
      next(['build']).on('exit', resolve)
    })
    if (code !== 0) throw new Error(`next build failed (${code}):\n${output}`)
  }
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  // Its own process group, so stopping it also stops anything it forked.
  server = next(['start', '-p', String(port), '-H', '127.0.0.1'], { detached: true })
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/api/me`)).status === 401) break
    } catch {
      // not listening yet
    }
    if (i > 300 || server.exitCode !== null) throw new Error(`next start failed:\n${output}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  console.log(`examples/next built and started in ${((Date.now() - started) / 1000).toFixed(1)}s`)
}, 300_000)

afterAll(async () => {
  if (!server?.pid || server.exitCode !== null) return
  const exited = new Promise((r) => server!.once('exit', r))
  process.kill(-server.pid, 'SIGTERM')
  await exited
})

// Jar.request takes anything with request(url, init); over HTTP that is fetch without redirects.
const http = {
  request: (url: string, init?: RequestInit) =>
    fetch(url.replace('http://localhost', base), { ...init, redirect: 'manual' }),
}

for (const mode of ['sealed', 'store'] as const) {
  describe(`next adapter contract (${mode}) over HTTP`, () => {
    // The Map lives in the server process: after each request, ask it for its size, so the
    // contract's synchronous storeSize() answers what the server holds now.
    let size = -1
    const client: ContractClient = {
      async request(path, init) {
        const res = await fetch(`${base}/contract/${mode}${path}`, { ...init, redirect: 'manual' })
        if (mode === 'store') {
          size = (await (await fetch(`${base}/contract/store/store-size`)).json()).size
        }
        return res
      },
    }
    const options = mode === 'store' ? { store: true, storeSize: () => size } : {}
    for (const c of contractCases) it(c.name, () => c.run(client, options))
  })
}

/** The hidden `$ACTION_ID_…` field React renders into a Server Action form. */
function actionField(html: string): string {
  const match = /name="(\$ACTION_ID_[0-9a-f]+)"/.exec(html)
  if (!match?.[1]) throw new Error(`no Server Action form in:\n${html.slice(0, 500)}`)
  return match[1]
}

/** Submits the page's form like a browser without JavaScript: multipart POST to the page. */
async function submit(jar: Jar, html: string, fields: Record<string, string> = {}) {
  const form = new FormData()
  form.set(actionField(html), '')
  for (const [k, v] of Object.entries(fields)) form.set(k, v)
  return jar.request(http, '/', { method: 'POST', body: form, headers: { origin: base } })
}

const page = async (jar: Jar) => {
  const res = await jar.request(http, '/')
  expect(res.status).toBe(200)
  return res.text()
}

describe('examples/next over HTTP', () => {
  it('signs in through the Server Action, shows the flash once, signs out', async () => {
    const jar = new Jar()
    const signedOut = await page(jar)
    expect(signedOut).toContain('Signed out')
    expect(jar.cookies.size).toBe(0)

    const login = await submit(jar, signedOut, { name: 'Ada' })
    expect(login.status).toBe(303)
    expect(login.headers.get('location')).toBe('/')
    const [cookie, ...more] = setCookies(login)
    expect(more).toHaveLength(0)
    expect(cookie?.name).toBe('sid')
    expect(cookie?.value).toMatch(/^Fe26\.2\*/)
    // cookies().set() got every attribute the engine chose. `next start` runs with
    // NODE_ENV=production, where secure: 'auto' is Secure even on plain-HTTP loopback.
    expect(cookie?.attributes).toMatchObject({
      path: '/',
      'max-age': '86400',
      httponly: '',
      secure: '',
      samesite: 'lax',
    })

    // The Server Component shows the flash; proxy.ts removes it from the cookie on that response.
    const first = await jar.request(http, '/')
    const firstHtml = await first.text()
    expect(firstHtml).toContain('Welcome, Ada')
    expect(firstHtml).toContain('Signed in as <b>Ada</b>')
    expect(setCookies(first).map((c) => c.name)).toEqual(['sid'])

    const second = await jar.request(http, '/')
    const secondHtml = await second.text()
    expect(secondHtml).not.toContain('Welcome, Ada')
    expect(secondHtml).toContain('Signed in as <b>Ada</b>')
    expect(second.headers.get('set-cookie')).toBeNull()

    const me = await jar.request(http, '/api/me')
    expect(me.status).toBe(200)
    expect(await me.json()).toEqual({ user: 'Ada' })

    const logout = await submit(jar, secondHtml)
    expect(logout.status).toBe(303)
    expect(setCookies(logout)[0]).toMatchObject({ name: 'sid', value: '' })
    expect(jar.cookies.size).toBe(0)
    expect(await page(jar)).toContain('Signed out')
    expect((await jar.request(http, '/api/me')).status).toBe(401)
  })

  it('a router prefetch reaching proxy.ts leaves the flash for the page it prefetches', async () => {
    const jar = new Jar()
    const login = await submit(jar, await page(jar), { name: 'Ada' })
    expect(login.status).toBe(303)
    // What Next's App Router sends for a <Link> prefetch (segment prefetches on Next 16). Next
    // strips these headers before the proxy unless next.config sets skipProxyUrlNormalize.
    for (const headers of <Record<string, string>[]>[
      { rsc: '1', 'next-router-prefetch': '1' },
      { rsc: '1', 'next-router-prefetch': '1', 'next-router-segment-prefetch': '/_tree' },
    ]) {
      const prefetch = await jar.request(http, '/', { headers })
      await prefetch.arrayBuffer()
      expect(prefetch.headers.get('set-cookie')).toBeNull()
    }
    // The page itself still shows it once.
    const shown = await jar.request(http, '/')
    expect(await shown.text()).toContain('Welcome, Ada')
    expect(setCookies(shown).map((c) => c.name)).toEqual(['sid'])
    expect(await (await jar.request(http, '/')).text()).not.toContain('Welcome, Ada')
  })

  it('starts over when the session cookie is forged', async () => {
    const jar = new Jar()
    jar.cookies.set('sid', 'Fe26.2**forged')
    const res = await jar.request(http, '/')
    expect(await res.text()).toContain('Signed out')
    // Nothing proves a forged value ours, so it is not cleared: a clear would delete the
    // browser's own cookie, not a copy a sibling subdomain planted beside it.
    expect(res.headers.get('set-cookie')).toBeNull()
    expect((await jar.request(http, '/api/me')).status).toBe(401)
  })
})

describe('examples/next: a chunked session (chunk: true) over HTTP', () => {
  const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
  /** `n` letters and digits: nothing to escape, so the seal is about 4n/3 characters. */
  const noise = (n: number) =>
    Array.from({ length: n }, (_, i) => ALNUM[(i * 7919 + (i >> 3)) % ALNUM.length]).join('')
  const set = (jar: Jar, bytes: number) =>
    jar.request(http, '/chunked/set', { method: 'POST', body: noise(bytes) })
  const read = async (jar: Jar) =>
    (await (await jar.request(http, '/chunked/read')).json()) as {
      isNew: boolean
      length: number | null
    }
  const summary = (res: Response) =>
    setCookies(res)
      .map((c) => `${c.name}${c.attributes['max-age'] === '0' ? ' cleared' : ''}`)
      .sort()

  it('a session over 4 KB is written in chunks through cookies().set() and read back', async () => {
    const jar = new Jar()
    const res = await set(jar, 5000)
    expect(res.status).toBe(200)
    expect(summary(res)).toEqual(['big.0', 'big.1'])
    for (const c of setCookies(res)) {
      expect(`${c.name}=${c.value}`.length).toBeLessThanOrEqual(4096)
      expect(c.attributes).toMatchObject({ path: '/', httponly: '', secure: '', samesite: 'lax' })
    }
    expect(await read(jar)).toEqual({ isNew: false, length: 5000 })
    // Reading changes nothing: no Set-Cookie.
    expect((await jar.request(http, '/chunked/read')).headers.get('set-cookie')).toBeNull()
  })

  it('shrinking clears the stale chunks: three to two, then chunks to one plain cookie', async () => {
    const jar = new Jar()
    await set(jar, 8000)
    expect([...jar.cookies.keys()].sort()).toEqual(['big.0', 'big.1', 'big.2'])
    expect(summary(await set(jar, 5000))).toEqual(['big.0', 'big.1', 'big.2 cleared'])
    expect([...jar.cookies.keys()].sort()).toEqual(['big.0', 'big.1'])
    expect(await read(jar)).toEqual({ isNew: false, length: 5000 })
    expect(summary(await set(jar, 100))).toEqual(['big', 'big.0 cleared', 'big.1 cleared'])
    expect([...jar.cookies.keys()]).toEqual(['big'])
    expect(await read(jar)).toEqual({ isNew: false, length: 100 })
  })

  it('planted copies beside the chunks (a duplicate big.0, a big.7) do not hide them', async () => {
    const jar = new Jar()
    await set(jar, 5000)
    const own = jar.header()
    for (const cookie of [`big.0=junk; ${own}`, `${own}; big.0=junk`, `${own}; big.7=junk`]) {
      const res = await fetch(`${base}/chunked/read`, { headers: { cookie } })
      expect(await res.json()).toEqual({ isNew: false, length: 5000 })
      expect(res.headers.get('set-cookie')).toBeNull()
    }
  })

  it('logout clears every chunk', async () => {
    const jar = new Jar()
    await set(jar, 5000)
    const res = await jar.request(http, '/chunked/logout', { method: 'POST' })
    expect(summary(res)).toEqual(['big.0 cleared', 'big.1 cleared'])
    expect(jar.cookies.size).toBe(0)
  })

  it('in production a forwarded X-Forwarded-Proto: http does not drop Secure', async () => {
    const jar = new Jar()
    const res = await jar.request(http, '/chunked/set', {
      method: 'POST',
      body: 'small',
      headers: { 'x-forwarded-proto': 'http' },
    })
    expect(setCookies(res).map((c) => [c.name, c.attributes.secure])).toEqual([['big', '']])
  })
})

describe('examples/next: a session with a schema (zod) over HTTP', () => {
  const read = async (jar: Jar) => {
    const res = await jar.request(http, '/schema/read')
    expect(res.status).toBe(200)
    return { body: await res.json(), cookies: setCookies(res) }
  }

  it('a new session shows the defaults and writes nothing; counting starts from them', async () => {
    const jar = new Jar()
    const fresh = await read(jar)
    expect(fresh.body).toEqual({ isNew: true, data: { visits: 0 }, notices: [] })
    expect(fresh.cookies).toEqual([])
    const visit = await jar.request(http, '/schema/visit', { method: 'POST' })
    expect(await visit.json()).toEqual({ visits: 1 })
    expect(setCookies(visit).map((c) => c.name)).toEqual(['typed'])
    expect((await read(jar)).body).toEqual({
      isNew: false,
      data: { visits: 1 },
      notices: ['visit 1'],
    })
  })

  it('a cookie whose data fails the schema is refused: a new session from the defaults', async () => {
    // Sealed by an app of an older deploy: the same secret and cookie name, no schema.
    const older = sessionEngine({ secret: SECRET, cookieName: 'typed' })
    const state = older.loadSync(requestOf(), undefined)
    state.session.visits = 'many'
    state.session.name = 'Ada'
    const [cookie] = older.commitSync(state, undefined).cookies
    expect(cookie?.name).toBe('typed')
    const jar = new Jar()
    jar.cookies.set('typed', cookie!.value)
    expect((await read(jar)).body).toEqual({ isNew: true, data: { visits: 0 }, notices: [] })
  })
})
