// A Worker for the KV store, bundled and run by test/runtimes/workerd.ts with a Miniflare KV
// binding (SESSIONS): the store's own tests (registered through the vitest stand-in, one case per
// `/__run?case=N`), and the fetch adapter's contract fixture with sessions in KV, the binding
// read from each request's `env` (`FetchContext.args[0]`), as a deployed Worker does.
import type { FetchContext } from '../../src/adapters/fetch.ts'
import { cloudflareKvStore, type KVNamespaceLike } from '../../src/stores/cloudflare-kv.ts'
import { createFixture } from '../adapters/fixtures/fetch.ts'
import { caseNames, runCase } from './vitest-shim.ts'
import '../stores/cloudflare-kv.workerd.ts'

interface Env {
  SESSION_SECRET: string
  SESSIONS: KVNamespaceLike & { list(options: { prefix: string }): Promise<{ keys: unknown[] }> }
}

const FIXTURE_PREFIX = 'fixture:'
let fixture: ReturnType<typeof createFixture> | undefined

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { pathname, searchParams } = new URL(request.url)
    if (pathname === '/__cases') return Response.json(caseNames())
    if (pathname === '/__run') return Response.json(await runCase(Number(searchParams.get('case'))))
    if (pathname === '/__size') {
      return Response.json((await env.SESSIONS.list({ prefix: FIXTURE_PREFIX })).keys.length)
    }
    fixture ??= createFixture({
      secret: env.SESSION_SECRET,
      store: cloudflareKvStore<FetchContext<[Env]>>({
        namespace: ({ args: [env] }) => env.SESSIONS,
        prefix: FIXTURE_PREFIX,
      }),
    })
    return fixture.fetch(request, env)
  },
}
