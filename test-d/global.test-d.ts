/**
 * Type test for the global augmentation. Compiled alone (tsconfig.global.json) because the
 * augmentation changes the default session type for the whole compilation. Never run.
 */
import { Hono } from 'hono'
import type { DefaultSessionData, Session, SessionData } from 'sealed-session'
import { session } from 'sealed-session/hono'
import { type Equal, expect, type IsAny } from './helpers.ts'

declare module 'sealed-session' {
  interface SessionData {
    userId?: string
    notice?: string
  }
}

// The augmentation reached the interface that src/core/types.ts declares.
expect<Equal<DefaultSessionData, SessionData>>()
expect<Equal<Session, SessionData & import('sealed-session').SessionMethods<SessionData>>>()

new Hono().use(session({ secret: 'x'.repeat(32) })).get('/', (c) => {
  expect<Equal<typeof c.session.userId, string | undefined>>()
  expect<Equal<typeof c.session.notice, string | undefined>>()
  expect<Equal<IsAny<typeof c.session.userId>, false>>()
  // This line errors only when the augmentation took effect: without it the session is open
  // and any key reads as `any`.
  // @ts-expect-error unknown key: the global data type is closed
  c.session.nope
  c.session.flash('notice', 'Welcome back')
  // @ts-expect-error unknown key
  c.session.flash('nope', 1)
  // @ts-expect-error wrong value type
  c.session.flash('userId', 5)
  expect<Equal<ReturnType<typeof c.session.regenerate>, Promise<void>>>()
  c.session = null
  // Hono types c.get and c.set from one map entry, so a settable null would make every
  // c.get('session') nullable: the typed way to end a session is c.session = null.
  // @ts-expect-error c.get('session') is non-null, so c.set takes a session
  c.set('session', null)
  c.set('session', c.session)
  const got = c.get('session')
  expect<Equal<typeof got.userId, string | undefined>>()
  return c.text(c.session.notice ?? c.session.userId ?? 'anon')
})

// Without middleware in the chain (a route module), c.get('session') and c.var.session have
// the global type, non-null like c.session.
new Hono().get('/', (c) => {
  const got = c.get('session')
  expect<Equal<typeof got, Session>>()
  expect<Equal<typeof c.var.session, Session>>()
  expect<Equal<typeof c.session, Session>>()
  return c.text('ok')
})

// A per-app generic still overrides the global type.
new Hono().use(session<{ cart: string[] }>()).get('/', (c) => {
  expect<Equal<typeof c.session.cart, string[]>>()
  // @ts-expect-error the per-app type replaces the global one
  c.session.userId
  return c.text('ok')
})
