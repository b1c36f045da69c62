/**
 * What the Redis store's device API reads: session values in one round trip, the owner tokens
 * its scripts compare, index entries' last seen, and the `SCAN` walk of `allSessions()`.
 */
import { sessionDeadline, userIdOf } from '../core/record.ts'
import type { SessionInfo, SessionRecord } from '../core/types.ts'
import { masters, type RedisRun } from './_redis-client.ts'
import { sessionInfo } from './_shared.ts'

/** Where one store's keys live and how it reaches them. */
export interface RedisKeys {
  client: unknown
  run: RedisRun
  /** Sessions at `<prefix><id>`. */
  prefix: string
  /** User indexes at `<indexPrefix><userId>`. */
  indexPrefix: string
  /** Keys of one batch may live on different nodes: no MGET. */
  cluster: boolean
  userKey: string | false
  now: () => number
}

/** The JSON texts a user id may be stored as: the string, and the number when it is one. */
export function ownerTokens(userId: string): string[] {
  const tokens = [JSON.stringify(userId)]
  const n = Number(userId)
  if (userId !== '' && Number.isFinite(n) && JSON.stringify(n) === userId) tokens.push(userId)
  return tokens
}

/** A stored session value, parsed; undefined when it is not a JSON object. */
export function parseRecord(value: unknown): SessionRecord<Record<string, unknown>> | undefined {
  if (typeof value !== 'string') return undefined
  try {
    const record = JSON.parse(value)
    return typeof record === 'object' && record !== null ? record : undefined
  } catch {
    return undefined
  }
}

/** An index entry's last seen (the session's creation when it has none) and user agent. */
export function seenOf(metaJson: unknown, createdAt: number) {
  let meta: { lastSeenAt?: unknown; userAgent?: unknown } = {}
  try {
    meta = typeof metaJson === 'string' ? JSON.parse(metaJson) : {}
  } catch {
    // Unreadable metadata only costs the last-seen time and user agent.
  }
  const seen = typeof meta.lastSeenAt === 'number' ? meta.lastSeenAt : createdAt
  return { seen, userAgent: meta.userAgent }
}

/** The values of sessions `ids` in one round trip: one MGET, or on Cluster one GET each. */
export function valuesOf(k: RedisKeys): (ids: string[]) => Promise<unknown[]> {
  return async (ids) => {
    if (ids.length === 0) return []
    if (!k.cluster)
      return (await k.run([['MGET', ...ids.map((id) => k.prefix + id)]]))[0] as unknown[]
    return k.run(ids.map((id) => ['GET', k.prefix + id]))
  }
}

/** The live sessions among `ids`, with their index entries' last seen and user agent. */
async function* page(k: RedisKeys, ids: string[]): AsyncGenerator<SessionInfo> {
  const stored = await valuesOf(k)(ids)
  const at = k.now()
  const live: [string, SessionRecord<Record<string, unknown>>, string | undefined][] = []
  const byUser = new Map<string, string[]>()
  for (const [i, id] of ids.entries()) {
    const record = parseRecord(stored[i])
    if (!record || typeof record.createdAt !== 'number' || sessionDeadline(record) <= at) continue
    const userId = k.userKey === false ? undefined : userIdOf(record.data, k.userKey)
    live.push([id, record, userId])
    if (userId !== undefined) byUser.set(userId, [...(byUser.get(userId) ?? []), id])
  }
  // One HMGET per user in the page, all in one round trip.
  const users = [...byUser]
  const metas = await k.run(
    users.map(([userId, list]) => ['HMGET', k.indexPrefix + userId, ...list]),
  )
  const metaOf = new Map<string, unknown>()
  for (const [u, [, list]] of users.entries()) {
    const reply = metas[u] as unknown[] | undefined
    for (const [n, id] of list.entries()) metaOf.set(id, reply?.[n])
  }
  for (const [id, record, userId] of live) {
    const { seen, userAgent } = seenOf(metaOf.get(id), record.createdAt)
    yield sessionInfo(id, userId, record.createdAt, seen, sessionDeadline(record), userAgent)
  }
}

/**
 * Every live session under the prefix: `SCAN` on each master, a page of keys at a time, so at
 * most a page is held. SCAN's guarantee: a session live for the whole walk is seen, maybe twice.
 */
export async function* scanSessions(k: RedisKeys, pageSize: number): AsyncGenerator<SessionInfo> {
  const count = String(pageSize)
  // SCAN's MATCH is a glob: the prefix's own glob characters are escaped.
  const pattern = `${k.prefix.replace(/[*?[\]\\]/g, '\\$&')}*`
  for (const send of await masters(k.client, k.run)) {
    let cursor = '0'
    do {
      const reply = (await send(['SCAN', cursor, 'MATCH', pattern, 'COUNT', count])) as [
        unknown,
        unknown[],
      ]
      cursor = String(reply[0])
      const ids = reply[1]
        .map(String)
        .filter((key) => !key.startsWith(k.indexPrefix))
        .map((key) => key.slice(k.prefix.length))
      yield* page(k, ids)
    } while (cursor !== '0')
  }
}
