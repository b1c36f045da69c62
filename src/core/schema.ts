// The `schema` option at run time: loaded data is checked (a failure refuses the session),
// committed data too (a failure is a SessionDataError), and sessions get the schema's defaults
// for keys they lack. The schema only validates: its output is never stored.
import { isPromise, run, type Steps, wait } from '../util/steps.ts'
import { SessionDataError } from './errors.ts'
import { CSRF_SESSION_KEY } from './record.ts'
import type { SessionSchema, StandardSchemaV1Result } from './types.ts'

type Data = Record<string, unknown>

/** The app's schema at run time (see `dataSchema`). */
export interface DataSchema {
  /** It answered `{}` with a promise: loads and commits may wait. */
  readonly async: boolean
  /** On load: whether `data` passes; when it does, the keys its output adds are filled in. */
  accept(data: Data): Steps<boolean>
  /** At commit: throws `SessionDataError` naming the first failing path when `data` fails. */
  check(data: Data): Steps<void>
  /** The data a new session starts from: its own copy of the defaults. */
  fresh(): Steps<Data>
}

/**
 * The app's schema. Defaults are the keys its output has that the data lacks: for loaded data,
 * from validating it (so they are cached with the result); for a new session, from its output
 * for `{}`, taken once at start-up (a default made by a function is then the same for every new
 * session), or none when `{}` fails (required keys). A default the schema refuses as stored
 * data fails at commit like any other value.
 */
export function dataSchema(schema: SessionSchema): DataSchema {
  let json = '{}'

  /** The validator's answer for `data`, internal keys left out. */
  function* validate(data: Data): Steps<StandardSchemaV1Result<Data>> {
    const { [CSRF_SESSION_KEY]: _, ...input } = data
    try {
      return (yield* wait(schema['~standard'].validate(input))) as StandardSchemaV1Result<Data>
    } catch (err) {
      // A validator that throws or rejects refuses the data: bad data never fails a request.
      return { issues: [{ message: String(err) }] }
    }
  }

  const started = run(
    (function* () {
      const result = yield* validate({})
      // Issues first: some validators answer a value beside them.
      if (!result.issues) json = JSON.stringify(result.value)
    })(),
  )
  /** The async start-up validation, until it has answered; new sessions await it. */
  let ready = isPromise(started) ? started : undefined
  ready?.then(undefined, () => {})

  return {
    async: ready !== undefined,
    *accept(data) {
      const result = yield* validate(data)
      if (result.issues) return false
      const { value } = result
      // Copies: a validator may hand out its default object itself.
      for (const key in value) {
        if (!Object.hasOwn(data, key) && value[key] !== undefined) {
          data[key] = JSON.parse(JSON.stringify(value[key]))
        }
      }
      return true
    },
    *check(data) {
      const { issues } = yield* validate(data)
      if (!issues) return
      const [issue] = issues
      const key = (issue?.path ?? [])
        .map((p) => String(typeof p === 'object' ? p.key : p))
        .join('.')
      throw new SessionDataError(key, `Session key "${key}" fails the schema: ${issue?.message}`)
    },
    *fresh() {
      if (ready) {
        yield* wait(ready)
        ready = undefined
      }
      return JSON.parse(json) as Data
    },
  }
}
