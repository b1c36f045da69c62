// The one contract every adapter passes, on every runtime. Framework-free on purpose: no vitest,
// no node: imports, only Web APIs, so the same cases run under vitest, `bun test`, Deno and
// workerd. Each adapter builds a fixture app with the routes below and hands this module a
// client that reaches it (in-process `fetch`, or a real HTTP server on 127.0.0.1).
//
// Fixture routes (secret passed in; sealed by default, `store: new Map()` in store mode):
//   POST /login       await session.regenerate(); userId = 'u1'; flash('notice', 'welcome') -> text 'ok'
//   GET  /me          JSON { userId: userId ?? null, notice: notice ?? null, isNew }
//   POST /reflash     session.reflash() -> JSON { notice: notice ?? null }
//   POST /regenerate  const before = id; await regenerate() -> JSON { before, after: id }
//   POST /logout      session.destroy() -> text 'ok'
//   POST /count       count = (count ?? 0) + 1 -> JSON { count }
//   GET  /throw       userId = 'evil', then throw -> 500, and no session written
//   GET  /asset       never touches the session -> text 'asset'
//   POST /flash-twice flash('notice', 'one'); flash('notice', 'two') -> text 'ok'
//   GET  /flashes     JSON { all: flash(), notice: notice ?? null }
//   GET  /data        JSON of session.toJSON()
//   POST /bad         count = 'many' -> text 'ok' (with the schema: 500, and no session written)
//
// `schemaCases` run against a fixture built with a schema of `{ count: integer = 0 }` whose
// other keys are optional strings (contract-schemas.ts: in zod, valibot and arktype), with
// `unchecked` reaching the same fixture built without it (same secret, same store).

/**
 * Reaches one fixture app: `path` is like `/me`, the client adds the origin.
 *
 * @example
 * const client: ContractClient = { request: (path, init) => app.fetch(new Request(`http://localhost${path}`, init)) }
 */
export interface ContractClient {
  request(path: string, init?: RequestInit): Promise<Response>
}

/**
 * How the fixture under test was built.
 *
 * @example
 * const options: ContractOptions = { store: true, storeSize: () => map.size }
 */
export interface ContractOptions {
  /**
   * The fixture keeps sessions in a store (a Map): the cookie is a signed id.
   * @default false
   */
  store?: boolean
  /**
   * Number of entries in that store, when the runner can see it. Cases share the store, so
   * they check how it changes: regenerate and a throwing handler leave it as it was, logout
   * removes one entry.
   * @default undefined (not checked)
   */
  storeSize?: () => number
  /**
   * The schema cases: a client of the same fixture built without the schema (same secret, same
   * store), which writes sessions whose data the schema refuses.
   * @default undefined (the schema cases that need it fail)
   */
  unchecked?: ContractClient
}

/**
 * One behaviour every adapter must show; `run` throws when it does not.
 *
 * @example
 * for (const c of contractCases) it(c.name, () => c.run(client, options))
 */
export interface ContractCase {
  name: string
  run(client: ContractClient, options: ContractOptions): Promise<void>
}

/** One case's outcome as `runContract` reports it. */
export interface ContractResult {
  name: string
  ok: boolean
  error?: string
}

class ContractError extends Error {
  override name = 'ContractError'
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ContractError(message)
}

function equal(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  if (a !== e) throw new ContractError(`${what}: expected ${e}, got ${a}`)
}

/**
 * Every Set-Cookie value of a response. `getSetCookie()` where the runtime has it; otherwise
 * the joined header, split before each `name=` (an Expires date's comma is followed by a day).
 */
function setCookieValues(res: Response): string[] {
  const h = res.headers as Headers & { getSetCookie?: () => string[] }
  if (typeof h.getSetCookie === 'function') return h.getSetCookie()
  const joined = res.headers.get('set-cookie')
  return joined ? joined.split(/,(?=\s*[^;,=\s]+=)/).map((s) => s.trim()) : []
}

interface SetCookie {
  name: string
  value: string
  maxAge: string | undefined
}

function parseSetCookie(raw: string): SetCookie {
  const [pair = '', ...attrs] = raw.split(';')
  const eq = pair.indexOf('=')
  let maxAge: string | undefined
  for (const a of attrs) {
    const [k = '', v = ''] = a.split('=')
    if (k.trim().toLowerCase() === 'max-age') maxAge = v.trim()
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), maxAge }
}

/** A browser-like cookie jar for one case: sends what it holds, keeps what it is sent. */
class Jar {
  readonly cookies = new Map<string, string>()
  /** The Set-Cookie headers of the last response, parsed. */
  last: SetCookie[] = []

  constructor(readonly client: ContractClient) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    if (this.cookies.size > 0) {
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '))
    }
    const res = await this.client.request(path, { ...init, headers })
    this.last = setCookieValues(res).map(parseSetCookie)
    for (const c of this.last) {
      if (c.maxAge === '0' || c.value === '') this.cookies.delete(c.name)
      else this.cookies.set(c.name, c.value)
    }
    return res
  }

  /** Sends `path` and checks the status; answers the body as JSON or text. */
  async expect(path: string, method: string, status = 200): Promise<any> {
    const res = await this.request(path, { method })
    const body = await res.text()
    equal(res.status, status, `${method} ${path} status (body ${body.slice(0, 200)})`)
    if (status !== 200) return body
    const type = res.headers.get('content-type') ?? ''
    return type.includes('json') ? JSON.parse(body) : body
  }

  async login(): Promise<void> {
    equal(await this.expect('/login', 'POST'), 'ok', 'POST /login body')
    assert(this.last.length === 1, `POST /login must set one cookie, set ${this.last.length}`)
    assert(this.cookies.size === 1, 'the jar holds the session cookie after login')
  }

  /** The one session cookie the jar holds. */
  cookie(): [string, string] {
    const entry = [...this.cookies][0]
    assert(entry, 'the jar holds a session cookie')
    return entry
  }
}

const me = (jar: Jar) => jar.expect('/me', 'GET')

/**
 * The adapter contract: login, read back, flash, reflash, regenerate, destroy, quiet reads,
 * bad cookies, throwing handlers and a counter, each with its own cookie jar.
 *
 * @example
 * for (const c of contractCases) await c.run(client, { store: false })
 */
export const contractCases: ContractCase[] = [
  {
    name: 'login then read back',
    async run(client) {
      const jar = new Jar(client)
      equal(await me(jar), { userId: null, notice: null, isNew: true }, 'GET /me before login')
      await jar.login()
      const body = await me(jar)
      equal(body.userId, 'u1', 'userId after login')
      equal(body.isNew, false, 'isNew after login')
    },
  },
  {
    name: 'flash is readable exactly once',
    async run(client) {
      const jar = new Jar(client)
      await jar.login()
      equal((await me(jar)).notice, 'welcome', 'notice on the first read')
      equal((await me(jar)).notice, null, 'notice on the second read')
      equal((await me(jar)).userId, 'u1', 'userId survives the flash')
    },
  },
  {
    name: 'a request that never touches the session keeps the flash',
    async run(client) {
      const jar = new Jar(client)
      await jar.login()
      const cookie = jar.cookie()
      equal(await jar.expect('/asset', 'GET'), 'asset', 'GET /asset body')
      equal(jar.last.length, 0, 'Set-Cookie count on a request that never touched the session')
      equal(jar.cookie(), cookie, 'the cookie after that request')
      equal((await me(jar)).notice, 'welcome', 'notice after the untouched request')
      equal((await me(jar)).notice, null, 'notice one request later')
    },
  },
  {
    name: 'a key flashed twice: session[key] reads the last, flash() lists both',
    async run(client) {
      const jar = new Jar(client)
      equal(await jar.expect('/flash-twice', 'POST'), 'ok', 'POST /flash-twice body')
      equal(
        await jar.expect('/flashes', 'GET'),
        { all: { notice: ['one', 'two'] }, notice: 'two' },
        'GET /flashes after flashing twice',
      )
      equal(await jar.expect('/flashes', 'GET'), { all: {}, notice: null }, 'GET /flashes again')
    },
  },
  {
    name: 'reflash keeps the flash one more request',
    async run(client) {
      const jar = new Jar(client)
      await jar.login()
      equal(await jar.expect('/reflash', 'POST'), { notice: 'welcome' }, 'POST /reflash')
      equal((await me(jar)).notice, 'welcome', 'notice after reflash')
      equal((await me(jar)).notice, null, 'notice one request later')
    },
  },
  {
    name: 'regenerate gives a new id and keeps the data',
    async run(client, options) {
      const jar = new Jar(client)
      await jar.login()
      const [name, oldValue] = jar.cookie()
      const sizeBefore = options.storeSize?.()
      const { before, after } = await jar.expect('/regenerate', 'POST')
      assert(typeof before === 'string' && before.length > 0, `id before is a string: ${before}`)
      assert(typeof after === 'string' && after.length > 0, `id after is a string: ${after}`)
      assert(before !== after, `regenerate changed the id (${before})`)
      assert(jar.last.length === 1, 'regenerate sets the cookie')
      assert(jar.cookies.get(name) !== oldValue, 'regenerate changed the cookie value')
      const body = await me(jar)
      equal(body.userId, 'u1', 'userId after regenerate')
      equal(body.isNew, false, 'isNew after regenerate')
      if (options.store) {
        // The new entry replaces the old one: not a second entry beside it.
        if (options.storeSize)
          equal(options.storeSize(), sizeBefore, 'store entries after regenerate')
        // The old id's entry is gone: replaying the pre-regenerate cookie gets a new session.
        const old = new Jar(client)
        old.cookies.set(name, oldValue)
        equal((await me(old)).isNew, true, 'old cookie after regenerate is a new session')
      }
    },
  },
  {
    name: 'logout clears the cookie and the next request is new',
    async run(client, options) {
      const jar = new Jar(client)
      await jar.login()
      const [name] = jar.cookie()
      const sizeBefore = options.storeSize?.()
      equal(await jar.expect('/logout', 'POST'), 'ok', 'POST /logout body')
      const cleared = jar.last.find((c) => c.name === name)
      assert(cleared, `POST /logout sends Set-Cookie for ${name}`)
      assert(cleared.maxAge === '0' || cleared.value === '', 'the logout cookie expires it')
      equal(jar.cookies.size, 0, 'cookies left in the jar after logout')
      if (options.store && options.storeSize && sizeBefore !== undefined) {
        equal(options.storeSize(), sizeBefore - 1, 'store entries after logout')
      }
      equal(await me(jar), { userId: null, notice: null, isNew: true }, 'GET /me after logout')
    },
  },
  {
    name: 'an unchanged read sends no Set-Cookie',
    async run(client) {
      const fresh = new Jar(client)
      await me(fresh)
      equal(fresh.last.length, 0, 'Set-Cookie count for a new session that was only read')
      const jar = new Jar(client)
      await jar.login()
      await me(jar) // consumes the flash: a write
      const res = await jar.request('/me')
      equal(res.status, 200, 'GET /me status')
      await res.text()
      equal(res.headers.get('set-cookie'), null, 'Set-Cookie on an unchanged read')
    },
  },
  {
    name: 'a tampered or garbage cookie gives a fresh session',
    async run(client) {
      const jar = new Jar(client)
      await jar.login()
      const [name, value] = jar.cookie()
      // Change one character in the middle, where the MAC or the signed id lives.
      const i = Math.floor(value.length / 2)
      const flipped = value.slice(0, i) + (value[i] === 'A' ? 'B' : 'A') + value.slice(i + 1)
      for (const bad of [flipped, 'garbage', `${value}x`, '%%%']) {
        const other = new Jar(client)
        other.cookies.set(name, bad)
        equal(await me(other), { userId: null, notice: null, isNew: true }, `cookie ${bad}`)
      }
      equal((await me(jar)).userId, 'u1', 'the untouched cookie still works')
    },
  },
  {
    name: 'a throwing handler writes nothing',
    async run(client, options) {
      const jar = new Jar(client)
      await jar.login()
      await me(jar) // consume the flash so the session is quiet
      const cookie = jar.cookie()
      const sizeBefore = options.storeSize?.()
      const res = await jar.request('/throw')
      await res.text()
      equal(res.status, 500, 'GET /throw status')
      equal(res.headers.get('set-cookie'), null, 'Set-Cookie after a throw')
      equal(jar.cookie(), cookie, 'the cookie after a throw')
      if (options.storeSize) equal(options.storeSize(), sizeBefore, 'store entries after a throw')
      equal((await me(jar)).userId, 'u1', 'userId after a throw')
    },
  },
  {
    name: 'a counter increments across 5 requests',
    async run(client) {
      const jar = new Jar(client)
      for (let n = 1; n <= 5; n++) {
        equal(await jar.expect('/count', 'POST'), { count: n }, `POST /count #${n}`)
      }
      equal((await me(jar)).isNew, false, 'isNew after counting')
    },
  },
]

/**
 * The contract of `session({ schema })`, for fixtures built with the schema described at the
 * top of this file: defaults start a new session without a write; data failing it is not written.
 *
 * @example
 * for (const c of schemaCases) it(c.name, () => c.run(client, options))
 */
export const schemaCases: ContractCase[] = [
  {
    name: 'schema: a new session starts from its defaults, and is not written until it changes',
    async run(client) {
      const jar = new Jar(client)
      equal(await jar.expect('/data', 'GET'), { count: 0 }, 'GET /data of a new session')
      equal(jar.last.length, 0, 'Set-Cookie count for a new session that was only read')
      equal(await jar.expect('/count', 'POST'), { count: 1 }, 'POST /count from the default')
      equal(await jar.expect('/data', 'GET'), { count: 1 }, 'GET /data after counting')
    },
  },
  {
    name: 'schema: data that fails it is not written',
    async run(client, options) {
      const jar = new Jar(client)
      await jar.login()
      await me(jar) // consume the flash so the session is quiet
      const cookie = jar.cookie()
      const sizeBefore = options.storeSize?.()
      const res = await jar.request('/bad', { method: 'POST' })
      await res.text()
      equal(res.status, 500, 'POST /bad status')
      equal(res.headers.get('set-cookie'), null, 'Set-Cookie after data failing the schema')
      equal(jar.cookie(), cookie, 'the cookie after data failing the schema')
      if (options.storeSize) equal(options.storeSize(), sizeBefore, 'store entries after it')
      equal((await me(jar)).userId, 'u1', 'userId after data failing the schema')
      equal((await jar.expect('/data', 'GET')).count, 0, 'count after data failing the schema')
    },
  },
  {
    name: 'schema: a cookie whose data fails it is refused: a fresh session from the defaults, the cookie cleared',
    async run(client, options) {
      assert(options.unchecked, 'the runner gives `unchecked`: the fixture without the schema')
      const older = new Jar(options.unchecked)
      equal(await older.expect('/bad', 'POST'), 'ok', 'POST /bad without the schema')
      const [name, value] = older.cookie()
      const jar = new Jar(client)
      jar.cookies.set(name, value)
      equal(
        await jar.expect('/data', 'GET'),
        { count: 0 },
        'GET /data with data failing the schema',
      )
      const cleared = jar.last.find((c) => c.name === name)
      assert(cleared && cleared.maxAge === '0', `the refused cookie ${name} is cleared`)
      equal(await me(jar), { userId: null, notice: null, isNew: true }, 'GET /me after it')
    },
  },
]

/**
 * Runs every contract case against `client` and reports each; never throws.
 *
 * @example
 * const results = await runContract(client, { store: true, storeSize: () => map.size })
 * for (const r of results) console.log(r.ok ? 'ok  ' : 'FAIL', r.name, r.error ?? '')
 */
export async function runContract(
  client: ContractClient,
  options: ContractOptions = {},
  cases: readonly ContractCase[] = contractCases,
): Promise<ContractResult[]> {
  const results: ContractResult[] = []
  for (const c of cases) {
    try {
      await c.run(client, options)
      results.push({ name: c.name, ok: true })
    } catch (err) {
      const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
      results.push({ name: c.name, ok: false, error })
    }
  }
  return results
}

/**
 * One line per case and a closing `contract: N passed, M failed` line; true when all passed.
 *
 * @example
 * if (!printResults('hono sealed', await runContract(client))) process.exitCode = 1
 */
export function printResults(
  label: string,
  results: ContractResult[],
  log: (line: string) => void = console.log,
): boolean {
  for (const r of results) {
    log(`${r.ok ? 'ok  ' : 'FAIL'} ${label}: ${r.name}${r.error ? ` — ${r.error}` : ''}`)
  }
  const failed = results.filter((r) => !r.ok).length
  log(`contract: ${results.length - failed} passed, ${failed} failed`)
  return failed === 0
}

/**
 * A client for an app with a `fetch(request)` method, called in-process at `origin`.
 *
 * @example
 * await runContract(inProcess(createFixture({ secret })))
 */
export function inProcess(
  app: { fetch(request: Request): Response | Promise<Response> },
  origin = 'http://localhost',
): ContractClient {
  return { request: async (path, init) => app.fetch(new Request(`${origin}${path}`, init)) }
}

/**
 * A client for a server listening at `base` (such as `http://127.0.0.1:3000`); redirects are
 * returned, not followed.
 *
 * @example
 * await runContract(overHttp(`http://127.0.0.1:${port}`))
 */
export function overHttp(base: string): ContractClient {
  return { request: (path, init) => fetch(`${base}${path}`, { ...init, redirect: 'manual' }) }
}
