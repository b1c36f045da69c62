/**
 * Type tests for `session({ flashSchema })`: the flash readers and `flash(key, value)` typed by a
 * Standard Schema (zod 4, valibot, arktype) without a generic, beside `schema` or alone, on every
 * adapter. Compiled, never run.
 */
import { type } from 'arktype'
import { Hono } from 'hono'
import type { FlashValues, SchemaFlash, Session } from 'sealed-session'
import { session } from 'sealed-session/hono'
import * as v from 'valibot'
import { z } from 'zod'
import { session as elysiaSession } from '../src/adapters/elysia.ts'
import { createSessionHandler, withSession } from '../src/adapters/fetch.ts'
import { nextSession } from '../src/adapters/next.ts'
import { type Equal, expect } from './helpers.ts'

const secret = 'x'.repeat(32)

/** What every flash schema below describes. */
type Flash = { notice: string; error: { field: string; message: string } }
type Visits = { visits: number }

const zodFlash = z.object({
  notice: z.string(),
  error: z.object({ field: z.string(), message: z.string() }),
})
const valibotFlash = v.object({
  notice: v.string(),
  error: v.object({ field: v.string(), message: v.string() }),
})
const arkFlash = type({ notice: 'string', error: { field: 'string', message: 'string' } })
const schema = z.object({ visits: z.number().default(0) })

expect<Equal<SchemaFlash<typeof zodFlash>, Flash>>()
expect<Equal<SchemaFlash<typeof valibotFlash>, Flash>>()
expect<Equal<SchemaFlash<typeof arkFlash>, Flash>>()
// Flash values are stored as flashed: the input type (a default does not make a key required).
expect<Equal<SchemaFlash<z.ZodObject<{ n: z.ZodDefault<z.ZodNumber> }>>, { n?: number }>>()

// --- Hono: with schema, and alone ------------------------------------------------------------------

// Each validator gives the same session type.
new Hono().use(session({ secret, schema, flashSchema: valibotFlash })).get('/', (c) => {
  expect<Equal<typeof c.session, Session<Visits, Flash>>>()
  return c.text('ok')
})
new Hono().use(session({ secret, schema, flashSchema: arkFlash })).get('/', (c) => {
  expect<Equal<typeof c.session, Session<Visits, Flash>>>()
  const got = c.get('session')
  expect<Equal<typeof got, Session<Visits, Flash>>>()
  return c.text('ok')
})
new Hono().use(session({ secret, schema, flashSchema: zodFlash })).get('/', (c) => {
  expect<Equal<typeof c.session, Session<Visits, Flash>>>()
  // The data still comes from schema.
  expect<Equal<typeof c.session.visits, number>>()
  // The readers: arrays of the key's type, and the object of all of them.
  const notices = c.session.flash('notice')
  expect<Equal<typeof notices, string[]>>()
  expect<Equal<ReturnType<typeof c.session.flash<'error'>>, Flash['error'][]>>()
  expect<Equal<ReturnType<typeof c.session.flash>, FlashValues<Flash>>>()
  c.session.flash('notice', 'saved')
  c.session.flash('error', { field: 'name', message: 'required' })
  // @ts-expect-error a flash key's value type
  c.session.flash('notice', 1)
  // @ts-expect-error a nested value's shape
  c.session.flash('error', { field: 'name' })
  // @ts-expect-error a data key is not a flash key
  c.session.flash('visits', 1)
  // @ts-expect-error not a key of flashSchema
  c.session.flash('other', 'x')
  c.session.reflash('notice')
  // @ts-expect-error reflash takes flash keys
  c.session.reflash('visits')
  // session[key] falls back to the flash value, read-only.
  expect<Equal<typeof c.session.notice, string | undefined>>()
  // c.get and c.var carry the same type.
  expect<Equal<ReturnType<typeof c.var.session.flash<'notice'>>, string[]>>()
  return c.text('ok')
})

// flashSchema alone: the data stays open (or the generic's), the flash typed by the schema.
new Hono().use(session({ secret, flashSchema: zodFlash })).get('/', (c) => {
  expect<Equal<ReturnType<typeof c.session.flash<'notice'>>, string[]>>()
  // @ts-expect-error a flash key's value type
  c.session.flash('notice', 1)
  c.session.anything = 1
  return c.text('ok')
})

// Without flashSchema the flash keys are the data's (as before).
new Hono().use(session({ secret, schema })).get('/', (c) => {
  c.session.flash('visits', 1)
  // @ts-expect-error not a data key
  c.session.flash('notice', 'x')
  return c.text('ok')
})

// @ts-expect-error not a Standard Schema
session({ secret, flashSchema: { parse: (x: unknown) => x } })
// @ts-expect-error a schema of something other than an object
session({ secret, flashSchema: z.string() })

// --- fetch, Elysia and Next --------------------------------------------------------------------

withSession({ secret, schema, flashSchema: valibotFlash }, (_request, s) => {
  expect<Equal<typeof s, Session<Visits, Flash>>>()
  s.flash('notice', 'hi')
  // @ts-expect-error a flash key's value type
  s.flash('notice', 1)
  return new Response(s.flash('notice').join())
})

async function fetchHandler(request: Request) {
  const sessions = createSessionHandler({ secret, flashSchema: arkFlash })
  const s = await sessions.getSession(request)
  expect<Equal<ReturnType<typeof s.flash<'error'>>, Flash['error'][]>>()
  return sessions.commitSession(s, new Response('ok'))
}
void fetchHandler

import('elysia').then(({ Elysia }) =>
  new Elysia()
    .use(elysiaSession({ secret, schema, flashSchema: zodFlash }))
    .get('/', ({ session }) => {
      expect<Equal<typeof session, Session<Visits, Flash>>>()
      expect<Equal<ReturnType<typeof session.flash<'notice'>>, string[]>>()
      // @ts-expect-error a flash key's value type
      session.flash('notice', 1)
      return session.visits
    }),
)

async function nextPage() {
  const nextSessionOf = nextSession({ secret, schema, flashSchema: valibotFlash })
  const s = await nextSessionOf()
  expect<Equal<typeof s.visits, number>>()
  // Next's readers are async.
  expect<Equal<ReturnType<typeof s.flash<'notice'>>, Promise<string[]>>>()
  expect<Equal<Awaited<ReturnType<typeof s.flash>>, FlashValues<Flash>>>()
  await s.flash('error', { field: 'f', message: 'm' })
  // @ts-expect-error a flash key's value type
  await s.flash('notice', 1)
}
void nextPage
