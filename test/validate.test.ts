// The built-in option validator (src/core/validate.ts) on its own, as stores and other
// factories will use it: paths, messages, optional and required keys, strictness.
import { describe, expect, it } from 'vitest'
import type { SessionConfigIssue } from '../src/core/errors.ts'
import {
  at,
  boolean,
  type Check,
  each,
  func,
  is,
  matches,
  methods,
  object,
  oneOf,
  required,
  string,
} from '../src/core/validate.ts'

/** Runs `check` on `value` at the root: whether it passed, and what it reported. */
function run(check: Check, value: unknown) {
  const issues: SessionConfigIssue[] = []
  const ok = check(value, '', issues)
  return { ok, issues }
}

describe('leaf checks', () => {
  it('report their message at the path they are given, and pass what they accept', () => {
    const issues: SessionConfigIssue[] = []
    expect(boolean('yes', 'a.b', issues)).toBe(false)
    expect(issues).toEqual([{ path: 'a.b', message: 'must be a boolean' }])
    expect(run(boolean, false)).toEqual({ ok: true, issues: [] })
    expect(run(func, () => {}).ok).toBe(true)
    expect(run(func, 'f').issues).toEqual([{ path: '', message: 'must be a function' }])
  })

  it('undefined is a value like any other outside object(): a leaf refuses it', () => {
    expect(run(boolean, undefined).ok).toBe(false)
    expect(run(string(), undefined).issues).toEqual([{ path: '', message: 'must be a string' }])
  })

  it('is() reports the type message, else the first broken rule only', () => {
    const percent = is(
      (v): v is number => typeof v === 'number',
      'must be a number',
      [(n) => n >= 0, 'must be 0 or more'],
      [(n) => n <= 100, 'must be 100 or less'],
    )
    expect(run(percent, '5').issues).toEqual([{ path: '', message: 'must be a number' }])
    expect(run(percent, -1).issues).toEqual([{ path: '', message: 'must be 0 or more' }])
    expect(run(percent, 101).issues).toEqual([{ path: '', message: 'must be 100 or less' }])
    expect(run(percent, 50).ok).toBe(true)
  })

  it('matches() gives its own message for a non-string too', () => {
    const word = matches(/^\w+$/, 'must be a word')
    expect(run(word, 'a b').issues).toEqual([{ path: '', message: 'must be a word' }])
    expect(run(word, 5).issues).toEqual([{ path: '', message: 'must be a word' }])
    expect(run(word, 'ab').ok).toBe(true)
  })

  it('oneOf() compares with === and lists the values by default', () => {
    const mode = oneOf(['a', 1])
    expect(run(mode, '1').issues).toEqual([{ path: '', message: 'must be one of "a", 1' }])
    expect(run(mode, 1).ok).toBe(true)
    expect(run(oneOf([true], 'must be true'), 'true').issues[0]?.message).toBe('must be true')
  })

  it('methods() accepts a Map or class instance and refuses a missing method', () => {
    const store = methods(['get', 'set', 'delete'], 'must be a store')
    expect(run(store, new Map()).ok).toBe(true)
    expect(run(store, { get() {}, set() {} }).issues).toEqual([
      { path: '', message: 'must be a store' },
    ])
    expect(run(store, null).ok).toBe(false)
  })
})

describe('each()', () => {
  const list = each(string(), [(a) => a.length <= 2, 'must hold at most 2'])

  it('names a bad item by its index and reports every bad item', () => {
    expect(run(list, ['a', 1, 2]).issues).toEqual([
      { path: '', message: 'must hold at most 2' },
      { path: '1', message: 'must be a string' },
      { path: '2', message: 'must be a string' },
    ])
  })

  it('refuses a non-array', () => {
    expect(run(list, 'a').issues).toEqual([{ path: '', message: 'must be an array' }])
  })
})

describe('object()', () => {
  const options = object<{ name: string; flags: { on: boolean } }>({
    name: string(),
    flags: object({ on: boolean }),
  })

  it('skips undefined keys: an absent option takes its default', () => {
    expect(run(options, {}).ok).toBe(true)
    expect(run(options, { name: undefined }).ok).toBe(true)
  })

  it('checks nested keys at dotted paths, in shape order, all at once', () => {
    expect(run(options, { flags: { on: 1 }, name: 2 }).issues).toEqual([
      { path: 'name', message: 'must be a string' },
      { path: 'flags.on', message: 'must be a boolean' },
    ])
  })

  it('reports unknown keys in one issue at the object path, hinting at a case typo', () => {
    expect(run(options, { Name: 'x', extra: 1 }).issues).toEqual([
      { path: '', message: 'unknown options "Name" (did you mean "name"?), "extra"' },
    ])
    expect(run(options, { flags: { off: true } }).issues).toEqual([
      { path: 'flags', message: 'unknown option "off"' },
    ])
  })

  it('refuses null, arrays and primitives with its message', () => {
    for (const value of [null, [], 'x', 1]) {
      expect(run(options, value).issues).toEqual([{ path: '', message: 'must be an object' }])
    }
    expect(run(object({}, 'must be { }'), []).issues[0]?.message).toBe('must be { }')
  })

  it('runs a required() check on an undefined key', () => {
    const db = object({ db: required(methods(['prepare'], 'must be a Database')), table: string() })
    expect(run(db, {}).issues).toEqual([{ path: 'db', message: 'must be a Database' }])
    expect(run(db, { db: { prepare() {} } }).ok).toBe(true)
  })
})

it('at() joins paths with dots, the root being empty', () => {
  expect(at('', 'secret')).toBe('secret')
  expect(at('secret', 0)).toBe('secret.0')
  expect(at('cookie', 'path')).toBe('cookie.path')
})
