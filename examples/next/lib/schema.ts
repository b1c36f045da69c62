import { nextSession } from 'sealed-session/next'
import { z } from 'zod'

// A session typed and checked by zod: `visits` starts at 0 from the schema's default, a cookie
// whose data fails the schema opens as a new session, and flash values are checked too.
export const schemaSession = nextSession({
  secret: process.env.SESSION_SECRET,
  cookieName: 'typed',
  schema: z.object({ visits: z.number().int().default(0), name: z.string().optional() }),
  flashSchema: z.object({ notice: z.string() }),
})
