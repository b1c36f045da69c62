// The KV store on workerd, for test/runtimes/workerd.ts: worker-entry-kv.ts bundled with
// `vitest` mapped to the stand-in, run once in Miniflare with a real (local) KV namespace: every
// registered store case, then the adapter contract against the fetch fixture keeping its
// sessions in KV.
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import type { ContractResult } from '../adapters/contract.ts'
import { type ContractClient, runContract } from '../adapters/contract.ts'
import { type LabelledResults, RUNTIME_SECRET } from './support.ts'

/** Bundles and runs the KV Worker; answers its result groups and a timing note. */
export async function runKvWorker(): Promise<{ groups: LabelledResults[]; note: string }> {
  const t0 = performance.now()
  const bundled = await build({
    entryPoints: [fileURLToPath(new URL('worker-entry-kv.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    alias: { vitest: fileURLToPath(new URL('vitest-shim.ts', import.meta.url)) },
    // Provided by workerd itself.
    external: ['cloudflare:workers'],
    // package.json says "sideEffects": false (true of src/); the test files register cases.
    ignoreAnnotations: true,
    write: false,
    logLevel: 'silent',
  })
  const script = bundled.outputFiles[0]!.text
  const mf = new Miniflare({
    host: '127.0.0.1',
    modules: true,
    script,
    compatibilityDate: '2025-01-01',
    kvNamespaces: ['SESSIONS'],
    bindings: { SESSION_SECRET: RUNTIME_SECRET },
  })
  const call = (path: string, init?: RequestInit): Promise<Response> =>
    mf.dispatchFetch(`http://localhost${path}`, init as never) as unknown as Promise<Response>
  try {
    await mf.ready
    const names = (await (await call('/__cases')).json()) as string[]
    const store: ContractResult[] = []
    for (const [i] of names.entries()) {
      store.push((await (await call(`/__run?case=${i}`)).json()) as ContractResult)
    }
    // KV is read outside the handler after each request, so the contract sees its key count.
    let size = 0
    const client: ContractClient = {
      async request(path, init) {
        const res = await call(path, { ...init, redirect: 'manual' })
        const body = await res.arrayBuffer()
        size = (await (await call('/__size')).json()) as number
        return new Response(body, { status: res.status, headers: res.headers })
      },
    }
    const adapter = await runContract(client, { store: true, storeSize: () => size })
    return {
      groups: [
        { label: 'cloudflareKvStore on workerd', results: store },
        { label: 'fetch on workerd, sessions in KV (env per request)', results: adapter },
      ],
      note: `KV worker (${Math.round(script.length / 1024)} KiB): ${names.length} store cases and the adapter contract in ${Math.round(performance.now() - t0)} ms`,
    }
  } finally {
    await mf.dispose()
  }
}
