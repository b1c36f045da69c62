// Property-based adversarial tests (fast-check, fixed seeds): JSON round trips, non-JSON values
// at arbitrary paths, tampered sealed cookies and signed ids, and arbitrary Cookie headers.
// Explicit bad-cookie cases live in malformed-cookie.test.ts; these generate what nobody lists.
// Each attack class counts the cases it ran and how many the library rejected, printed at the end.
import fc from 'fast-check'
import { Hono } from 'hono'
import { afterAll, describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { SessionEngine } from '../src/core/engine.ts'
import { SessionDataError, SessionTooLargeError } from '../src/core/errors.ts'
import { readCookie } from '../src/core/request.ts'
import { RESERVED_KEYS } from '../src/core/state/session-state.ts'
import type { InvalidReason, SessionOptions } from '../src/core/types.ts'
import { IdSigner } from '../src/crypto/id-signer.ts'
import { IronCodec } from '../src/crypto/iron.ts'
import { runAsync } from '../src/util/steps.ts'
import { attackReport } from './attack-report.ts'
import { failOnConsoleOutput } from './quiet-console.ts'
import { requestOf, SECRET, setCookies } from './support.ts'

type Data = Record<string, unknown>
type Mode = 'sealed' | 'store'

// --- Counting ---------------------------------------------------------------------------------

interface Tally {
  run: number
  rejected: number
  /** Cases that were not attacks after all (the mutation gave back the valid cookie, …). */
  skipped: number
  other: Record<string, number>
}
const tallies = new Map<string, Tally>()
function tally(name: string): Tally {
  let t = tallies.get(name)
  if (!t) {
    t = { run: 0, rejected: 0, skipped: 0, other: {} }
    tallies.set(name, t)
  }
  return t
}
const bump = (t: Tally, key: string) => {
  t.other[key] = (t.other[key] ?? 0) + 1
}

// With ATTACK_REPORT=<file> set, the same counts go there as JSON lines (scripts/attack-report.mjs).
const report = attackReport()

afterAll(() => {
  // The note for issue 6 quotes these lines: attack class, cases run, cases rejected.
  for (const [name, t] of tallies) {
    const { accepted = 0, ...other } = t.other
    Object.assign(report.count(name, 'property test, fast-check with a fixed seed'), {
      run: t.run,
      rejected: t.rejected,
      accepted,
      other,
    })
    const extra = Object.entries(t.other)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')
    console.log(
      `[property] ${name}: ${t.run} cases run, ${t.rejected} rejected, ${t.skipped} skipped${extra ? ` (${extra})` : ''}`,
    )
  }
  report.write()
})

failOnConsoleOutput()

// --- The app under attack ---------------------------------------------------------------------

/** The value the next `/bad` request stores; non-JSON values cannot travel in a request body. */
let nextBad: { key: string; value: unknown } | undefined

function makeApp(mode: Mode, extra: SessionOptions = {}) {
  const reasons: InvalidReason[] = []
  const errors: unknown[] = []
  const store = new Map<string, unknown>()
  const options: SessionOptions = {
    secret: SECRET,
    ...(mode === 'store' ? { store } : {}),
    ...extra,
    onInvalid: (reason) => void reasons.push(reason),
  }
  const app = new Hono()
    .use(session(options))
    .post('/set', async (c) => {
      c.session = JSON.parse(await c.req.text()) as Data
      return c.text('ok')
    })
    .get('/bad', (c) => {
      c.session[nextBad!.key] = nextBad!.value
      return c.text('ok')
    })
    .get('/read', (c) => c.json({ isNew: c.session.isNew, data: c.session.toJSON() }))
  app.onError((err, c) => {
    errors.push(err)
    return c.text(err.name, 500)
  })
  return { app, reasons, errors, store }
}

const apps = { sealed: makeApp('sealed'), store: makeApp('store') }

/** Sends `cookie` as the Cookie header to `/read`; what the handler saw and what was reported. */
async function read(cookie: string, mode: Mode = 'sealed') {
  const target = apps[mode]
  target.reasons.length = 0
  target.errors.length = 0
  const res = await target.app.request('http://localhost/read', { headers: { cookie } })
  const body = res.status === 200 ? ((await res.json()) as { isNew: boolean; data: Data }) : null
  return { status: res.status, body, reasons: [...target.reasons], errors: [...target.errors] }
}

/** The session cookie value a response set. */
const sid = (res: Response) => setCookies(res).find((c) => c.name === 'sid')?.value

async function mint(mode: Mode, data: Data): Promise<string> {
  const res = await apps[mode].app.request('http://localhost/set', {
    method: 'POST',
    body: JSON.stringify(data),
  })
  expect(res.status).toBe(200)
  return sid(res)!
}

// --- Arbitraries ------------------------------------------------------------------------------

/** Top-level data keys: any unicode string the session API does not own. */
const dataKey = fc
  .string({ unit: 'binary', maxLength: 8 })
  .filter((k) => !RESERVED_KEYS.has(k as never))
const jsonData = (maxLength: number) =>
  fc.dictionary(dataKey, fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }), {
    maxKeys: maxLength,
  })
/** Mostly cookie-sized data, sometimes one long unicode string that cannot fit. */
const anyData = fc.oneof(
  { weight: 4, arbitrary: jsonData(6) },
  {
    weight: 1,
    arbitrary: fc.record({ big: fc.string({ unit: 'binary', minLength: 500, maxLength: 2500 }) }),
  },
)

// RFC 6265 §4.1.1 cookie-octet: printable ASCII but for space, '"', ',', ';' and '\'.
const COOKIE_OCTETS = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) =>
  String.fromCharCode(0x21 + i),
).filter((ch) => !'",;\\'.includes(ch))
const octet = fc.constantFrom(...COOKIE_OCTETS)
const octets = (minLength: number, maxLength: number) =>
  fc.string({ unit: octet, minLength, maxLength })

// --- (a) Round trip ---------------------------------------------------------------------------

/** Bytes `sid=<sealed>` takes for `data`: iron's fixed parts plus the base64url ciphertext. */
function sealedCookieBytes(data: Data): number {
  // Payload version 3: [data, created - 2026-01-01, expires - created, sid].
  const record = [data, Date.now() - Date.UTC(2026, 0, 1), 86_400_000, 'x'.repeat(32)]
  const plain = new TextEncoder().encode(JSON.stringify(record)).length
  const cipher = (Math.floor(plain / 16) + 1) * 16
  // Fe26.2 * '' * 22 base64url salt * 22 iv * cipher * '' * 22 base64url salt * 43 mac
  return 'sid='.length + 122 + Math.ceil((cipher * 4) / 3)
}

describe('(a) round trip of arbitrary JSON data through a Hono app', () => {
  for (const mode of ['sealed', 'store'] as const) {
    it(`${mode}: reads back equal, or SessionTooLargeError when the cookie cannot fit`, async () => {
      const t = tally(`round trip (${mode})`)
      await fc.assert(
        fc.asyncProperty(anyData, async (data) => {
          t.run++
          const target = apps[mode]
          target.errors.length = 0
          const res = await target.app.request('http://localhost/set', {
            method: 'POST',
            body: JSON.stringify(data),
          })
          const expected = mode === 'sealed' ? sealedCookieBytes(data) : 0
          if (expected > 4096) {
            t.rejected++
            bump(t, 'too large')
            expect(res.status).toBe(500)
            const err = target.errors[0]
            expect(err).toBeInstanceOf(SessionTooLargeError)
            expect((err as SessionTooLargeError).size).toBe(expected)
            expect((err as SessionTooLargeError).limit).toBe(4096)
            expect(res.headers.getSetCookie()).toEqual([])
            return
          }
          expect(res.status).toBe(200)
          const value = sid(res)
          if (Object.keys(data).length === 0) {
            // Nothing to store: nothing written.
            expect(value).toBeUndefined()
            bump(t, 'empty: nothing written')
            return
          }
          expect(value).toBeDefined()
          if (mode === 'sealed') expect(`sid=${value}`.length).toBe(expected)
          const back = await read(`sid=${value}`, mode)
          expect(back.status).toBe(200)
          expect(back.reasons).toEqual([])
          expect(back.body!.isNew).toBe(false)
          expect(back.body!.data).toEqual(data)
          bump(t, 'accepted')
        }),
        { seed: 6001, numRuns: 150 },
      )
    })
  }
})

// --- (b) Non-JSON values at arbitrary paths ---------------------------------------------------

class Point {
  constructor(
    readonly x = 1,
    readonly y = 2,
  ) {}
}

const BAD_KINDS = [
  'Date',
  'Map',
  'Set',
  'BigInt',
  'NaN',
  'Infinity',
  '-Infinity',
  'function',
  'symbol',
  'cycle',
  'class instance',
  'custom prototype',
  'Uint8Array',
  'undefined in array',
] as const
type BadKind = (typeof BAD_KINDS)[number]

function badValue(kind: Exclude<BadKind, 'cycle' | 'undefined in array'>): unknown {
  switch (kind) {
    case 'Date':
      return new Date(0)
    case 'Map':
      return new Map([['a', 1]])
    case 'Set':
      return new Set([1])
    case 'BigInt':
      return 10n
    case 'NaN':
      return Number.NaN
    case 'Infinity':
      return Number.POSITIVE_INFINITY
    case '-Infinity':
      return Number.NEGATIVE_INFINITY
    case 'function':
      return () => 1
    case 'symbol':
      return Symbol('s')
    case 'class instance':
      return new Point()
    case 'custom prototype':
      return Object.create({ inherited: true })
    case 'Uint8Array':
      return new Uint8Array([1, 2])
  }
}

type Segment = { key: string } | { index: number }
const segment: fc.Arbitrary<Segment> = fc.oneof(
  fc.record({ key: fc.string({ unit: 'binary', maxLength: 6 }) }),
  fc.record({ index: fc.nat(3) }),
)

const put = (container: any, seg: Segment, value: unknown) => {
  const k = 'key' in seg ? seg.key : seg.index
  // defineProperty: a "__proto__" key must be data, as JSON.parse makes it.
  Object.defineProperty(container, k, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  })
}

/**
 * The top-level value holding one bad value at `segments` below it, with JSON siblings at every
 * level, and the dotted path the error must name.
 */
function plant(
  top: string,
  segments: Segment[],
  kind: BadKind,
  ancestor: number,
  siblings: unknown[],
): { value: unknown; path: string } {
  const containers: object[] = segments.map((s) => ('index' in s ? [] : {}))
  let s = 0
  const sibling = () => siblings[s++ % Math.max(1, siblings.length)] ?? null
  segments.forEach((seg, depth) => {
    const c = containers[depth]!
    if ('index' in seg) {
      for (let i = 0; i < seg.index; i++) (c as unknown[]).push(sibling())
    } else if (siblings.length > 0) {
      const other = `~${seg.key}`
      put(c, { key: other }, sibling())
    }
  })
  let leaf: unknown
  if (kind === 'cycle') leaf = containers[ancestor % containers.length]
  else if (kind === 'undefined in array') leaf = undefined
  else leaf = badValue(kind)
  for (let depth = segments.length - 1; depth >= 0; depth--) {
    const child = depth === segments.length - 1 ? leaf : containers[depth + 1]
    put(containers[depth]!, segments[depth]!, child)
    // An array element after the planted one, so the bad value is not simply the last.
    if ('index' in segments[depth]!) (containers[depth] as unknown[]).push(sibling())
  }
  const path = [top, ...segments.map((g) => ('key' in g ? g.key : String(g.index)))].join('.')
  return { value: containers[0] ?? leaf, path }
}

const badCase = fc
  .record({
    top: dataKey,
    segments: fc.array(segment, { maxLength: 4 }),
    kind: fc.constantFrom(...BAD_KINDS),
    ancestor: fc.nat(),
    siblings: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  })
  .map((c) => {
    const segments = [...c.segments]
    // A cycle needs a container to point back to; undefined is only refused inside an array.
    if (c.kind === 'cycle' && segments.length === 0) segments.push({ key: 'self' })
    if (c.kind === 'undefined in array' && !('index' in (segments.at(-1) ?? {}))) {
      segments.push({ index: 0 })
    }
    return { ...c, segments }
  })

describe('(b) non-JSON values at arbitrary paths fail at commit naming the path', () => {
  for (const mode of ['sealed', 'store'] as const) {
    it(`${mode}: SessionDataError whose key is the dotted path; nothing written`, async () => {
      const t = tally(`non-JSON values (${mode})`)
      await fc.assert(
        fc.asyncProperty(badCase, async (c) => {
          t.run++
          const { value, path } = plant(c.top, c.segments, c.kind, c.ancestor, c.siblings)
          nextBad = { key: c.top, value }
          const target = apps[mode]
          target.errors.length = 0
          const storeSize = target.store.size
          const res = await target.app.request('http://localhost/bad')
          expect(res.status).toBe(500)
          expect(res.headers.getSetCookie()).toEqual([])
          expect(target.store.size).toBe(storeSize)
          const err = target.errors[0]
          expect(err).toBeInstanceOf(SessionDataError)
          expect((err as SessionDataError).code).toBe('ERR_SESSION_DATA')
          expect((err as SessionDataError).key).toBe(path)
          t.rejected++
          bump(t, c.kind)
        }),
        { seed: 6002, numRuns: 200 },
      )
    })
  }
})

// --- (c) Tampering ----------------------------------------------------------------------------

describe('(c) tampered cookies get a fresh session, and the key ring never accepts them', () => {
  const nodeCodec = new IronCodec([{ id: '', secret: SECRET }])
  const webCodec = new IronCodec([{ id: '', secret: SECRET }], { webCrypto: true })
  const signer = new IdSigner([{ id: '', secret: SECRET }], 'sid')
  let sealed: string[] = []
  let ids: string[] = []

  const cookies = async (mode: Mode) => {
    if (mode === 'sealed') {
      sealed = sealed.length
        ? sealed
        : [
            await mint('sealed', { userId: 'u1' }),
            await mint('sealed', { userId: 'u2', cart: { items: [1, 2, 3] }, note: 'é€😀' }),
            await mint('sealed', { blob: 'x'.repeat(300) }),
          ]
      return sealed
    }
    ids = ids.length
      ? ids
      : [await mint('store', { userId: 'u1' }), await mint('store', { userId: 'u2' })]
    return ids
  }

  /** Sends the mutated cookie and checks it was refused everywhere; skips non-mutations. */
  async function attack(t: Tally, mode: Mode, valid: readonly string[], forged: string) {
    t.run++
    // A mutation that gives back a cookie we issued is no attack (same salts across seals).
    const seen = readCookie(`sid=${forged}`, 'sid')
    if (valid.includes(forged) || seen.some((v) => valid.includes(v))) {
      t.skipped++
      bump(t, 'mutation gave back an issued cookie')
      return
    }
    const r = await read(`sid=${forged}`, mode)
    expect(r.status).toBe(200)
    expect(r.errors).toEqual([])
    if (seen.length === 0) {
      // Truncated to nothing the parser keeps: no session cookie at all, so nothing to report.
      expect(r.body).toEqual({ isNew: true, data: {} })
      expect(r.reasons).toEqual([])
      t.skipped++
      bump(t, 'no session cookie left')
      return
    }
    expect(r.body).toEqual({ isNew: true, data: {} })
    expect(r.reasons).toHaveLength(1)
    for (const value of [forged, ...seen]) {
      if (mode === 'sealed') {
        expect((await nodeCodec.unseal(value)).ok).toBe(false)
        expect((await webCodec.unseal(value)).ok).toBe(false)
      } else {
        expect(await runAsync(signer.verifying(value))).toBeUndefined()
      }
    }
    t.rejected++
    bump(t, r.reasons[0]!)
  }

  const pick = fc.nat()
  const mutations = {
    'single-character change': fc
      .record({ c: pick, i: pick, ch: octet })
      .map(({ c, i, ch }) => (v: string[]) => {
        const s = v[c % v.length]!
        const at = i % s.length
        return { base: s, forged: s.slice(0, at) + ch + s.slice(at + 1) }
      }),
    truncation: fc
      .record({ c: pick, n: pick, front: fc.boolean() })
      .map(({ c, n, front }) => (v: string[]) => {
        const s = v[c % v.length]!
        const cut = 1 + (n % (s.length - 1))
        return { base: s, forged: front ? s.slice(cut) : s.slice(0, cut) }
      }),
    extension: fc
      .record({ c: pick, tail: octets(1, 40), front: fc.boolean() })
      .map(({ c, tail, front }) => (v: string[]) => {
        const s = v[c % v.length]!
        return { base: s, forged: front ? tail + s : s + tail }
      }),
  }

  for (const [name, arb] of Object.entries(mutations)) {
    it(`sealed: ${name}`, async () => {
      const valid = await cookies('sealed')
      const t = tally(`tamper: ${name} (sealed)`)
      await fc.assert(
        fc.asyncProperty(arb, async (mutate) => attack(t, 'sealed', valid, mutate(valid).forged)),
        { seed: 6003, numRuns: 300 },
      )
    })
  }

  it('sealed: field swaps within a cookie and fields spliced from another cookie', async () => {
    const valid = await cookies('sealed')
    const t = tally('tamper: field swap/splice (sealed)')
    const swap = fc
      .record({ c: pick, d: pick, a: fc.nat(7), b: fc.nat(7), splice: fc.boolean() })
      .map(({ c, d, a, b, splice }) => {
        const parts = valid[c % valid.length]!.split('*')
        const donor = valid[d % valid.length]!.split('*')
        if (splice) parts[a] = donor[a]!
        else [parts[a], parts[b]] = [parts[b]!, parts[a]!]
        return parts.join('*')
      })
    await fc.assert(
      fc.asyncProperty(swap, (forged) => attack(t, 'sealed', valid, forged)),
      { seed: 6004, numRuns: 300 },
    )
  })

  for (const [name, arb] of Object.entries(mutations)) {
    it(`store mode signed id: ${name}`, async () => {
      const valid = await cookies('store')
      const t = tally(`tamper: ${name} (store id)`)
      await fc.assert(
        fc.asyncProperty(arb, async (mutate) => attack(t, 'store', valid, mutate(valid).forged)),
        { seed: 6005, numRuns: 200 },
      )
    })
  }
})

// --- (d) Arbitrary Cookie headers -------------------------------------------------------------

describe('(d) arbitrary Cookie headers never produce a 500, a throw or a log line', () => {
  /** What a Node HTTP server hands over for these bytes: latin1, and never NUL, CR or LF. */
  const asReceived = (header: string) =>
    Buffer.from(header, 'utf8')
      .toString('latin1')
      .replace(/[\0\r\n]/g, '')

  async function any(t: Tally, header: string, mode: Mode) {
    t.run++
    const r = await read(header, mode)
    expect(r.status).toBe(200)
    expect(r.errors).toEqual([])
    if (r.reasons.length > 0) {
      expect(r.reasons).toHaveLength(1)
      expect(r.body).toEqual({ isNew: true, data: {} })
      t.rejected++
      bump(t, r.reasons[0]!)
    } else if (r.body!.isNew) bump(t, 'no session cookie')
    else bump(t, 'accepted')
  }

  for (const mode of ['sealed', 'store'] as const) {
    it(`${mode}: arbitrary ASCII and unicode headers, through the app`, async () => {
      const t = tally(`arbitrary Cookie header (${mode})`)
      const header = fc.oneof(
        fc.string({ unit: 'binary-ascii', maxLength: 200 }),
        fc.string({ unit: 'binary', maxLength: 200 }),
        // Shaped like a session cookie, so the parser gets past the name.
        fc
          .tuple(
            fc.constantFrom('sid=', ' sid =', 'x=1; sid=', 'sid="'),
            fc.string({ unit: 'binary' }),
          )
          .map(([a, b]) => a + b),
      )
      await fc.assert(
        fc.asyncProperty(header, (h) => any(t, asReceived(h), mode)),
        { seed: 6006, numRuns: 300 },
      )
    })

    it(`${mode}: raw unicode strings (NUL, CR, LF, lone surrogates) straight into the engine`, async () => {
      const t = tally(`raw unicode header into engine (${mode})`)
      const reasons: InvalidReason[] = []
      const engine = new SessionEngine({
        secret: SECRET,
        ...(mode === 'store' ? { store: new Map() } : {}),
        onInvalid: (r) => void reasons.push(r),
      })
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.string({ unit: 'binary', maxLength: 300 }),
            fc.string({
              unit: fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n)),
            }),
            fc.string({ unit: 'binary' }).map((s) => `sid=${s}`),
          ),
          async (h) => {
            t.run++
            reasons.length = 0
            const state = await engine.load(requestOf(h), {})
            if (reasons.length > 0) {
              expect(state.isNew).toBe(true)
              expect(Object.keys(state.data.values)).toEqual([])
              t.rejected++
            } else bump(t, state.isNew ? 'no session cookie' : 'accepted')
            // Committing an untouched session writes nothing: a random string never verified,
            // so a refused one is not cleared either (the clear would hit the browser's own).
            const out = await engine.commit(state, {})
            expect(out.headers.length).toBe(0)
          },
        ),
        { seed: 6007, numRuns: 300 },
      )
    })

    it(`${mode}: many cookies, with random names and values`, async () => {
      const t = tally(`many cookies (${mode})`)
      const valid = await mint(mode, { userId: 'u1' })
      const name = fc.oneof(
        fc.constantFrom('sid', 'SID', 'sid ', 'xsid', 'sid_old', '__Host-sid', 'theme'),
        octets(1, 8),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }),
      )
      const value = fc.oneof(
        fc.constant(valid),
        octets(0, 40),
        fc.string({ unit: 'binary', maxLength: 20 }),
      )
      const header = fc
        .tuple(
          fc.array(fc.tuple(name, value), { maxLength: 1000 }),
          fc.constantFrom('; ', ';', ';  ', ' ; '),
        )
        .map(([pairs, sep]) => pairs.map(([n, v]) => `${n}=${v}`).join(sep))
      await fc.assert(
        fc.asyncProperty(header, (h) => any(t, asReceived(h), mode)),
        { seed: 6008, numRuns: 60 },
      )
    })

    it(`${mode}: duplicate session cookies: a valid one among the first three is used`, async () => {
      const t = tally(`duplicate session cookies (${mode})`)
      const valid = await mint(mode, { userId: 'u1' })
      const other = await mint(mode, { userId: 'u2' })
      // Garbage without ';', spaces or '%', so each entry is exactly one cookie value.
      const garbage = octets(1, 60).filter((g) => !g.includes('%') && g !== valid && g !== other)
      const entry = fc.oneof(
        { weight: 1, arbitrary: fc.constant({ sid: true, value: valid }) },
        { weight: 4, arbitrary: garbage.map((value) => ({ sid: true, value })) },
        { weight: 2, arbitrary: garbage.map((value) => ({ sid: false, value: `theme=${value}` })) },
      )
      await fc.assert(
        fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 12 }), async (entries) => {
          t.run++
          const header = entries.map((e) => (e.sid ? `sid=${e.value}` : e.value)).join('; ')
          const sids = entries.filter((e) => e.sid).map((e) => e.value)
          const r = await read(header, mode)
          expect(r.status).toBe(200)
          expect(r.errors).toEqual([])
          if (sids.slice(0, 3).includes(valid)) {
            expect(r.body).toEqual({ isNew: false, data: { userId: 'u1' } })
            bump(t, 'accepted')
          } else {
            expect(r.body).toEqual({ isNew: true, data: {} })
            if (sids.length === 0) {
              expect(r.reasons).toEqual([])
              bump(t, 'no session cookie')
            } else {
              expect(r.reasons).toHaveLength(1)
              t.rejected++
            }
          }
        }),
        { seed: 6009, numRuns: 200 },
      )
    })
  }
})
