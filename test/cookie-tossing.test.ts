// Cookie tossing over a real HTTP server (test/adapters/http.ts): a sibling subdomain (or any
// page that can set a cookie for the parent domain) plants cookies named like ours beside the
// victim's. The browser sends both and the server cannot tell them apart, so the planted ones
// must neither hide the victim's session nor get the victim's own cookie cleared. (`__Host-`
// names stop the planting itself; these are the defaults, `sid`.)
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import type { InvalidReason } from '../src/core/types.ts'
import { type Listening, listen } from './adapters/http.ts'
import { attackReport } from './attack-report.ts'
import { muteConsole, NO_CONSOLE_CALLS } from './quiet-console.ts'
import { type ParsedCookie, SECRET, setCookies, testClock } from './support.ts'

const report = attackReport()
const clock = testClock()
const reasons: InvalidReason[] = []
let server: Listening
let muted: ReturnType<typeof muteConsole>

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
let seed = 7
/** Letters and digits nothing escapes: a session of `n` of them seals to about 4n/3. */
function noise(n: number): string {
  let s = ''
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    s += ALNUM[seed % ALNUM.length]
  }
  return s
}

const app = new Hono()
  .use(
    session({
      secret: SECRET,
      chunk: true,
      maxAge: 3600,
      now: clock.now,
      onInvalid: (r) => void reasons.push(r),
    }),
  )
  .post('/set/:bytes', (c) => {
    c.session.blob = noise(Number(c.req.param('bytes')))
    return c.text('ok')
  })
  .post('/touch', (c) => {
    c.session.touched = ((c.session.touched as number | undefined) ?? 0) + 1
    return c.text('ok')
  })
  .get('/', (c) => c.json({ isNew: c.session.isNew, length: (c.session.blob as string)?.length }))

beforeAll(async () => {
  muted = muteConsole()
  server = await listen(app.fetch)
})

afterAll(async () => {
  await server.close()
  const calls = muted.calls()
  muted.restore()
  report.write()
  expect(calls).toEqual(NO_CONSOLE_CALLS)
})

/** One request over HTTP with exactly `cookie` as its Cookie header. */
async function send(path: string, cookie: string, method = 'GET') {
  reasons.length = 0
  const res = await fetch(`${server.base}${path}`, { method, headers: { cookie } })
  const body = method === 'GET' ? ((await res.json()) as { isNew: boolean; length?: number }) : null
  return { status: res.status, body, cookies: setCookies(res), reasons: [...reasons] }
}

/** A session of `bytes` characters of data, as the victim's browser holds it: name=value pairs. */
async function victim(bytes: number): Promise<[string, string][]> {
  const res = await fetch(`${server.base}/set/${bytes}`, { method: 'POST' })
  return setCookies(res).map((c) => [c.name, c.value])
}

const header = (pairs: [string, string][]) => pairs.map(([n, v]) => `${n}=${v}`).join('; ')
const cleared = (cookies: ParsedCookie[]) =>
  cookies.filter((c) => c.attributes['max-age'] === '0').map((c) => c.name)

/** Junk the length of a full chunk (4096 - "sid.N=".length): it passes the length filter. */
const FULL = 4090
const junk = (n: number, ch = 'J') => ch.repeat(n)

describe('cookie tossing over HTTP: planted cookies beside the victim’s', () => {
  let chunks: [string, string][]
  let plain: [string, string][]

  beforeAll(async () => {
    chunks = await victim(4000)
    plain = await victim(100)
    expect(chunks.map(([n]) => n)).toEqual(['sid.0', 'sid.1'])
    expect(plain.map(([n]) => n)).toEqual(['sid'])
  })

  /** The victim's session opens, nothing is cleared, onInvalid hears nothing. */
  async function keeps(cls: string, note: string, cookie: string, length: number) {
    const count = report.count(cls, note)
    count.run++
    const read = await send('/', cookie)
    expect(read.status).toBe(200)
    expect(read.body).toEqual({ isNew: false, length })
    expect(read.cookies).toEqual([])
    // A write rewrites the victim's session and clears nothing it did not verify.
    const write = await send('/touch', cookie, 'POST')
    expect(write.status).toBe(200)
    count.accepted++
    return write
  }

  it('a planted chunk index past the cap (sid.7, or sid.3 … sid.9): ignored, never cleared', async () => {
    const cls = 'cookie tossing: chunk index past the cap'
    const note = "over HTTP; accepted = the victim's own session opened, nothing cleared"
    for (const extra of [
      [['sid.7', 'junk']],
      [['sid.3', junk(FULL)]],
      Array.from({ length: 7 }, (_, i): [string, string] => [`sid.${i + 3}`, 'x']),
    ] as [string, string][][]) {
      for (const cookie of [header([...chunks, ...extra]), header([...extra, ...chunks])]) {
        const write = await keeps(cls, note, cookie, 4000)
        expect(cleared(write.cookies)).toEqual([])
      }
    }
  })

  it('a planted duplicate of a chunk, before or after the victim’s: both are tried', async () => {
    const cls = 'cookie tossing: duplicate chunk'
    const note =
      "over HTTP; at most 2 values per chunk name; accepted = the victim's session opened"
    const [[, v0], [, v1]] = chunks as [[string, string], [string, string]]
    for (const cookie of [
      `sid.0=junk; sid.0=${v0}; sid.1=${v1}`,
      `sid.0=${junk(FULL)}; sid.0=${v0}; sid.1=${v1}`,
      `sid.0=${v0}; sid.1=${v1}; sid.0=${junk(FULL)}`,
      `sid.1=${junk(100)}; sid.0=${v0}; sid.1=${v1}`,
      `sid.0=${v0}; sid.1=${v1}; sid.1=${junk(100)}`,
      // A third value of one name is not read; the victim's among the first two still opens.
      `sid.0=junk; sid.0=${v0}; sid.0=more; sid.1=${v1}`,
    ]) {
      const write = await keeps(cls, note, cookie, 4000)
      expect(cleared(write.cookies)).toEqual([])
    }
  })

  it('a planted next index within the cap (sid.2 beside a two-chunk session): still opens', async () => {
    const cls = 'cookie tossing: extra chunk index within the cap'
    const note = 'over HTTP; shorter sets are tried after the longest'
    for (const planted of ['junk', junk(FULL)]) {
      const write = await keeps(cls, note, `${header(chunks)}; sid.2=${planted}`, 4000)
      // sid.2 never verified: the rewrite leaves it where it is.
      expect(cleared(write.cookies)).toEqual([])
    }
  })

  it('a junk plain sid beside the victim’s chunks, and junk chunks beside a plain sid', async () => {
    const cls = 'cookie tossing: plain cookie beside chunks'
    const note = 'over HTTP; a valid value of either kind wins over junk of the other'
    for (const cookie of [`sid=junk; ${header(chunks)}`, `${header(chunks)}; sid=junk`]) {
      const write = await keeps(cls, note, cookie, 4000)
      // The rewrite is chunks again; the junk sid is not ours to clear.
      expect(write.cookies.map((c) => c.name).sort()).toEqual(['sid.0', 'sid.1'])
    }
    for (const cookie of [
      `sid.0=${junk(FULL)}; sid.1=junk; ${header(plain)}`,
      `${header(plain)}; sid.0=junk`,
    ]) {
      const write = await keeps(cls, note, cookie, 100)
      expect(write.cookies.map((c) => c.name)).toEqual(['sid'])
    }
  })

  it('three planted sid push the victim’s past the candidate limit: a fresh session, the victim’s cookie not cleared', async () => {
    const count = report.count(
      'cookie tossing: duplicates past the candidate limit',
      'over HTTP; 3 plain values (2 per chunk name) are tried; rejected = fresh session, nothing cleared',
    )
    const [[, v0], [, v1]] = chunks as [[string, string], [string, string]]
    for (const cookie of [
      `sid=a; sid=b; sid=c; ${header(plain)}`,
      `sid.0=${junk(FULL)}; sid.0=${junk(FULL, 'K')}; sid.0=${v0}; sid.1=${v1}`,
    ]) {
      count.run++
      const read = await send('/', cookie)
      expect(read.body).toEqual({ isNew: true })
      expect(read.reasons).toEqual(['malformed'])
      // The victim's cookie was never tried, so it is not cleared: once the planted ones expire
      // (or are gone on the next site the browser visits) the victim is still signed in.
      expect(read.cookies).toEqual([])
      count.rejected++
      count.bump('fresh session, nothing cleared')
    }
  })
})

describe('cookies of ours that are refused are still cleared', () => {
  it('an expired chunked session: every chunk is cleared; an expired plain one: the plain cookie', async () => {
    const count = report.count(
      'cookie tossing: control, expired cookies of ours',
      'over HTTP; rejected = refused and cleared (they verified)',
    )
    const chunks = await victim(4000)
    const plain = await victim(100)
    clock.advance(3601)
    try {
      for (const [cookie, names] of [
        [header(chunks), ['sid.0', 'sid.1']],
        [header(plain), ['sid']],
        // Planted junk beside it does not stop the clear of what verified, and is not cleared.
        [`sid=junk; ${header(chunks)}`, ['sid.0', 'sid.1']],
      ] as const) {
        count.run++
        const read = await send('/', cookie)
        expect(read.body).toEqual({ isNew: true })
        expect(read.reasons).toEqual(['expired'])
        expect(cleared(read.cookies).sort()).toEqual(names)
        count.rejected++
      }
    } finally {
      clock.advance(-3601)
    }
  })
})
