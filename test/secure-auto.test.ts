// `cookie.secure: 'auto'` over a real HTTP server, with the request shapes a TLS-terminating
// proxy or an attacker produce: in production every one of them gets Secure (the request URL is
// not trusted at all); outside production plain-HTTP loopback names relax it, as the request
// URL names them. NODE_ENV is read once, when the options are resolved.
import { connect } from 'node:net'
import { Hono } from 'hono'
import { afterEach, describe, expect, it } from 'vitest'
import { withSession } from '../src/adapters/fetch.ts'
import { session } from '../src/adapters/hono.ts'
import type { SessionOptions } from '../src/core/types.ts'
import { listen } from './adapters/http.ts'
import { parseSetCookie, SECRET } from './support.ts'

const env = process.env.NODE_ENV
afterEach(() => {
  if (env === undefined) delete process.env.NODE_ENV
  else process.env.NODE_ENV = env
})

/** A Hono app whose /login writes a session, resolved under `nodeEnv`, served on 127.0.0.1. */
async function serve(nodeEnv: string, options: SessionOptions = {}) {
  process.env.NODE_ENV = nodeEnv
  const app = new Hono().use(session({ secret: SECRET, ...options })).get('/login', (c) => {
    c.session.userId = 'u1'
    return c.text('ok')
  })
  return listen(app.fetch)
}

/**
 * One HTTP/1.1 request written on a socket (so Host and the request target are ours to choose);
 * answers the Set-Cookie attributes of the response.
 */
function login(base: string, host: string, target = '/login'): Promise<Record<string, string>> {
  const url = new URL(base)
  const request = `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const socket = connect(Number(url.port), url.hostname)
    socket.on('data', (d: Buffer) => chunks.push(d))
    socket.on('error', reject)
    socket.on('close', () => {
      const head = Buffer.concat(chunks).toString('latin1').split('\r\n\r\n')[0]!
      const lines = head.split('\r\n')
      if (!lines[0]?.includes(' 200 ')) return reject(new Error(`not 200: ${lines[0]}`))
      const cookies = lines.filter((l) => /^set-cookie:/i.test(l))
      if (cookies.length !== 1) return reject(new Error(`${cookies.length} Set-Cookie`))
      resolve(parseSetCookie(cookies[0]!.slice(cookies[0]!.indexOf(':') + 1).trim()).attributes)
    })
    socket.end(request)
  })
}

/** Host header and request target of each shape: what a proxy forwards, what an attacker sends. */
const SHAPES: [name: string, host: string, target?: string][] = [
  ['Host: localhost (a proxy_pass to http://localhost)', 'localhost'],
  ["Host: 127.0.0.1:3000 (nginx's default upstream Host)", '127.0.0.1:3000'],
  ['Host: [::1]:3000', '[::1]:3000'],
  ['Host: evil.localhost', 'evil.localhost'],
  [
    'an absolute-form target http://localhost/ (RFC 9112 §3.2.2: it wins over Host)',
    'example.com',
    'http://localhost/login',
  ],
]

describe("secure: 'auto' with NODE_ENV=production", () => {
  for (const [name, host, target] of SHAPES) {
    it(`${name}: Secure`, async () => {
      const server = await serve('production')
      try {
        expect(await login(server.base, host, target)).toHaveProperty('secure', '')
      } finally {
        await server.close()
      }
    })
  }

  it('the environment is read when the options are resolved, not per request', async () => {
    const server = await serve('production')
    try {
      process.env.NODE_ENV = 'development'
      expect(await login(server.base, 'localhost')).toHaveProperty('secure', '')
    } finally {
      await server.close()
    }
    const dev = await serve('development')
    try {
      process.env.NODE_ENV = 'production'
      expect(await login(dev.base, 'localhost')).not.toHaveProperty('secure')
    } finally {
      await dev.close()
    }
  })

  it('secure: false still leaves it off (a plain-HTTP intranet decides that itself)', async () => {
    const server = await serve('production', { cookie: { secure: false } })
    try {
      expect(await login(server.base, 'example.com')).not.toHaveProperty('secure')
    } finally {
      await server.close()
    }
  })

  it('the fetch adapter too', async () => {
    process.env.NODE_ENV = 'production'
    const handler = withSession({ secret: SECRET }, (_request, s) => {
      s.userId = 'u1'
      return new Response('ok')
    })
    const server = await listen(handler)
    try {
      expect(await login(server.base, 'localhost:3000')).toHaveProperty('secure', '')
    } finally {
      await server.close()
    }
  })
})

describe("secure: 'auto' outside production: loopback names as the request URL gives them", () => {
  // Browsers resolve *.localhost to loopback (RFC 6761 §6.3), so app.localhost is development
  // too; an absolute-form target is the request's URL by RFC 9112, which node:http follows and
  // Bun.serve does not (its URL takes the Host). Either only changes the response to the
  // client that sent it, and production ignores them.
  for (const [name, host, target] of SHAPES) {
    it(`${name}: no Secure (an absolute-form target: as the server builds the URL)`, async () => {
      const server = await serve('development')
      try {
        const attributes = await login(server.base, host, target)
        if (target && server.server === 'bun') expect(attributes).toHaveProperty('secure', '')
        else expect(attributes).not.toHaveProperty('secure')
      } finally {
        await server.close()
      }
    })
  }

  it('any other host over plain HTTP: Secure', async () => {
    const server = await serve('development')
    try {
      for (const host of ['example.com', 'localhost.example.com', '192.168.1.10:3000']) {
        expect(await login(server.base, host)).toHaveProperty('secure', '')
      }
    } finally {
      await server.close()
    }
  })
})
