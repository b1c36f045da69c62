/**
 * Type tests for `SessionOptions` and the store/encoder shapes, through both `sealed-session`
 * and the Hono `session()` factory. Compiled, never run.
 */
import type { Context } from 'hono'
import type {
  InvalidReason,
  SessionEncoder,
  SessionOptions,
  SessionRecord,
  SessionStore,
} from 'sealed-session'
import { session } from 'sealed-session/hono'
import { type Equal, expect } from './helpers.ts'

const secret = 'x'.repeat(32)

// --- Accepted ------------------------------------------------------------------------------------

session({
  secret,
  cookieName: '__Host-sid',
  cookie: {
    domain: undefined,
    path: '/',
    sameSite: 'Strict',
    secure: 'auto',
    httpOnly: true,
    partitioned: false,
  },
  maxAge: 7 * 86400,
  idleTimeout: 1800,
  rolling: true,
  now: () => Date.now(),
})
session({ secret: [secret, secret] })
session({ secret: { 1: secret, 2: secret } })
session({ secret: { old: secret, new: secret } as const })
session({ cookie: { sameSite: 'lax' } })
session({ cookie: { secure: false } })
session()
session({})

// Store mode: a Map of any value type keyed by string, and a db-object whose methods may be sync
// or async. Inline methods get contextual types (no implicit `any` under `strict`).
session({ store: new Map() })
session({ store: new Map<string, SessionRecord>() })
session({ store: new Map<string, unknown>() })
declare const db: { find(id: string): Promise<{ data: unknown } | undefined> }
session({
  store: {
    get: (id) => db.find(id),
    set: (id, record) => {
      expect<Equal<typeof id, string>>()
      expect<Equal<typeof record, SessionRecord<any>>>()
    },
    delete: (_id) => {},
  },
})
session({
  store: {
    async get(id, c) {
      expect<Equal<typeof id, string>>()
      // The Hono context is passed last, so a store can record the user agent or IP.
      expect<Equal<typeof c, Context>>()
      return null
    },
    async set(_id, _record, c) {
      c.req.header('user-agent')
    },
    async delete(_id, _c) {},
  },
})

// A custom encoder, sync or async.
session({
  encoder: {
    encode: (record, key) => JSON.stringify(record) + key,
    decode: async (value) => JSON.parse(value) as SessionRecord,
  },
})

// onInvalid's reason is exactly the InvalidReason union; the Hono context comes second.
session({
  onInvalid(reason, c) {
    expect<Equal<typeof reason, InvalidReason>>()
    expect<Equal<typeof c, Context>>()
    if (reason === 'expired' || reason === 'tampered') return
    // @ts-expect-error not one of the reasons
    if (reason === 'bogus') return
  },
})
expect<
  Equal<
    InvalidReason,
    | 'malformed'
    | 'tampered'
    | 'unknown-key'
    | 'expired'
    | 'not-found'
    | 'too-large'
    | 'invalid-data'
    | 'wrong-purpose'
    | 'revoked'
  >
>()

// Framework-free options: the context type is a parameter.
const framed: SessionOptions<{ ip: string }> = {
  store: { get: (_id, ctx) => (ctx.ip ? null : undefined), set() {}, delete() {} },
  onInvalid: (_reason, ctx) => void ctx.ip,
}
void framed

// --- Rejected ------------------------------------------------------------------------------------

// @ts-expect-error maxAge is a number of seconds
session({ maxAge: '1' })
// @ts-expect-error idleTimeout is a number of seconds
session({ idleTimeout: '30m' })
// @ts-expect-error not a SameSite value
session({ cookie: { sameSite: 'bogus' } })
// @ts-expect-error secure is a boolean or 'auto'
session({ cookie: { secure: 'yes' } })
// @ts-expect-error secret is a string, an array of strings or a record of strings
session({ secret: 42 })
// @ts-expect-error array entries must be strings
session({ secret: [secret, 1] })
// @ts-expect-error rolling is a boolean
session({ rolling: 'yes' })
// @ts-expect-error unknown option
session({ secrets: secret })
// @ts-expect-error a store needs get, set and delete
session({ store: { get: () => null, set: () => {} } })
// @ts-expect-error a store's get takes a string id
session({ store: { get: (_id: number) => null, set: () => {}, delete: () => {} } })
// @ts-expect-error a Map keyed by something other than strings is not a session store
session({ store: new Map<number, unknown>() })
// @ts-expect-error an encoder needs decode
session({ encoder: { encode: () => 'x' } })
// @ts-expect-error encode returns a string (or a promise of one)
session({ encoder: { encode: () => 1, decode: () => null } })
// @ts-expect-error onInvalid's reason is not a number
session({ onInvalid: (_reason: number) => {} })

// The exported interfaces can be named directly.
const store: SessionStore = new Map<string, SessionRecord>()
const encoder: SessionEncoder = { encode: () => '', decode: () => null }
void store
void encoder
