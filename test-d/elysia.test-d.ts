/**
 * Type tests for the Elysia adapter: `session` in handlers, guards and hooks typed by
 * `session<Data>()`, the untyped default, and a plugin that declares the session it needs.
 * Compiled, never run. (The relative import: this folder's tsconfig maps only `sealed-session`
 * and `/hono`; these are the same source files.)
 */
import { type Context, Elysia } from 'elysia'
import type { Session, SessionOptions } from 'sealed-session'
import { type ElysiaSessionContext, session } from '../src/adapters/elysia.ts'
import { type Equal, expect, type IsAny } from './helpers.ts'

// --- session<{ userId?: string }>(): a closed data type ----------------------------------------

new Elysia()
  .use(session<{ userId?: string }>({ secret: 'x'.repeat(32) }))
  .get('/', ({ session }) => {
    expect<Equal<typeof session.userId, string | undefined>>()
    expect<Equal<IsAny<typeof session>, false>>()
    session.userId = '1'
    session.userId = undefined
    // @ts-expect-error a data key keeps its type on write
    session.userId = 1
    // @ts-expect-error unknown key on a closed data type
    session.nope
    // @ts-expect-error unknown key on a closed data type, on write too
    session.nope = 1

    session.flash('userId', '1')
    // @ts-expect-error unknown key
    session.flash('nope', 1)
    // @ts-expect-error wrong value type for a declared key
    session.flash('userId', 5)

    expect<Equal<ReturnType<typeof session.regenerate>, Promise<void>>>()
    expect<Equal<ReturnType<typeof session.destroy>, void>>()
    expect<Equal<typeof session.isNew, boolean>>()
    expect<Equal<typeof session.id, string>>()
    expect<Equal<ReturnType<typeof session.toJSON>, { userId?: string }>>()
    // @ts-expect-error state is read-only
    session.isNew = false

    // The whole session is the typed Session.
    expect<Equal<typeof session, Session<{ userId?: string }>>>()
    return session.userId ?? 'anon'
  })

// Guards, hooks and per-route hooks see the same type.
new Elysia()
  .use(session<{ userId?: string; role?: 'admin' | 'user' }>({ secret: 'x'.repeat(32) }))
  .onBeforeHandle(({ session, status }) => {
    expect<Equal<typeof session.role, 'admin' | 'user' | undefined>>()
    if (!session.userId) return status(401)
  })
  .get('/admin', ({ session }) => session.userId, {
    beforeHandle({ session, status }) {
      expect<Equal<typeof session.userId, string | undefined>>()
      // @ts-expect-error unknown key in a route guard too
      session.nope
      if (session.role !== 'admin') return status(403)
    },
  })
  .onAfterHandle((c) => {
    expect<Equal<typeof c.session.userId, string | undefined>>()
  })

// The session reaches the app that uses a plugin which uses session() (it is global).
const auth = new Elysia({ name: 'auth' }).use(
  session<{ userId?: string }>({ secret: 'x'.repeat(32) }),
)
new Elysia().use(auth).get('/me', ({ session }) => {
  expect<Equal<typeof session.userId, string | undefined>>()
  return session.userId ?? null
})

// --- No generic, no augmentation: open data, typed methods --------------------------------------

new Elysia().use(session()).get('/', ({ session }) => {
  expect<IsAny<typeof session.anything>>()
  session.anything = { deep: [1, 2] }
  expect<Equal<IsAny<typeof session.flash>, false>>()
  expect<Equal<ReturnType<typeof session.regenerate>, Promise<void>>>()
  session.flash('notice', 'hello')
  // flash(key) reads the values that arrived under key.
  expect<Equal<ReturnType<typeof session.flash<'notice'>>, any[]>>()
  // @ts-expect-error regenerate takes no argument
  session.regenerate(1)
  return 'ok'
})

// --- Routes without the plugin have no session ---------------------------------------------------

new Elysia().get('/', (c) => {
  // @ts-expect-error session() was not used
  c.session
  return 'ok'
})

// --- The plugin's options are SessionOptions ------------------------------------------------------

expect<Equal<Parameters<typeof session>[0], SessionOptions<ElysiaSessionContext> | undefined>>()
// @ts-expect-error options are checked at the call site
session({ maxAge: '1' })
// The store receives the request's Elysia context (the parts every request has).
session({
  store: {
    get: (id, ctx) => {
      expect<Equal<typeof ctx, ElysiaSessionContext>>()
      expect<Equal<typeof ctx.set, Context['set']>>()
      // @ts-expect-error no server: mentioning context.server makes Elysia add a getter to every request
      ctx.server
      // @ts-expect-error the body is not parsed for the session: read ctx.request instead
      ctx.body
      return ctx.request.headers.get('x') ?? `${ctx.path}:${id}`
    },
    set: () => {},
    delete: () => {},
  },
})
