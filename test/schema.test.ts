// session({ schema }): loaded data that fails the schema is refused, committed data that fails it
// throws SessionDataError, a new session starts from its defaults without a write, and data is
// stored as the handler set it. The same cases for zod 4, valibot and arktype, through the Hono
// adapter and the engine, under Node and Bun.
import { type } from 'arktype'
import { Hono } from 'hono'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { session } from '../src/adapters/hono.ts'
import { csrfToken, verifyCsrfToken } from '../src/adapters/hono-csrf.ts'
import { sessionEngine } from '../src/core/engine.ts'
import { SessionConfigError, SessionDataError, type SessionError } from '../src/core/errors.ts'
import type { InvalidReason, SessionOptions, SessionSchema } from '../src/core/types.ts'
import { counted, messageFor } from './schema-support.ts'
import { Jar, type Requestable, requestOf, SECRET, setCookies } from './support.ts'

/** One validator library's schemas, all with the same meaning. */
interface Schemas {
  /** { visits: integer = 0, userId?: string, cart?: string[] } */
  visits: SessionSchema
  /** { visits: number = 0 } and no other key. */
  strict: SessionSchema
  /** { name?: string } whose output is upper-cased. */
  transform: SessionSchema
  /** { userId: string, visits: number = 0 } */
  required: SessionSchema
  /** { cart: string[] = [] } */
  cart: SessionSchema
  /** { visits: number = 0 }, and visits < 100 checked asynchronously; undefined if unsupported. */
  async?: SessionSchema
}

const libraries: Record<string, Schemas> = {
  zod: {
    visits: z.object({
      visits: z.number().int().default(0),
      userId: z.string().optional(),
      cart: z.array(z.string()).optional(),
    }),
    strict: z.strictObject({ visits: z.number().default(0) }),
    transform: z.object({
      name: z
        .string()
        .transform((s) => s.toUpperCase())
        .optional(),
    }),
    required: z.object({ userId: z.string(), visits: z.number().default(0) }),
    cart: z.object({ cart: z.array(z.string()).default(() => []) }),
    async: z
      .object({ visits: z.number().default(0) })
      .refine(async (d) => d.visits < 100, 'too many visits'),
  },
  valibot: {
    visits: v.object({
      visits: v.optional(v.pipe(v.number(), v.integer()), 0),
      userId: v.optional(v.string()),
      cart: v.optional(v.array(v.string())),
    }),
    strict: v.strictObject({ visits: v.optional(v.number(), 0) }),
    transform: v.object({ name: v.optional(v.pipe(v.string(), v.toUpperCase())) }),
    required: v.object({ userId: v.string(), visits: v.optional(v.number(), 0) }),
    cart: v.object({ cart: v.optional(v.array(v.string()), () => []) }),
    async: v.pipeAsync(
      v.object({ visits: v.optional(v.number(), 0) }),
      v.checkAsync(async (d) => d.visits < 100, 'too many visits'),
    ),
  },
  arktype: {
    visits: type({ visits: 'number.integer = 0', 'userId?': 'string', 'cart?': 'string[]' }),
    strict: type({ '+': 'reject', visits: 'number = 0' }),
    transform: type({ 'name?': type('string').pipe((s) => s.toUpperCase()) }),
    required: type({ userId: 'string', visits: 'number = 0' }),
    cart: type({ cart: type('string[]').default(() => []) }),
    // arktype validates synchronously only.
  },
}

/** What a request's handler threw, as the app's error handler saw it. */
interface Thrown {
  name: string
  code?: string
  key?: string
  message: string
}

/** A Hono app over `options` with routes that read, count, set and report. */
function createApp(options: SessionOptions) {
  const invalid: InvalidReason[] = []
  const errors: Thrown[] = []
  const app = new Hono()
    .use(session({ onInvalid: (reason) => invalid.push(reason), ...options }))
    .onError((err, c) => {
      const e = err as SessionError & { key?: string }
      errors.push({ name: e.name, code: e.code, key: e.key, message: e.message })
      return c.text('error', 500)
    })
    .get('/data', (c) =>
      c.json({ data: c.session.toJSON(), isNew: c.session.isNew, changed: c.session.hasChanged }),
    )
    .post('/visit', (c) => {
      c.session.visits = c.session.visits + 1
      return c.json({ visits: c.session.visits })
    })
    .post('/set', async (c) => {
      Object.assign(c.session, await c.req.json())
      return c.text('ok')
    })
    .post('/push', (c) => {
      c.session.cart.push('apple')
      return c.json(c.session.cart)
    })
  return { app, invalid, errors }
}

const send = (jar: Jar, app: Requestable, path: string, body?: unknown) =>
  jar.request(
    app,
    path,
    body === undefined
      ? { method: path === '/data' ? 'GET' : 'POST' }
      : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'json' } },
  )

const dataOf = async (jar: Jar, app: Requestable) => (await send(jar, app, '/data')).json()

/** A session cookie written by an app of an older deploy (no schema) holding `data`. */
async function olderDeployCookie(data: Record<string, unknown>, options: SessionOptions = {}) {
  const { app } = createApp({ secret: SECRET, ...options })
  const jar = new Jar()
  const res = await send(jar, app, '/set', data)
  expect(res.status).toBe(200)
  expect(jar.cookies.size).toBe(1)
  return jar
}

for (const [name, schemas] of Object.entries(libraries)) {
  describe(`${name}: session({ schema }) over Hono`, () => {
    it('a new session starts from the defaults, and nothing is written while nothing changes', async () => {
      const { app } = createApp({ secret: SECRET, schema: schemas.visits })
      const jar = new Jar()
      const res = await send(jar, app, '/data')
      expect(await res.json()).toEqual({ data: { visits: 0 }, isNew: true, changed: false })
      expect(setCookies(res)).toEqual([])
      // Counting from the default writes, and the count comes back.
      expect(await (await send(jar, app, '/visit')).json()).toEqual({ visits: 1 })
      expect(jar.cookies.size).toBe(1)
      expect(await (await send(jar, app, '/visit')).json()).toEqual({ visits: 2 })
      const again = await send(jar, app, '/data')
      expect(await again.json()).toEqual({ data: { visits: 2 }, isNew: false, changed: false })
      expect(setCookies(again)).toEqual([])
    })

    it('a cookie from an older deploy whose data fails the schema is refused: a fresh session, onInvalid and the cookie cleared', async () => {
      const jar = await olderDeployCookie({ visits: 'many', userId: 'u1' })
      const { app, invalid } = createApp({ secret: SECRET, schema: schemas.visits })
      const res = await send(jar, app, '/data')
      expect(await res.json()).toEqual({ data: { visits: 0 }, isNew: true, changed: false })
      expect(invalid).toEqual(['invalid-data'])
      const [cleared] = setCookies(res)
      expect(cleared?.attributes['max-age']).toBe('0')
      expect(jar.cookies.size).toBe(0)
    })

    it('an older cookie that lacks a defaulted key opens with the default filled in, without a write', async () => {
      const jar = await olderDeployCookie({ userId: 'u1' })
      const { app, invalid } = createApp({ secret: SECRET, schema: schemas.visits })
      const res = await send(jar, app, '/data')
      expect(await res.json()).toEqual({
        data: { userId: 'u1', visits: 0 },
        isNew: false,
        changed: false,
      })
      expect(setCookies(res)).toEqual([])
      expect(invalid).toEqual([])
      expect(await (await send(jar, app, '/visit')).json()).toEqual({ visits: 1 })
      expect((await dataOf(jar, app)).data).toEqual({ userId: 'u1', visits: 1 })
    })

    it('data that fails the schema at commit is a SessionDataError naming the path, with the validator message; nothing is written', async () => {
      const { app, errors } = createApp({ secret: SECRET, schema: schemas.visits })
      const jar = new Jar()
      await send(jar, app, '/visit')
      const cookie = jar.header()
      const bad = await send(jar, app, '/set', { visits: 'many' })
      expect(bad.status).toBe(500)
      expect(setCookies(bad)).toEqual([])
      const nested = await send(jar, app, '/set', { cart: ['apple', 7] })
      expect(nested.status).toBe(500)
      expect(errors.map((e) => [e.name, e.code, e.key])).toEqual([
        ['SessionDataError', 'ERR_SESSION_DATA', 'visits'],
        ['SessionDataError', 'ERR_SESSION_DATA', 'cart.1'],
      ])
      expect(errors[0]!.message).toContain(
        await messageFor(schemas.visits, { visits: 'many', userId: undefined }),
      )
      expect(errors[1]!.message).toContain(
        await messageFor(schemas.visits, { visits: 1, cart: ['apple', 7] }),
      )
      expect(jar.header()).toBe(cookie)
      expect((await dataOf(jar, app)).data).toEqual({ visits: 1 })
    })

    it('data is stored as the handler set it, never as the schema outputs it', async () => {
      const { app } = createApp({ secret: SECRET, schema: schemas.transform })
      const jar = new Jar()
      expect((await send(jar, app, '/set', { name: 'ada' })).status).toBe(200)
      expect((await dataOf(jar, app)).data).toEqual({ name: 'ada' })
    })

    it('internal keys are not shown to the schema: csrfToken() works under a strict schema', async () => {
      const { app, errors } = createApp({ secret: SECRET, schema: schemas.strict })
      app.post('/token', (c) => c.text(csrfToken(c.session)))
      app.post('/check', async (c) => c.json(verifyCsrfToken(c.session, await c.req.text())))
      const jar = new Jar()
      const token = await (await send(jar, app, '/token')).text()
      expect(errors).toEqual([])
      expect(jar.cookies.size).toBe(1)
      const check = await jar.request(app, '/check', { method: 'POST', body: token })
      expect(await check.json()).toBe(true)
      // Another key is not internal: the strict schema refuses it.
      expect((await send(jar, app, '/set', { other: 1 })).status).toBe(500)
      expect(errors).toHaveLength(1)
      expect(errors[0]!.message).toContain(
        await messageFor(schemas.strict, { visits: 0, other: 1 }),
      )
    })

    it('a required key: a new session starts empty ({} fails), unwritten until the key is set; loaded, it gets the other defaults', async () => {
      const { app, errors } = createApp({ secret: SECRET, schema: schemas.required })
      const jar = new Jar()
      const res = await send(jar, app, '/data')
      expect(await res.json()).toEqual({ data: {}, isNew: true, changed: false })
      expect(setCookies(res)).toEqual([])
      expect((await send(jar, app, '/set', { visits: 3 })).status).toBe(500)
      expect(errors.map((e) => e.key)).toEqual(['userId'])
      expect(jar.cookies.size).toBe(0)
      const set = await send(jar, app, '/set', { userId: 'u1' })
      expect(set.status).toBe(200)
      const written = await send(jar, app, '/data')
      expect(await written.json()).toEqual({
        data: { userId: 'u1', visits: 0 },
        isNew: false,
        changed: false,
      })
      expect(setCookies(written)).toEqual([])
    })

    it('each session changes its own copy of the defaults', async () => {
      const { app } = createApp({ secret: SECRET, schema: schemas.cart })
      const first = new Jar()
      expect(await (await send(first, app, '/push')).json()).toEqual(['apple'])
      expect(await (await send(first, app, '/push')).json()).toEqual(['apple', 'apple'])
      const second = new Jar()
      expect((await dataOf(second, app)).data).toEqual({ cart: [] })
      expect(await (await send(second, app, '/push')).json()).toEqual(['apple'])
    })

    it('a valid cookie is validated once, not on every request (the verdict is cached with the unsealed result)', async () => {
      const { schema, calls } = counted(schemas.visits)
      const { app } = createApp({ secret: SECRET, schema })
      const jar = new Jar()
      await send(jar, app, '/visit') // a new session: the commit validates
      const afterWrite = calls()
      for (let i = 0; i < 3; i++) expect((await dataOf(jar, app)).data).toEqual({ visits: 1 })
      // The first read opened the new cookie (one validation); the next two came from the cache.
      expect(calls() - afterWrite).toBe(1)
    })

    it('store mode: a tampered store row is refused like a bad cookie', async () => {
      const store = new Map<string, any>()
      const { app, invalid } = createApp({ secret: SECRET, schema: schemas.visits, store })
      const jar = new Jar()
      await send(jar, app, '/visit')
      await send(jar, app, '/visit')
      expect((await dataOf(jar, app)).data).toEqual({ visits: 2 })
      const [id, record] = [...store][0]!
      store.set(id, { ...record, data: { visits: 2.5 } })
      const res = await send(jar, app, '/data')
      expect(await res.json()).toEqual({ data: { visits: 0 }, isNew: true, changed: false })
      expect(invalid).toEqual(['invalid-data'])
    })

    it('the engine: defaults, load refusal and commit errors without an adapter; synchronous when the schema is', async () => {
      const invalid: InvalidReason[] = []
      const engine = sessionEngine({
        secret: SECRET,
        schema: schemas.visits,
        onInvalid: (reason) => invalid.push(reason),
      })
      expect(engine.synchronous).toBe(true)
      const fresh = engine.loadSync(requestOf(), undefined)
      expect(fresh.session.toJSON()).toEqual({ visits: 0 })
      expect(engine.commitSync(fresh, undefined).headers).toEqual([])
      fresh.session.visits = 5
      const { headers } = engine.commitSync(fresh, undefined)
      const cookie = headers[0]![1].split(';', 1)[0]!
      const loaded = await engine.load(requestOf(cookie), undefined)
      expect(loaded.session.visits).toBe(5)
      loaded.session.visits = -0.5
      const err = await engine.commit(loaded, undefined).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(SessionDataError)
      expect((err as SessionDataError).key).toBe('visits')
      expect((err as Error).message).toContain(await messageFor(schemas.visits, { visits: -0.5 }))

      // A cookie sealed without the schema (same secret) holding data it refuses.
      const older = sessionEngine({ secret: SECRET })
      const state = older.loadSync(requestOf(), undefined)
      state.session.visits = 'x'
      const olderCookie = older.commitSync(state, undefined).headers[0]![1].split(';', 1)[0]!
      const refused = engine.loadSync(requestOf(olderCookie), undefined)
      expect(refused.session.isNew).toBe(true)
      expect(refused.session.toJSON()).toEqual({ visits: 0 })
      expect(invalid).toEqual(['invalid-data'])
    })

    if (schemas.async) {
      const schema = schemas.async
      it('an async schema: the engine is not synchronous, and loads and commits wait for it', async () => {
        const engine = sessionEngine({ secret: SECRET, schema })
        expect(engine.synchronous).toBe(false)
        expect(() => engine.loadSync(requestOf(), undefined)).toThrow(
          expect.objectContaining({ code: 'ERR_SESSION_ASYNC' }),
        )
        const { app, invalid, errors } = createApp({ secret: SECRET, schema })
        const jar = new Jar()
        const res = await send(jar, app, '/data')
        expect(await res.json()).toEqual({ data: { visits: 0 }, isNew: true, changed: false })
        expect(setCookies(res)).toEqual([])
        expect(await (await send(jar, app, '/visit')).json()).toEqual({ visits: 1 })
        expect((await dataOf(jar, app)).data).toEqual({ visits: 1 })
        // The asynchronous rule refuses at commit …
        expect((await send(jar, app, '/set', { visits: 100 })).status).toBe(500)
        expect(errors[0]?.message).toContain('too many visits')
        // … and on load.
        const older = await olderDeployCookie({ visits: 100 })
        expect((await dataOf(older, app)).data).toEqual({ visits: 0 })
        expect(invalid).toEqual(['invalid-data'])
      })
    }
  })
}

describe('session({ schema }): configuration', () => {
  it('something that is not a Standard Schema is a SessionConfigError on schema', () => {
    for (const schema of [{}, 'z.object()', { '~standard': { validate: 1 } }]) {
      const err = (() => {
        try {
          sessionEngine({ secret: SECRET, schema: schema as never })
        } catch (e) {
          return e
        }
      })()
      expect(err).toBeInstanceOf(SessionConfigError)
      expect((err as SessionConfigError).issues.map((i) => i.path)).toEqual(['schema'])
    }
  })

  it('a default the schema refuses as stored data fails at the first write, naming its key', async () => {
    const bad = {
      // JSON turns the Date into a string, which z.date() refuses.
      at: z.object({ at: z.date().default(() => new Date(0)) }),
      // A default in the output's type that the schema refuses as input.
      length: z.object({
        length: z
          .string()
          .transform((s) => s.length)
          .default(0),
      }),
    }
    for (const [key, schema] of Object.entries(bad)) {
      const engine = sessionEngine({ secret: SECRET, schema })
      const state = await engine.load(requestOf(), undefined)
      Object.assign(state.session, { other: 1 })
      await expect(engine.commit(state, undefined)).rejects.toMatchObject({
        name: 'SessionDataError',
        key,
      })
    }
  })

  it('an async check writes what it validated, even when the app changes the session meanwhile', async () => {
    let hold: Promise<void> | undefined
    let release = () => {}
    const schema = z.object({ visits: z.number().default(0) }).refine(async () => {
      await hold
      return true
    })
    const engine = sessionEngine({ secret: SECRET, schema })
    const state = await engine.load(requestOf(), undefined)
    state.session.visits = 1
    hold = new Promise((resolve) => {
      release = resolve
    })
    const committing = engine.commit(state, undefined)
    await new Promise((resolve) => setTimeout(resolve, 10))
    // An unawaited save() and a later write, say: the check of the first is still running.
    Object.assign(state.session, { visits: 'many' })
    hold = undefined
    release()
    const { token } = await committing
    const loaded = await engine.load(requestOf(`sid=${token}`), undefined)
    expect(loaded.session.isNew).toBe(false)
    expect(loaded.session.visits).toBe(1)
    // The later change is still to be written, and fails the schema then.
    await expect(engine.commit(state, undefined)).rejects.toBeInstanceOf(SessionDataError)
  })

  it('a default made by a function is made anew for each new session', async () => {
    let n = 0
    const schema = z.object({ ticket: z.number().default(() => ++n) })
    const engine = sessionEngine({ secret: SECRET, schema })
    const first = await engine.load(requestOf(), undefined)
    const second = await engine.load(requestOf(), undefined)
    expect(first.session.ticket).not.toBe(second.session.ticket)
    expect((await engine.commit(first, undefined)).headers).toEqual([])
  })

  it('a validator that throws on load refuses the session rather than failing the request', async () => {
    const schema = z.object({ visits: z.number().default(0) }).refine((d) => {
      if (d.visits === 13) throw new Error('unlucky')
      return true
    })
    const jar = await olderDeployCookie({ visits: 13 })
    const { app, invalid } = createApp({ secret: SECRET, schema })
    const res = await send(jar, app, '/data')
    expect(res.status).toBe(200)
    expect((await res.json()).data).toEqual({ visits: 0 })
    expect(invalid).toEqual(['invalid-data'])
  })
})
