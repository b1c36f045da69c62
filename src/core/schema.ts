// The `schema` option at run time: loaded data is checked (a failure refuses the session),
// committed data too (a failure is a SessionDataError), and sessions get the keys the schema's
// output adds (its defaults). The schema only validates: its output is never stored.
import { isPromise, type Steps, wait } from '../util/steps.ts'
import { SessionDataError } from './errors.ts'
import { CSRF_SESSION_KEY } from './record.ts'
import type { SessionSchema, StandardSchemaV1Issue, StandardSchemaV1Result } from './types.ts'

type Data = Record<string, unknown>

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
 * key the output adds (a default) is copied into `fill`.
 */
export function* validate(
  schema: SessionSchema,
  data: Data,
  fill?: Data,
): Steps<StandardSchemaV1Issue | undefined> {
  const { [CSRF_SESSION_KEY]: _, ...input } = data
  let result: StandardSchemaV1Result<Data>
  try {
    result = (yield* wait(schema['~standard'].validate(input))) as StandardSchemaV1Result<Data>
  } catch (err) {
    return { message: String(err) }
  }
  // Issues first: some validators answer a value beside them.
  if (result.issues) return result.issues[0] ?? { message: 'invalid' }
  const { value } = result
  for (const key in value) {
    // A copy: a validator may hand out its default object itself.
    if (fill && !Object.hasOwn(fill, key) && value[key] !== undefined) {
      fill[key] = JSON.parse(JSON.stringify(value[key]))
    }
  }
}

/** The `SessionDataError` for data that fails the schema: `.key` is the dot-joined path. */
export function schemaError(issue: StandardSchemaV1Issue): SessionDataError {
  const key = (issue.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.')
  return new SessionDataError(key, `Session key "${key}" fails the schema: ${issue.message}`)
}
