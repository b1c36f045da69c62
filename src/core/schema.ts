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
  /** On load: whether `data` passes; when it does, the defaults it lacks are filled in. */
  accept(data: Data): Steps<boolean>
  /** At commit: throws `SessionDataError` naming the first failing path when `data` fails. */
  check(data: Data): Steps<void>
  /** Gives `data` its own copy of each default it lacks; answers it. */
  fill(data: Data): Steps<Data>
}

/**
 * The app's schema. Its defaults are its output for `{}` as JSON, taken once at start-up (so a
 * default made by a function is the same for every session); when `{}` fails (required keys),
 * there are none. A default the schema refuses as stored data fails at commit like any value.
 */
export function dataSchema(schema: SessionSchema): DataSchema {
  let json = '{}'

  /** The validator's answer for `data`, internal keys left out. */
  function* validate(data: Data): Steps<StandardSchemaV1Result<object>> {
    const { [CSRF_SESSION_KEY]: _, ...input } = data
    try {
      return yield* wait(schema['~standard'].validate(input))
    } catch (err) {
      // A validator that throws or rejects refuses the data: bad data never fails a request.
      return { issues: [{ message: String(err) }] }
    }
  }

  function* fill(data: Data): Steps<Data> {
    if (ready) {
      yield* wait(ready)
      ready = undefined
    }
    const defaults = JSON.parse(json) as Data
    for (const key in defaults) if (!Object.hasOwn(data, key)) data[key] = defaults[key]
    return data
  }

  const started = run(
    (function* () {
      const result = yield* validate({})
      // Issues first: some validators answer a value beside them.
      if (!result.issues) json = JSON.stringify(result.value)
    })(),
  )
  /** The async start-up validation, until it has answered; loads await it (and its failure). */
  let ready = isPromise(started) ? started : undefined
  ready?.then(undefined, () => {})

  return {
    async: ready !== undefined,
    *accept(data) {
      if ((yield* validate(data)).issues) return false
      yield* fill(data)
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
    fill,
  }
}
