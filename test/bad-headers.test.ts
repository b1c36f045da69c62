// Bad Cookie headers over a real HTTP server (test/adapters/http.ts: node:http through
// @hono/node-server under Node, Bun.serve under Bun), written byte for byte on a TCP socket so
// the server's own parser sees what an attacker sends. One table: every row gives a fresh
// session (200, no data), the valid session it also carries, or a 4xx from the server itself —
// never a 500, and never a console line during the whole file.
// malformed-cookie.test.ts has the same families in-process; this is the HTTP hop.
import { connect } from 'node:net'
import { Hono } from 'hono'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import type { InvalidReason, SessionOptions } from '../src/core/types.ts'
import { listen } from './adapters/http.ts'
import { attackReport } from './attack-report.ts'
import { muteConsole, NO_CONSOLE_CALLS } from './quiet-console.ts'
import { SECRET, setCookies } from './support.ts'

type AppName = 'sealed' | 'store' | 'host'
type Data = Record<string, unknown>

const report = attackReport()

// --- No console line, from the first server start to the last close ------------------------

let muted: ReturnType<typeof muteConsole>

// --- The apps under attack --------------------------------------------------------------------

interface Target {
  name: AppName
  cookieName: string
  base: string
  server: 'node' | 'bun'
  close(): Promise<void>
  reasons: InvalidReason[]
  /** Requests that reached the handler. */
  handled: number
  errors: unknown[]
  /** Valid cookie values this app issued, with the data they carry. */
  valid: string
  validData: Data
  other: string
  otherData: Data
}

const OPTIONS: Record<AppName, SessionOptions> = {
  sealed: {},
  store: { store: new Map() },
  host: { cookieName: '__Host-sid' },
}
const targets = {} as Record<AppName, Target>

async function start(name: AppName): Promise<Target> {
  const partial = { reasons: [] as InvalidReason[], handled: 0, errors: [] as unknown[] }
  const app = new Hono()
    .use(
      session({
        secret: SECRET,
        ...OPTIONS[name],
        onInvalid: (reason) => void partial.reasons.push(reason),
      }),
    )
    .post('/set', async (c) => {
      c.session = JSON.parse(await c.req.text()) as Data
      return c.text('ok')
    })
    .get('/read', (c) => {
      partial.handled++
      return c.json({ isNew: c.session.isNew, data: c.session.toJSON() })
    })
  // Hono's default handler would console.error; a 500 must show up as a failed row instead.
  app.onError((err, c) => {
    partial.errors.push(err)
    return c.text('error', 500)
  })
  const cookieName = OPTIONS[name].cookieName ?? 'sid'
  const mint = async (data: Data) => {
    const res = await app.request('https://localhost/set', {
      method: 'POST',
      body: JSON.stringify(data),
    })
    const value = setCookies(res).find((c) => c.name === cookieName)?.value
    expect(value).toBeDefined()
    return value!
  }
  const validData = { userId: 'u1', cart: { items: [1, 2] } }
  const otherData = { userId: 'u2' }
  const valid = await mint(validData)
  const other = await mint(otherData)
  const listening = await listen(app.fetch)
  return Object.assign(partial, {
    name,
    cookieName,
    base: listening.base,
    server: listening.server,
    close: listening.close,
    valid,
    validData,
    other,
    otherData,
  })
}

beforeAll(async () => {
  muted = muteConsole()
  for (const name of ['sealed', 'store', 'host'] as const) targets[name] = await start(name)
})

afterEach(() => {
  expect(muted.calls()).toEqual(NO_CONSOLE_CALLS)
})

afterAll(async () => {
  for (const t of Object.values(targets)) await t.close()
  const calls = muted.calls()
  muted.restore()
  report.write()
  expect(calls).toEqual(NO_CONSOLE_CALLS)
})

// --- A raw HTTP/1.1 client --------------------------------------------------------------------

interface RawResponse {
  status: number
  setCookie: string[]
  body: string
}

/** Writes one GET request with `headerLines` (latin1, one byte per char) and reads the answer. */
function send(base: string, headerLines: string[]): Promise<RawResponse> {
  const url = new URL(base)
  const request = `GET /read HTTP/1.1\r\nHost: ${url.host}\r\n${headerLines.map((l) => `${l}\r\n`).join('')}Connection: close\r\n\r\n`
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const socket = connect(Number(url.port), url.hostname)
    const finish = () => {
      const raw = Buffer.concat(chunks)
      const end = raw.indexOf('\r\n\r\n')
      if (end === -1) return reject(new Error(`no HTTP response (${raw.length} bytes)`))
      const [statusLine = '', ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n')
      const headers = lines.map((l) => {
        const i = l.indexOf(':')
        return [l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()] as const
      })
      let body: Buffer = raw.subarray(end + 4)
      if (headers.some(([k, v]) => k === 'transfer-encoding' && v === 'chunked')) {
        body = dechunk(body)
      }
      resolve({
        status: Number(statusLine.split(' ')[1]),
        setCookie: headers.filter(([k]) => k === 'set-cookie').map(([, v]) => v),
        body: body.toString('utf8'),
      })
    }
    socket.on('data', (d: Buffer) => chunks.push(d))
    // A server that answers early (431) and closes may reset the socket under our write.
    socket.on('error', () => {})
    socket.on('close', finish)
    socket.end(Buffer.from(request, 'latin1'))
  })
}

function dechunk(body: Buffer): Buffer {
  const out: Buffer[] = []
  let at = 0
  while (at < body.length) {
    const eol = body.indexOf('\r\n', at)
    const size = Number.parseInt(body.subarray(at, eol).toString('latin1'), 16)
    if (!size) break
    out.push(body.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
  return Buffer.concat(out)
}

// --- The table --------------------------------------------------------------------------------

type Expect =
  /** 200 and a new empty session; `reason` is what onInvalid heard (null: not called). */
  | { fresh: InvalidReason | null }
  /** 200 and the session the header carries. */
  | { accepted: 'valid' | 'other' }
  /** The HTTP server refused the request before the app saw it. */
  | { status: number }

interface Row {
  /** Attack class in the report. */
  cls: string
  name: string
  /** Which apps the row runs against. */
  apps: AppName[]
  /** The requests to send to this app, each as its header lines (without CRLF). */
  requests(t: Target): string[][]
  expect(t: Target): Expect
}

const SEALED_APPS: AppName[] = ['sealed', 'host']
const ALL: AppName[] = ['sealed', 'store', 'host']
/** What each app calls a value that is not one of its cookies at all. */
const garbageReason = (t: Target): InvalidReason => (t.name === 'store' ? 'tampered' : 'malformed')
const cookie = (t: Target, value: string) => [`Cookie: ${t.cookieName}=${value}`]
const MB = 1024 * 1024
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
/** `value` with its last character's two spare bits set to `spare`: same bytes, other spelling. */
const alias = (value: string, spare: number) =>
  value.slice(0, -1) + B64URL[B64URL.indexOf(value.at(-1)!) | spare]
const sealedParts = (t: Target) => t.valid.split('*')
const withPart = (t: Target, i: number, part: string) => {
  const p = sealedParts(t)
  p[i] = part
  return p.join('*')
}
const thousand = (f: (i: number) => string) => Array.from({ length: 1000 }, (_, i) => f(i))

/** One request carrying `value` as the session cookie. */
const one = (t: Target, value: string) => [cookie(t, value)]
/** `value` with `ch` inserted after its 20th character. */
const inject = (t: Target, ch: string) => `${t.valid.slice(0, 20)}${ch}${t.valid.slice(20)}`

const rows: Row[] = [
  {
    cls: 'bad header: no or empty Cookie header',
    name: 'no Cookie header (baseline)',
    apps: ALL,
    requests: () => [[]],
    expect: () => ({ fresh: null }),
  },
  {
    cls: 'bad header: no or empty Cookie header',
    name: 'an empty Cookie header',
    apps: ALL,
    requests: () => [['Cookie:'], ['Cookie: '], ['Cookie:', 'Cookie:']],
    expect: () => ({ fresh: null }),
  },
  {
    cls: 'bad header: no or empty Cookie header',
    name: 'a Cookie header of separators and spaces',
    apps: ALL,
    requests: () => [['Cookie: ; ;;  ;  '], ['Cookie: ;'], ['Cookie: =']],
    expect: () => ({ fresh: null }),
  },
  {
    cls: 'bad header: no or empty Cookie header',
    name: 'an empty session cookie value, quoted or not (what a cleared cookie looks like)',
    apps: ALL,
    requests: (t) => [
      ...one(t, ''),
      ...one(t, '""'),
      [`Cookie: ${t.cookieName}=; ${t.cookieName}=""`],
    ],
    expect: () => ({ fresh: null }),
  },
  {
    cls: 'bad header: oversized',
    name: 'a 1 MB Cookie header: 431 from the HTTP server, the app never runs',
    apps: ALL,
    requests: (t) => [
      ...one(t, 'x'.repeat(MB)),
      [`Cookie: junk=${'y'.repeat(MB)}; ${t.cookieName}=${t.valid}`],
    ],
    expect: () => ({ status: 431 }),
  },
  {
    cls: 'bad header: oversized',
    name: '1 MB spread over 64 Cookie header lines: 431',
    apps: ALL,
    requests: () => [Array.from({ length: 64 }, (_, i) => `Cookie: c${i}=${'y'.repeat(MB / 64)}`)],
    expect: () => ({ status: 431 }),
  },
  {
    cls: 'bad header: oversized',
    name: 'just under the server limit: 15,000 bytes of other cookies, then the session',
    apps: ALL,
    requests: (t) => [
      [`Cookie: junk=${'j'.repeat(15_000 - t.valid.length)}; ${t.cookieName}=${t.valid}`],
    ],
    expect: () => ({ accepted: 'valid' }),
  },
  {
    cls: 'bad header: oversized',
    name: 'just under the server limit: a session cookie over 4096 bytes is too-large',
    apps: ALL,
    requests: (t) => [...one(t, 'A'.repeat(15_000)), ...one(t, t.valid + 'A'.repeat(4097))],
    expect: () => ({ fresh: 'too-large' }),
  },
  {
    cls: 'bad header: oversized',
    name: 'a 4096-character value is still parsed (and refused for what it is)',
    apps: ALL,
    requests: (t) => one(t, 'A'.repeat(4096)),
    expect: (t) => ({ fresh: garbageReason(t) }),
  },
  {
    cls: 'bad header: oversized',
    name: 'a 4097-character value is too-large before any parsing',
    apps: ALL,
    requests: (t) => one(t, 'A'.repeat(4097)),
    expect: () => ({ fresh: 'too-large' }),
  },
  {
    cls: 'bad header: 1000 cookies',
    name: '1000 other cookies, then the session',
    apps: ALL,
    requests: (t) => [
      [`Cookie: ${thousand((i) => `c${i}=v${i}`).join('; ')}; ${t.cookieName}=${t.valid}`],
    ],
    expect: () => ({ accepted: 'valid' }),
  },
  {
    cls: 'bad header: 1000 cookies',
    name: '1000 cookies whose names or values contain the session cookie name, then garbage',
    apps: ALL,
    requests: (t) => [
      [
        `Cookie: ${thousand((i) => (i % 2 ? `x${t.cookieName}=v` : `v=${t.cookieName}`)).join('; ')}; ${t.cookieName}=garbage`,
      ],
    ],
    expect: (t) => ({ fresh: garbageReason(t) }),
  },
  {
    cls: 'bad header: 1000 cookies',
    name: '1000 garbage session cookies: one refusal, one onInvalid call',
    apps: ALL,
    requests: (t) => [[`Cookie: ${thousand(() => `${t.cookieName}=g`).join('; ')}`]],
    expect: (t) => ({ fresh: garbageReason(t) }),
  },
  {
    cls: 'bad header: 1000 cookies',
    name: '1000 Cookie header lines after the session: node:http reads it; Bun refuses that many lines (431)',
    apps: ALL,
    requests: (t) => [[...cookie(t, t.valid), ...thousand(() => 'Cookie: c=1')]],
    expect: (t) => (t.server === 'node' ? { accepted: 'valid' } : { status: 431 }),
  },
  {
    cls: 'bad header: 1000 cookies',
    name: '1000 Cookie header lines before the session: node:http drops lines past its 1000th (no session cookie arrives); Bun: 431',
    apps: ALL,
    requests: (t) => [[...thousand(() => 'Cookie: c=1'), ...cookie(t, t.valid)]],
    expect: (t) => (t.server === 'node' ? { fresh: null } : { status: 431 }),
  },
  {
    cls: 'bad header: duplicate session cookies',
    name: 'garbage and the valid session, in either order',
    apps: ALL,
    requests: (t) => [
      [`Cookie: ${t.cookieName}=garbage; ${t.cookieName}=${t.valid}`],
      [`Cookie: ${t.cookieName}=${t.valid}; ${t.cookieName}=garbage`],
    ],
    expect: () => ({ accepted: 'valid' }),
  },
  {
    cls: 'bad header: duplicate session cookies',
    name: 'two valid sessions: the first one wins',
    apps: ALL,
    requests: (t) => [[`Cookie: ${t.cookieName}=${t.other}; ${t.cookieName}=${t.valid}`]],
    expect: () => ({ accepted: 'other' }),
  },
  {
    cls: 'bad header: duplicate session cookies',
    name: 'in two Cookie header lines (the server joins them): garbage, then the session',
    apps: ALL,
    requests: (t) => [[...cookie(t, 'garbage'), ...cookie(t, t.valid)]],
    expect: () => ({ accepted: 'valid' }),
  },
  {
    cls: 'bad header: duplicate session cookies',
    name: 'three planted duplicates shadow a valid fourth: at most three are tried',
    apps: ALL,
    requests: (t) => [
      [
        `Cookie: ${[1, 2, 3].map((i) => `${t.cookieName}=g${i}`).join('; ')}; ${t.cookieName}=${t.valid}`,
      ],
    ],
    expect: (t) => ({ fresh: garbageReason(t) }),
  },
  {
    cls: 'bad header: bad percent-encoding',
    name: 'bad percent-encoding, alone and appended to a valid value',
    apps: ALL,
    requests: (t) =>
      ['%', '%E0%A4%A', '%zz', '%%41', '%C0%AF', '%ED%A0%80', '%FF'].flatMap((bad) => [
        ...one(t, bad),
        ...one(t, t.valid + bad),
        ...one(t, bad + t.valid),
      ]),
    expect: (t) => ({ fresh: garbageReason(t) }),
  },
  {
    cls: 'bad header: bad percent-encoding',
    name: 'percent-encoded NUL, CR LF and a Set-Cookie injection decode past the HTTP parser and are refused',
    apps: ALL,
    requests: (t) =>
      ['%00', '%0D%0A', '%0D%0ASet-Cookie:%20sid=evil', '%3B%20Domain=evil.example'].flatMap(
        (bad) => [...one(t, bad), ...one(t, t.valid + bad), ...one(t, inject(t, bad))],
      ),
    // check() also asserts there is no Set-Cookie: nothing of the value is echoed.
    expect: (t) => ({ fresh: garbageReason(t) }),
  },
  {
    cls: 'bad header: bad percent-encoding',
    name: 'a percent-encoded spelling of the valid value decodes to it and is read',
    apps: ALL,
    requests: (t) =>
      one(
        t,
        t.valid.replace(/[*.]/g, (c) => `%${c.charCodeAt(0).toString(16)}`),
      ),
    expect: () => ({ accepted: 'valid' }),
  },
  {
    cls: 'bad header: malformed header lines',
    name: 'an obs-fold continuation of the Cookie header, a space before the colon: 400 from the HTTP server',
    apps: ALL,
    requests: (t) => [
      ['Cookie: x=1;', ` ${t.cookieName}=${t.valid}`],
      ['Cookie: x=1;', `\t${t.cookieName}=${t.valid}`],
      [`Cookie : ${t.cookieName}=${t.valid}`],
    ],
    expect: () => ({ status: 400 }),
  },
  {
    cls: 'bad header: malformed header lines',
    name: 'the header name in any case, a DQUOTEd value, spaces around it: still the session',
    apps: ALL,
    requests: (t) => [
      [`cOOKIE: ${t.cookieName}=${t.valid}`],
      [`Cookie: ${t.cookieName}="${t.valid}"`],
      [`Cookie:    ${t.cookieName}=${t.valid}   `],
    ],
    expect: () => ({ accepted: 'valid' }),
  },
  {
    cls: 'bad header: control characters',
    name: 'NUL, SOH, BS, VT, US, bare CR and bare LF inside a valid value: 400 from the HTTP server',
    apps: ALL,
    requests: (t) =>
      ['\0', '\x01', '\x08', '\x0b', '\x1f', '\r', '\n'].flatMap((ch) => one(t, inject(t, ch))),
    expect: () => ({ status: 400 }),
  },
  {
    cls: 'bad header: control characters',
    name: 'DEL inside a valid value: 400 from node:http; Bun passes it on and the cookie is refused',
    apps: ALL,
    requests: (t) => one(t, inject(t, '\x7f')),
    expect: (t) => (t.server === 'node' ? { status: 400 } : { fresh: garbageReason(t) }),
  },
  {
    cls: 'bad header: control characters',
    name: 'HTAB, space, bytes 0x80 and 0xff inside a valid value: reach the app and are refused',
    apps: ALL,
    requests: (t) => ['\t', ' ', '\x80', '\xff'].flatMap((ch) => one(t, inject(t, ch))),
    expect: (t) => ({ fresh: garbageReason(t) }),
  },
  {
    cls: 'bad header: wrong component count',
    name: 'seven, nine, and an empty ninth component',
    apps: SEALED_APPS,
    requests: (t) => {
      const p = sealedParts(t)
      return [
        ...one(t, p.slice(0, 7).join('*')),
        ...one(t, p.slice(1).join('*')),
        ...one(t, [...p, 'x'].join('*')),
        ...one(t, `${t.valid}*`),
        ...one(t, `*${t.valid}`),
      ]
    },
    expect: () => ({ fresh: 'malformed' }),
  },
  {
    cls: 'bad header: wrong component count',
    name: 'store id: no signature, an extra part, no id, two dots',
    apps: ['store'],
    requests: (t) => {
      const [id, sig] = t.valid.split('.')
      return [
        ...one(t, id!),
        ...one(t, `${id}.`),
        ...one(t, `${t.valid}.x`),
        ...one(t, `.${sig}`),
        ...one(t, `${id}..${sig!.slice(1)}`),
      ]
    },
    expect: () => ({ fresh: 'tampered' }),
  },
  {
    cls: 'bad header: wrong prefix',
    name: 'an iron prefix other than Fe26.2',
    apps: SEALED_APPS,
    requests: (t) =>
      ['fe26.2', 'FE26.2', 'Fe26.2x', 'Fe26', 'xFe26.2', 'Fe26,2', ''].flatMap((prefix) =>
        one(t, withPart(t, 0, prefix)),
      ),
    expect: () => ({ fresh: 'malformed' }),
  },
  {
    cls: 'bad header: wrong prefix',
    name: '__Host-sid app: its valid value under another name or prefix is not its cookie',
    apps: ['host'],
    requests: (t) =>
      ['sid', '__host-sid', '__HOST-sid', '__Secure-sid', 'x__Host-sid', '__Host-sidx'].map(
        (name) => [`Cookie: ${name}=${t.valid}`],
      ),
    expect: () => ({ fresh: null }),
  },
  {
    cls: 'bad header: wrong prefix',
    name: 'sid app: its valid value under a prefixed or similar name is not its cookie',
    apps: ['sealed', 'store'],
    requests: (t) =>
      ['__Host-sid', '__Secure-sid', 'SID', 'sid_', 'xsid', 's id'].map((name) => [
        `Cookie: ${name}=${t.valid}`,
      ]),
    expect: () => ({ fresh: null }),
  },
  {
    cls: 'bad header: other iron versions',
    name: 'iron versions Fe26.1, Fe26.3 and others',
    apps: SEALED_APPS,
    requests: (t) =>
      ['Fe26.1', 'Fe26.3', 'Fe26.0', 'Fe25.2', 'Fe26.10', 'Fe26.2.1'].flatMap((version) =>
        one(t, withPart(t, 0, version)),
      ),
    expect: () => ({ fresh: 'malformed' }),
  },
  {
    cls: 'bad header: non-canonical base64 in the MAC',
    name: 'the last MAC character with its spare bits set (same bytes to a lenient decoder)',
    apps: ALL,
    requests: (t) => [1, 2, 3].flatMap((spare) => one(t, alias(t.valid, spare))),
    expect: (t) => ({ fresh: t.name === 'store' ? 'tampered' : 'malformed' }),
  },
  {
    cls: 'bad header: non-canonical base64 in the MAC',
    name: 'the MAC with = padding, and in the standard alphabet (+ and /)',
    apps: ALL,
    requests: (t) => {
      const mac = t.valid.slice(-43)
      const head = t.valid.slice(0, -43)
      const std = Buffer.from(mac, 'base64url').toString('base64')
      // Without '-' or '_' in the MAC, the unpadded standard spelling is the cookie itself.
      const spellings = [`${mac}=`, std, std.slice(0, 43)].filter((s) => s !== mac)
      return spellings.flatMap((s) => one(t, head + s))
    },
    expect: (t) => ({ fresh: t.name === 'store' ? 'tampered' : 'malformed' }),
  },
]

// --- Running it -------------------------------------------------------------------------------

describe('bad Cookie headers over HTTP', () => {
  it('the valid cookies of each app are read over HTTP (the control for every row)', async () => {
    for (const t of Object.values(targets)) {
      for (const which of ['valid', 'other'] as const) {
        const res = await send(t.base, cookie(t, t[which]))
        expect(res.status).toBe(200)
        expect(JSON.parse(res.body)).toEqual({
          isNew: false,
          data: which === 'valid' ? t.validData : t.otherData,
        })
        expect(res.setCookie).toEqual([])
      }
    }
  })

  for (const row of rows) {
    for (const name of row.apps) {
      it(`${name}: ${row.name}`, async () => {
        const t = targets[name]
        const expected = row.expect(t)
        const requests = row.requests(t)
        expect(requests.length).toBeGreaterThan(0)
        const count = report.count(row.cls, 'over HTTP; rejected = fresh session (200) or 4xx')
        for (const lines of requests) {
          count.run++
          const outcome = await check(t, lines, expected)
          if (outcome === 'accepted') count.accepted++
          else {
            count.rejected++
            count.bump(outcome)
          }
        }
      })
    }
  }
})

/** Sends one request and asserts the row's outcome; answers what happened, for the counts. */
async function check(t: Target, lines: string[], expected: Expect): Promise<string> {
  t.reasons.length = 0
  t.errors.length = 0
  const handled = t.handled
  const res = await send(t.base, lines)
  expect(t.errors).toEqual([])
  if ('status' in expected) {
    expect(res.status).toBe(expected.status)
    expect(t.handled).toBe(handled)
    expect(t.reasons).toEqual([])
    expect(res.setCookie).toEqual([])
    return String(res.status)
  }
  expect(res.status).toBe(200)
  expect(t.handled).toBe(handled + 1)
  const body = JSON.parse(res.body) as { isNew: boolean; data: Data }
  if ('accepted' in expected) {
    expect(body).toEqual({
      isNew: false,
      data: expected.accepted === 'valid' ? t.validData : t.otherData,
    })
    expect(t.reasons).toEqual([])
    expect(res.setCookie).toEqual([])
    return 'accepted'
  }
  expect(body).toEqual({ isNew: true, data: {} })
  if (expected.fresh === null) {
    expect(t.reasons).toEqual([])
    expect(res.setCookie).toEqual([])
    return 'no session cookie'
  }
  expect(t.reasons).toEqual([expected.fresh])
  // Nothing in these rows verified, so nothing is cleared: a clear would hit the browser's own
  // host-only cookie, which may sit behind what a sibling subdomain planted. (And nothing of
  // the value is echoed.)
  expect(res.setCookie).toEqual([])
  return expected.fresh
}
