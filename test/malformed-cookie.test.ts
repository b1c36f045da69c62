import { Hono } from 'hono'
import * as Iron from 'iron-webcrypto'
import { describe, expect, it, vi } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { SessionEngine } from '../src/core/engine.ts'
import type { InvalidReason, SessionOptions } from '../src/core/types.ts'
import { IronCodec } from '../src/crypto/iron.ts'
import { failOnConsoleOutput } from './quiet-console.ts'
import { OLD_SECRET, requestOf, SECRET, setCookies } from './support.ts'

type Reason = InvalidReason

function makeApp(options: SessionOptions = { secret: SECRET }) {
  const onInvalid = vi.fn<(reason: Reason, ctx: unknown) => void>()
  const app = new Hono()
    .use(session({ ...options, onInvalid }))
    .get('/set', (c) => {
      c.session.userId = 'u1'
      c.session.cart = { items: [1, 2] }
      return c.text('ok')
    })
    .get('/read', (c) => c.json({ isNew: c.session.isNew, data: c.session.toJSON() }))
  return { app, onInvalid }
}

const mainApp = makeApp()

/** A valid cookie value from an app sealed with `options`. */
async function mint(options: SessionOptions = { secret: SECRET }): Promise<string> {
  const res = await makeApp(options).app.request('http://localhost/set')
  const value = setCookies(res).find((c) => c.name === 'sid')?.value
  expect(value).toMatch(/^Fe26\.2\*/)
  return value!
}

let valid: Promise<string> | undefined
const validCookie = () => {
  valid ??= mint()
  return valid
}

/** Sends `cookie` as the whole Cookie header; returns what the handler saw and onInvalid's reasons. */
async function send(cookie: string, app = mainApp) {
  app.onInvalid.mockClear()
  const res = await app.app.request('http://localhost/read', { headers: { cookie } })
  expect(res.status).toBe(200)
  const body = (await res.json()) as { isNew: boolean; data: Record<string, unknown> }
  return { body, reasons: app.onInvalid.mock.calls.map((c) => c[0]), res }
}

/** Asserts `cookie` yields a fresh empty session and onInvalid once; returns the reason. */
async function refused(cookie: string, app = mainApp): Promise<Reason> {
  const { body, reasons } = await send(cookie, app)
  expect(body).toEqual({ isNew: true, data: {} })
  expect(reasons).toHaveLength(1)
  return reasons[0]!
}

failOnConsoleOutput()

describe('baseline', () => {
  it('a valid cookie is read, so the refusals below are about the change made', async () => {
    const { body, reasons } = await send(`sid=${await validCookie()}`)
    expect(body).toEqual({ isNew: false, data: { userId: 'u1', cart: { items: [1, 2] } } })
    expect(reasons).toEqual([])
  })

  it('no cookie at all: a new session and onInvalid is not called', async () => {
    mainApp.onInvalid.mockClear()
    const res = await mainApp.app.request('http://localhost/read')
    expect(await res.json()).toEqual({ isNew: true, data: {} })
    expect(mainApp.onInvalid).not.toHaveBeenCalled()
  })

  it('only other cookies: onInvalid is not called', async () => {
    const { body, reasons } = await send('theme=dark; sidebar=1; xsid=abc; sid_old=x')
    expect(body).toEqual({ isNew: true, data: {} })
    expect(reasons).toEqual([])
  })

  it('onInvalid receives the Hono context', async () => {
    await send('sid=garbage')
    const ctx = mainApp.onInvalid.mock.calls[0]![1] as { req: { url: string } }
    expect(ctx.req.url).toBe('http://localhost/read')
  })
})

describe('malformed values', () => {
  it('an empty value is no session: fresh, and not reported (it is what a cleared cookie looks like)', async () => {
    for (const header of ['sid=', 'sid=; theme=dark', 'sid=""', 'sid= ;x=1']) {
      const { body, reasons } = await send(header)
      expect(body).toEqual({ isNew: true, data: {} })
      expect(reasons).toEqual([])
    }
  })

  it('garbage and near-miss shapes', async () => {
    for (const value of ['garbage', 'Fe26.2', '*******', 'Fe26.2*******', '"quoted"', 'null']) {
      expect(await refused(`sid=${value}`)).toBe('malformed')
    }
  })

  it('every single-character change of a valid cookie is refused', async () => {
    const value = await validCookie()
    const seen = new Set<Reason>()
    for (let i = 0; i < value.length; i++) {
      for (const ch of ['A', 'b', '0', '-', '*']) {
        if (value[i] === ch) continue
        const changed = value.slice(0, i) + ch + value.slice(i + 1)
        const reason = await refused(`sid=${changed}`)
        expect(['malformed', 'tampered']).toContain(reason)
        seen.add(reason)
      }
    }
    // Both the format checks and the MAC were exercised.
    expect([...seen].sort()).toEqual(['malformed', 'tampered'])
  })

  it('every single-character change of a cookie with a password id is refused', async () => {
    const app = makeApp({ secret: { '7': SECRET } })
    const value = await mint({ secret: { '7': SECRET } })
    expect(value.split('*')[1]).toBe('7')
    for (let i = 0; i < value.length; i++) {
      const c = value[i]!
      const ch = /[0-9a-f]/.test(c) ? (c === '1' ? '2' : '1') : c === 'x' ? 'y' : 'x'
      const changed = value.slice(0, i) + ch + value.slice(i + 1)
      expect(['malformed', 'tampered', 'unknown-key']).toContain(
        await refused(`sid=${changed}`, app),
      )
    }
  })

  it('every truncation is refused', async () => {
    const value = await validCookie()
    for (let n = 1; n < value.length; n++) {
      expect(['malformed', 'tampered']).toContain(await refused(`sid=${value.slice(0, n)}`))
    }
  })

  it('extensions are refused', async () => {
    const value = await validCookie()
    for (const tail of ['A', 'AA', 'AAAA', '0', '-', '_', '*', '*A', '.', 'x'.repeat(100)]) {
      expect(['malformed', 'tampered']).toContain(await refused(`sid=${value}${tail}`))
    }
    expect(await refused(`sid=A${value}`)).toBe('malformed')
  })

  it('swapped fields are refused', async () => {
    const parts = (await validCookie()).split('*')
    const swap = (a: number, b: number) => {
      const p = [...parts]
      ;[p[a], p[b]] = [p[b]!, p[a]!]
      return p.join('*')
    }
    // Encryption and MAC salts: both well formed, but the MAC no longer matches.
    expect(await refused(`sid=${swap(2, 6)}`)).toBe('tampered')
    // IV and ciphertext: wrong lengths.
    expect(await refused(`sid=${swap(3, 4)}`)).toBe('malformed')
    for (const [a, b] of [
      [4, 7],
      [3, 7],
      [1, 2],
      [2, 3],
    ] as const) {
      expect(['malformed', 'tampered']).toContain(await refused(`sid=${swap(a, b)}`))
    }
  })

  it('a wrong number of components is refused', async () => {
    const parts = (await validCookie()).split('*')
    expect(await refused(`sid=${parts.slice(0, 7).join('*')}`)).toBe('malformed')
    expect(await refused(`sid=${[...parts, 'extra'].join('*')}`)).toBe('malformed')
    expect(await refused(`sid=${[...parts.slice(0, 5), ...parts.slice(6)].join('*')}`)).toBe(
      'malformed',
    )
  })

  it('another iron version (Fe26.1) is refused', async () => {
    const value = await validCookie()
    expect(await refused(`sid=${value.replace(/^Fe26\.2/, 'Fe26.1')}`)).toBe('malformed')
  })

  it('bad percent-encoding is refused, not thrown', async () => {
    expect(await refused('sid=%E0%A4%A')).toBe('malformed')
    expect(await refused(`sid=${await validCookie()}%E0%A4%A`)).toBe('malformed')
    expect(await refused('sid=%')).toBe('malformed')
  })

  it('control characters are refused', async () => {
    const value = await validCookie()
    for (const ch of ['\x01', '\x1f', '\x7f', '\t']) {
      const changed = `${value.slice(0, 20)}${ch}${value.slice(20)}`
      expect(await refused(`sid=${changed}`)).toBe('malformed')
    }
  })

  it('NUL, CR and LF reaching the engine directly are refused', async () => {
    const value = await validCookie()
    const onInvalid = vi.fn()
    const engine = new SessionEngine({ secret: SECRET, onInvalid })
    for (const ch of ['\0', '\r', '\n', '\r\n']) {
      const state = await engine.load(
        requestOf(`sid=${value.slice(0, 30)}${ch}${value.slice(30)}`),
        {},
      )
      expect(state.isNew).toBe(true)
      expect(Object.keys(state.data.values)).toEqual([])
    }
    expect(onInvalid.mock.calls.map((c) => c[0])).toEqual([
      'malformed',
      'malformed',
      'malformed',
      'malformed',
    ])
  })

  it('a MAC written with non-canonical base64 (same bytes to a lenient decoder) is refused', async () => {
    const value = await validCookie()
    const parts = value.split('*')
    const mac = parts[7]!
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    // 32 bytes take 43 characters: the last one carries 2 unused bits, which must be zero.
    expect(mac).toHaveLength(43)
    const last = alphabet.indexOf(mac.at(-1)!)
    expect(last & 3).toBe(0)
    for (const spare of [1, 2, 3]) {
      const alias = mac.slice(0, -1) + alphabet[last | spare]
      expect(Buffer.from(alias, 'base64url')).toEqual(Buffer.from(mac, 'base64url'))
      const forged = [...parts.slice(0, 7), alias].join('*')
      expect(await refused(`sid=${forged}`)).toBe('malformed')
      for (const webCrypto of [false, true]) {
        const codec = new IronCodec([{ id: '', secret: SECRET }], { webCrypto })
        expect(await codec.unseal(forged)).toEqual({ ok: false, reason: 'malformed' })
      }
    }
  })
})

describe('keys', () => {
  it('a cookie sealed with another secret is tampered', async () => {
    expect(await refused(`sid=${await mint({ secret: OLD_SECRET })}`)).toBe('tampered')
  })

  it('an unknown password id is unknown-key', async () => {
    expect(await refused(`sid=${await mint({ secret: { '9': SECRET } })}`)).toBe('unknown-key')
    const app = makeApp({ secret: { '1': SECRET } })
    expect(await refused(`sid=${await mint({ secret: { '2': SECRET } })}`, app)).toBe('unknown-key')
  })

  it('a cookie sealed by iron-webcrypto with another secret is tampered', async () => {
    const now = Date.now()
    const sealed = await Iron.seal(
      { d: { admin: true }, c: now, e: now + 60_000, p: 'sid' },
      OLD_SECRET,
      {
        ...Iron.defaults,
      },
    )
    expect(await refused(`sid=${sealed}`)).toBe('tampered')
  })
})

describe('size', () => {
  it('a 5000-character cookie is too-large', async () => {
    expect(await refused(`sid=${'A'.repeat(5000)}`)).toBe('too-large')
    const value = await validCookie()
    expect(await refused(`sid=${value}${'A'.repeat(5000 - value.length)}`)).toBe('too-large')
  })

  it('a 1 MB Cookie header is handled: a huge session cookie is too-large', async () => {
    expect(await refused(`sid=${'x'.repeat(1024 * 1024)}`)).toBe('too-large')
  })

  it('a 1 MB Cookie header of other cookies still finds the session cookie', async () => {
    const junk = `junk=${'y'.repeat(1024 * 1024)}`
    const { body, reasons } = await send(`${junk}; sid=${await validCookie()}`)
    expect(body.isNew).toBe(false)
    expect(body.data.userId).toBe('u1')
    expect(reasons).toEqual([])
  })

  it('1000 other cookies, many with names containing "sid", do not hide the session cookie', async () => {
    const others = Array.from({ length: 1000 }, (_, i) =>
      i % 3 === 0 ? `sid${i}=garbage` : i % 3 === 1 ? `x-sid=${i}` : `c${i}=sid=garbage`,
    )
    const { body, reasons } = await send(`${others.join('; ')}; sid=${await validCookie()}`)
    expect(body.data.userId).toBe('u1')
    expect(reasons).toEqual([])
    expect(await refused(`${others.join('; ')}; sid=garbage`)).toBe('malformed')
  })
})

describe('duplicates', () => {
  it('one bad and one good session cookie: the good one is used, whatever the order', async () => {
    const good = await validCookie()
    for (const header of [
      `sid=garbage; sid=${good}`,
      `sid=${good}; sid=garbage`,
      `sid=${await mint({ secret: OLD_SECRET })}; sid=${good}`,
    ]) {
      const { body } = await send(header)
      expect(body).toEqual({ isNew: false, data: { userId: 'u1', cart: { items: [1, 2] } } })
    }
  })

  it('two bad session cookies: a fresh session and one onInvalid call', async () => {
    expect(['malformed', 'tampered']).toContain(
      await refused(`sid=garbage; sid=${await mint({ secret: OLD_SECRET })}`),
    )
  })
})

describe('content that is not a session record', () => {
  const now = Date.now()
  const cases: [string, unknown][] = [
    ['a string', 'hello'],
    ['a number', 5],
    ['null', null],
    ['an array', [1, 2]],
    ['d is a number', { d: 5 }],
    ['d without timestamps', { d: { a: 1 } }],
    ['d is an array', { d: [1], c: now, e: now + 60_000 }],
    ['c is a string', { d: {}, c: 'yesterday', e: now + 60_000 }],
    ['e is missing', { d: {}, c: now }],
    ['flash is not a list of strings', { d: { a: 1 }, c: now, e: now + 60_000, f: 'a' }],
    ['sid is not a string', { d: {}, c: now, e: now + 60_000, s: 42 }],
  ]
  for (const [label, content] of cases) {
    it(`invalid-data: ${label}`, async () => {
      const sealed = await Iron.seal(content, SECRET, Iron.defaults)
      expect(await refused(`sid=${sealed}`)).toBe('invalid-data')
    })
  }

  it('invalid-data: authentic ciphertext that is not JSON', async () => {
    const sealed = await Iron.seal('x', SECRET, { ...Iron.defaults, encode: () => '{not json' })
    expect(await refused(`sid=${sealed}`)).toBe('invalid-data')
  })

  it('a well-formed iron-webcrypto record is accepted (the cases above fail for their content)', async () => {
    const sealed = await Iron.seal(
      { d: { a: 1 }, c: now, e: now + 60_000, p: 'sid' },
      SECRET,
      Iron.defaults,
    )
    const { body } = await send(`sid=${sealed}`)
    expect(body).toEqual({ isNew: false, data: { a: 1 } })
  })
})

describe('cost of forged cookies', () => {
  it('forged cookies never grow the derived-key caches', async () => {
    const engine = new SessionEngine({ secret: SECRET })
    const parts = (await validCookie()).split('*')
    const hex = () =>
      Array.from({ length: 64 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('')
    for (let i = 0; i < 300; i++) {
      const forged = [...parts.slice(0, 2), hex(), ...parts.slice(3, 6), hex(), parts[7]].join('*')
      const state = await engine.load(requestOf(`sid=${forged}`), {})
      expect(state.isNew).toBe(true)
    }
    expect(engine.codec!.cacheSizes()).toEqual({ enc: 0, mac: 0 })
  })
})
