/**
 * Type tests for `sessionRevocation()`: over a store with a per-user index the list has the
 * device methods; over a Map, a db-object store or with `devices: false` it has none. Compiled,
 * never run.
 */
import {
  type SealedSessionInfo,
  type SessionDevices,
  type SessionRevocation,
  type SessionStore,
  sessionRevocation,
} from 'sealed-session'
import { memoryStore } from 'sealed-session/stores/memory'
import { postgresStore } from 'sealed-session/stores/postgres'
import { redisStore } from 'sealed-session/stores/redis'
import { sqliteStore } from 'sealed-session/stores/sqlite'
import { type Equal, expect } from './helpers.ts'

declare const client: Parameters<typeof redisStore>[0]['client']
declare const db: Parameters<typeof sqliteStore>[0]['db']
declare const pg: Parameters<typeof postgresStore>[0]['client']

// Stores with a per-user index: the device methods, typed.
for (const store of [
  memoryStore(),
  redisStore({ client, prefix: 'revoked:' }),
  sqliteStore({ db }),
  postgresStore({ client: pg, table: 'revoked' }),
]) {
  const list = sessionRevocation({ store })
  expect<Equal<typeof list, SessionRevocation & SessionDevices>>()
  expect<Equal<Awaited<ReturnType<typeof list.listSessions>>, SealedSessionInfo[]>>()
  expect<Equal<Awaited<ReturnType<typeof list.destroySession>>, boolean>>()
  expect<Equal<Awaited<ReturnType<typeof list.destroyUserSessions>>, number>>()
  list.listSessions(42)
  list.listSessions('42')
  list.destroySession('u1', 'session-id')
  list.destroyUserSessions('u1', { except: 'session-id' })
  list.destroyUserSessions('u1')
  // @ts-expect-error the second argument is an options object, not the id to keep
  list.destroyUserSessions('u1', 'session-id')
  // @ts-expect-error user ids are strings or numbers
  list.listSessions({ id: 1 })
  // Still a revocation list for session().
  const asOption: SessionRevocation = list
  void asOption
}

// Other options alongside the store keep the device methods.
const tuned = sessionRevocation({ store: memoryStore(), touchAfter: 300, maxAge: 86_400 })
tuned.listSessions('u1')

// A Map, a db-object store, or devices: false: revoke and revokeUser only.
const db2: SessionStore = { get: () => undefined, set: () => undefined, delete: () => undefined }
const withMap = sessionRevocation({ store: new Map() })
const withDb = sessionRevocation({ store: db2 })
const off = sessionRevocation({ store: memoryStore(), devices: false })
expect<Equal<typeof withMap, SessionRevocation>>()
expect<Equal<typeof withDb, SessionRevocation>>()
expect<Equal<typeof off, SessionRevocation>>()
// @ts-expect-error no device registry over a Map
withMap.listSessions('u1')
// @ts-expect-error no device registry over a db-object store
withDb.destroySession('u1', 'id')
// @ts-expect-error the registry is off
off.destroyUserSessions('u1', {})
withMap.revokeUser('u1', { except: 'id' })
withDb.revoke('id')

// The options are checked as before.
// @ts-expect-error touchAfter is a number of seconds
sessionRevocation({ store: memoryStore(), touchAfter: '60' })
// @ts-expect-error store is required
sessionRevocation({ touchAfter: 60 })
