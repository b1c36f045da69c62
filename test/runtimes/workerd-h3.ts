// h3 migration on workerd without nodejs_compat, for test/runtimes/workerd.ts: a cookie minted by
// h3 2's own useSession (on Node, test/migrate/mint.ts) opens in worker-entry-h3.ts through
// crypto.subtle at 8192 iterations and is replaced by ours; the same cookie with one MAC
// character changed is refused.
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { h3Cookie } from '../migrate/mint.ts'
import { check, type LabelledResults, RUNTIME_SECRET } from './support.ts'

/** Bundles and runs the h3 Worker; answers its result group and a timing note. */
export async function runH3Worker(): Promise<{ groups: LabelledResults[]; note: string }> {
  const t0 = performance.now()
  const bundled = await build({
    entryPoints: [fileURLToPath(new URL('worker-entry-h3.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  const mf = new Miniflare({
    host: '127.0.0.1',
    modules: true,
    script: bundled.outputFiles[0]!.text,
    compatibilityDate: '2025-01-01',
    bindings: { SESSION_SECRET: RUNTIME_SECRET },
  })
  const call = (path: string, init?: RequestInit): Promise<Response> =>
    mf.dispatchFetch(`http://localhost${path}`, init as never) as unknown as Promise<Response>
  const minted = await h3Cookie({ userId: '42' }, { password: RUNTIME_SECRET })
  const sealed = minted.get('h3')!.value
  // The MAC's 11th character, changed: still a canonical MAC, no longer this seal's.
  const at = sealed.length - 33
  const forged = sealed.slice(0, at) + (sealed[at] === 'a' ? 'b' : 'a') + sealed.slice(at + 1)
  const visit = async (value: string) => {
    const res = await call('/', { headers: { cookie: `h3=${value}` } })
    const body = (await res.json()) as { isNew: boolean; userId: string | null }
    const cleared = res.headers.getSetCookie().some((c) => /^h3=;.*Max-Age=0/i.test(c))
    const info = (await (await call('/__runtime')).json()) as {
      nodeCrypto: boolean
      iterations: number[]
    }
    return { ...body, cleared, ...info }
  }
  try {
    await mf.ready
    const opened = await visit(sealed)
    const refused = await visit(forged)
    const results = [
      check(
        'an h3 2 cookie opens on crypto.subtle (8192 iterations), h3 is cleared',
        !opened.nodeCrypto &&
          opened.userId === '42' &&
          !opened.isNew &&
          opened.cleared &&
          opened.iterations.includes(8192),
        JSON.stringify(opened),
      ),
      check(
        'the same cookie with its MAC changed is a fresh session',
        refused.isNew && refused.userId === null && refused.iterations.includes(8192),
        JSON.stringify(refused),
      ),
    ]
    return {
      groups: [{ label: 'h3() migration on workerd', results }],
      note: `h3 worker: ${Math.round(performance.now() - t0)} ms`,
    }
  } finally {
    await mf.dispose()
  }
}
