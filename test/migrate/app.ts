// The app the migration tests switch to: sealed-session's Hono middleware with `migrateFrom`.
import { Hono } from 'hono'
import { vi } from 'vitest'
import { session } from '../../src/adapters/hono.ts'
import type { InvalidReason, SessionOptions } from '../../src/core/types.ts'
import { Jar, type ParsedCookie, SECRET, setCookies } from '../support.ts'
import type { Minted } from './mint.ts'

export interface Seen {
  isNew: boolean
  data: Record<string, unknown>
  createdAt: number
  expiresAt: number
  id: string
}

/** Our app: `/` shows the session, `/logout` ends it, `/visit` counts. */
export function switchedApp(options: SessionOptions = {}) {
  const onInvalid = vi.fn<(reason: InvalidReason) => void>()
  const app = new Hono()
    .use(session({ secret: SECRET, onInvalid, ...options }))
    .get('/', (c) => {
      const s = c.session
      const data = { ...s.toJSON() } as Record<string, unknown>
      // Flash values live apart from the data (toJSON has none): what arrived, as session[key] reads it.
      for (const [key, values] of Object.entries(s.flash())) data[key] = values?.at(-1)
      return c.json({
        isNew: s.isNew,
        data,
        createdAt: s.createdAt.getTime(),
        expiresAt: s.expiresAt.getTime(),
        id: s.id,
      } satisfies Seen)
    })
    .get('/visit', (c) => {
      c.session.visits = Number(c.session.visits ?? 0) + 1
      return c.text(String(c.session.visits))
    })
    .post('/logout', (c) => {
      c.session = null
      return c.text('bye')
    })
  return { app, onInvalid }
}

/** A browser that holds the cookies an old library set. */
export function jarWith(...minted: Minted[]): Jar {
  const jar = new Jar()
  for (const m of minted)
    for (const c of m.values()) if (c.value !== '') jar.cookies.set(c.name, c.value)
  return jar
}

/** The response's Set-Cookie headers by name. */
export const byName = (cookies: ParsedCookie[]) => new Map(cookies.map((c) => [c.name, c]))

/** GET `/` with the jar: what the app saw and what it set. */
export async function visit(app: ReturnType<typeof switchedApp>['app'], jar: Jar, path = '/') {
  const res = await jar.request(app, path)
  const cookies = byName(setCookies(res))
  const seen = path === '/' ? ((await res.json()) as Seen) : undefined
  return { res, cookies, seen }
}
