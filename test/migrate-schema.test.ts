// migrateFrom with `schema` / `flashSchema`: a session another library sealed is checked like one
// of ours before it is carried over. Data that fails is refused (a fresh session,
// onInvalid('invalid-data'), the old cookie cleared and never re-sealed as ours); data that passes
// opens with the schema's defaults filled in. Cookies minted by the real iron-session, hono-session
// and h3; schemas in zod 4, valibot and arktype.
import { type } from 'arktype'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { SessionSchema } from '../src/core/types.ts'
import { h3, honoSession, ironSession } from '../src/migrate/index.ts'
import { jarWith, switchedApp, visit } from './migrate/app.ts'
import { h3Cookie, honoSessionCookie, ironSessionCookie } from './migrate/mint.ts'
import { SECRET } from './support.ts'

/** { userId: string, visits: number = 0 }, unknown keys refused; the same in each library. */
const strictUser: Record<string, SessionSchema> = {
  zod: z.strictObject({ userId: z.string(), visits: z.number().default(0) }),
  valibot: v.strictObject({ userId: v.string(), visits: v.optional(v.number(), 0) }),
  arktype: type({ '+': 'reject', userId: 'string', visits: 'number = 0' }),
}
/** { notice?: string } as flash values. */
const noticeFlash: Record<string, SessionSchema> = {
  zod: z.object({ notice: z.string().max(20) }),
  valibot: v.object({ notice: v.pipe(v.string(), v.maxLength(20)) }),
  arktype: type({ notice: 'string <= 20' }),
}

for (const [name, schema] of Object.entries(strictUser)) {
  describe(`${name}: migrateFrom checks the schema`, () => {
    it('iron-session: data that fails is refused, the old cookie cleared, nothing of ours written', async () => {
      const old = await ironSessionCookie({ userId: 42 }, { password: SECRET, cookieName: 'iron' })
      const { app, onInvalid } = switchedApp({
        schema,
        migrateFrom: [ironSession({ cookieName: 'iron' })],
      })
      const jar = jarWith(old)
      const { seen, cookies } = await visit(app, jar)
      expect(seen).toMatchObject({ isNew: true, data: {} })
      expect(onInvalid).toHaveBeenCalledTimes(1)
      expect(onInvalid).toHaveBeenCalledWith('invalid-data', expect.anything())
      expect(cookies.get('iron')?.attributes['max-age']).toBe('0')
      expect(cookies.has('sid')).toBe(false)
      expect(jar.cookies.size).toBe(0)
    })

    it('iron-session: data that passes opens with the defaults filled in and is sealed as ours', async () => {
      const old = await ironSessionCookie(
        { userId: '42' },
        { password: SECRET, cookieName: 'iron' },
      )
      const { app, onInvalid } = switchedApp({
        schema,
        migrateFrom: [ironSession({ cookieName: 'iron' })],
      })
      const jar = jarWith(old)
      const first = await visit(app, jar)
      expect(first.seen).toMatchObject({ isNew: false, data: { userId: '42', visits: 0 } })
      expect(onInvalid).not.toHaveBeenCalled()
      expect(first.cookies.get('sid')?.value).toMatch(/^Fe26\.2\*\*/)
      expect([...jar.cookies.keys()]).toEqual(['sid'])
      // Ours now: it opens under the same schema without the migrator.
      const plain = switchedApp({ schema })
      expect((await visit(plain.app, jar)).seen).toMatchObject({
        isNew: false,
        data: { userId: '42' },
      })
      expect(plain.onInvalid).not.toHaveBeenCalled()
    })

    it('hono-session under our own cookie name: refused as invalid-data, not as a cookie of neither format', async () => {
      const old = await honoSessionCookie({ userId: '42', admin: true }, { secret: SECRET })
      const { app, onInvalid } = switchedApp({ schema, migrateFrom: [honoSession()] })
      const { seen, cookies } = await visit(app, jarWith(old))
      expect(seen).toMatchObject({ isNew: true, data: {} })
      expect(onInvalid).toHaveBeenCalledTimes(1)
      expect(onInvalid).toHaveBeenCalledWith('invalid-data', expect.anything())
      expect(cookies.get('sid')?.attributes['max-age']).toBe('0')
      expect(cookies.get('sx')?.attributes['max-age']).toBe('0')
    })

    it('hono-session flash values are not data: a strict schema sees the data only', async () => {
      const old = await honoSessionCookie(
        { userId: '42' },
        { secret: SECRET },
        { notice: 'Welcome back' },
      )
      const { app, onInvalid } = switchedApp({ schema, migrateFrom: [honoSession()] })
      const jar = jarWith(old)
      const { seen } = await visit(app, jar)
      expect(onInvalid).not.toHaveBeenCalled()
      expect(seen).toMatchObject({
        isNew: false,
        data: { userId: '42', visits: 0, notice: 'Welcome back' },
      })
    })

    it('h3: data that fails is refused', async () => {
      const old = await h3Cookie({ userId: ['not', 'a', 'string'] }, { password: SECRET })
      const { app, onInvalid } = switchedApp({ schema, migrateFrom: [h3()] })
      const jar = jarWith(old)
      const { seen, cookies } = await visit(app, jar)
      expect(seen).toMatchObject({ isNew: true, data: {} })
      expect(onInvalid).toHaveBeenCalledWith('invalid-data', expect.anything())
      expect(cookies.has('sid')).toBe(false)
      expect(jar.cookies.size).toBe(0)
    })
  })
}

for (const [name, flashSchema] of Object.entries(noticeFlash)) {
  it(`${name}: hono-session flash values are checked against flashSchema`, async () => {
    const migrateFrom = [honoSession()]
    const short = await honoSessionCookie({ userId: '42' }, { secret: SECRET }, { notice: 'hi' })
    const ok = switchedApp({ flashSchema, migrateFrom })
    expect((await visit(ok.app, jarWith(short))).seen).toMatchObject({
      isNew: false,
      data: { notice: 'hi' },
    })
    expect(ok.onInvalid).not.toHaveBeenCalled()

    const long = await honoSessionCookie(
      { userId: '42' },
      { secret: SECRET },
      { notice: 'x'.repeat(21) },
    )
    const refused = switchedApp({ flashSchema, migrateFrom })
    expect((await visit(refused.app, jarWith(long))).seen).toMatchObject({ isNew: true, data: {} })
    expect(refused.onInvalid).toHaveBeenCalledWith('invalid-data', expect.anything())
  })
}

describe('migrateFrom with an async schema', () => {
  // The check waits: zod's async refinement and valibot's checkAsync.
  const schemas: Record<string, SessionSchema> = {
    zod: z.object({ userId: z.string() }).refine(async (d) => d.userId !== 'banned', 'banned'),
    valibot: v.pipeAsync(
      v.object({ userId: v.string() }),
      v.checkAsync(async (d) => d.userId !== 'banned', 'banned'),
    ),
  }
  for (const [name, schema] of Object.entries(schemas)) {
    it(`${name}: a passing cookie is adopted, a failing one refused`, async () => {
      const migrateFrom = [ironSession({ cookieName: 'iron' })]
      const good = await ironSessionCookie(
        { userId: '42' },
        { password: SECRET, cookieName: 'iron' },
      )
      const ok = switchedApp({ schema, migrateFrom })
      expect((await visit(ok.app, jarWith(good))).seen).toMatchObject({
        isNew: false,
        data: { userId: '42' },
      })
      expect(ok.onInvalid).not.toHaveBeenCalled()

      const bad = await ironSessionCookie(
        { userId: 'banned' },
        { password: SECRET, cookieName: 'iron' },
      )
      const refused = switchedApp({ schema, migrateFrom })
      const jar = jarWith(bad)
      const { seen, cookies } = await visit(refused.app, jar)
      expect(seen).toMatchObject({ isNew: true, data: {} })
      expect(refused.onInvalid).toHaveBeenCalledWith('invalid-data', expect.anything())
      expect(cookies.has('sid')).toBe(false)
    })
  }
})
