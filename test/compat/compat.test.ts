// Sessions issued by release 0.1.0 (cookies-0.1.0.json, minted once by mint-0.1.0.ts) and by the
// 0.2.0 line before its compact payload of version 3 (cookies-0.2.0-dev.json, minted once by
// mint-0.2.0-dev.ts on main at ec392d7) must open, forever. Only the public API is used, so this file survives any restructuring of the core.
// Never re-mint the fixture or loosen these checks to make a change pass: a failure here means
// users would be logged out, or lose data, by upgrading.
import { readFileSync } from 'node:fs'
import { Hono } from 'hono'
import { describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { withSession } from '../../src/adapters/fetch.ts'
import { type Session, type SessionOptions, session } from '../../src/adapters/hono.ts'
import {
  type InvalidReason,
  type SessionRevocation,
  type SessionSchema,
  sessionRevocation,
} from '../../src/index.ts'
import type { CaseOptions, CompatCase, CompatFixture, Json } from './mint-0.1.0.ts'

const fixtures = ['cookies-0.1.0.json', 'cookies-0.2.0-dev.json'].map(
  (file) =>
    JSON.parse(readFileSync(new URL(`./${file}`, import.meta.url), 'utf8')) as CompatFixture,
)

const URL_BASE = 'https://example.com'

/** What a client holds between requests: its cookies, or its bearer token. */
type Carrier = { cookies: Map<string, string> } | { token: string }

interface Reply {
  isNew: boolean
  /** `toJSON()`: the data, without flash values (they are apart from the data since 0.2.0). */
  data: Record<string, Json>
  /** `session.flash()`: the flash values that arrived, by key. */
  flash: Record<string, Json[]>
  /** `session[key]` for each key in `flash`: what 0.1.0 apps read a flash value with. */
  shown: Record<string, Json>
  id: string | undefined
  /** The response rewrote the session (a Set-Cookie or token header). */
  rewritten: boolean
  /** What the client holds after this response. */
  carrier: Carrier
}

function parseCookieHeader(header: string): Map<string, string> {
  const cookies = new Map<string, string>()
  for (const pair of header.split('; ')) {
    const eq = pair.indexOf('=')
    cookies.set(pair.slice(0, eq), pair.slice(eq + 1))
  }
  return cookies
}

/** The carrier a case's client starts with. */
function initial(c: CompatCase): Carrier {
  if (c.token !== undefined) return { token: c.token }
  return { cookies: parseCookieHeader(c.cookie!) }
}

/** `carrier` with one character of its first value changed, away from any field edge. */
function tampered(carrier: Carrier): Carrier {
  const flip = (value: string): string => {
    const word = /[A-Za-z0-9]/
    for (let i = value.length >> 1; i < value.length - 1; i++) {
      if (word.test(value[i - 1]!) && word.test(value[i]!) && word.test(value[i + 1]!)) {
        return `${value.slice(0, i)}${value[i] === 'A' ? 'B' : 'A'}${value.slice(i + 1)}`
      }
    }
    throw new Error('no character to change')
  }
  if ('token' in carrier) return { token: flip(carrier.token) }
  const cookies = new Map(carrier.cookies)
  const [name, value] = [...cookies][0]!
  cookies.set(name, flip(value))
  return { cookies }
}

/** The client's state after a response, as a browser (or an API client) keeps it. */
function after(carrier: Carrier, res: Response, tokenHeader: string): Carrier {
  if ('token' in carrier) return { token: res.headers.get(tokenHeader) ?? carrier.token }
  const cookies = new Map(carrier.cookies)
  for (const raw of res.headers.getSetCookie()) {
    const [pair = '', ...attributes] = raw.split(';')
    const eq = pair.indexOf('=')
    const name = pair.slice(0, eq).trim()
    const value = pair.slice(eq + 1).trim()
    const cleared = attributes.some((a) => a.trim().toLowerCase() === 'max-age=0')
    if (cleared || value === '') cookies.delete(name)
    else cookies.set(name, value)
  }
  return { cookies }
}

const view = (s: Session) => {
  const flash = s.flash()
  const shown: Record<string, unknown> = {}
  for (const key of Object.keys(flash)) shown[key] = s[key]
  return { isNew: s.isNew, data: s.toJSON(), flash, shown, id: s.isNew ? undefined : s.id }
}

/** A server for one case, opening with its options (plus `overrides`) at a clock the test sets. */
function server(c: CompatCase, overrides: Partial<CaseOptions> = {}) {
  const clock = { at: c.openAt }
  const onInvalid = vi.fn<(reason: InvalidReason) => void>()
  const revocation: SessionRevocation | undefined = c.revocation
    ? sessionRevocation({ store: new Map(), now: () => clock.at })
    : undefined
  const options: SessionOptions = {
    ...c.options,
    ...overrides,
    now: () => clock.at,
    onInvalid,
    // Each server gets its own copy of the store as 0.1.0 left it.
    ...(c.store && { store: new Map<string, unknown>(Object.entries(structuredClone(c.store))) }),
    ...(revocation && { revocation }),
  }
  const tokenHeader = 'session-token'
  const write = (s: Session) => {
    s.compat = 'round-trip ✓'
  }
  let fetch: (request: Request) => Response | Promise<Response>
  if (c.adapter === 'hono') {
    const app = new Hono()
      .use(session(options))
      .get('/read', (ctx) => ctx.json(view(ctx.session)))
      .post('/write', (ctx) => {
        write(ctx.session)
        return ctx.json(view(ctx.session))
      })
    fetch = (request) => app.request(request)
  } else {
    fetch = withSession(options, (request, s) => {
      if (request.method === 'POST') write(s)
      return Response.json(view(s))
    })
  }

  /** Sends what `carrier` holds to `/read` (or `/write`), at `at` (default: the case's openAt). */
  async function send(carrier: Carrier, path: '/read' | '/write' = '/read', at = c.openAt) {
    clock.at = at
    const headers = new Headers()
    if ('token' in carrier) headers.set('authorization', `Bearer ${carrier.token}`)
    else headers.set('cookie', [...carrier.cookies].map(([k, v]) => `${k}=${v}`).join('; '))
    const method = path === '/write' ? 'POST' : 'GET'
    const res = await fetch(new Request(`${URL_BASE}${path}`, { method, headers }))
    expect(res.status).toBe(200)
    const body = (await res.json()) as Omit<Reply, 'rewritten' | 'carrier'>
    const rewritten =
      'token' in carrier
        ? res.headers.get(tokenHeader) !== null
        : res.headers.getSetCookie().length > 0
    return { ...body, rewritten, carrier: after(carrier, res, tokenHeader) } as Reply
  }
  return { send, onInvalid, revocation, clock }
}

/** The data without the pending flash values (0.1.0 kept them among the data). */
function withoutFlash(c: CompatCase): Record<string, Json> {
  const data = { ...c.expect.data }
  for (const key of Object.keys(c.expect.flash ?? {})) delete data[key]
  return data
}

/** The pending flash values as `session.flash()` lists them: one value per key. */
function flashOf(c: CompatCase): Record<string, Json[]> {
  return Object.fromEntries(Object.entries(c.expect.flash ?? {}).map(([k, v]) => [k, [v]]))
}

/**
 * Asserts `reply` is the case's session with exactly `data` (key order included) and exactly
 * the flash values `flash`, each also read as `session[key]`.
 */
function expectOpened(
  c: CompatCase,
  reply: Reply,
  data: Record<string, Json>,
  flash: Record<string, Json[]> = {},
): void {
  expect(reply.isNew).toBe(false)
  expect(reply.data).toStrictEqual(data)
  expect(JSON.stringify(reply.data)).toBe(JSON.stringify(data))
  expect(reply.flash).toStrictEqual(flash)
  expect(reply.shown).toStrictEqual(
    Object.fromEntries(Object.entries(flash).map(([k, v]) => [k, v.at(-1)])),
  )
  expect(reply.id).toBe(c.expect.id)
}

function expectFresh(reply: Reply): void {
  expect(reply.isNew).toBe(true)
  expect(reply.data).toStrictEqual({})
}

for (const fixture of fixtures) {
  describe(`cookies minted by ${fixture.version} (${fixture.commit})`, () => {
    describe('the fixture', () => {
      it('holds every mode the release could issue', () => {
        expect(['0.1.0', '0.2.0-dev']).toContain(fixture.version)
        const names = fixture.cases.map((c) => c.name)
        expect(new Set(names).size).toBe(names.length)
        expect(names).toEqual([
          'sealed-default',
          'sealed-json-kinds',
          'sealed-flash',
          'sealed-idle-rolling',
          'ring-array-old-key',
          'ring-object-numeric',
          'ring-object-numeric-rotated',
          'sealed-purpose',
          'sealed-host-prefix',
          'sealed-chunked',
          'sealed-revocation',
          'fetch-cookie',
          'header-token',
          'store-map',
          'store-map-old-key',
        ])
      })
    })

    describe.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      it(`opens as the session ${fixture.version} issued, with exactly its data (${c.about})`, async () => {
        const s = server(c)
        const reply = await s.send(initial(c))
        expect(s.onInvalid).not.toHaveBeenCalled()
        expectOpened(c, reply, withoutFlash(c), flashOf(c))
      })

      it('whatever the first response sends back opens as the same session', async () => {
        const s = server(c)
        const first = await s.send(initial(c))
        const second = await s.send(first.carrier)
        expectOpened(c, second, withoutFlash(c))
        expect(s.onInvalid).not.toHaveBeenCalled()
      })

      it('keeps a change made now: written back, it opens with the change', async () => {
        const s = server(c)
        const written = await s.send(initial(c), '/write')
        // A store write under the same id, signed with the newest key, to the same deadline,
        // leaves the client's cookie as it is: nothing to set (the next send checks the change).
        expect(written.rewritten).toBe(c.name !== 'store-map')
        // A pending flash value is still readable on this request, and gone after it.
        expectOpened(c, written, { ...withoutFlash(c), compat: 'round-trip ✓' }, flashOf(c))
        const next = await s.send(written.carrier)
        expectOpened(c, next, { ...withoutFlash(c), compat: 'round-trip ✓' })
      })

      it('is refused with one character changed (a fresh session)', async () => {
        const s = server(c)
        expectFresh(await s.send(tampered(initial(c))))
        expect(s.onInvalid).toHaveBeenCalledTimes(1)
      })

      it('stays valid until its deadline and is refused from it on', async () => {
        const s = server(c)
        const before = await s.send(initial(c), '/read', c.expiresAt - 1)
        expectOpened(c, before, withoutFlash(c), flashOf(c))
        const late = server(c)
        expectFresh(await late.send(initial(c), '/read', c.expiresAt))
        expect(late.onInvalid).toHaveBeenCalledWith('expired', expect.anything())
      })

      for (const refusal of c.refusedBy ?? []) {
        it(`is refused by ${refusal.why}`, async () => {
          const s = server(c, refusal.options)
          expectFresh(await s.send(initial(c)))
          expect(s.onInvalid).toHaveBeenCalledTimes(1)
        })
      }

      if (c.expect.flash) {
        it('shows its pending flash value once, then never again', async () => {
          const s = server(c)
          const first = await s.send(initial(c))
          for (const [key, value] of Object.entries(c.expect.flash!)) {
            expect(first.shown[key]).toStrictEqual(value)
            expect(first.flash[key]).toStrictEqual([value])
          }
          // Consuming the flash rewrites the session without it.
          expect(first.rewritten).toBe(true)
          const second = await s.send(first.carrier)
          for (const key of Object.keys(c.expect.flash!)) {
            expect(second.data).not.toHaveProperty(key)
            expect(second.flash).not.toHaveProperty(key)
          }
          const third = await s.send(second.carrier)
          expectOpened(c, third, withoutFlash(c))
        })
      }

      if (c.expect.resealed) {
        it('is re-sealed on the first request, and the new value opens with the newest key alone', async () => {
          const s = server(c)
          const first = await s.send(initial(c))
          expect(first.rewritten).toBe(true)
          expect(first.carrier).not.toStrictEqual(initial(c))
          expectOpened(c, await s.send(first.carrier), withoutFlash(c))
          if (c.expect.resealedOpensWith !== undefined) {
            const newest = server(c, { secret: c.expect.resealedOpensWith })
            expectOpened(c, await newest.send(first.carrier), withoutFlash(c))
            expect(newest.onInvalid).not.toHaveBeenCalled()
          }
        })
      }
    })

    const byName = (name: string): CompatCase => {
      const c = fixture.cases.find((x) => x.name === name)
      if (!c) throw new Error(`no case ${name}`)
      return c
    }

    describe('mode by mode', () => {
      it('sealed-flash: a schema sees its data only; its flash value (a data key in 0.1.0) is checked by flashSchema', async () => {
        const c = byName('sealed-flash')
        const schemas = (flashSchema: SessionSchema) =>
          ({ schema: z.strictObject({ userId: z.string() }), flashSchema }) as Partial<CaseOptions>
        const ok = server(c, schemas(z.object({ notice: z.string() })))
        const reply = await ok.send(initial(c))
        expect(reply).toMatchObject({
          isNew: false,
          data: { userId: 'u1' },
          flash: { notice: [c.expect.flash!.notice] },
        })
        expect(ok.onInvalid).not.toHaveBeenCalled()
        const refused = server(c, schemas(z.object({ notice: z.number() })))
        expect((await refused.send(initial(c))).isNew).toBe(true)
        expect(refused.onInvalid).toHaveBeenCalledWith('invalid-data', expect.anything())
      })

      it('sealed-idle-rolling: the rolled cookie outlives the idle deadline it was minted with', async () => {
        const c = byName('sealed-idle-rolling')
        const s = server(c)
        const rolled = await s.send(initial(c))
        expect(rolled.rewritten).toBe(true)
        expectOpened(c, await s.send(rolled.carrier, '/read', c.expiresAt), c.expect.data)
      })

      it('sealed-chunked: arrives in several <name>.N cookies, and a missing chunk is refused', async () => {
        const c = byName('sealed-chunked')
        const carrier = initial(c) as { cookies: Map<string, string> }
        const names = [...carrier.cookies.keys()]
        expect(names).toEqual(Array.from({ length: c.expect.chunks! }, (_, i) => `sid.${i}`))
        expect(c.expect.chunks).toBeGreaterThanOrEqual(2)

        const written = await server(c).send(carrier, '/write')
        const rewritten = written.carrier as { cookies: Map<string, string> }
        expect([...rewritten.cookies.keys()].every((n) => /^sid\.\d$/.test(n))).toBe(true)
        expect(rewritten.cookies.size).toBeGreaterThanOrEqual(2)

        const cookies = new Map(carrier.cookies)
        cookies.delete(`sid.${c.expect.chunks! - 1}`)
        const s = server(c)
        expectFresh(await s.send({ cookies }))
        expect(s.onInvalid).toHaveBeenCalledTimes(1)
      })

      it('sealed-revocation: its sealed id can be revoked, by id or by user', async () => {
        const c = byName('sealed-revocation')
        const byId = server(c)
        await byId.revocation!.revoke(c.expect.id)
        expectFresh(await byId.send(initial(c)))
        expect(byId.onInvalid).toHaveBeenCalledWith('revoked', expect.anything())

        const byUser = server(c)
        await byUser.revocation!.revokeUser(c.expect.data.userId as string)
        expectFresh(await byUser.send(initial(c)))
        expect(byUser.onInvalid).toHaveBeenCalledWith('revoked', expect.anything())
      })

      it('store-map: the cookie is the store key, signed; an id the store lacks is refused', async () => {
        const c = byName('store-map')
        expect(Object.keys(c.store!)).toEqual([c.expect.id])
        const s = server(c)
        const missing = { ...c, store: {} }
        const empty = server(missing)
        expectFresh(await empty.send(initial(c)))
        expect(empty.onInvalid).toHaveBeenCalledWith('not-found', expect.anything())
        expectOpened(c, await s.send(initial(c)), c.expect.data)
      })

      it('header-token: read from Authorization only, a cookie with the same value is ignored', async () => {
        const c = byName('header-token')
        const s = server(c)
        const asCookie = { cookies: new Map([['sid', c.token!]]) }
        expectFresh(await s.send(asCookie))
      })
    })
  })
}
