import { Hono } from 'hono'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { SessionConfigError, SessionError } from '../src/core/errors.ts'
import type { SessionOptions } from '../src/core/types.ts'
import { Jar, SECRET } from './support.ts'

const store = new Map()
const encoder = { encode: () => 'x', decode: () => null }

/** The error session(options) throws at construction. */
function configError(options: unknown): SessionConfigError {
  let caught: unknown
  try {
    session(options as SessionOptions)
  } catch (err) {
    caught = err
  }
  expect(caught).toBeInstanceOf(SessionConfigError)
  const err = caught as SessionConfigError
  expect(err).toBeInstanceOf(SessionError)
  expect(err.code).toBe('ERR_SESSION_CONFIG')
  expect(err.name).toBe('SessionConfigError')
  return err
}

const paths = (err: SessionConfigError) => err.issues.map((i) => i.path)

describe('each bad option throws SessionConfigError naming the field', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['secret shorter than 32', { secret: 'x'.repeat(31) }, 'secret'],
    ['secret empty', { secret: '' }, 'secret'],
    ['secret not a string', { secret: 42 }, 'secret'],
    ['secret empty array', { secret: [] }, 'secret'],
    ['secret array with a short key', { secret: [SECRET, 'short'] }, 'secret.1'],
    ['secret object with no keys', { secret: {} }, 'secret'],
    ['secret object with a short key', { secret: { '1': 'short' } }, 'secret.1'],
    ['secret object id iron cannot carry', { secret: { 'a-b': SECRET } }, 'secret'],
    ['maxAge negative', { maxAge: -1 }, 'maxAge'],
    ['maxAge zero', { maxAge: 0 }, 'maxAge'],
    ['maxAge NaN', { maxAge: Number.NaN }, 'maxAge'],
    ['maxAge Infinity', { maxAge: Number.POSITIVE_INFINITY }, 'maxAge'],
    ['maxAge a string', { maxAge: '3600' }, 'maxAge'],
    ['idleTimeout zero', { idleTimeout: 0 }, 'idleTimeout'],
    ['idleTimeout negative', { idleTimeout: -5 }, 'idleTimeout'],
    ['rolling not a boolean', { rolling: 'yes' }, 'rolling'],
    ['cookieName with ;', { cookieName: 'a;b' }, 'cookieName'],
    ['cookieName with a space', { cookieName: 'a b' }, 'cookieName'],
    ['cookieName with CR', { cookieName: 'a\rb' }, 'cookieName'],
    ['cookieName with LF', { cookieName: 'a\nb' }, 'cookieName'],
    ['cookieName with =', { cookieName: 'a=b' }, 'cookieName'],
    ['cookieName with ,', { cookieName: 'a,b' }, 'cookieName'],
    ['cookieName empty', { cookieName: '' }, 'cookieName'],
    ['path with ;', { cookie: { path: '/a;Domain=evil.com' } }, 'cookie.path'],
    ['path with a space', { cookie: { path: '/a b' } }, 'cookie.path'],
    ['path not starting with /', { cookie: { path: 'app' } }, 'cookie.path'],
    ['path with a control character', { cookie: { path: '/a\nb' } }, 'cookie.path'],
    ['domain with ;', { cookie: { domain: 'example.com; Secure' } }, 'cookie.domain'],
    ['domain with a space', { cookie: { domain: 'example .com' } }, 'cookie.domain'],
    ['sameSite unknown', { cookie: { sameSite: 'Sometimes' } }, 'cookie.sameSite'],
    ['secure not boolean', { cookie: { secure: 'yes' } }, 'cookie.secure'],
    ['unknown cookie attribute', { cookie: { httponly: true } }, 'cookie'],
    [
      '__Host- with a domain',
      { cookieName: '__Host-sid', cookie: { domain: 'example.com' } },
      'cookie.domain',
    ],
    [
      '__Host- with a non-/ path',
      { cookieName: '__Host-sid', cookie: { path: '/app' } },
      'cookie.path',
    ],
    [
      '__Host- with secure: false',
      { cookieName: '__Host-sid', cookie: { secure: false } },
      'cookie.secure',
    ],
    [
      '__Secure- with secure: false',
      { cookieName: '__Secure-sid', cookie: { secure: false } },
      'cookie.secure',
    ],
    // Browsers match cookie prefixes case-insensitively.
    [
      '__host- (lower case) with a domain',
      { cookieName: '__host-sid', cookie: { domain: 'example.com' } },
      'cookie.domain',
    ],
    [
      '__SECURE- (upper case) with secure: false',
      { cookieName: '__SECURE-sid', cookie: { secure: false } },
      'cookie.secure',
    ],
    [
      'a key ring mixing numeric and named ids',
      { secret: { v2: 'n'.repeat(32), 1: 'o'.repeat(32) } },
      'secret',
    ],
    [
      'sameSite None with secure: false',
      { cookie: { sameSite: 'None', secure: false } },
      'cookie.secure',
    ],
    [
      'sameSite none with secure: false',
      { cookie: { sameSite: 'none', secure: false } },
      'cookie.secure',
    ],
    [
      'partitioned with secure: false',
      { cookie: { partitioned: true, secure: false } },
      'cookie.secure',
    ],
    ['store without methods', { store: {} }, 'store'],
    ['store missing delete', { store: { get() {}, set() {} } }, 'store'],
    ['encoder without decode', { encoder: { encode: () => '' } }, 'encoder'],
    ['encoder plus store', { encoder, store }, 'encoder'],
    ['onInvalid not a function', { onInvalid: 'log' }, 'onInvalid'],
    ['now not a function', { now: 5 }, 'now'],
  ]
  for (const [label, options, path] of cases) {
    it(label, () => {
      const err = configError({ secret: SECRET, ...options })
      expect(paths(err)).toContain(path)
      // The message names the field too, for people reading logs.
      expect(err.message).toContain(path)
    })
  }

  it('a short secret says how long it must be', () => {
    const err = configError({ secret: 'short' })
    expect(err.issues).toEqual([{ path: 'secret', message: expect.stringContaining('32') }])
  })

  it('an unknown option (a typo) is named', () => {
    const err = configError({ secret: SECRET, cookiename: 'sid' })
    expect(err.issues).toHaveLength(1)
    expect(err.message).toContain('cookiename')
  })

  it('names several bad fields in one error', () => {
    const err = configError({
      secret: 'short',
      maxAge: -1,
      idleTimeout: 0,
      cookieName: 'bad name',
      cookie: { path: 'nope', domain: 'a;b' },
    })
    expect(paths(err)).toEqual(
      expect.arrayContaining([
        'secret',
        'maxAge',
        'idleTimeout',
        'cookieName',
        'cookie.path',
        'cookie.domain',
      ]),
    )
    for (const p of [
      'secret',
      'maxAge',
      'idleTimeout',
      'cookieName',
      'cookie.path',
      'cookie.domain',
    ])
      expect(err.message).toContain(p)
  })

  it('valid edge values are accepted', () => {
    const ok: SessionOptions[] = [
      { secret: 'x'.repeat(32) },
      { secret: [SECRET, 'y'.repeat(32)] },
      { secret: { '1': SECRET, '2': 'y'.repeat(32) } },
      { secret: SECRET, maxAge: 0.5, idleTimeout: 1 },
      { secret: SECRET, cookieName: '__Host-sid', cookie: { path: '/', secure: 'auto' } },
      { secret: SECRET, cookieName: '__Secure-sid', cookie: { domain: 'example.com' } },
      { secret: SECRET, cookie: { sameSite: 'None', partitioned: true } },
      { secret: SECRET, cookie: { secure: false, sameSite: 'strict', domain: '.example.com' } },
      { secret: SECRET, store: new Map() },
      { secret: SECRET, store: { get() {}, set() {}, delete() {} } },
      { secret: SECRET, encoder },
    ]
    for (const options of ok) expect(() => session(options)).not.toThrow()
  })
})

describe('how issues are reported', () => {
  it('a rule across fields is reported alongside a field of the wrong type', () => {
    const err = configError({ secret: SECRET, rolling: 'yes', chunk: true, store })
    expect(paths(err)).toEqual(['rolling', 'chunk'])
  })

  it('an unknown key inside cookie or chunk is refused at that object, with a case hint', () => {
    expect(configError({ secret: SECRET, cookie: { httponly: true } }).issues).toEqual([
      { path: 'cookie', message: 'unknown option "httponly" (did you mean "httpOnly"?)' },
    ])
    expect(configError({ secret: SECRET, chunk: { maxchunks: 3 } }).issues).toEqual([
      { path: 'chunk', message: 'unknown option "maxchunks" (did you mean "maxChunks"?)' },
    ])
  })

  it('an unknown top-level option is named with a hint', () => {
    expect(configError({ secret: SECRET, maxage: 60 }).message).toContain(
      'unknown option "maxage" (did you mean "maxAge"?)',
    )
  })

  it('a secret of the wrong shape says which shapes are accepted', () => {
    for (const secret of [42, null, true]) {
      expect(configError({ secret }).issues).toEqual([
        { path: 'secret', message: expect.stringContaining('an array of strings') },
      ])
    }
  })

  it('every bad secret in a list or record is named', () => {
    expect(paths(configError({ secret: ['short', SECRET, 7] }))).toEqual(['secret.0', 'secret.2'])
    expect(paths(configError({ secret: { a: 'short', 'b-c': SECRET } }))).toEqual([
      'secret.a',
      'secret',
    ])
  })

  it('options that are not an object are a SessionConfigError, not a TypeError', () => {
    for (const options of [null, 'secret', 42, []]) {
      expect(configError(options).issues[0]).toEqual({ path: '', message: 'must be an object' })
    }
  })
})

describe('a missing secret', () => {
  let env: string | undefined
  let warn: ReturnType<typeof vi.spyOn>

  beforeEach(() => {
    env = process.env.NODE_ENV
    warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
  })

  afterEach(() => {
    if (env === undefined) delete process.env.NODE_ENV
    else process.env.NODE_ENV = env
    warn.mockRestore()
  })

  it('is an error in production, naming secret', () => {
    process.env.NODE_ENV = 'production'
    const err = configError({})
    expect(paths(err)).toEqual(['secret'])
    expect(err.message).toContain('production')
    expect(() => session()).toThrow(SessionConfigError)
  })

  it('in production, is reported together with the other bad fields', () => {
    process.env.NODE_ENV = 'production'
    expect(paths(configError({ maxAge: -1 }))).toEqual(['secret', 'maxAge'])
  })

  it('in development uses a random secret and warns at most once', async () => {
    process.env.NODE_ENV = 'development'
    const apps = [session(), session(), session({ cookieName: 'other' })].map((mw) =>
      new Hono()
        .use(mw)
        .get('/login', (c) => {
          c.session.userId = 'u1'
          return c.text('ok')
        })
        .get('/me', (c) => c.text(c.session.userId ?? 'anon')),
    )
    expect(warn.mock.calls.length).toBeLessThanOrEqual(1)
    for (const call of warn.mock.calls) expect(String(call[0])).toMatch(/secret/i)

    const a = apps[0]!
    const b = apps[1]!
    const jar = new Jar()
    await jar.request(a, '/login')
    expect(await (await jar.request(a, '/me')).text()).toBe('u1')
    // Each middleware drew its own secret: the other one cannot open this cookie.
    expect(await (await jar.request(b, '/me')).text()).toBe('anon')
    expect(warn.mock.calls.length).toBeLessThanOrEqual(1)
  })

  it('a secret given in production is fine and does not warn', () => {
    process.env.NODE_ENV = 'production'
    expect(() => session({ secret: SECRET })).not.toThrow()
    expect(warn).not.toHaveBeenCalled()
  })
})
