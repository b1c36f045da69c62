// Chunking (opt-in `chunk`): a sealed session over one cookie spans <name>.0, <name>.1, …, with
// a cap; stale chunks and the unchunked cookie are cleared as the session grows and shrinks.
import { Hono } from 'hono'
import { describe, expect, it, vi } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { SessionConfigError, SessionTooLargeError } from '../src/core/errors.ts'
import { MAX_CANDIDATES, MAX_CHUNK_SETS } from '../src/core/request.ts'
import type { InvalidReason, SessionEncoder, SessionOptions } from '../src/core/types.ts'
import {
  Jar,
  type ParsedCookie,
  type Requestable,
  SECRET,
  setCookies,
  testClock,
} from './support.ts'

function createApp(options: SessionOptions = {}) {
  const onInvalid = vi.fn<(reason: InvalidReason) => void>()
  const errors: unknown[] = []
  const app = new Hono()
    .use(session({ secret: SECRET, chunk: true, onInvalid, ...options }))
    .post('/set/:bytes', (c) => {
      // Letters and digits: nothing for JSON to escape, so the seal is about 4/3 of the size.
      c.session.blob = noise(Number(c.req.param('bytes')))
      return c.text('ok')
    })
    .post('/quotes', async (c) => {
      c.session.quotes = await c.req.text()
      return c.text('ok')
    })
    .get('/quotes', (c) => c.text(String(c.session.quotes)))
    .post('/logout', (c) => {
      c.session = null
      return c.text('bye')
    })
    .get('/', (c) =>
      c.json({ isNew: c.session.isNew, length: (c.session.blob as string | undefined)?.length }),
    )
  app.onError((err, c) => {
    errors.push(err)
    return c.text(err.name, 500)
  })
  return { app, onInvalid, errors }
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
let seed = 1
function noise(n: number): string {
  let s = ''
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    s += ALNUM[seed % ALNUM.length]
  }
  return s
}

const summary = (cookies: ParsedCookie[]) =>
  cookies.map((c) => `${c.name}${c.attributes['max-age'] === '0' ? ' cleared' : ''}`).sort()

async function set(app: Requestable, jar: Jar, bytes: number) {
  const res = await jar.request(app, `/set/${bytes}`, { method: 'POST' })
  return { res, cookies: setCookies(res) }
}

async function read(app: Requestable, jar: Jar) {
  return (await (await jar.request(app, '/')).json()) as { isNew: boolean; length?: number }
}

describe('chunk: true', () => {
  it('a 4 KB session (about 5.6 KB sealed) spans sid.0 and sid.1, each with the full attributes, and reads back', async () => {
    const { app } = createApp()
    const jar = new Jar()
    const { res, cookies } = await set(app, jar, 4000)
    expect(res.status).toBe(200)
    expect(summary(cookies)).toEqual(['sid.0', 'sid.1'])
    for (const c of cookies) {
      expect(`${c.name}=${c.value}`.length).toBeLessThanOrEqual(4096)
      expect(c.attributes).toMatchObject({ path: '/', httponly: '', samesite: 'Lax' })
      expect(c.attributes['max-age']).toBe('86400')
    }
    expect(`sid.0=${cookies.find((c) => c.name === 'sid.0')!.value}`.length).toBe(4096)
    expect(await read(app, jar)).toEqual({ isNew: false, length: 4000 })
    // A read changes nothing: no Set-Cookie at all.
    expect(setCookies(await jar.request(app, '/'))).toEqual([])
  })

  it('a session that fits stays one plain cookie', async () => {
    const { app } = createApp()
    const { cookies } = await set(app, new Jar(), 100)
    expect(summary(cookies)).toEqual(['sid'])
  })

  it('growing from one cookie to chunks clears the plain cookie', async () => {
    const { app } = createApp()
    const jar = new Jar()
    await set(app, jar, 100)
    const { cookies } = await set(app, jar, 4000)
    expect(summary(cookies)).toEqual(['sid cleared', 'sid.0', 'sid.1'])
    expect([...jar.cookies.keys()].sort()).toEqual(['sid.0', 'sid.1'])
    expect((await read(app, jar)).length).toBe(4000)
  })

  it('shrinking to one cookie clears every chunk', async () => {
    const { app } = createApp()
    const jar = new Jar()
    await set(app, jar, 4000)
    const { cookies } = await set(app, jar, 100)
    expect(summary(cookies)).toEqual(['sid', 'sid.0 cleared', 'sid.1 cleared'])
    expect([...jar.cookies.keys()]).toEqual(['sid'])
    expect((await read(app, jar)).length).toBe(100)
  })

  it('shrinking from three chunks to two clears the third', async () => {
    const { app } = createApp()
    const jar = new Jar()
    await set(app, jar, 8000)
    expect([...jar.cookies.keys()].sort()).toEqual(['sid.0', 'sid.1', 'sid.2'])
    const { cookies } = await set(app, jar, 5000)
    expect(summary(cookies)).toEqual(['sid.0', 'sid.1', 'sid.2 cleared'])
    expect((await read(app, jar)).length).toBe(5000)
  })

  it('over the cap (3 cookies) throws SessionTooLargeError at commit and sets nothing', async () => {
    const { app, errors } = createApp()
    const jar = new Jar()
    const { res, cookies } = await set(app, jar, 10_000)
    expect(res.status).toBe(500)
    expect(cookies).toEqual([])
    const err = errors[0] as SessionTooLargeError
    expect(err).toBeInstanceOf(SessionTooLargeError)
    expect(err.limit).toBe(3 * 4096)
    expect(err.size).toBeGreaterThan(3 * 4096)
    expect(err.message).toContain('3 cookies')
  })

  it('maxChunks raises the cap', async () => {
    const { app } = createApp({ chunk: { maxChunks: 4 } })
    const jar = new Jar()
    const { res, cookies } = await set(app, jar, 10_000)
    expect(res.status).toBe(200)
    expect(summary(cookies)).toEqual(['sid.0', 'sid.1', 'sid.2', 'sid.3'])
    expect((await read(app, jar)).length).toBe(10_000)
  })

  it('logout clears every chunk', async () => {
    const { app } = createApp()
    const jar = new Jar()
    await set(app, jar, 4000)
    const res = await jar.request(app, '/logout', { method: 'POST' })
    expect(summary(setCookies(res))).toEqual(['sid.0 cleared', 'sid.1 cleared'])
    expect(jar.cookies.size).toBe(0)
  })
})

describe('bad chunks: a fresh session, never a throw, nothing cleared that did not verify', () => {
  async function chunked() {
    const { app, onInvalid } = createApp()
    const jar = new Jar()
    await set(app, jar, 8000)
    return { app, onInvalid, parts: [0, 1, 2].map((i) => jar.cookies.get(`sid.${i}`)!) }
  }

  const send = async (app: Requestable, cookie: string) => {
    const res = await app.request('http://localhost/', { headers: { cookie } })
    return { body: (await res.json()) as { isNew: boolean }, cookies: summary(setCookies(res)) }
  }

  // A clear cannot say which copy it deletes: it hits the browser's own host-only cookie. So
  // chunks are cleared only when they verified (an expired session, below), never for a
  // changed or broken set, which a sibling subdomain may have planted beside the real one.
  it('a changed character in any chunk is tampered, and nothing is cleared', async () => {
    const { app, onInvalid, parts } = await chunked()
    for (let i = 0; i < 3; i++) {
      const bad = parts.map((p, j) => (j === i ? `${p.slice(0, 100)}A${p.slice(101)}` : p))
      if (bad[i] === parts[i]) bad[i] = `${parts[i]!.slice(0, 100)}B${parts[i]!.slice(101)}`
      const { body, cookies } = await send(app, bad.map((p, j) => `sid.${j}=${p}`).join('; '))
      expect(body.isNew).toBe(true)
      expect(cookies).toEqual([])
    }
    expect(onInvalid.mock.calls.map(([r]) => r)).toEqual(['tampered', 'tampered', 'tampered'])
  })

  it('a missing middle chunk is malformed, and nothing is cleared', async () => {
    const { app, onInvalid, parts } = await chunked()
    const { body, cookies } = await send(app, `sid.0=${parts[0]}; sid.2=${parts[2]}`)
    expect(body.isNew).toBe(true)
    expect(cookies).toEqual([])
    expect(onInvalid).toHaveBeenCalledWith('malformed', expect.anything())
  })

  it('an expired chunked session is refused and every chunk it came in is cleared', async () => {
    const clock = testClock()
    const { app, onInvalid } = createApp({ now: clock.now, maxAge: 60 })
    const jar = new Jar()
    await set(app, jar, 8000)
    clock.advance(61)
    const { body, cookies } = await send(app, jar.header())
    expect(body.isNew).toBe(true)
    expect(cookies).toEqual(['sid.0 cleared', 'sid.1 cleared', 'sid.2 cleared'])
    expect(onInvalid).toHaveBeenCalledWith('expired', expect.anything())
  })

  it('chunks in another order are refused', async () => {
    const { app, parts } = await chunked()
    const { body } = await send(app, `sid.0=${parts[1]}; sid.1=${parts[0]}; sid.2=${parts[2]}`)
    expect(body.isNew).toBe(true)
  })

  it('a dropped last chunk is refused', async () => {
    const { app, onInvalid, parts } = await chunked()
    const { body } = await send(app, `sid.0=${parts[0]}; sid.1=${parts[1]}`)
    expect(body.isNew).toBe(true)
    expect(onInvalid).toHaveBeenCalledTimes(1)
  })

  // No configuration writes an index from the cap on: such a cookie is someone else's.
  it('chunks from the cap on are ignored: the set below it opens, and they are never cleared', async () => {
    const { app, onInvalid, parts } = await chunked()
    const cookie = [...parts, parts[2]].map((p, j) => `sid.${j}=${p}`).join('; ')
    const { body, cookies } = await send(app, cookie)
    expect(body.isNew).toBe(false)
    expect(cookies).toEqual([])
    const write = await app.request('http://localhost/set/5000', {
      method: 'POST',
      headers: { cookie },
    })
    expect(summary(setCookies(write))).toEqual(['sid.0', 'sid.1', 'sid.2 cleared'])
    expect(onInvalid).not.toHaveBeenCalled()
  })

  it('only chunks from the cap on: no session cookie at all (onInvalid is not called)', async () => {
    const { app, onInvalid, parts } = await chunked()
    const { body, cookies } = await send(app, `sid.3=${parts[0]}; sid.4=${parts[1]}`)
    expect(body.isNew).toBe(true)
    expect(cookies).toEqual([])
    expect(onInvalid).not.toHaveBeenCalled()
  })

  it('a valid plain cookie wins over stale chunks beside it', async () => {
    const { app } = createApp()
    const jar = new Jar()
    await set(app, jar, 100)
    const plain = jar.cookies.get('sid')!
    const { body } = await send(app, `sid=${plain}; sid.0=junk; sid.1=junk`)
    expect(body.isNew).toBe(false)
  })
})

describe('options', () => {
  const paths = (options: SessionOptions) => {
    try {
      session({ secret: SECRET, ...options })
    } catch (err) {
      expect(err).toBeInstanceOf(SessionConfigError)
      return (err as SessionConfigError).issues.map((i) => i.path)
    }
    return []
  }

  it('maxChunks must be a whole number from 2 to 10', () => {
    for (const maxChunks of [1, 11, 2.5, Number.NaN]) {
      expect(paths({ chunk: { maxChunks } })).toEqual(['chunk.maxChunks'])
    }
    expect(paths({ chunk: { maxChunks: 10 } })).toEqual([])
  })

  it('chunk applies to sealed cookies only', () => {
    expect(paths({ chunk: true, store: new Map() })).toEqual(['chunk'])
    expect(paths({ chunk: true, transport: 'header' })).toEqual(['chunk'])
  })

  it('without chunk, a session over 4096 bytes still throws SessionTooLargeError', async () => {
    const { app, errors } = createApp({ chunk: false })
    const { res } = await set(app, new Jar(), 4000)
    expect(res.status).toBe(500)
    expect((errors[0] as SessionTooLargeError).limit).toBe(4096)
  })
})

describe('planted chunks: bounded work, and a cut through a %XX escape', () => {
  /** A JSON encoder (no crypto: these tests count calls and look at bytes) that counts decodes. */
  function jsonEncoder() {
    const calls = { decode: 0 }
    const encoder: SessionEncoder = {
      encode: (record) => JSON.stringify(record),
      decode: (value) => {
        calls.decode++
        return JSON.parse(value)
      },
    }
    return { calls, encoder }
  }

  it(`duplicates under every name: at most ${MAX_CANDIDATES} plain values and ${MAX_CHUNK_SETS} chunk sets are opened`, async () => {
    const { calls, encoder } = jsonEncoder()
    const { app, onInvalid } = createApp({ encoder })
    // Full-length chunks (4096 - "sid.N=".length), two per name, and four plain cookies.
    const full = (ch: string) => ch.repeat(4090)
    const chunks = [0, 1, 2].flatMap((i) => [`sid.${i}=${full('A')}`, `sid.${i}=${full('B')}`])
    const plain = ['p', 'q', 'r', 's'].map((v) => `sid=${v}`)
    const res = await app.request('http://localhost/', {
      headers: { cookie: [...plain, ...chunks].join('; ') },
    })
    expect(await res.json()).toEqual({ isNew: true })
    expect(res.headers.getSetCookie()).toEqual([])
    // 2 × 2 × 2 sets of three chunks can be formed: only the first four are opened.
    expect(calls.decode).toBe(MAX_CANDIDATES + MAX_CHUNK_SETS)
    expect(onInvalid).toHaveBeenCalledTimes(1)
  })

  it('a custom encoder’s percent-encoded value cut inside an escape opens again', async () => {
    const { encoder } = jsonEncoder()
    const { app } = createApp({ encoder })
    // Quotes JSON-escape to \" and percent-encode to %5C%22: six characters each, so some
    // padding puts the cut between sid.0 and sid.1 inside an escape.
    for (let pad = 0; pad < 6; pad++) {
      const jar = new Jar()
      const write = await app.request('http://localhost/quotes', {
        method: 'POST',
        body: `${'x'.repeat(pad)}${'"'.repeat(1000)}`,
      })
      jar.take(write)
      const first = jar.cookies.get('sid.0')
      expect(first).toBeDefined()
      if (!/%[0-9A-F]?$/.test(first!)) continue
      const read = await jar.request(app, '/quotes')
      expect(await read.text()).toBe(`${'x'.repeat(pad)}${'"'.repeat(1000)}`)
      return
    }
    throw new Error('no padding cut an escape')
  })
})
