// The `schema` and `flashSchema` options at run time: loaded data and flash values are checked
// (a failure refuses the session), committed ones too (a failure is a SessionDataError), and
// sessions get the keys the schema's output adds (its defaults). A schema only validates: its
// output is never stored.
import { isPromise, type Steps, wait } from '../util/steps.ts'
import { SessionDataError } from './errors.ts'
import { CSRF_SESSION_KEY, type FlashRecord } from './record.ts'
import type { SessionSchema, StandardSchemaV1Issue, StandardSchemaV1Result } from './types.ts'

type Data = Record<string, unknown>

/** One key of an issue's path, as a string. */
const segment = (p: PropertyKey | { readonly key: PropertyKey }) =>
  String(typeof p === 'object' ? p.key : p)

/** True when `schema` answers `{}` with a promise: every check may wait (loads are async). */
export function isAsync(schema: SessionSchema): boolean {
  const probe = schema['~standard'].validate({})
  if (!isPromise(probe)) return false
  // Nobody awaits the probe: its failure must not surface as unhandled.
  probe.then(undefined, () => {})
  return true
}

/**
 * Validates `data`, internal keys left out: the first issue, or undefined when it passes. A
 * validator that throws or rejects fails it (bad data never fails a request). Passing, each
 * key the output adds (a default) is copied into `fill`. `partial`: keys `data` lacks may be
 * missing (their issues are ignored).
 */
export function* validate(
  schema: SessionSchema,
  data: Data,
  fill?: Data,
  partial?: boolean,
): Steps<StandardSchemaV1Issue | undefined> {
  const { [CSRF_SESSION_KEY]: _, ...input } = data
  let result: StandardSchemaV1Result<Data>
  try {
    result = (yield* wait(schema['~standard'].validate(input))) as StandardSchemaV1Result<Data>
  } catch (err) {
    return { message: String(err) }
  }
  // Issues first: some validators answer a value beside them.
  if (result.issues) {
    if (!partial) return result.issues[0] ?? { message: 'invalid' }
    const present = (i: StandardSchemaV1Issue) =>
      !i.path?.length || Object.hasOwn(input, segment(i.path[0]!))
    return result.issues.find(present)
  }
  const { value } = result
  for (const key in value) {
    // A copy: a validator may hand out its default object itself.
    if (fill && !Object.hasOwn(fill, key) && value[key] !== undefined) {
      fill[key] = JSON.parse(JSON.stringify(value[key]))
    }
  }
}

/**
 * Validates flash values against `flashSchema`, a schema of one value per key: each key's
 * first values together, then its second ones, … (keys without that many are left out, and a
 * schema's required key is not required). The first issue, its path under `flash`.
 */
export function* validateFlash(
  schema: SessionSchema,
  flash: FlashRecord,
): Steps<StandardSchemaV1Issue | undefined> {
  for (let i = 0; ; i++) {
    let row: Data | undefined
    for (const key in flash) {
      const values = flash[key]!
      if (i >= values.length) continue
      // No prototype: a key such as `__proto__` is an ordinary one.
      row ??= Object.create(null) as Data
      row[key] = values[i]
    }
    if (!row) return undefined
    const issue = yield* validate(schema, row, undefined, true)
    if (issue) return { message: issue.message, path: ['flash', ...(issue.path ?? [])] }
  }
}

/**
 * The `SessionDataError` for data that fails the schema: `.key` is the dot-joined path
 * (`flash.<key>…` for a flash value).
 */
export function schemaError(issue: StandardSchemaV1Issue): SessionDataError {
  const path = (issue.path ?? []).map(segment)
  const key = path.join('.')
  const what =
    path[0] === 'flash' ? 'Flash value "%" fails flashSchema' : 'Session key "%" fails the schema'
  return new SessionDataError(key, `${what.replace('%', key)}: ${issue.message}`)
}
