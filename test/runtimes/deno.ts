// The adapter contract on Deno: the Hono and fetch-adapter fixtures, each in-process and through
// a real Deno.serve on 127.0.0.1, sealed and with a Map store; the schema cases with zod, valibot
// and arktype (in-process); then the Deno KV store's tests
// (the shared store contract and its own cases), written for vitest and run here through the
// stand-in the import map puts in place of `vitest`.
//
//   npm run test:deno   (the flags: package.json)
//
// TypeScript and the npm packages (hono, zod, valibot, arktype) load from node_modules as they are;
// Deno.openKv needs --unstable-kv (Deno 2.9), the store tests write under .tmp/.
import { nodeCrypto } from '../../src/crypto/node-crypto.ts'
import {
  type ContractClient,
  type ContractOptions,
  inProcess,
  overHttp,
  runContract,
  schemaCases,
} from '../adapters/contract.ts'
import { contractSchemas } from '../adapters/contract-schemas.ts'
import { createFixture as fetchFixture } from '../adapters/fixtures/fetch.ts'
import { createFixture as honoFixture } from '../adapters/fixtures/hono.ts'
import {
  check,
  type FixtureApp,
  type LabelledResults,
  RUNTIME_SECRET,
  report,
  spyOnSubtle,
} from './support.ts'
import { caseNames, runCase } from './vitest-shim.ts'
import '../stores/deno-kv.deno.ts'

// Typed here rather than through Deno's lib, so `tsc -p tsconfig.json` checks this file too.
interface DenoServer {
  readonly addr: { port: number }
  shutdown(): Promise<void>
}
interface DenoGlobal {
  version: { deno: string }
  serve(
    options: { port: number; hostname: string; onListen?: () => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): DenoServer
  exit(code: number): never
}
const Deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno

const fixtures = { hono: honoFixture, fetch: fetchFixture }

const started = performance.now()
const subtle = spyOnSubtle()
const groups: LabelledResults[] = []

for (const [name, createFixture] of Object.entries(fixtures)) {
  for (const mode of ['sealed', 'store'] as const) {
    for (const via of ['in-process', 'Deno.serve'] as const) {
      const map = new Map<string, unknown>()
      const app: FixtureApp = createFixture({
        secret: RUNTIME_SECRET,
        store: mode === 'store' ? map : undefined,
      })
      const options: ContractOptions =
        mode === 'store' ? { store: true, storeSize: () => map.size } : {}
      let client: ContractClient = inProcess(app)
      let server: DenoServer | undefined
      if (via === 'Deno.serve') {
        server = Deno.serve({ port: 0, hostname: '127.0.0.1', onListen() {} }, (request) =>
          app.fetch(request),
        )
        client = overHttp(`http://127.0.0.1:${server.addr.port}`)
      }
      try {
        groups.push({
          label: `${name} on Deno ${via} ${mode}`,
          results: await runContract(client, options),
        })
      } finally {
        await server?.shutdown()
      }
    }
  }
}

// The schema cases with each Standard Schema library (zod, valibot, arktype), in-process: a new
// session from the defaults, data failing the schema not written, a cookie whose data fails it
// (written by the same fixture without the schema) refused.
for (const [name, createFixture] of Object.entries(fixtures)) {
  for (const [library, schema] of Object.entries(contractSchemas)) {
    for (const mode of ['sealed', 'store'] as const) {
      const map = new Map<string, unknown>()
      const store = mode === 'store' ? map : undefined
      const app = createFixture({ secret: RUNTIME_SECRET, store, schema })
      const unchecked = inProcess(createFixture({ secret: RUNTIME_SECRET, store }))
      const options: ContractOptions =
        mode === 'store' ? { store: true, storeSize: () => map.size, unchecked } : { unchecked }
      groups.push({
        label: `${name} on Deno with a schema (${library}), in-process ${mode}`,
        results: await runContract(inProcess(app), options, schemaCases),
      })
    }
  }
}

// Deno has process.getBuiltinModule, so the engine must take the node:crypto path throughout:
// not one crypto.subtle call in the whole run (the WebCrypto path makes several per seal).
groups.push({
  label: 'Deno',
  results: [
    check('node:crypto is available', nodeCrypto !== undefined, 'process.getBuiltinModule missing'),
    check(
      'no WebCrypto calls (node:crypto path ran)',
      subtle.calls === 0,
      `${subtle.calls} crypto.subtle calls`,
    ),
  ],
})

const storeResults = []
for (const [i] of caseNames().entries()) storeResults.push(await runCase(i))
groups.push({ label: 'denoKvStore on Deno', results: storeResults })

// This run has no env permission (see `npm run test:deno`): NODE_ENV cannot be read, so the
// environment counts as production and secure: 'auto' sets Secure even on http://localhost.
// Deno is asked first (Deno.permissions), so building the engine neither prompts nor throws.
let secure = 'engine not built'
try {
  const app = honoFixture({ secret: RUNTIME_SECRET })
  const res = await app.fetch(new Request('http://localhost/login', { method: 'POST' }))
  secure = res.headers.getSetCookie().join(' | ') || `no Set-Cookie (${res.status})`
} catch (err) {
  secure = `threw ${(err as Error).name}: ${(err as Error).message}`
}
groups.push({
  label: 'Deno without --allow-env',
  results: [check("secure: 'auto' is Secure on http://localhost", /; Secure/.test(secure), secure)],
})

const failed = report(groups)
const crypto = nodeCrypto ? 'node:crypto' : 'WebCrypto'
console.log(
  `deno ${Deno.version.deno}, crypto path ${crypto}, ${Math.round(performance.now() - started)} ms`,
)
Deno.exit(failed > 0 ? 1 : 0)
