/**
 * Type tests for the fetch adapter on Bun: a handler given to Bun.serve's `routes` receives
 * Bun's own request type (`BunRequest` with typed `params`). Compiled with Bun's types in a
 * compilation of its own (tsconfig.bun.json), never run.
 */
import type { Session } from 'sealed-session'
import { withSession } from 'sealed-session/fetch'
import { type Equal, expect } from './helpers.ts'

const secret = 'x'.repeat(32)

Bun.serve({
  routes: {
    // The data type from the session parameter: Req is still inferred from the route.
    '/users/:id': withSession({ secret }, (request, session: Session<{ userId?: string }>) => {
      expect<Equal<typeof request.params.id, string>>()
      expect<Equal<typeof session.userId, string | undefined>>()
      return new Response(request.params.id)
    }),
  },
  fetch: withSession({ secret }, (request, session, server) => {
    expect<Equal<typeof session, Session>>()
    server.requestIP(request)
    return new Response('ok')
  }),
})
