// A Cloudflare Worker that migrates h3 sessions (`migrateFrom: [h3()]`), bundled and run by
// test/runtimes/workerd-h3.ts without nodejs_compat: h3 2's 8192-round seals open on
// crypto.subtle. Every PBKDF2 iteration count it asks crypto.subtle for is recorded.
import { Hono } from 'hono'
import { session } from '../../src/adapters/hono.ts'
import { nodeCrypto } from '../../src/crypto/node-crypto.ts'
import { h3 } from '../../src/migrate/index.ts'
import type { WorkerEnv } from './support.ts'

const iterations: number[] = []
const subtle = crypto.subtle as unknown as Record<string, (...args: unknown[]) => unknown>
const deriveKey = subtle.deriveKey!
// An own property shadows the prototype method; the code calls `crypto.subtle.deriveKey`.
subtle.deriveKey = (...args: unknown[]) => {
  iterations.push((args[0] as { iterations: number }).iterations)
  return deriveKey.apply(crypto.subtle, args)
}

let app: { fetch(request: Request): Response | Promise<Response> } | undefined

export default {
  fetch(request: Request, env: WorkerEnv): Response | Promise<Response> {
    if (new URL(request.url).pathname === '/__runtime') {
      const info = { nodeCrypto: nodeCrypto !== undefined, iterations: iterations.splice(0) }
      return Response.json(info)
    }
    app ??= new Hono()
      .use(session<{ userId?: string }>({ secret: env.SESSION_SECRET, migrateFrom: [h3()] }))
      .get('/', (c) => c.json({ isNew: c.session.isNew, userId: c.session.userId ?? null }))
    return app.fetch(request)
  },
}
