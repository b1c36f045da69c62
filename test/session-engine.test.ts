// sessionEngine(): the public engine for frameworks without an adapter, driven end to end over
// Web-standard Request/Response as such an adapter would.
import { describe, expect, it } from 'vitest'
import { SessionError, sessionEngine } from '../src/index.ts'
import { parseSetCookie, SECRET } from './support.ts'

const view = (request: Request) => ({
  header: (name: string) => request.headers.get(name),
  url: () => request.url,
})

describe('sessionEngine()', () => {
  const engine = sessionEngine<{ visits?: number }, Request>({ secret: SECRET })

  async function visit(cookie?: string) {
    const request = new Request('https://example.com/', cookie ? { headers: { cookie } } : {})
    const handle = await engine.load(view(request), request)
    const before = handle.session.visits
    handle.session.visits = (handle.session.visits ?? 0) + 1
    return { before, commit: await engine.commit(handle, request) }
  }

  it('counts visits across requests, answering headers, cookie fields and the token', async () => {
    const first = await visit()
    expect(first.before).toBeUndefined()
    expect(first.commit.headers).toHaveLength(1)
    const [name, value] = first.commit.headers[0]!
    expect(name).toBe('set-cookie')
    const parsed = parseSetCookie(value)
    const cookie = first.commit.cookies[0]!
    expect(cookie).toMatchObject({
      name: 'sid',
      value: parsed.value,
      path: '/',
      httpOnly: true,
      secure: true,
      sameSite: 'Lax',
      partitioned: false,
      header: value,
    })
    expect(cookie.maxAge).toBe(Number(parsed.attributes['max-age']))
    expect(new Date(cookie.expires).toUTCString()).toBe(parsed.attributes.expires)
    expect(first.commit.token).toBe(parsed.value)
    const second = await visit(`sid=${first.commit.token}`)
    expect(second.before).toBe(1)
  })

  it('is synchronous in sealed mode on node:crypto, and the sync pair gives the same session', async () => {
    expect(engine.synchronous).toBe(true)
    const { commit } = await visit()
    const request = new Request('https://example.com/', {
      headers: { cookie: `sid=${commit.token}` },
    })
    const handle = engine.loadSync(view(request), request)
    expect(handle.session.visits).toBe(1)
    expect(engine.commitSync(handle, request).headers).toEqual([])
  })

  it('refuses a handle it did not make', async () => {
    const request = new Request('https://example.com/')
    const fake = { session: {} as never, replace() {} }
    await expect(engine.commit(fake, request)).rejects.toThrow(SessionError)
    await expect(engine.commit(fake, request)).rejects.toMatchObject({
      code: 'ERR_SESSION_MISSING',
    })
  })
})
