// The CI checks scripts/cycles.mjs and scripts/footprint.mjs, run as CI runs them (a node
// process) on small package trees written to a temp dir, so they pass or fail on what the
// fixture holds rather than on the state of src/ today.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const SCRIPTS = fileURLToPath(new URL('../scripts/', import.meta.url))
const TIMEOUT = 30_000
const trees: string[] = []

afterAll(() => {
  for (const dir of trees) rmSync(dir, { recursive: true, force: true })
})

/** A package tree in a fresh temp dir: path relative to the root → file contents. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'sealed-session-tooling-'))
  trees.push(root)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  return root
}

function run(script: string, ...args: string[]) {
  const r = spawnSync('node', [join(SCRIPTS, script), ...args], { encoding: 'utf8' })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('cycles.mjs', () => {
  it(
    'reports a cycle made only of type imports (import type, export type from, typeof import)',
    () => {
      const root = tree({
        'src/core/a.ts': "import type { C } from './b.ts'\nexport interface A { c?: C }\n",
        'src/core/b.ts': "export type { C } from './c.ts'\n",
        'src/core/c.ts': "export type C = typeof import('./a.ts')\n",
      })
      const r = run('cycles.mjs', '--root', root)
      expect(r.code).toBe(1)
      expect(r.stdout).toContain('file-level cycles: 1\n')
      expect(r.stdout).toContain('  core/a.ts -> core/b.ts -> core/c.ts -> core/a.ts\n')
      expect(r.stdout).toContain(
        '    type-only: core/a.ts -> core/b.ts, core/b.ts -> core/c.ts, core/c.ts -> core/a.ts\n',
      )
    },
    TIMEOUT,
  )

  it(
    'reports a cycle through a dynamic import() once, from its smallest file',
    () => {
      const root = tree({
        'src/y.ts': "import { load } from './x.ts'\nexport const y = load\n",
        'src/x.ts': "export const load = () => import('./y.ts')\n",
      })
      const r = run('cycles.mjs', '--root', root)
      expect(r.code).toBe(1)
      expect(r.stdout).toContain('file-level cycles: 1\n  x.ts -> y.ts -> x.ts\n')
      expect(r.stdout).not.toContain('type-only')
    },
    TIMEOUT,
  )

  it(
    'reports a cycle between top-level folders even when no file cycle exists',
    () => {
      const root = tree({
        'src/core/engine.ts': "import { seal } from '../encoders/iron.ts'\nexport const e = seal\n",
        'src/core/cache.ts': 'export class Cache {}\n',
        'src/encoders/iron.ts':
          "import { Cache } from '../core/cache.ts'\nexport const seal = Cache\n",
      })
      const r = run('cycles.mjs', '--root', root)
      expect(r.code).toBe(1)
      expect(r.stdout).toContain('file-level cycles: 0\n')
      expect(r.stdout).toContain(
        'folder-level cycles: 1\n' +
          '  core/ -> encoders/ -> core/\n' +
          '    core/ -> encoders/: core/engine.ts -> encoders/iron.ts\n' +
          '    encoders/ -> core/: encoders/iron.ts -> core/cache.ts\n',
      )
    },
    TIMEOUT,
  )

  it(
    'passes a clean tree, counting files and imports, ignoring packages and comments',
    () => {
      const root = tree({
        'src/index.ts': "export { engine } from './core/engine.ts'\n",
        'src/core/engine.ts':
          "import { z } from 'zod'\nimport type { T } from './types.ts'\nexport const engine = (t: T) => z.string().parse(t)\n",
        // A JSDoc example naming an adapter is not an import: counted, it would make a cycle.
        'src/core/types.ts':
          "/** @example import { session } from '../adapters/hono.ts' */\nexport type T = string\n",
        'src/adapters/hono.ts':
          "import { engine } from '../core/engine.ts'\nexport * from '../index.ts'\nexport const session = engine\n",
      })
      const r = run('cycles.mjs', '--root', root)
      expect(r.stdout).toBe('no import cycles (4 files, 4 imports)\n')
      expect(r.code).toBe(0)
    },
    TIMEOUT,
  )
})

describe('footprint.mjs', () => {
  const root = tree({
    'package.json': JSON.stringify({
      name: 'sealed-session',
      type: 'module',
      sideEffects: false,
      exports: {
        '.': { types: './dist/index.d.ts', default: './dist/index.js' },
        './hono': { types: './dist/adapters/hono.d.ts', default: './dist/adapters/hono.js' },
        './stores/*': { types: './dist/stores/*.d.ts', default: './dist/stores/*.js' },
        './package.json': './package.json',
      },
    }),
    'src/index.ts': "export { seal } from './core/seal.ts'\n",
    'src/core/seal.ts': "export const seal = (s: string): string => [...s].reverse().join('')\n",
    // hono is not installed in the fixture: the bundle builds only if hono/* stays external.
    'src/adapters/hono.ts': [
      "import { createMiddleware } from 'hono/factory'",
      "import { seal } from '../core/seal.ts'",
      'export const session = () => createMiddleware(async (c, next) => { c.set(seal("s"), 1); await next() })',
      // A Worker app importing { session } must not pay for this.
      `export const unused = () => ${JSON.stringify(Array.from({ length: 300 }, (_, i) => `w${i}`))}`,
      '',
    ].join('\n'),
    'src/stores/memory.ts': 'export const memoryStore = () => new Map()\n',
    'src/stores/_shared.ts': 'export const shared = 1\n',
  })
  const row = (stdout: string, label: string) => {
    const m = stdout.match(
      new RegExp(`^\\| \`${label.replace(/[{}()]/g, '\\$&')}\` \\| (\\d+) \\| (\\d+) \\|`, 'm'),
    )
    return m ? { min: Number(m[1]), gzip: Number(m[2]) } : undefined
  }

  it(
    'measures each exported subpath, and /hono both as { session } and as the whole module',
    () => {
      const r = run('footprint.mjs', '--root', root)
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      for (const label of ['sealed-session', 'sealed-session/stores/memory']) {
        expect(row(r.stdout, label)).toBeDefined()
      }
      expect(r.stdout).not.toContain('_shared')
      const app = row(r.stdout, 'sealed-session/hono { session }')
      const whole = row(r.stdout, 'sealed-session/hono (whole module)')
      expect(app).toBeDefined()
      expect(whole).toBeDefined()
      // Tree-shaken: the ~2 KB `unused` array is in the whole module only.
      expect(whole!.min - app!.min).toBeGreaterThan(1500)
      expect(app!.gzip).toBeLessThan(app!.min)
      expect(r.stdout).toMatch(/^\| `src\/adapters\/hono\.ts` \| \d+ \| [\d.]+ % \|$/m)
      expect(r.stdout).toMatch(/^\| `src\/core\/seal\.ts` \| \d+ \| [\d.]+ % \|$/m)
    },
    TIMEOUT,
  )

  it(
    '--check exits 1 naming the size and the budget when /hono is over it',
    () => {
      const r = run('footprint.mjs', '--root', root, '--check', '--budget', '10')
      expect(r.code).toBe(1)
      const gzip = row(r.stdout, 'sealed-session/hono { session }')!.gzip
      expect(r.stderr).toBe(
        `check:size: sealed-session/hono { session } is ${gzip} B gzip, over its budget of 10 B by ${gzip - 10} B\n`,
      )
      expect(r.stdout).toContain('| 10 (over) |')
    },
    TIMEOUT,
  )

  it(
    '--check exits 0 when every budgeted subpath fits',
    () => {
      const r = run('footprint.mjs', '--root', root, '--check', '--budget', '100000')
      expect(r.code).toBe(0)
      expect(r.stdout).toContain('| 100000 (ok) |')
      expect(r.stdout).toContain('check:size: every budgeted subpath is within its budget\n')
    },
    TIMEOUT,
  )
})
