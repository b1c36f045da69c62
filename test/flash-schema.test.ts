// session({ flashSchema }): flash values checked against a Standard Schema of one value per key.
// A flashed value that fails is a SessionDataError at commit (key `flash.<key>…`, the validator's
// message) and nothing is written; flash values a cookie brings that fail refuse the session
// (onInvalid('invalid-data')), the verdict cached with the unsealed result. zod 4, valibot and
// arktype, through Hono, the fetch adapter, the Next handle and the engine, under Node and Bun.
import { type } from 'arktype'
import { Hono } from 'hono'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { withSession } from '../src/adapters/fetch.ts'
import { session } from '../src/adapters/hono.ts'
import { createHandle } from '../src/adapters/next-handle.ts'
import { SessionEngine, sessionEngine } from '../src/core/engine.ts'
import { SessionConfigError, SessionDataError, type SessionError } from '../src/core/errors.ts'
import type { InvalidReason, SessionOptions, SessionSchema } from '../src/core/types.ts'
import { muteConsole } from './quiet-console.ts'
import { counted, messageFor } from './schema-support.ts'
import { Jar, type Requestable, requestOf, SECRET, setCookies } from './support.ts'

/**
 * { notice: string (at most 20 characters), error: { field: string, message: string } }: both
 * keys required, to show a check sees only the keys being checked.
 */
const libraries: Record<string, { flash: SessionSchema; async?: SessionSchema }> = {
  zod: {
    flash: z.object({
      notice: z.string().max(20),
      error: z.object({ field: z.string(), message: z.string() }),
    }),
    async: z
      .object({ notice: z.string().optional() })
      .refine(async (f) => f.notice !== 'forbidden', 'forbidden notice'),
  },
  valibot: {
    flash: v.object({
      notice: v.pipe(v.string(), v.maxLength(20)),
      error: v.object({ field: v.string(), message: v.string() }),
    }),
    async: v.pipeAsync(
      v.object({ notice: v.optional(v.string()) }),
      v.checkAsync(async (f) => f.notice !== 'forbidden', 'forbidden notice'),
    ),
  },
  arktype: {
    flash: type({ notice: 'string <= 20', error: { field: 'string', message: 'string' } }),
  },
}

/** POST /flash flashes each [key, value] of the body; GET / answers what arrived. */
function createApp(options: SessionOptions) {
  const invalid: InvalidReason[] = []
  const errors: { name: string; key?: string; message: string }[] = []
  const app = new Hono()
    .use(session({ onInvalid: (reason) => invalid.push(reason), ...options }))
    .onError((err, c) => {
      const e = err as SessionError & { key?: string }
      errors.push({ name: e.name, key: e.key, message: e.message })
      return c.text('error', 500)
    })
    .get('/', (c) => c.json({ isNew: c.session.isNew, flash: c.session.flash() }))
    .post('/flash', async (c) => {
      c.session.userId = 'u1'
      for (const [key, value] of (await c.req.json()) as [string, unknown][]) {
        c.session.flash(key, value)
      }
      return c.text('ok')
    })
    .post('/reflash', (c) => {
      c.session.reflash()
      return c.text('ok')
    })
  return { app, invalid, errors }
}

const flash = (jar: Jar, app: Requestable, pairs: [string, unknown][]) =>
  jar.request(app, '/flash', { method: 'POST', body: JSON.stringify(pairs) })
const arrived = async (jar: Jar, app: Requestable) => (await jar.request(app, '/')).json()

const error = { field: 'name', message: 'required' }

for (const [name, schemas] of Object.entries(libraries)) {
  describe(`${name}: session({ flashSchema })`, () => {
    it('values that pass are flashed and arrive; one key alone passes though the schema requires both', async () => {
      const { app, errors } = createApp({ secret: SECRET, flashSchema: schemas.flash })
      const jar = new Jar()
      expect((await flash(jar, app, [['notice', 'saved']])).status).toBe(200)
      expect(await arrived(jar, app)).toEqual({ isNew: false, flash: { notice: ['saved'] } })
      const pairs: [string, unknown][] = [
        ['notice', 'one'],
        ['notice', 'two'],
        ['error', error],
      ]
      expect((await flash(jar, app, pairs)).status).toBe(200)
      expect(await arrived(jar, app)).toEqual({
        isNew: false,
        flash: { notice: ['one', 'two'], error: [error] },
      })
      expect(errors).toEqual([])
    })

    it('a flashed value that fails is a SessionDataError at commit naming flash.<key>, with the validator message; nothing is written', async () => {
      const { app, errors } = createApp({ secret: SECRET, flashSchema: schemas.flash })
      const jar = new Jar()
      await flash(jar, app, [['notice', 'saved']])
      const cookie = jar.header()
      const long = 'x'.repeat(21)
      const tooLong = await flash(jar, app, [['notice', long]])
      expect(tooLong.status).toBe(500)
      expect(setCookies(tooLong)).toEqual([])
      // The second value under a key is checked too, and a nested path is named in full.
      const second = await flash(jar, app, [
        ['notice', 'fine'],
        ['notice', 7],
      ])
      expect(second.status).toBe(500)
      const nested = await flash(jar, app, [['error', { field: 1, message: 'm' }]])
      expect(nested.status).toBe(500)
      expect(errors.map((e) => [e.name, e.key])).toEqual([
        ['SessionDataError', 'flash.notice'],
        ['SessionDataError', 'flash.notice'],
        ['SessionDataError', 'flash.error.field'],
      ])
      expect(errors[0]!.message).toContain('Flash value "flash.notice" fails flashSchema')
      expect(errors[0]!.message).toContain(await messageFor(schemas.flash, { notice: long, error }))
      expect(errors[2]!.message).toContain(
        await messageFor(schemas.flash, { notice: 'n', error: { field: 1, message: 'm' } }),
      )
      // The cookie is the one before the failed requests, its flash intact.
      expect(jar.header()).toBe(cookie)
      expect(await arrived(jar, app)).toEqual({ isNew: false, flash: { notice: ['saved'] } })
    })

    it('flash values a cookie brings that fail (an older deploy without the schema) refuse the session', async () => {
      const older = createApp({ secret: SECRET })
      const jar = new Jar()
      await flash(jar, older.app, [['notice', 42]])
      expect(jar.cookies.size).toBe(1)
      const { app, invalid } = createApp({ secret: SECRET, flashSchema: schemas.flash })
      const res = await jar.request(app, '/')
      expect(await res.json()).toEqual({ isNew: true, flash: {} })
      expect(invalid).toEqual(['invalid-data'])
      expect(setCookies(res)[0]?.attributes['max-age']).toBe('0')
    })

    it('reflash keeps values that pass; the verdict on a valid cookie is cached', async () => {
      const { schema, calls } = counted(schemas.flash)
      const { app } = createApp({ secret: SECRET, flashSchema: schema })
      const jar = new Jar()
      await flash(jar, app, [['notice', 'kept']])
      const afterWrite = calls()
      for (let i = 0; i < 2; i++) {
        expect((await jar.request(app, '/reflash', { method: 'POST' })).status).toBe(200)
      }
      expect(await arrived(jar, app)).toEqual({ isNew: false, flash: { notice: ['kept'] } })
      // Each reflash writes a new cookie: opened (one check) and written (one check) each time;
      // the last read opened it (one check). Without the cache a re-read would count again.
      const perRun = calls() - afterWrite
      expect(await arrived(jar, app)).toEqual({ isNew: false, flash: {} })
      expect(calls() - afterWrite).toBe(perRun)
    })

    it('the fetch adapter and the engine check flash values too', async () => {
      const handler = withSession({ secret: SECRET, flashSchema: schemas.flash }, (req, s) => {
        s.flash('notice', new URL(req.url).searchParams.get('n')!)
        return new Response('ok')
      })
      const ok = await handler(new Request('http://localhost/?n=short'))
      expect(ok.status).toBe(200)
      expect(setCookies(ok)).toHaveLength(1)
      const muted = muteConsole()
      const bad = await handler(new Request(`http://localhost/?n=${'x'.repeat(21)}`))
      const logged = muted.calls().error
      muted.restore()
      expect(bad.status).toBe(500)
      expect(setCookies(bad)).toEqual([])
      // withSession answers a generic 500 and logs the SessionDataError.
      expect(logged).toBe(1)

      const engine = sessionEngine({ secret: SECRET, flashSchema: schemas.flash })
      expect(engine.synchronous).toBe(true)
      const state = engine.loadSync(requestOf(), undefined)
      state.session.flash('error', { field: 'f' })
      expect(() => engine.commitSync(state, undefined)).toThrow(SessionDataError)
    })

    it('the Next handle: a flash value that fails rejects its flash(key, value) (the handle writes at once)', async () => {
      const engine = new SessionEngine({ secret: SECRET, flashSchema: schemas.flash })
      const state = await engine.load(requestOf(), undefined)
      const handle = createHandle(state, async () => (await engine.commit(state, undefined)).token)
      await handle.flash('notice', 'fine')
      const err = await handle.flash('notice', 'x'.repeat(21)).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(SessionDataError)
      expect((err as SessionDataError).key).toBe('flash.notice')
    })

    if (schemas.async) {
      const schema = schemas.async
      it('an async flashSchema: the engine is not synchronous, and loads and commits wait for it', async () => {
        const engine = sessionEngine({ secret: SECRET, flashSchema: schema })
        expect(engine.synchronous).toBe(false)
        const { app, errors, invalid } = createApp({ secret: SECRET, flashSchema: schema })
        const jar = new Jar()
        expect((await flash(jar, app, [['notice', 'hello']])).status).toBe(200)
        expect(await arrived(jar, app)).toEqual({ isNew: false, flash: { notice: ['hello'] } })
        expect((await flash(jar, app, [['notice', 'forbidden']])).status).toBe(500)
        expect(errors[0]).toMatchObject({ name: 'SessionDataError', key: 'flash' })
        expect(errors[0]!.message).toContain('forbidden notice')

        const older = createApp({ secret: SECRET })
        const olderJar = new Jar()
        await flash(olderJar, older.app, [['notice', 'forbidden']])
        expect(await arrived(olderJar, app)).toEqual({ isNew: true, flash: {} })
        expect(invalid).toEqual(['invalid-data'])
      })
    }
  })
}

describe('session({ flashSchema }): configuration', () => {
  it('something that is not a Standard Schema is a SessionConfigError on flashSchema', () => {
    expect(() => sessionEngine({ secret: SECRET, flashSchema: {} as never })).toThrow(
      SessionConfigError,
    )
    try {
      sessionEngine({ secret: SECRET, flashSchema: { parse() {} } as never })
    } catch (err) {
      expect((err as SessionConfigError).issues.map((i) => i.path)).toEqual(['flashSchema'])
    }
  })
})
