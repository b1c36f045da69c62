/**
 * Type tests for flash values: `Session<Data, Flash>` and `session<Data, Flash>()` type the
 * flash keys apart from the data, on every adapter. Compiled, never run.
 */
import { Hono } from 'hono'
import type { FlashValues, Session } from 'sealed-session'
import { session } from 'sealed-session/hono'
import { createSessionHandler, withSession } from '../src/adapters/fetch.ts'
import { nextSession } from '../src/adapters/next.ts'
import { type Equal, expect } from './helpers.ts'

type Data = { userId?: string }
type Flash = { notice: string; error: { field: string; message: string } }

// --- Without a Flash type: flash keys are the data's keys (as before) ---------------------------

declare const plain: Session<{ userId?: string; notice?: string }>
plain.flash('notice', 'hi')
expect<Equal<ReturnType<typeof plain.flash<'notice'>>, string[]>>()
expect<Equal<ReturnType<typeof plain.flash>, { userId?: string[]; notice?: string[] }>>()
// @ts-expect-error undefined is not a flash value
plain.flash('notice', undefined)
// @ts-expect-error unknown key
plain.flash('nope', 'x')

// --- Session<Data, Flash> -------------------------------------------------------------------------

declare const s: Session<Data, Flash>
s.flash('notice', 'saved')
s.flash('error', { field: 'name', message: 'required' })
// @ts-expect-error a flash key's value type
s.flash('notice', 1)
// @ts-expect-error a data key is not a flash key
s.flash('userId', 'u1')
// The readers: arrays of the flash key's type, and the object of all of them.
const notices = s.flash('notice')
expect<Equal<typeof notices, string[]>>()
expect<Equal<ReturnType<typeof s.flash<'error'>>, { field: string; message: string }[]>>()
const all = s.flash()
expect<Equal<typeof all, FlashValues<Flash>>>()
expect<Equal<typeof all.notice, string[] | undefined>>()
s.reflash()
s.reflash('notice', 'error')
// @ts-expect-error reflash takes flash keys
s.reflash('userId')
// session[key] falls back to the flash value: readable, optional, not writable as data.
expect<Equal<typeof s.notice, string | undefined>>()
// @ts-expect-error a flash key is not data
s.notice = 'x'
expect<Equal<typeof s.userId, string | undefined>>()
// The data type is the data only.
expect<Equal<ReturnType<typeof s.toJSON>, Data>>()

// --- The adapters take the Flash type as well --------------------------------------------------

new Hono().use(session<Data, Flash>({ secret: 'x'.repeat(32) })).get('/', (c) => {
  expect<Equal<typeof c.session, Session<Data, Flash>>>()
  expect<Equal<ReturnType<typeof c.session.flash<'notice'>>, string[]>>()
  c.session.flash('notice', 'hi')
  // @ts-expect-error unknown flash key
  c.session.flash('nope', 'hi')
  return c.text(c.session.notice ?? '')
})

const handler = createSessionHandler<Data, Flash>({ secret: 'x'.repeat(32) })
handler.getSession(new Request('http://x/')).then((fs) => {
  expect<Equal<typeof fs, Session<Data, Flash>>>()
})
withSession<Data, [], Request, Flash>({ secret: 'x'.repeat(32) }, (_req, fs) => {
  expect<Equal<typeof fs, Session<Data, Flash>>>()
  return new Response(fs.notice ?? '')
})

// Next: the handle's readers are async, like its other methods.
const next = nextSession<Data, Flash>({ secret: 'x'.repeat(32) })
next().then(async (h) => {
  expect<Equal<ReturnType<typeof h.flash<'notice'>>, Promise<string[]>>>()
  const every = await h.flash()
  expect<Equal<typeof every, FlashValues<Flash>>>()
  expect<Equal<ReturnType<typeof h.flash<'notice'>>, Promise<string[]>>>()
  await h.flash('notice', 'hi')
  // @ts-expect-error a flash key's value type
  await h.flash('notice', 1)
  await h.reflash('error')
  expect<Equal<typeof h.notice, string | undefined>>()
})
