import { SessionConfigError } from '../core/errors.ts'
import { userAgentOf, userIdOf } from '../core/owner.ts'
import { sessionDeadline } from '../core/record.ts'
import type {
  SessionInfo,
  SessionPatch,
  SessionRecord,
  SessionStore,
  UserSessionIndex,
} from '../core/types.ts'

/**
 * A Redis client `redisStore()` can drive, recognised by shape: ioredis (`Redis` or
 * `Redis.Cluster`), node-redis v5 (`createClient()` or `createCluster()`), or Bun's `RedisClient`.
 */
export type RedisClientLike =
  | { call(command: string, ...args: any[]): unknown; pipeline(): unknown }
  | { sendCommand(...args: any[]): unknown }
  | { send(command: string, args: string[]): unknown }

/** Options of `redisStore()`. */
export interface RedisStoreOptions {
  /** A connected client the app built: ioredis (incl. Cluster), node-redis v5, or Bun's `RedisClient`. */
  client: RedisClientLike
  /**
   * Prefix of every key the store writes: sessions at `<prefix><id>`, the per-user index at
   * `<prefix>user:<userId>`.
   * @default 'sess:'
   */
  prefix?: string
  /**
   * Key of the session data that holds the user id, for `listSessions()` and
   * `destroyUserSessions()`; `false` turns the per-user index off (one command less per write).
   * @default 'userId'
   */
  userKey?: string | false
}

/** A Redis-backed session store with its per-user index. */
export interface RedisStore extends SessionStore, UserSessionIndex {}

/** Replies in command order; a failed command's slot holds its Error. */
type Send = (commands: string[][]) => Promise<unknown[]>

// --- Lua -------------------------------------------------------------------------------------
// Redis' cjson turns `[]` into `{}`, rounds numbers to 14 digits (0.1 + 0.2 comes back as 0.3)
// and reorders keys. So the scripts never decode session values: they scan the JSON text for
// member boundaries and copy values byte for byte. Only keys (strings) go through cjson.
const LUA_JSON = `
local sub, find = string.sub, string.find
local function ws(s, i) return find(s, '[^ \\t\\r\\n]', i) or (#s + 1) end
local function skip(s, i)
  local c = sub(s, i, i)
  if c == '"' then
    while true do
      local j = find(s, '["\\\\]', i + 1)
      if not j then error('bad json') end
      if sub(s, j, j) == '"' then return j + 1 end
      i = j + 1
    end
  elseif c == '{' or c == '[' then
    local depth = 0
    while true do
      local j = find(s, '[%[%]{}"]', i)
      if not j then error('bad json') end
      local d = sub(s, j, j)
      if d == '"' then
        i = skip(s, j)
      else
        if d == '{' or d == '[' then depth = depth + 1 else depth = depth - 1 end
        i = j + 1
        if depth == 0 then return i end
      end
    end
  end
  local j = find(s, '[,:}%] \\t\\r\\n]', i) or (#s + 1)
  if j == i then error('bad json') end
  return j
end
local function members(s, i)
  if sub(s, i, i) ~= '{' then error('not an object') end
  local keys, raws, vals = {}, {}, {}
  i = ws(s, i + 1)
  if sub(s, i, i) == '}' then return keys, raws, vals end
  while true do
    if sub(s, i, i) ~= '"' then error('bad json') end
    local e = skip(s, i)
    local raw = sub(s, i, e - 1)
    i = ws(s, e)
    if sub(s, i, i) ~= ':' then error('bad json') end
    i = ws(s, i + 1)
    local ve = skip(s, i)
    keys[#keys + 1] = cjson.decode(raw)
    raws[#raws + 1] = raw
    vals[#vals + 1] = sub(s, i, ve - 1)
    i = ws(s, ve)
    local c = sub(s, i, i)
    if c == '}' then return keys, raws, vals end
    if c ~= ',' then error('bad json') end
    i = ws(s, i + 1)
  end
end
local function field(s, name)
  local keys, _, vals = members(s, ws(s, 1))
  for n = 1, #keys do if keys[n] == name then return vals[n] end end
end
`

// KEYS[1] session. ARGV: record JSON after "data" (`,"createdAt":…}`), TTL ms, number of set
// keys, then per set key (key, key as JSON, value as JSON), then the deleted keys.
// Same merge as applySessionPatch: stored keys keep their order, new ones are appended.
const PATCH = `${LUA_JSON}
local stored = redis.call('GET', KEYS[1])
if not stored then return 0 end
local ok, keys, raws, vals = pcall(function() return members(field(stored, 'data') or '', 1) end)
if not ok then return 0 end
local nset = tonumber(ARGV[3])
local changed, order, deleted, out = {}, {}, {}, {}
for n = 0, nset - 1 do
  local b = 4 + n * 3
  changed[ARGV[b]] = { ARGV[b + 1], ARGV[b + 2] }
  order[#order + 1] = ARGV[b]
end
for n = 4 + nset * 3, #ARGV do deleted[ARGV[n]] = true end
for n = 1, #keys do
  local k = keys[n]
  if not deleted[k] then
    local c = changed[k]
    if c then
      out[#out + 1] = raws[n] .. ':' .. c[2]
      c.done = true
    else
      out[#out + 1] = raws[n] .. ':' .. vals[n]
    end
  end
end
for _, k in ipairs(order) do
  local c = changed[k]
  if not c.done and not deleted[k] then out[#out + 1] = c[1] .. ':' .. c[2] end
end
redis.call('SET', KEYS[1], '{"data":{' .. table.concat(out, ',') .. '}' .. ARGV[1], 'PX', ARGV[2])
return 1
`

// KEYS[1] user index (hash: session id -> {"lastSeenAt","expiresAt","userAgent"}). ARGV: id,
// now ms, deadline ms, TTL ms, user agent, '1' when a user agent was given. Entries past their
// deadline are dropped here, so a user's hash stays as small as their live sessions.
const INDEX = `
local ua = ARGV[5]
if ARGV[6] ~= '1' then
  ua = nil
  local old = redis.call('HGET', KEYS[1], ARGV[1])
  if old then
    local ok, m = pcall(cjson.decode, old)
    if ok and type(m) == 'table' and type(m.userAgent) == 'string' then ua = m.userAgent end
  end
end
local meta = '{"lastSeenAt":' .. ARGV[2] .. ',"expiresAt":' .. ARGV[3]
if ua then meta = meta .. ',"userAgent":' .. cjson.encode(ua) end
redis.call('HSET', KEYS[1], ARGV[1], meta .. '}')
local now = tonumber(ARGV[2])
local all = redis.call('HGETALL', KEYS[1])
for n = 1, #all, 2 do
  local ok, m = pcall(cjson.decode, all[n + 1])
  if not ok or type(m) ~= 'table' or type(m.expiresAt) ~= 'number' or m.expiresAt <= now then
    redis.call('HDEL', KEYS[1], all[n])
  end
end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 1
`

// KEYS[1] session. ARGV: user key, then the JSON texts the owner may be stored as. Deletes the
// session only if it still belongs to that user: one that switched user is not logged out.
const DESTROY_OWNED = `${LUA_JSON}
local stored = redis.call('GET', KEYS[1])
if not stored then return 0 end
local ok, owner = pcall(function()
  local data = field(stored, 'data')
  return data and field(data, ARGV[1])
end)
if not ok or not owner then return 0 end
for n = 2, #ARGV do
  if owner == ARGV[n] then return redis.call('DEL', KEYS[1]) end
end
return 0
`

interface Script {
  body: string
  /** Computed on first use, so importing the module does no work. */
  sha?: Promise<string>
}

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

const shaOf = (s: Script): Promise<string> => (s.sha ??= sha1(s.body))
const script = (body: string): Script => ({ body })
const scripts = { patch: script(PATCH), index: script(INDEX), destroyOwned: script(DESTROY_OWNED) }

// --- Clients ---------------------------------------------------------------------------------

const settle = (p: unknown): Promise<unknown> =>
  Promise.resolve(p).then(
    (v) => v,
    (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
  )

/**
 * One `Send` per client kind. Every command names one key, so Cluster routes each on its own;
 * batches go out in one round trip (an ioredis pipeline, or same-tick commands that node-redis
 * and Bun write together).
 */
function sender(client: any): Send {
  if (typeof client?.call === 'function' && typeof client.pipeline === 'function') {
    // ioredis Cluster refuses a pipeline whose keys live in different slots: send in parallel.
    if (client.isCluster === true) {
      return (commands) =>
        Promise.all(commands.map(([cmd, ...args]) => settle(client.call(cmd!, ...args))))
    }
    return async (commands) => {
      if (commands.length === 1) {
        const [cmd, ...args] = commands[0]!
        return [await settle(client.call(cmd!, ...args))]
      }
      const pipeline = client.pipeline()
      for (const [cmd, ...args] of commands) pipeline.call(cmd, ...args)
      const results: [Error | null, unknown][] | null = await pipeline.exec()
      if (!results) throw new Error('Redis pipeline returned no replies')
      return results.map(([err, value]) => err ?? value)
    }
  }
  if (typeof client?.sendCommand === 'function') {
    // node-redis cluster: sendCommand(firstKey, isReadonly, args).
    if (typeof client.nodeClient === 'function' || Array.isArray(client.masters)) {
      return (commands) =>
        Promise.all(commands.map((c) => settle(client.sendCommand(keyOf(c), false, c))))
    }
    return (commands) => Promise.all(commands.map((c) => settle(client.sendCommand(c))))
  }
  if (typeof client?.send === 'function') {
    return (commands) =>
      Promise.all(commands.map(([cmd, ...args]) => settle(client.send(cmd!, args))))
  }
  throw new SessionConfigError([
    {
      path: 'client',
      message:
        'expected a Redis client: ioredis (Redis or Cluster), node-redis v5 or Bun RedisClient',
    },
  ])
}

/** The key a command touches: after `numkeys` for scripts, else the first argument. */
function keyOf(command: string[]): string | undefined {
  const name = command[0]!.toUpperCase()
  return name === 'EVALSHA' || name === 'EVAL' ? command[3] : command[1]
}

const isNoScript = (v: unknown) => v instanceof Error && v.message.includes('NOSCRIPT')

/** A reply that is a list of field/value pairs (RESP2 array, RESP3 map or object) as entries. */
function pairs(reply: unknown): [string, string][] {
  if (Array.isArray(reply)) {
    const out: [string, string][] = []
    for (let i = 0; i + 1 < reply.length; i += 2) out.push([String(reply[i]), String(reply[i + 1])])
    return out
  }
  if (reply instanceof Map) return [...reply].map(([k, v]) => [String(k), String(v)])
  if (typeof reply === 'object' && reply !== null) {
    return Object.entries(reply).map(([k, v]) => [k, String(v)])
  }
  return []
}

/** The JSON texts a user id may be stored as: the string, and the number when it is one. */
function ownerTokens(userId: string): string[] {
  const tokens = [JSON.stringify(userId)]
  const n = Number(userId)
  if (userId !== '' && Number.isFinite(n) && JSON.stringify(n) === userId) tokens.push(userId)
  return tokens
}

function parseRecord(value: unknown): SessionRecord<Record<string, unknown>> | undefined {
  if (typeof value !== 'string') return undefined
  try {
    const record = JSON.parse(value)
    return typeof record === 'object' && record !== null ? record : undefined
  } catch {
    return undefined
  }
}

/**
 * A session store on Redis: one GET to load, one `SET … PX` or one atomic Lua patch to write
 * (with the per-user index update in the same round trip), Redis expiring each session itself.
 *
 * Works on ioredis, ioredis Cluster, node-redis v5 and Bun's `RedisClient`. Every command and
 * script touches one key, so Cluster needs no hash tags: sessions spread over all slots, and
 * the user index is written beside them in the same round trip (in parallel on Cluster).
 *
 * @example
 * import Redis from 'ioredis'
 * import { redisStore } from 'sealed-session/stores/redis'
 *
 * const store = redisStore({ client: new Redis(process.env.REDIS_URL) })
 * app.use(session({ secret: process.env.SESSION_SECRET, store }))
 */
export function redisStore({
  client,
  prefix = 'sess:',
  userKey = 'userId',
}: RedisStoreOptions): RedisStore {
  const send = sender(client)
  const keyFor = (id: string) => prefix + id
  const indexFor = (userId: string) => `${prefix}user:${userId}`

  /** Sends commands; EVALSHA that the server does not know yet is retried once as EVAL. */
  async function run(commands: string[][]): Promise<unknown[]> {
    const replies = await send(commands)
    const retry = replies.flatMap((r, i) => (isNoScript(r) ? [i] : []))
    if (retry.length > 0) {
      const bodies = new Map<string, string>()
      for (const s of Object.values(scripts)) bodies.set(await shaOf(s), s.body)
      const again = await send(
        retry.map((i) => {
          const [, sha, ...rest] = commands[i]!
          return ['EVAL', bodies.get(sha!)!, ...rest]
        }),
      )
      retry.forEach((i, n) => {
        replies[i] = again[n]
      })
    }
    for (const r of replies) if (r instanceof Error) throw r
    return replies
  }

  const evalsha = async (s: Script, key: string, args: string[]) => [
    'EVALSHA',
    await shaOf(s),
    '1',
    key,
    ...args,
  ]

  /** The index update for a write, or nothing when the index is off or the session has no user. */
  async function indexWrite(
    id: string,
    record: SessionRecord<any>,
    ttl: number,
    ctx: unknown,
  ): Promise<string[][]> {
    if (userKey === false) return []
    const userId = userIdOf(record.data, userKey)
    if (userId === undefined) return []
    const ua = userAgentOf(ctx)
    const now = Date.now()
    return [
      await evalsha(scripts.index, indexFor(userId), [
        id,
        String(now),
        String(Math.round(sessionDeadline(record))),
        String(ttl),
        ua ?? '',
        ua === undefined ? '0' : '1',
      ]),
    ]
  }

  /** Milliseconds until the record's deadline; Redis drops the key then. */
  const ttlOf = (record: SessionRecord<any>) => Math.ceil(sessionDeadline(record) - Date.now())

  function requireIndex(): string {
    if (userKey === false) {
      throw new SessionConfigError([
        { path: 'userKey', message: 'the per-user index is off (userKey: false)' },
      ])
    }
    return userKey
  }

  return {
    async get(id) {
      const [value] = await run([['GET', keyFor(id)]])
      return value === null || value === undefined ? undefined : (parseRecord(value) ?? value)
    },

    async set(id, record, ctx) {
      const ttl = ttlOf(record)
      // Already past its deadline: nothing to keep, and no stale copy may linger.
      if (ttl < 1) return void (await run([['DEL', keyFor(id)]]))
      const write = ['SET', keyFor(id), JSON.stringify(record), 'PX', String(ttl)]
      await run([write, ...(await indexWrite(id, record, ttl, ctx))])
    },

    async patch(id, record, changes: SessionPatch, ctx) {
      const ttl = ttlOf(record)
      if (ttl < 1) return void (await run([['DEL', keyFor(id)]]))
      const { data, ...meta } = record
      const rest = JSON.stringify(meta)
      const args = [rest === '{}' ? '}' : `,${rest.slice(1)}`, String(ttl), '']
      let nset = 0
      const deleted = [...changes.deleted]
      for (const key of changes.set) {
        const value = JSON.stringify(data[key])
        // A key whose new value JSON drops (undefined) is a deletion, as in JSON.stringify.
        if (value === undefined) deleted.push(key)
        else {
          args.push(key, JSON.stringify(key), value)
          nset++
        }
      }
      args[2] = String(nset)
      args.push(...deleted)
      await run([
        await evalsha(scripts.patch, keyFor(id), args),
        ...(await indexWrite(id, record, ttl, ctx)),
      ])
    },

    async delete(id) {
      // The user index is cleaned lazily: listSessions() drops ids whose session is gone, so a
      // logout stays one command.
      await run([['DEL', keyFor(id)]])
    },

    async listSessions(userId) {
      const key = requireIndex()
      const index = indexFor(String(userId))
      const [reply] = await run([['HGETALL', index]])
      const entries = pairs(reply)
      if (entries.length === 0) return []
      const values = await run(entries.map(([id]) => ['GET', keyFor(id)]))
      const list: SessionInfo[] = []
      const stale: string[] = []
      const now = Date.now()
      for (const [i, [id, metaJson]] of entries.entries()) {
        const record = parseRecord(values[i])
        // Deleted, expired, or now someone else's (or no one's): not this user's session.
        if (!record || userIdOf(record.data, key) !== String(userId)) {
          stale.push(id)
          continue
        }
        const expiresAt = sessionDeadline(record)
        if (expiresAt <= now) {
          stale.push(id)
          continue
        }
        let meta: { lastSeenAt?: unknown; userAgent?: unknown } = {}
        try {
          meta = JSON.parse(metaJson)
        } catch {
          // Unreadable metadata only costs the last-seen time and user agent.
        }
        const info: SessionInfo = {
          id,
          createdAt: record.createdAt,
          lastSeenAt: typeof meta.lastSeenAt === 'number' ? meta.lastSeenAt : record.createdAt,
          expiresAt,
        }
        if (typeof meta.userAgent === 'string') info.userAgent = meta.userAgent
        list.push(info)
      }
      if (stale.length > 0) await run([['HDEL', index, ...stale]])
      return list.sort((a, b) => b.lastSeenAt - a.lastSeenAt || b.createdAt - a.createdAt)
    },

    async destroyUserSessions(userId, options = {}) {
      const key = requireIndex()
      const index = indexFor(String(userId))
      const [reply] = await run([['HKEYS', index]])
      const ids = (Array.isArray(reply) ? reply.map(String) : pairs(reply).map(([k]) => k)).filter(
        (id) => id !== options.except,
      )
      if (ids.length === 0) return 0
      const tokens = ownerTokens(String(userId))
      const commands = await Promise.all(
        ids.map((id) => evalsha(scripts.destroyOwned, keyFor(id), [key, ...tokens])),
      )
      const replies = await run([...commands, ['HDEL', index, ...ids]])
      return replies.slice(0, ids.length).reduce<number>((sum, r) => sum + Number(r), 0)
    },
  }
}
