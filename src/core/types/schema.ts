// Public types of the `schema` option: the Standard Schema v1 interface (standardschema.dev),
// declared here as its spec asks of libraries that accept schemas, instead of depending on a
// package for it. Only the parts sealed-session reads are declared; zod 4, valibot 1, arktype 2
// and every other validator that implements the spec fit it.

/**
 * A validator that implements Standard Schema v1 (zod 4, valibot 1, arktype 2, …).
 *
 * @example
 * const schema: StandardSchemaV1<{ visits?: number }, { visits: number }> = z.object({ visits: z.number().default(0) })
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaV1Props<Input, Output>
}

/** What a Standard Schema carries under its `~standard` key. */
export interface StandardSchemaV1Props<Input = unknown, Output = Input> {
  /** The spec's version: 1. */
  readonly version: 1
  /** The library that made the schema (`'zod'`, `'valibot'`, `'arktype'`, …). */
  readonly vendor: string
  /** Checks `value`: its output, or the issues found; a promise for an async schema. */
  readonly validate: (
    value: unknown,
  ) => StandardSchemaV1Result<Output> | Promise<StandardSchemaV1Result<Output>>
  /** Carries the input and output types for inference only; absent at run time. */
  readonly types?: { readonly input: Input; readonly output: Output } | undefined
}

/** What `validate` answers: the output, or the issues. */
export type StandardSchemaV1Result<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardSchemaV1Issue> }

/** One problem a schema found: its message, and where (keys from the root, outermost first). */
export interface StandardSchemaV1Issue {
  readonly message: string
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined
}

/** A schema `session({ schema })` accepts: any Standard Schema of an object. */
export type SessionSchema = StandardSchemaV1<object, object>

type InputOf<S> = S extends StandardSchemaV1<infer I, any> ? I : never
type OutputOf<S> = S extends StandardSchemaV1<any, infer O> ? O : never
type RequiredKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? never : K }[keyof T]
/** Keys the input may omit but the output always has: the ones the schema's defaults fill. */
type FilledKeys<I, O> = Exclude<RequiredKeys<O>, RequiredKeys<I>>
type Flat<T> = { [K in keyof T]: T[K] } & {}

/**
 * The session data a schema describes. A session holds data as the handler set it (a schema
 * only validates), plus the schema's defaults for keys it lacks: so the schema's input type,
 * with the keys its defaults fill typed as in its output. For a schema without transforms that
 * is exactly its output type.
 *
 * @example
 * type Data = SchemaSessionData<typeof schema> // z.object({ visits: z.number().default(0) }) → { visits: number }
 */
export type SchemaSessionData<S> = 0 extends 1 & OutputOf<S>
  ? Record<string, any>
  : // A schema that keeps unknown keys (an index signature): its output as it is.
    string extends keyof OutputOf<S>
    ? OutputOf<S>
    : Flat<
        Omit<InputOf<S>, FilledKeys<InputOf<S>, OutputOf<S>>> &
          Pick<OutputOf<S>, FilledKeys<InputOf<S>, OutputOf<S>> & keyof OutputOf<S>>
      >

/**
 * The session data type of an adapter's options: the schema's when `schema` is a particular
 * one, else `Data` (the adapters' `Schema` is `SessionSchema` itself when none is given).
 */
export type SessionDataFor<S, Data> = SessionSchema extends S ? Data : SchemaSessionData<S>

/**
 * The flash values a `flashSchema` describes, by key: its input type (flash values are stored
 * as they were flashed).
 *
 * @example
 * type Flash = SchemaFlash<typeof flashSchema> // z.object({ notice: z.string() }) → { notice: string }
 */
export type SchemaFlash<S> = 0 extends 1 & InputOf<S>
  ? Record<string, any>
  : string extends keyof InputOf<S>
    ? InputOf<S>
    : Flat<InputOf<S>>
