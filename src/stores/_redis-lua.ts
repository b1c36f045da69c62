/**
 * The Lua scripts of the Redis store. Each touches one key, so Redis Cluster routes it alone.
 */
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

// KEYS[1] session. ARGV: user key, now ms, then the JSON texts the owner may be stored as.
// Deletes the session only if it still belongs to that user (one that switched user is not
// logged out); answers 1 when it was live at `now`, 0 when it was another's, gone or expired
// (an expired one of the user's is deleted all the same).
const DESTROY_OWNED = `${LUA_JSON}
local stored = redis.call('GET', KEYS[1])
if not stored then return 0 end
local ok, owner, deadline = pcall(function()
  local keys, _, vals = members(stored, ws(stored, 1))
  local top = {}
  for n = 1, #keys do top[keys[n]] = vals[n] end
  local data = top['data']
  local d = tonumber(top['expiresAt'])
  local idle = top['idleExpiresAt'] and tonumber(top['idleExpiresAt'])
  if d and idle and idle < d then d = idle end
  return data and field(data, ARGV[1]), d
end)
if not ok or not owner then return 0 end
for n = 3, #ARGV do
  if owner == ARGV[n] then
    redis.call('DEL', KEYS[1])
    if deadline and deadline > tonumber(ARGV[2]) then return 1 end
    return 0
  end
end
return 0
`

// KEYS[1] user index. ARGV: id, now ms, user agent, '1' when a user agent was given. Moves the
// entry's last seen (never back) and user agent; an id the index does not hold is left alone.
const TOUCH = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return 0 end
local ok, m = pcall(cjson.decode, old)
if not ok or type(m) ~= 'table' or type(m.expiresAt) ~= 'number' then return 0 end
local seen = tonumber(ARGV[2])
if type(m.lastSeenAt) == 'number' and m.lastSeenAt > seen then seen = m.lastSeenAt end
local ua = m.userAgent
if ARGV[4] == '1' then ua = ARGV[3] end
local meta = '{"lastSeenAt":' .. string.format('%.0f', seen) .. ',"expiresAt":' .. string.format('%.0f', m.expiresAt)
if type(ua) == 'string' then meta = meta .. ',"userAgent":' .. cjson.encode(ua) end
redis.call('HSET', KEYS[1], ARGV[1], meta .. '}')
return 1
`

/** A Lua script and its SHA-1, for EVALSHA. */
export interface Script {
  body: string
  /** Computed on first use, so importing the module does no work. */
  sha?: Promise<string>
}

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

/** The script's SHA-1 in hex, as EVALSHA names it. */
export const shaOf = (s: Script): Promise<string> => (s.sha ??= sha1(s.body))
const script = (body: string): Script => ({ body })
/**
 * The store's scripts: merge a patch, update the user index, delete an owned session, move an
 * index entry's last seen.
 */
export const scripts = {
  patch: script(PATCH),
  index: script(INDEX),
  destroyOwned: script(DESTROY_OWNED),
  touch: script(TOUCH),
}
