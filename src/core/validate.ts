import type { SessionConfigIssue } from './errors.ts'

// Small composable checks instead of a schema library: options are checked once, at
// construction, and a Worker bundle pays for every byte (docs/adapter-runtimes.md, Bundle size).

/**
 * A check of one value: pushes every problem it finds into `issues` under `path` (dotted, `''`
 * for the root) and returns whether the value passed. Write your own for anything the helpers
 * here do not cover; `fail()` reports one issue.
 *
 * @example
 * const issues: SessionConfigIssue[] = []
 * string([(s) => s !== '', 'must be a non-empty string'])(userKey, 'userKey', issues)
 * if (issues.length > 0) throw new SessionConfigError(issues)
 */
export interface Check {
  (value: unknown, path: string, issues: SessionConfigIssue[]): boolean
  /** Set by `required()`: `object()` checks the key even when it is undefined. */
  readonly required?: boolean
}

/** A refinement of an already type-checked value: the test and the message when it fails. */
export type Rule<T> = readonly [ok: (value: T) => boolean, message: string]

/**
 * Pushes one issue and returns false, so a custom check can `return fail(...)`.
 *
 * @example
 * const two: Check = (v, path, issues) => v === 2 || fail(issues, path, 'must be 2')
 */
export function fail(issues: SessionConfigIssue[], path: string, message: string): false {
  issues.push({ path, message })
  return false
}

/**
 * `key` under `path`, dotted.
 *
 * @example
 * at('cookie', 'path') // 'cookie.path'; at('', 'secret') is 'secret'
 */
export const at = (path: string, key: string | number): string =>
  path ? `${path}.${key}` : `${key}`

/**
 * Passes values `guard` accepts that also meet every rule; reports `message` for the wrong type,
 * else the first broken rule's message.
 *
 * @example
 * const seconds = is((v): v is number => Number.isFinite(v), 'must be a number of seconds', [
 *   (n) => n > 0,
 *   'must be greater than 0',
 * ])
 */
export function is<T>(
  guard: (value: unknown) => value is T,
  message: string,
  ...rules: Rule<T>[]
): Check {
  return (value, path, issues) => {
    if (!guard(value)) return fail(issues, path, message)
    const broken = rules.find(([ok]) => !ok(value))
    return broken ? fail(issues, path, broken[1]) : true
  }
}

/**
 * A positive, finite number of seconds (the unit of every duration option).
 *
 * @example
 * object({ maxAge: seconds })
 */
export const seconds: Check = is(
  (v): v is number => Number.isFinite(v),
  'must be a number of seconds',
  [(n) => n > 0, 'must be greater than 0'],
)

const isString = (v: unknown): v is string => typeof v === 'string'

/**
 * A string meeting every rule ("must be a string" otherwise).
 *
 * @example
 * string([(s) => s.length > 0, 'must be a non-empty string'])
 */
export const string = (...rules: Rule<string>[]): Check =>
  is(isString, 'must be a string', ...rules)

/**
 * A string matching `pattern`; anything else, a non-string too, gets `message`.
 *
 * @example
 * matches(/^\w+$/, 'must be letters, digits or _')
 */
export const matches = (pattern: RegExp, message: string): Check =>
  is(isString, message, [(s) => pattern.test(s), message])

/**
 * `true` or `false`.
 *
 * @example
 * object({ token: boolean })
 */
export const boolean: Check = is((v): v is boolean => typeof v === 'boolean', 'must be a boolean')

/**
 * Any function.
 *
 * @example
 * object({ now: func })
 */
export const func: Check = is((v): v is Function => typeof v === 'function', 'must be a function')

/**
 * One of `values` (compared with `===`).
 *
 * @default message `must be one of "a", "b"`
 * @example
 * oneOf(['cookie', 'header'])
 */
export function oneOf(
  values: readonly unknown[],
  message = `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}`,
): Check {
  return is((v): v is unknown => values.includes(v), message)
}

/**
 * An object (a Map or class instance too) with a function under each of `names`.
 *
 * @example
 * methods(['get', 'set', 'delete'], 'must be a Map or an object with get, set and delete methods')
 */
export function methods(names: readonly string[], message: string): Check {
  const has = (v: unknown): v is object =>
    typeof v === 'object' &&
    v !== null &&
    names.every((n) => typeof (v as Record<string, unknown>)[n] === 'function')
  return is(has, message)
}

/**
 * An array meeting every rule whose items each pass `item` (reported at `path.index`).
 *
 * @example
 * each(matches(/^https?:/, 'must be a URL'), [(a) => a.length > 0, 'must not be empty'])
 */
export function each(item: Check, ...rules: Rule<readonly unknown[]>[]): Check {
  const array = is(Array.isArray, 'must be an array', ...rules)
  return (value, path, issues) => {
    const ok = array(value, path, issues)
    // Items are checked even when a rule on the whole array failed: every issue at once.
    if (!Array.isArray(value)) return false
    return value.reduce<boolean>((all, v, i) => item(v, at(path, i), issues) && all, ok)
  }
}

/**
 * Marks a check so `object()` runs it on an undefined key too (keys are optional otherwise).
 *
 * @example
 * object({ db: required(methods(['prepare'], 'must be a Database')) })
 */
export const required = (check: Check): Check =>
  Object.assign((v: unknown, p: string, i: SessionConfigIssue[]) => check(v, p, i), {
    required: true,
  })

/**
 * An object (not null, not an array) whose keys are those of `shape`, each checked by its entry: an undefined key is
 * skipped (an absent option takes its default), and every unknown key is reported in one issue
 * at the object's path, with a hint when only the case differs (a typo like `httponly`).
 * Typed by `T`, the shape must name every key of the options interface it checks.
 *
 * @default message `must be an object`
 * @example
 * object<CsrfOptions>({ origins: each(origin), allowMissingOrigin: boolean, token: boolean })
 */
export function object<T extends object = Record<string, unknown>>(
  shape: { readonly [K in keyof T]-?: Check },
  message = 'must be an object',
): Check {
  const known = Object.keys(shape) as (keyof T & string)[]
  return (value, path, issues) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return fail(issues, path, message)
    }
    const before = issues.length
    const record = value as Record<string, unknown>
    for (const key of known) {
      const check = shape[key]
      if (record[key] !== undefined || check.required) check(record[key], at(path, key), issues)
    }
    const unknown = Object.keys(record)
      .filter((k) => !(known as string[]).includes(k))
      .map((k) => {
        const near = known.find((n) => n.toLowerCase() === k.toLowerCase())
        return near ? `"${k}" (did you mean "${near}"?)` : `"${k}"`
      })
    if (unknown.length > 0) {
      fail(issues, path, `unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`)
    }
    return issues.length === before
  }
}
