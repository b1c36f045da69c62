/**
 * Type tests for the Hono adapter: `c.session` / `c.get('session')` typed by `session<Data>()`,
 * the untyped default, and narrowing by a `createMiddleware` guard. Compiled, never run.
 */
import { Hono } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { Session, SessionOptions } from 'sealed-session'
import { type SessionEnv, session } from 'sealed-session/hono'
import { type Equal, expect, type IsAny } from './helpers.ts'

// --- session<{ userId?: string }>(): a closed data type ----------------------------------------

new Hono().use(session<{ userId?: string }>({ secret: 'x'.repeat(32) })).get('/', (c) => {
  // Data keys carry their declared type.
  expect<Equal<typeof c.session.userId, string | undefined>>()
  c.session.userId = '1'
  c.session.userId = undefined
  // @ts-expect-error a data key keeps its type on write
  c.session.userId = 1
  // @ts-expect-error unknown key on a closed data type
  c.session.nope
  // @ts-expect-error unknown key on a closed data type, on write too
  c.session.nope = 1

  // flash() takes only declared keys, with their value type.
  c.session.flash('userId', '1')
  // @ts-expect-error unknown key
  c.session.flash('nope', 1)
  // @ts-expect-error wrong value type for a declared key
  c.session.flash('userId', 5)

  // Methods and state keep their types.
  expect<Equal<ReturnType<typeof c.session.regenerate>, Promise<void>>>()
  expect<Equal<typeof c.session.hasChanged, boolean>>()
  expect<Equal<typeof c.session.isNew, boolean>>()
  expect<Equal<typeof c.session.expiresAt, Date>>()
  expect<Equal<typeof c.session.createdAt, Date>>()
  expect<Equal<typeof c.session.id, string>>()
  expect<Equal<Parameters<typeof c.session.renew>, [maxAge?: number]>>()
  expect<Equal<ReturnType<typeof c.session.reflash>, void>>()
  expect<Equal<ReturnType<typeof c.session.destroy>, void>>()
  expect<Equal<ReturnType<typeof c.session.toJSON>, { userId?: string }>>()
  // @ts-expect-error state is read-only
  c.session.hasChanged = false
  // @ts-expect-error state is read-only
  c.session.id = 'x'

  // The whole session is the typed Session.
  expect<Equal<typeof c.session, Session<{ userId?: string }>>>()

  // Ending the session, or replacing its data.
  c.session = null
  c.session = { userId: '2' }
  c.session = {}
  // @ts-expect-error a replacement object must match the data type
  c.session = { userId: 2 }
  // @ts-expect-error a replacement object must not add unknown keys
  c.session = { nope: 1 }

  // c.get / c.var / c.set see the same type.
  const got = c.get('session')
  expect<Equal<typeof got.userId, string | undefined>>()
  expect<Equal<typeof c.var.session.userId, string | undefined>>()
  // @ts-expect-error unknown key through c.get too
  c.get('session').nope
  // Hono types c.get and c.set from one map entry, so a settable null would make every
  // c.get('session') nullable: the typed way to end a session is c.session = null.
  // @ts-expect-error c.get('session') is non-null, so c.set takes a session
  c.set('session', null)
  c.set('session', c.session)
  return c.text(c.session.userId ?? 'anon')
})

// A Hono app typed with SessionEnv up front gets the same types in every handler.
new Hono<SessionEnv<{ cart: { items: string[] } }>>().get('/', (c) => {
  expect<Equal<typeof c.session.cart, { items: string[] }>>()
  c.session.cart.items.push('x')
  // @ts-expect-error items are strings
  c.session.cart.items.push(1)
  return c.text('ok')
})

// --- No generic, no augmentation: open data, typed methods --------------------------------------

new Hono().use(session()).get('/', (c) => {
  expect<IsAny<typeof c.session.anything>>()
  c.session.anything = { deep: [1, 2] }
  // Methods are not swallowed by the open index signature.
  expect<Equal<IsAny<typeof c.session.flash>, false>>()
  expect<Equal<IsAny<typeof c.session.regenerate>, false>>()
  expect<Equal<ReturnType<typeof c.session.regenerate>, Promise<void>>>()
  expect<Equal<typeof c.session.hasChanged, boolean>>()
  expect<Equal<typeof c.session.expiresAt, Date>>()
  expect<Equal<typeof c.session.id, string>>()
  c.session.flash('notice', 'hello')
  c.session.flash('count', 1)
  // flash(key) and flash() read what arrived: arrays of anything on open data.
  expect<Equal<ReturnType<typeof c.session.flash<'notice'>>, any[]>>()
  const arrived: any[] = c.session.flash('notice')
  const all: Record<string, any[] | undefined> = c.session.flash()
  void arrived
  void all
  c.session.reflash('notice', 'count')
  // @ts-expect-error reflash takes keys only
  c.session.reflash(1)
  // @ts-expect-error regenerate takes no argument
  c.session.regenerate(1)
  c.session = null
  c.session = { anything: 1, nested: { ok: true } }
  // Hono types c.get and c.set from one map entry, so a settable null would make every
  // c.get('session') nullable: the typed way to end a session is c.session = null.
  // @ts-expect-error c.get('session') is non-null, so c.set takes a session
  c.set('session', null)
  c.set('session', c.session)
  const got = c.get('session')
  expect<IsAny<typeof got.anything>>()
  return c.text('ok')
})

// Default Session type (no generic) outside Hono: same rules.
declare const open: Session
expect<IsAny<typeof open.whatever>>()
expect<Equal<ReturnType<typeof open.regenerate>, Promise<void>>>()
expect<Equal<typeof open.hasChanged, boolean>>()

// --- A createMiddleware guard narrows the routes behind it --------------------------------------

const requireUser = createMiddleware<{ Variables: { session: Session<{ userId: string }> } }>(
  async (c, next) => {
    // Inside the guard the refined type already applies; the runtime check is the guard's job.
    expect<Equal<typeof c.session.userId, string>>()
    if (!c.get('session').userId) return c.text('unauthorized', 401)
    await next()
  },
)

const app = new Hono()
  .use(session<{ userId?: string }>({ secret: 'x'.repeat(32) }))
  .get('/public', (c) => {
    expect<Equal<typeof c.session.userId, string | undefined>>()
    return c.text('ok')
  })

app.use(requireUser).get('/me', (c) => {
  expect<Equal<typeof c.session.userId, string>>()
  const got = c.get('session')
  expect<Equal<typeof got.userId, string>>()
  expect<Equal<typeof c.var.session.userId, string>>()
  c.session.flash('userId', '1')
  // @ts-expect-error still a closed type behind the guard
  c.session.nope
  return c.text(c.session.userId)
})

// Fully chained: session, then the guard, then the routes behind it.
new Hono()
  .use(session<{ userId?: string }>())
  .use(requireUser)
  .get('/chained', (c) => {
    expect<Equal<typeof c.session.userId, string>>()
    // @ts-expect-error narrowed: userId can no longer be cleared by assignment
    c.session.userId = undefined
    return c.text(c.session.userId)
  })

// The same guard as a per-route handler.
app.get('/admin', requireUser, (c) => {
  expect<Equal<typeof c.session.userId, string>>()
  return c.text(c.session.userId)
})

// --- Route modules: a Hono() of their own, mounted with app.route() --------------------------

// No Env: c.get('session') and c.var.session are non-null, like c.session (the default type).
const accountRoutes = new Hono().get('/', (c) => {
  const got = c.get('session')
  expect<Equal<typeof got, Session>>()
  expect<Equal<typeof c.var.session, Session>>()
  got.flash('notice', 'hi')
  return c.text(String(c.var.session.userId))
})
// With SessionEnv: the module's own data type on every spelling.
new Hono<SessionEnv<{ userId?: string }>>().get('/', (c) => {
  const got = c.get('session')
  expect<Equal<typeof got.userId, string | undefined>>()
  expect<Equal<typeof c.var.session.userId, string | undefined>>()
  expect<Equal<typeof c.session.userId, string | undefined>>()
  return c.text('ok')
})
new Hono().use(session()).route('/account', accountRoutes)

// Ending a session from a route module. Hono's `Get` and `Set` both read the one type
// `ContextVariableMap['session']` (or `E['Variables']['session']`), so c.get non-null means
// c.set takes a session only; c.session = null (an accessor with its own write type) ends it.
new Hono().post('/logout', (c) => {
  c.session = null
  // @ts-expect-error c.get('session') is non-null, so c.set takes a session
  c.set('session', null)
  // @ts-expect-error not a session
  c.set('session', 42)
  c.set('session', c.session)
  const got = c.get('session')
  expect<Equal<typeof got, Session>>()
  return c.text('bye')
})
new Hono<SessionEnv<{ userId?: string }>>().post('/logout', (c) => {
  c.session = null
  // @ts-expect-error c.get('session') is non-null, so c.set takes a session
  c.set('session', null)
  // @ts-expect-error not a session
  c.set('session', 42)
  // @ts-expect-error a replacement object goes through c.session, typed by the data
  c.set('session', { userId: 'u2' })
  c.session = { userId: 'u2' }
  return c.text('bye')
})

// Hono's chaining rule: a guard's refined type reaches only the routes chained onto it.
const unchained = new Hono().use(session<{ userId?: string }>())
unchained.use(requireUser)
unchained.get('/not-chained', (c) => {
  // Registered on the variable, not on the value use(requireUser) returned: not refined.
  expect<Equal<typeof c.session.userId, string | undefined>>()
  return c.text('ok')
})

// --- The middleware's options are SessionOptions -------------------------------------------------

expect<Equal<Parameters<typeof session>[0], SessionOptions<import('hono').Context> | undefined>>()
// @ts-expect-error options are checked at the call site
session({ maxAge: '1' })
