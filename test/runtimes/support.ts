// Shared by the Deno and workerd runners and the Worker entries: Web APIs only, no node: imports.
import type { SessionSchema } from '../../src/core/types.ts'
import type { ContractResult } from '../adapters/contract.ts'
import { contractSchemas } from '../adapters/contract-schemas.ts'

/** A secret long enough for every option check (the runners never read one from the env). */
export const RUNTIME_SECRET = 'runtime-secret-0123456789-abcdefghijklmnopqrstuvwxyz'

const SUBTLE_METHODS = [
  'deriveBits',
  'deriveKey',
  'importKey',
  'sign',
  'verify',
  'encrypt',
  'decrypt',
]

/**
 * Counts WebCrypto (`crypto.subtle`) calls made from now on, so a runner can prove which crypto
 * path the engine took: the node:crypto path makes none, the WebCrypto path makes several per seal.
 *
 * @example
 * const spy = spyOnSubtle(); await app.fetch(req); console.log(spy.calls)
 */
export function spyOnSubtle(): { readonly calls: number } {
  const counter = { calls: 0 }
  const subtle = globalThis.crypto.subtle as unknown as Record<
    string,
    (...args: unknown[]) => unknown
  >
  for (const name of SUBTLE_METHODS) {
    const original = subtle[name]
    if (typeof original !== 'function') continue
    // An own property shadows the prototype method; the engine calls `crypto.subtle.<name>`.
    subtle[name] = (...args: unknown[]) => {
      counter.calls++
      return original.apply(subtle, args)
    }
  }
  return counter
}

/** One group of contract results, labelled by adapter, runtime, transport and mode. */
export interface LabelledResults {
  label: string
  results: ContractResult[]
}

/**
 * Prints one line per case and the closing `contract: N passed, M failed` line over every group;
 * answers the number of failures.
 *
 * @example
 * process.exitCode = report(groups) > 0 ? 1 : 0
 */
export function report(
  groups: LabelledResults[],
  log: (line: string) => void = console.log,
): number {
  let passed = 0
  let failed = 0
  for (const { label, results } of groups) {
    for (const r of results) {
      if (r.ok) passed++
      else failed++
      log(`${r.ok ? 'ok  ' : 'FAIL'} ${label}: ${r.name}${r.error ? ` — ${r.error}` : ''}`)
    }
  }
  log(`contract: ${passed} passed, ${failed} failed`)
  return failed
}

/** A result line for a runtime check that is not a contract case (such as the crypto path). */
export function check(name: string, ok: boolean, detail: string): ContractResult {
  return ok ? { name, ok } : { name, ok, error: detail }
}

/** A fixture app: anything with a Web-standard `fetch(request)`. */
export interface FixtureApp {
  fetch(request: Request): Response | Promise<Response>
}

/** Bindings the Worker entries read: the secret, as a deployed Worker would get it. */
export interface WorkerEnv {
  SESSION_SECRET: string
}

/** What a Worker entry's `/__runtime` route reports to the runner. */
export interface WorkerRuntimeInfo {
  nodeCrypto: boolean
  subtleCalls: number
  storeSize: number | null
  hasProcess: boolean
}

/**
 * A Worker (`export default { fetch }`) serving a fixture, plus routes for the runner:
 * `POST /__reset?mode=sealed|store[&schema=zod|valibot|arktype]` builds a fresh fixture (and
 * Map) for the next run, with that contract schema (contract-schemas.ts), and the same fixture
 * without it under `/__plain/…` (the schema cases' `unchecked`); `GET /__runtime` reports the
 * crypto path taken and the store size.
 *
 * @example
 * export default fixtureWorker((secret, store, schema) => createFixture({ secret, store, schema }), nodeCrypto !== undefined)
 */
export function fixtureWorker(
  create: (secret: string, store?: Map<string, unknown>, schema?: SessionSchema) => FixtureApp,
  nodeCryptoLoaded: boolean,
): { fetch(request: Request, env: WorkerEnv): Promise<Response> } {
  const subtle = spyOnSubtle()
  let store: Map<string, unknown> | undefined
  let app: FixtureApp | undefined
  let plain: FixtureApp | undefined
  return {
    async fetch(request, env) {
      const url = new URL(request.url)
      const { pathname, searchParams } = url
      if (pathname === '/__reset') {
        store = searchParams.get('mode') === 'store' ? new Map() : undefined
        const library = searchParams.get('schema') as keyof typeof contractSchemas | null
        app = create(env.SESSION_SECRET, store, library ? contractSchemas[library] : undefined)
        plain = library ? create(env.SESSION_SECRET, store) : undefined
        return new Response('ok')
      }
      if (pathname.startsWith('/__plain/') && plain) {
        url.pathname = pathname.slice('/__plain'.length)
        return plain.fetch(new Request(url, request))
      }
      if (pathname === '/__runtime') {
        const info: WorkerRuntimeInfo = {
          nodeCrypto: nodeCryptoLoaded,
          subtleCalls: subtle.calls,
          storeSize: store ? store.size : null,
          hasProcess: typeof (globalThis as { process?: unknown }).process === 'object',
        }
        return Response.json(info)
      }
      app ??= create(env.SESSION_SECRET, store)
      return app.fetch(request)
    },
  }
}
