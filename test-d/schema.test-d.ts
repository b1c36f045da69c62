/**
 * Type tests for `session({ schema })`: the session typed by a Standard Schema (zod 4, valibot,
 * arktype) without a generic, in every adapter and the engine. Compiled, never run. (Relative
 * imports for the adapters this folder's tsconfig does not map; the same source files.)
 */
import { type } from 'arktype'
import { Hono } from 'hono'
import type {
  SchemaSessionData,
  Session,
  SessionEngine,
  SessionSchema,
  StandardSchemaV1,
} from 'sealed-session'
import { sessionEngine } from 'sealed-session'
import { session } from 'sealed-session/hono'
import * as v from 'valibot'
import { z } from 'zod'
import { session as elysiaSession } from '../src/adapters/elysia.ts'
import { createSessionHandler, withSession } from '../src/adapters/fetch.ts'
import { nextSession } from '../src/adapters/next.ts'
import { type Equal, expect } from './helpers.ts'

const secret = 'x'.repeat(32)

/** What every schema below describes. */
type Visits = { visits: number; name?: string | undefined }

const zodSchema = z.object({ visits: z.number().default(0), name: z.string().optional() })
const valibotSchema = v.object({ visits: v.optional(v.number(), 0), name: v.optional(v.string()) })
const arkSchema = type({ visits: 'number = 0', 'name?': 'string' })

// --- Each validator is a Standard Schema, and its session data is its output --------------------

expect<Equal<SchemaSessionData<typeof zodSchema>, z.output<typeof zodSchema>>>()
expect<Equal<SchemaSessionData<typeof zodSchema>, Visits>>()
expect<Equal<SchemaSessionData<typeof valibotSchema>, v.InferOutput<typeof valibotSchema>>>()
expect<Equal<SchemaSessionData<typeof valibotSchema>, Visits>>()
expect<Equal<SchemaSessionData<typeof arkSchema>, typeof arkSchema.infer>>()
expect<Equal<SchemaSessionData<typeof arkSchema>, { visits: number; name?: string }>>()
const asStandard: StandardSchemaV1<{ visits?: number }, { visits: number }> = z.object({
  visits: z.number().default(0),
})
void asStandard

// --- Hono: c.session, c.get('session') and c.var.session, no generic ----------------------------

for (const schema of [zodSchema, valibotSchema] as const) {
  new Hono().use(session({ secret, schema })).get('/', (c) => {
    expect<Equal<typeof c.session.visits, number>>()
    expect<Equal<typeof c.session.name, string | undefined>>()
    expect<Equal<ReturnType<typeof c.session.toJSON>, Visits>>()
    c.session.visits += 1
    c.session.name = 'ada'
    // @ts-expect-error a data key keeps the schema's type on write
    c.session.visits = 'many'
    // @ts-expect-error a key the schema does not have
    c.session.other
    c.session.flash('name', 'ada')
    // @ts-expect-error flash takes the schema's keys and value types
    c.session.flash('visits', 'many')
    const got = c.get('session')
    expect<Equal<typeof got.visits, number>>()
    expect<Equal<typeof c.var.session.visits, number>>()
    c.session = { visits: 1 }
    // @ts-expect-error a replacement must match the schema
    c.session = { visits: '1' }
    c.session = null
    return c.text(String(c.session.visits))
  })
}

new Hono().use(session({ secret, schema: arkSchema })).get('/', (c) => {
  expect<Equal<typeof c.session.visits, number>>()
  expect<Equal<Session<{ visits: number; name?: string }>, typeof c.session>>()
  // @ts-expect-error a key the schema does not have
  c.session.other = 1
  return c.text('ok')
})

// A transform: data is stored as the handler set it, so reads are the input type, not the output.
const transformed = z.object({
  name: z
    .string()
    .transform((s) => s.length)
    .optional(),
  visits: z.number().default(0),
})
new Hono().use(session({ secret, schema: transformed })).get('/', (c) => {
  expect<Equal<typeof c.session.name, string | undefined>>()
  expect<Equal<typeof c.session.visits, number>>()
  return c.text('ok')
})

// A required key stays required.
new Hono()
  .use(session({ secret, schema: z.object({ userId: z.string(), roles: z.array(z.string()) }) }))
  .get('/', (c) => {
    expect<Equal<ReturnType<typeof c.session.toJSON>, { userId: string; roles: string[] }>>()
    return c.text(c.session.userId)
  })

// A loose schema (unknown keys kept) is open data, as Session<Record<string, …>> always is;
// the methods keep their types.
const loose = z.looseObject({ visits: z.number().default(0) })
expect<Equal<SchemaSessionData<typeof loose>, z.output<typeof loose>>>()
new Hono().use(session({ secret, schema: loose })).get('/', (c) => {
  expect<Equal<ReturnType<typeof c.session.regenerate>, Promise<void>>>()
  c.session.anything = 1
  return c.text('ok')
})

// Without a schema nothing changes: the generic, or open data.
new Hono().use(session<{ userId?: string }>({ secret })).get('/', (c) => {
  expect<Equal<typeof c.session.userId, string | undefined>>()
  return c.text('ok')
})
new Hono().use(session({ secret })).get('/', (c) => {
  expect<Equal<ReturnType<typeof c.session.toJSON>, Record<string, any>>>()
  return c.text('ok')
})
// A schema typed only as SessionSchema carries no shape: open data.
declare const someSchema: SessionSchema
new Hono().use(session({ secret, schema: someSchema })).get('/', (c) => {
  expect<Equal<ReturnType<typeof c.session.toJSON>, Record<string, any>>>()
  return c.text('ok')
})

// @ts-expect-error a schema of something other than an object
session({ secret, schema: z.string() })
// @ts-expect-error not a Standard Schema
session({ secret, schema: { parse: (x: unknown) => x } })

// --- fetch, Elysia, Next and the engine --------------------------------------------------------

withSession({ secret, schema: zodSchema }, (_request, s) => {
  expect<Equal<typeof s.visits, number>>()
  // @ts-expect-error a key the schema does not have
  s.other
  return new Response(String(s.visits))
})

async function fetchHandler(request: Request) {
  const sessions = createSessionHandler({ secret, schema: valibotSchema })
  const s = await sessions.getSession(request)
  expect<Equal<typeof s, Session<Visits>>>()
  return sessions.commitSession(s, new Response('ok'))
}
void fetchHandler

import('elysia').then(({ Elysia }) =>
  new Elysia().use(elysiaSession({ secret, schema: arkSchema })).get('/', ({ session }) => {
    expect<Equal<typeof session.visits, number>>()
    // @ts-expect-error a key the schema does not have
    session.other
    return session.visits
  }),
)

async function nextPage() {
  const nextSessionOf = nextSession({ secret, schema: zodSchema })
  const s = await nextSessionOf()
  expect<Equal<typeof s.visits, number>>()
  expect<Equal<ReturnType<typeof s.all>, Visits>>()
  // @ts-expect-error the schema's value type
  await s.set('visits', 'many')
}
void nextPage

const engine = sessionEngine({ secret, schema: zodSchema })
expect<Equal<typeof engine, SessionEngine<Visits, unknown>>>()
