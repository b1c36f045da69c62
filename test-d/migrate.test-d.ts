/**
 * Type tests for `migrateFrom` and `sealed-session/migrate`: entries are migrators from that
 * module, not library names; each factory takes only its own options. Compiled, never run.
 */
import type { SessionMigrator, SessionOptions } from 'sealed-session'
import { session } from 'sealed-session/hono'
import {
  type H3MigrateOptions,
  h3,
  honoSession,
  honoSessions,
  ironSession,
} from 'sealed-session/migrate'
import { type Equal, expect } from './helpers.ts'

const secret = 'x'.repeat(32)

session({
  secret,
  migrateFrom: [
    ironSession({ cookieName: 'app', until: new Date('2027-03-01') }),
    honoSession({ existsCookieName: 'sx' }),
    honoSessions({ secret: ['a'.repeat(32)] }),
    h3({ maxAge: 3600, idleTimeout: 600, version: 1, until: '2027-03-01' }),
  ],
})
expect<Equal<ReturnType<typeof h3>, SessionMigrator>>()
expect<Equal<NonNullable<SessionOptions['migrateFrom']>, readonly SessionMigrator[]>>()
expect<Equal<H3MigrateOptions['version'], 1 | 2 | undefined>>()

// @ts-expect-error a library's name is not a migrator: import its function
session({ secret, migrateFrom: ['iron-session'] })
// @ts-expect-error nor is the object form of another library's options
session({ secret, migrateFrom: [{ from: 'h3', maxAge: 3600 }] })
// @ts-expect-error maxAge is h3's: iron-session's ttl is in its seal
ironSession({ maxAge: 60 })
// @ts-expect-error h3 has no version 3
h3({ version: 3 })
// @ts-expect-error until is a Date or an ISO string
h3({ until: 1 })
