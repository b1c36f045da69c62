/**
 * Type tests for calling built-in stores from app code (an admin page, a script): `get` and
 * `delete` need no framework context, and answer typed values. Compiled, never run.
 */
import type { SessionInfo, SessionRecord, UserSession } from 'sealed-session'
import { expressStore } from 'sealed-session/stores/express'
import { fileStore } from 'sealed-session/stores/file'
import { memoryStore } from 'sealed-session/stores/memory'
import { postgresStore } from 'sealed-session/stores/postgres'
import { redisStore } from 'sealed-session/stores/redis'
import { sqliteStore } from 'sealed-session/stores/sqlite'
import { type Equal, expect } from './helpers.ts'

declare const client: Parameters<typeof redisStore>[0]['client']
declare const db: Parameters<typeof sqliteStore>[0]['db']
declare const pg: Parameters<typeof postgresStore>[0]['client']

const memory = memoryStore()
expect<Equal<ReturnType<typeof memory.get>, SessionRecord<any> | undefined>>()
memory.get('id')
memory.delete('id')
// @ts-expect-error the id is a string
memory.get(1)

const sqlite = sqliteStore({ db })
expect<Equal<ReturnType<typeof sqlite.get>, SessionRecord<any> | undefined>>()
sqlite.delete('id')

const postgres = postgresStore({ client: pg })
expect<Equal<ReturnType<typeof postgres.get>, Promise<SessionRecord<any> | undefined>>>()
await postgres.delete('id')

const files = fileStore({ dir: '/tmp/sessions' })
expect<Equal<ReturnType<typeof files.get>, Promise<SessionRecord<any> | undefined>>>()
await files.delete('id')

// Redis answers what the key holds: a record, or the raw value when another program wrote it.
const redis = redisStore({ client })
expect<Equal<ReturnType<typeof redis.get>, Promise<unknown>>>()
await redis.delete('id')

// The device API: user ids are strings or numbers; entries carry the data, or what `listData`
// makes of it; the options of destroyUserSessions are an object, never a bare id.
const labelled = memoryStore({ listData: (data) => ({ label: String(data.label) }) })
const [device] = await labelled.listSessions(42)
expect<Equal<typeof device, UserSession<{ label: string }> | undefined>>()
expect<Equal<NonNullable<typeof device>['userId'], string>>()
expect<
  Equal<Awaited<ReturnType<typeof redis.listSessions>>[number]['data'], Record<string, unknown>>
>()
expect<Equal<Awaited<ReturnType<typeof sqlite.destroySession>>, boolean>>()
await postgres.destroyUserSessions('u1', { except: 'id' })
// @ts-expect-error a bare id is not the options object
await postgres.destroyUserSessions('u1', 'id')
// @ts-expect-error user ids are strings or numbers
await files.listSessions({ id: 1 })
for await (const info of redis.allSessions({ pageSize: 100 })) {
  expect<Equal<typeof info, SessionInfo>>()
}

// The express bridge keeps no per-user index: no device API to call.
declare const connectStore: Parameters<typeof expressStore>[0]
const bridged = expressStore(connectStore)
// @ts-expect-error expressStore has no listSessions
bridged.listSessions
// @ts-expect-error nor allSessions
bridged.allSessions
