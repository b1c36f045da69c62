// The adapter contract for Hono and the fetch adapter, sealed and store mode, each in-process
// and through a real HTTP server on 127.0.0.1 (Bun.serve under Bun, node:http under Node).
// Runs unchanged under `vitest run` (Node 20 and 24) and `bun test`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSessionHandler } from '../../src/adapters/fetch.ts'
import { SECRET } from '../support.ts'
import {
  type ContractClient,
  type ContractOptions,
  contractCases,
  inProcess,
  overHttp,
  runContract,
  schemaCases,
} from './contract.ts'
import { contractSchemas } from './contract-schemas.ts'
import { createFixture as fetchFixture } from './fixtures/fetch.ts'
import { createFixture as honoFixture } from './fixtures/hono.ts'
import { type Listening, listen } from './http.ts'

const adapters = { hono: honoFixture, fetch: fetchFixture }
const runtime =
  'Bun' in globalThis ? `bun ${(globalThis as any).Bun.version}` : `node ${process.version}`
const httpServer = 'Bun' in globalThis ? 'Bun.serve' : 'node:http'

for (const [adapter, createFixture] of Object.entries(adapters)) {
  for (const mode of ['sealed', 'store'] as const) {
    for (const via of ['in-process', 'http'] as const) {
      const where = via === 'http' ? `http via ${httpServer}` : 'in-process'
      describe(`${adapter} adapter, ${mode}, ${where}, ${runtime}`, () => {
        const map = new Map<string, unknown>()
        const app = createFixture({ secret: SECRET, store: mode === 'store' ? map : undefined })
        const options: ContractOptions =
          mode === 'store' ? { store: true, storeSize: () => map.size } : {}
        let server: Listening | undefined
        let target: ContractClient = inProcess(app)
        const client: ContractClient = { request: (path, init) => target.request(path, init) }

        beforeAll(async () => {
          if (via === 'http') {
            server = await listen((request) => app.fetch(request))
            expect(server.server).toBe(httpServer === 'Bun.serve' ? 'bun' : 'node')
            target = overHttp(server.base)
          }
        })
        afterAll(() => server?.close())

        for (const c of contractCases) it(c.name, () => c.run(client, options))
      })
    }
  }
}

// The schema the schema cases expect (see contract.ts), in zod, valibot and arktype.
for (const [adapter, createFixture] of Object.entries(adapters)) {
  for (const [library, schema] of Object.entries(contractSchemas)) {
    for (const mode of ['sealed', 'store'] as const) {
      describe(`${adapter} adapter with a schema (${library}), ${mode}, in-process, ${runtime}`, () => {
        const map = new Map<string, unknown>()
        const store = mode === 'store' ? map : undefined
        const app = createFixture({ secret: SECRET, store, schema })
        const unchecked = inProcess(createFixture({ secret: SECRET, store }))
        const options: ContractOptions =
          mode === 'store' ? { store: true, storeSize: () => map.size, unchecked } : { unchecked }
        const client = inProcess(app)
        // The plain contract once per adapter and mode; the schema cases with each library.
        const cases = library === 'zod' ? [...contractCases, ...schemaCases] : schemaCases
        for (const c of cases) it(c.name, () => c.run(client, options))
      })
    }
  }
}

describe('the contract itself', () => {
  it('has the eleven cases every adapter runs', () => {
    expect(contractCases).toHaveLength(11)
    expect(new Set(contractCases.map((c) => c.name)).size).toBe(11)
  })

  it('fails an adapter that commits a session after the handler threw', async () => {
    // A careless adapter: commits whatever the handler left, even when it threw.
    const { getSession, commitSession } = createSessionHandler({ secret: SECRET })
    const good = fetchFixture({ secret: SECRET })
    const careless = {
      async fetch(request: Request) {
        if (new URL(request.url).pathname !== '/throw') return good.fetch(request)
        const session = await getSession(request)
        session.userId = 'evil'
        return commitSession(session, new Response('internal error', { status: 500 }))
      },
    }
    const results = await runContract(inProcess(careless))
    const failed = results.filter((r) => !r.ok)
    expect(failed.map((r) => r.name)).toEqual(['a throwing handler writes nothing'])
    expect(failed[0]?.error).toContain('Set-Cookie after a throw')
  })

  it('fails an adapter that never writes the session', async () => {
    const forgetful = {
      fetch: async (request: Request) => {
        const res = await fetchFixture({ secret: SECRET }).fetch(request)
        return new Response(res.body, { status: res.status, headers: { 'content-type': 'x' } })
      },
    }
    const results = await runContract(inProcess(forgetful))
    // Every case needs a session that survives a request, so every case fails.
    expect(results.filter((r) => r.ok)).toEqual([])
    expect(results).toHaveLength(11)
  })
})
