// The schema the contract's schema cases expect (contract.ts), in each Standard Schema library
// the package is tested with: `{ userId?: string, notice?: string, count: integer = 0 }`. Web
// APIs only, so the Deno and workerd runners import it too.
import { type } from 'arktype'
import * as v from 'valibot'
import { z } from 'zod'
import type { SessionSchema } from '../../src/core/types.ts'

export const contractSchemas: Record<'zod' | 'valibot' | 'arktype', SessionSchema> = {
  zod: z.object({
    userId: z.string().optional(),
    notice: z.string().optional(),
    count: z.number().int().default(0),
  }),
  valibot: v.object({
    userId: v.optional(v.string()),
    notice: v.optional(v.string()),
    count: v.optional(v.pipe(v.number(), v.integer()), 0),
  }),
  arktype: type({ 'userId?': 'string', 'notice?': 'string', count: 'number.integer = 0' }),
}
