import { type } from 'arktype'
import { Hono } from 'hono'
import { session } from 'sealed-session/hono'
import * as v from 'valibot'
import { z } from 'zod'
import { type Equal, expect } from './helpers.ts'

const secret = 'x'.repeat(32)
const zs = z.object({ visits: z.number().default(0), name: z.string().optional() })
new Hono().use(session({ secret, schema: zs })).get('/', (c) => {
  expect<Equal<typeof c.session.visits, number>>()
  const j = c.session.toJSON()
  expect<Equal<typeof j, { visits: number; name?: string | undefined }>>()
  return c.text('')
})
const vs = v.object({ visits: v.optional(v.number(), 0), name: v.optional(v.string()) })
new Hono().use(session({ secret, schema: vs })).get('/', (c) => {
  const j = c.session.toJSON()
  expect<Equal<typeof j, { visits: number; name?: string | undefined }>>()
  return c.text('')
})
const as = type({ visits: 'number = 0', 'name?': 'string' })
new Hono().use(session({ secret, schema: as })).get('/', (c) => {
  const j = c.session.toJSON()
  expect<Equal<typeof j, { visits: number; name?: string }>>()
  return c.text('')
})
