/**
 * Type test for the global `SessionFlash` augmentation. Compiled alone
 * (tsconfig.global-flash.json), since the augmentation changes the flash type of every session
 * in the compilation. Never run.
 */
import { Hono } from 'hono'
import type { DefaultSessionFlash, FlashValues, Session, SessionFlash } from 'sealed-session'
import { session } from 'sealed-session/hono'
import { z } from 'zod'
import { type Equal, expect } from './helpers.ts'

declare module 'sealed-session' {
  interface SessionData {
    userId?: string
  }
  interface SessionFlash {
    notice: string
    error: { field: string; message: string }
  }
}

// The augmentation reached the interface that src/core/types.ts declares.
expect<Equal<DefaultSessionFlash<{ any: 1 }>, SessionFlash>>()

new Hono().use(session({ secret: 'x'.repeat(32) })).get('/', (c) => {
  c.session.flash('notice', 'Welcome back')
  c.session.flash('error', { field: 'name', message: 'required' })
  // @ts-expect-error data keys are not flash keys once SessionFlash is declared
  c.session.flash('userId', 'u1')
  // @ts-expect-error a flash key's value type
  c.session.flash('notice', 1)
  expect<Equal<ReturnType<typeof c.session.flash<'notice'>>, string[]>>()
  expect<Equal<ReturnType<typeof c.session.flash>, FlashValues<SessionFlash>>>()
  // session[key] falls back to the flash value.
  expect<Equal<typeof c.session.notice, string | undefined>>()
  expect<Equal<typeof c.session.userId, string | undefined>>()
  return c.text(c.session.notice ?? c.session.userId ?? 'anon')
})

// A per-app data type keeps the global flash type; a second generic replaces it.
new Hono().use(session<{ cart: string[] }>()).get('/', (c) => {
  expect<Equal<typeof c.session, Session<{ cart: string[] }, SessionFlash>>>()
  c.session.flash('notice', 'added')
  return c.text('ok')
})
new Hono().use(session<{ cart: string[] }, { added: string }>()).get('/', (c) => {
  c.session.flash('added', 'sku-1')
  // @ts-expect-error the per-app flash type replaces the global one
  c.session.flash('notice', 'x')
  return c.text('ok')
})

// A schema's data keeps the global flash type; a flashSchema replaces it.
const visits = z.object({ visits: z.number().default(0) })
new Hono().use(session({ secret: 'x'.repeat(32), schema: visits })).get('/', (c) => {
  expect<Equal<typeof c.session, Session<{ visits: number }, SessionFlash>>>()
  return c.text('ok')
})
new Hono()
  .use(session({ secret: 'x'.repeat(32), flashSchema: z.object({ added: z.string() }) }))
  .get('/', (c) => {
    c.session.flash('added', 'sku-1')
    // @ts-expect-error flashSchema replaces the global flash type
    c.session.flash('notice', 'x')
    return c.text('ok')
  })
