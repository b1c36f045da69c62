// What the schema tests (schema.test.ts, flash-schema.test.ts) share: the validator's own
// message for a value, and a schema that counts its validate() calls.
import type { SessionSchema, StandardSchemaV1 } from '../src/core/types.ts'

/** The first issue message the validator itself gives for `value`: what errors must carry. */
export async function messageFor(schema: SessionSchema, value: unknown): Promise<string> {
  const result = await schema['~standard'].validate(value)
  if (!result.issues?.[0]) throw new Error(`${JSON.stringify(value)} passed the schema`)
  return result.issues[0].message
}

/** The same schema, counting its validate() calls. */
export function counted(schema: SessionSchema): { schema: SessionSchema; calls: () => number } {
  let calls = 0
  const props = schema['~standard']
  const wrapped: StandardSchemaV1<object, object> = {
    '~standard': {
      ...props,
      validate: (value) => {
        calls++
        return props.validate(value)
      },
    },
  }
  return { schema: wrapped, calls: () => calls }
}
