/**
 * Mints test/compat/cookies-0.1.0.json: session cookies (and one bearer token) exactly as release
 * 0.1.0 issues them, so that every later version can prove it still opens them
 * (compat-0.1.0.test.ts).
 *
 * It was run ONCE, on the 0.1.0 code at commit 6a1bbbc (the worktree stood at 21e6e84, which
 * changes only .gitignore), with `node --import tsx test/compat/mint-0.1.0.ts`, and the JSON it
 * wrote was formatted with `npx biome check --write` and committed. Never run it again on later
 * code: cookies minted by a newer version prove nothing about 0.1.0's. It refuses to overwrite
 * the fixture for that reason.
 *
 * It uses only the public API (the Hono and fetch adapters, `sessionRevocation`), so it keeps
 * type-checking while the core moves underneath it. Seals hold random salts, IVs and ids: a
 * second run would write different, equally valid cookies.
 */
import { existsSync, writeFileSync } from 'node:fs'
import { Hono } from 'hono'
import { createSessionHandler, withSession } from '../../src/adapters/fetch.ts'
import { type Session, type SessionOptions, session } from '../../src/adapters/hono.ts'
import { sessionRevocation } from '../../src/index.ts'

/** A JSON value, as the fixture stores it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** The options of a case that JSON can carry; the test adds the clock, store and revocation. */
export interface CaseOptions {
  secret: string | string[] | Record<string, string>
  maxAge: number
  cookieName?: string
  purpose?: string
  idleTimeout?: number
  chunk?: boolean
  transport?: 'header'
}

/** One session minted by 0.1.0 and what opening it must give. */
export interface CompatCase {
  name: string
  about: string
  /** The adapter that minted it, and that the test opens it with. */
  adapter: 'hono' | 'fetch'
  /** The options it was minted with (without `now`, `store`, `revocation`). */
  mintedWith: CaseOptions
  /** The options to open it with. */
  options: CaseOptions
  /** The request's Cookie header (cookie transport). */
  cookie?: string
  /** The bearer token (header transport). */
  token?: string
  /** Store mode: the Map's entries after minting, id → record. */
  store?: Record<string, Json>
  /** Sealed mode with a `sessionRevocation({ store: new Map() })` list. */
  revocation?: true
  /** Epoch ms to open it at. */
  openAt: number
  /** Epoch ms from which it must be refused as expired (absolute or idle deadline). */
  expiresAt: number
  expect: {
    /** `session.toJSON()` on the first request that opens it, key order included. */
    data: { [key: string]: Json }
    /** `session.id`: the store key, or the internal id sealed into the cookie. */
    id: string
    /** Flash values pending in it: readable on the first request only. */
    flash?: { [key: string]: Json }
    /** Opened with an older key of the ring: the first response must rewrite it. */
    resealed?: true
    /** Secret(s) that alone must open the rewritten cookie (it was sealed with the newest key). */
    resealedOpensWith?: CaseOptions['secret']
    /** How many `<name>.N` cookies the chunked session spans. */
    chunks?: number
  }
  /** Option overrides under which the same cookie must be refused (a fresh session). */
  refusedBy?: Array<{ why: string; options: Partial<CaseOptions> }>
}

/** The whole fixture file. */
export interface CompatFixture {
  version: '0.1.0' | '0.2.0-dev'
  commit: string
  mintedAt: number
  cases: CompatCase[]
}

const OUT = new URL('./cookies-0.1.0.json', import.meta.url)

/** 2026-01-01T00:00:00Z: every case is minted at this instant. */
const T = 1_767_225_600_000
/** Ten years, in seconds: long enough to open the cookies at any chosen instant after T. */
const MAX_AGE = 315_360_000
const MINUTE = 60_000

// Literal test secrets: these cookies are public test data, never use them anywhere else.
const SECRET = 'compat-0.1.0-secret-0123456789-abcdefghijklmnopqrstuvwxyz'
const NEW = 'compat-0.1.0-new-secret-0123456789-abcdefghijklmnopqrstuv'
const OLD = 'compat-0.1.0-old-secret-0123456789-abcdefghijklmnopqrstuv'
const OLDEST = 'compat-0.1.0-oldest-secret-0123456789-abcdefghijklmnopqr'
const RING_1 = 'compat-0.1.0-ring-1-secret-0123456789-abcdefghijklmnopqr'
const RING_2 = 'compat-0.1.0-ring-2-secret-0123456789-abcdefghijklmnopqr'
const RING_3 = 'compat-0.1.0-ring-3-secret-0123456789-abcdefghijklmnopqr'

const URL_BASE = 'https://example.com'
const now = () => T

type Write = (s: Session) => void
interface Minted {
  cookie?: string
  token?: string
  id: string
}

/** The Cookie header a browser would send back for these Set-Cookie values. */
function cookieHeader(setCookies: string[]): string {
  if (setCookies.length === 0) throw new Error('minting wrote no cookie')
  return setCookies.map((raw) => raw.slice(0, raw.indexOf(';'))).join('; ')
}

async function mintHono(options: SessionOptions, write: Write): Promise<Minted> {
  const app = new Hono().use(session({ ...options, now })).post('/mint', (c) => {
    write(c.session)
    return c.text(c.session.id)
  })
  const res = await app.request(`${URL_BASE}/mint`, { method: 'POST' })
  if (res.status !== 200) throw new Error(`mint answered ${res.status}: ${await res.text()}`)
  const id = await res.text()
  return { cookie: cookieHeader(res.headers.getSetCookie()), id }
}

async function mintFetchCookie(options: SessionOptions, write: Write): Promise<Minted> {
  const { getSession, commitSession } = createSessionHandler({ ...options, now })
  const s = await getSession(new Request(`${URL_BASE}/mint`, { method: 'POST' }))
  write(s)
  const res = await commitSession(s, new Response(null, { status: 204 }))
  return { cookie: cookieHeader(res.headers.getSetCookie()), id: s.id }
}

async function mintToken(options: SessionOptions, write: Write): Promise<Minted> {
  const handle = withSession({ ...options, now }, (_request, s) => {
    write(s)
    return new Response(s.id)
  })
  const res = await handle(new Request(`${URL_BASE}/mint`, { method: 'POST' }))
  const token = res.headers.get('session-token')
  if (!token) throw new Error('minting sent no session-token header')
  return { token, id: await res.text() }
}

/** A plain JSON copy, which is what the test compares against. */
const json = <V>(v: V): V => JSON.parse(JSON.stringify(v)) as V

/** Sets every key of `data` on the session. */
const assign =
  (data: Record<string, Json>): Write =>
  (s) => {
    for (const [key, value] of Object.entries(data)) s[key] = json(value)
  }

const small = { userId: 'u1', role: 'admin' }

const kinds: Record<string, Json> = {
  nested: { a: { b: { c: { d: ['deep', 1, [2, [3, { e: null }]]] } } } },
  list: [1, 'two', 3.5, true, false, null, { seven: 7 }, [], {}],
  unicode: 'héllo wörld ✓ 日本語 한국어 العربية עברית 🎉👩‍💻 e\u0301',
  escapes: 'quote " backslash \\ newline \n tab \t nul \u0000 ls \u2028 ps \u2029 <script>',
  empty: '',
  numbers: {
    zero: 0,
    negative: -42,
    float: 0.1 + 0.2,
    tiny: 1e-7,
    huge: 1.7976931348623157e308,
    maxSafe: Number.MAX_SAFE_INTEGER,
    minSafe: Number.MIN_SAFE_INTEGER,
  },
  yes: true,
  no: false,
  nothing: null,
  emptyObject: {},
  emptyArray: [],
  'key with spaces': 1,
  'ключ-🔑': 'unicode key',
  '123': 'numeric-looking key',
}

// Incompressible enough and long: sealed, it spans three 4 KB cookies.
const cart = {
  userId: 'u-chunked',
  items: Array.from({ length: 80 }, (_, i) => ({
    sku: `SKU-${String(i).padStart(4, '0')}`,
    qty: (i % 7) + 1,
    note: `item ${i}: ${'abcdefghij'.repeat(3)} ✓`,
  })),
}

const base = { maxAge: MAX_AGE }

async function mint(): Promise<CompatCase[]> {
  const cases: CompatCase[] = []
  const sealed = async (
    c: Omit<CompatCase, 'adapter' | 'cookie' | 'openAt' | 'expiresAt' | 'expect'> & {
      data: Record<string, Json>
      write?: Write
      expect?: Partial<CompatCase['expect']>
      openAt?: number
      expiresAt?: number
      revocation?: true
    },
  ) => {
    const { data, write, expect, ...rest } = c
    const minted = await mintHono(
      {
        ...c.mintedWith,
        ...(c.revocation && { revocation: sessionRevocation({ store: new Map(), now }) }),
      },
      write ?? assign(data),
    )
    cases.push({
      ...rest,
      adapter: 'hono',
      cookie: minted.cookie!,
      openAt: c.openAt ?? T + MINUTE,
      expiresAt: c.expiresAt ?? T + MAX_AGE * 1000,
      expect: { data: json(data), id: minted.id, ...expect },
    })
  }

  await sealed({
    name: 'sealed-default',
    about: 'sealed mode, one string secret, default cookie name, small data',
    mintedWith: { ...base, secret: SECRET },
    options: { ...base, secret: SECRET },
    data: small,
    refusedBy: [{ why: 'another secret', options: { secret: NEW } }],
  })

  await sealed({
    name: 'sealed-json-kinds',
    about: 'nested objects and arrays, unicode, escapes, numbers, booleans, null, odd keys',
    mintedWith: { ...base, secret: SECRET },
    options: { ...base, secret: SECRET },
    data: kinds,
  })

  await sealed({
    name: 'sealed-flash',
    about: 'a flash value set on the minting request: readable once on the next, then gone',
    mintedWith: { ...base, secret: SECRET },
    options: { ...base, secret: SECRET },
    data: { userId: 'u1', notice: 'Welcome back ✓' },
    write: (s) => {
      s.userId = 'u1'
      s.flash('notice', 'Welcome back ✓')
    },
    expect: { flash: { notice: 'Welcome back ✓' } },
  })

  // Opened past half the idle window, so the rolling refresh rewrites it.
  await sealed({
    name: 'sealed-idle-rolling',
    about:
      'idleTimeout 7200 s (rolling): opened 5000 s later it is re-sealed with a later idle deadline',
    mintedWith: { ...base, secret: SECRET, idleTimeout: 7200 },
    options: { ...base, secret: SECRET, idleTimeout: 7200 },
    data: small,
    openAt: T + 5000_000,
    expiresAt: T + 7200_000,
    expect: { resealed: true },
  })

  await sealed({
    name: 'ring-array-old-key',
    about:
      'array ring [OLD, OLDEST] at mint time (OLD newest); opened by [NEW, OLD], where OLD is second: opens and is re-sealed with NEW',
    mintedWith: { ...base, secret: [OLD, OLDEST] },
    options: { ...base, secret: [NEW, OLD] },
    data: small,
    expect: { resealed: true, resealedOpensWith: NEW },
    refusedBy: [{ why: 'a ring without OLD', options: { secret: [NEW, OLDEST] } }],
  })

  await sealed({
    name: 'ring-object-numeric',
    about: 'object ring { 1: RING_1, 2: RING_2 }: sealed with id 2 (the largest is newest)',
    mintedWith: { ...base, secret: { 1: RING_1, 2: RING_2 } },
    options: { ...base, secret: { 1: RING_1, 2: RING_2 } },
    data: small,
    refusedBy: [{ why: 'id 2 missing from the ring', options: { secret: { 1: RING_1 } } }],
  })
  // The same cookie, opened after a rotation that added id 3.
  const objectRing = cases.at(-1)!
  cases.push({
    ...objectRing,
    name: 'ring-object-numeric-rotated',
    about:
      'the ring-object-numeric cookie opened by { 1, 2, 3: RING_3 }: id 2 is now older, so it is re-sealed with id 3',
    options: { ...base, secret: { 1: RING_1, 2: RING_2, 3: RING_3 } },
    expect: { ...objectRing.expect, resealed: true, resealedOpensWith: { 3: RING_3 } },
    refusedBy: [],
  })

  await sealed({
    name: 'sealed-purpose',
    about: 'custom purpose "billing-portal": refused by an app with the default purpose',
    mintedWith: { ...base, secret: SECRET, purpose: 'billing-portal' },
    options: { ...base, secret: SECRET, purpose: 'billing-portal' },
    data: small,
    refusedBy: [
      { why: 'the default purpose (the cookie name)', options: { purpose: 'sid' } },
      { why: 'another purpose', options: { purpose: 'billing' } },
    ],
  })

  await sealed({
    name: 'sealed-host-prefix',
    about: 'cookie name __Host-sid (its purpose defaults to the name)',
    mintedWith: { ...base, secret: SECRET, cookieName: '__Host-sid' },
    options: { ...base, secret: SECRET, cookieName: '__Host-sid' },
    data: small,
    refusedBy: [{ why: 'a purpose other than the cookie name', options: { purpose: 'sid' } }],
  })

  await sealed({
    name: 'sealed-chunked',
    about: 'chunk: true, a session over 4 KB spread over sid.0, sid.1, sid.2',
    mintedWith: { ...base, secret: SECRET, chunk: true },
    options: { ...base, secret: SECRET, chunk: true },
    data: cart,
  })
  const chunked = cases.at(-1)!
  chunked.expect.chunks = chunked.cookie!.split('; ').length
  if (chunked.expect.chunks < 2 || !chunked.cookie!.startsWith('sid.0=')) {
    throw new Error(`the chunked session was not chunked: ${chunked.cookie!.slice(0, 40)}`)
  }

  await sealed({
    name: 'sealed-revocation',
    about:
      'sealed with revocation: sessionRevocation({ store: new Map() }); carries its internal id, revocable by id or user',
    mintedWith: { ...base, secret: SECRET },
    options: { ...base, secret: SECRET },
    revocation: true,
    data: small,
  })

  const fetched = await mintFetchCookie({ ...base, secret: SECRET }, assign(small))
  cases.push({
    name: 'fetch-cookie',
    about: 'sealed cookie written by createSessionHandler (fetch adapter)',
    adapter: 'fetch',
    mintedWith: { ...base, secret: SECRET },
    options: { ...base, secret: SECRET },
    cookie: fetched.cookie!,
    openAt: T + MINUTE,
    expiresAt: T + MAX_AGE * 1000,
    expect: { data: json(small), id: fetched.id },
  })

  const token = await mintToken({ ...base, secret: SECRET, transport: 'header' }, assign(small))
  cases.push({
    name: 'header-token',
    about: "transport: 'header' through withSession: the token from the session-token header",
    adapter: 'fetch',
    mintedWith: { ...base, secret: SECRET, transport: 'header' },
    options: { ...base, secret: SECRET, transport: 'header' },
    token: token.token!,
    openAt: T + MINUTE,
    expiresAt: T + MAX_AGE * 1000,
    expect: { data: json(small), id: token.id },
    refusedBy: [{ why: 'another secret', options: { secret: NEW } }],
  })

  const stored = async (
    name: string,
    about: string,
    mintedWith: CaseOptions,
    options: CaseOptions,
    extra: Pick<CompatCase, 'refusedBy'> & { expect?: Partial<CompatCase['expect']> },
  ) => {
    const map = new Map<string, unknown>()
    const minted = await mintHono({ ...mintedWith, store: map }, assign(small))
    if (map.size !== 1 || !map.has(minted.id)) throw new Error(`${name}: the store holds no entry`)
    cases.push({
      name,
      about,
      adapter: 'hono',
      mintedWith,
      options,
      cookie: minted.cookie!,
      store: json(Object.fromEntries(map)) as Record<string, Json>,
      openAt: T + MINUTE,
      expiresAt: T + MAX_AGE * 1000,
      refusedBy: extra.refusedBy,
      expect: { data: json(small), id: minted.id, ...extra.expect },
    })
  }

  await stored(
    'store-map',
    'store mode with a Map: the cookie is the signed id, the record is in the Map',
    { ...base, secret: SECRET },
    { ...base, secret: SECRET },
    { refusedBy: [{ why: 'another secret', options: { secret: NEW } }] },
  )

  await stored(
    'store-map-old-key',
    'store mode, id signed with OLD; opened by [NEW, OLD]: opens and the id is re-signed with NEW',
    { ...base, secret: OLD },
    { ...base, secret: [NEW, OLD] },
    {
      expect: { resealed: true, resealedOpensWith: NEW },
      refusedBy: [{ why: 'a ring without OLD', options: { secret: NEW } }],
    },
  )

  return cases
}

if (existsSync(OUT)) {
  console.error(`${OUT.pathname} exists: it holds 0.1.0's cookies and must not be re-minted.`)
  process.exit(1)
}
const fixture: CompatFixture = {
  version: '0.1.0',
  commit: '6a1bbbc',
  mintedAt: T,
  cases: await mint(),
}
writeFileSync(OUT, `${JSON.stringify(fixture, null, 2)}\n`)
console.log(`wrote ${fixture.cases.length} cases to ${OUT.pathname}`)
