/**
 * Type tests for calling built-in stores from app code (an admin page, a script): `get` and
 * `delete` need no framework context, and answer typed values. Compiled, never run.
 */
import type { SessionRecord } from 'sealed-session'
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
