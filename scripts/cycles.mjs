// `npm run check:cycles`: the import graph of src/**/*.ts — every `import`, `import type`,
// `export ... from`, `export type ... from`, `import('...')` and `typeof import('...')` — and
// every cycle in it, between files and between the top-level folders under src/ (root files are
// the folder "."). Type-only edges count: a type cycle still ties two modules' designs together.
// Exits 1 when there is any cycle.
//
//   node scripts/cycles.mjs [--root DIR]      DIR/src instead of this package's src/
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { parseArgs } from 'node:util'
import ts from 'typescript'

// Past this many cycles the graph is a knot; listing more helps nobody.
const MAX_CYCLES = 200

const { values: args } = parseArgs({
  options: { root: { type: 'string', default: resolve(import.meta.dirname, '..') } },
})
const srcDir = join(resolve(args.root), 'src')

/** Every .ts file under dir (declaration files excluded), as paths relative to src/ with `/`. */
function listFiles(dir) {
  const out = []
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...listFiles(path))
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(toId(path))
  }
  return out
}
const toId = (path) => relative(srcDir, path).split(sep).join('/')

/** Module specifiers of one file, each with whether only types come through it. */
function specifiers(file) {
  const text = readFileSync(join(srcDir, file), 'utf8')
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS)
  const found = []
  const literal = (node) => (node && ts.isStringLiteralLike(node) ? node.text : undefined)
  const visit = (node) => {
    let spec
    let typeOnly = false
    if (ts.isImportDeclaration(node)) {
      spec = literal(node.moduleSpecifier)
      typeOnly = node.importClause?.isTypeOnly ?? false
    } else if (ts.isExportDeclaration(node)) {
      spec = literal(node.moduleSpecifier)
      typeOnly = node.isTypeOnly
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference)
    ) {
      spec = literal(node.moduleReference.expression)
      typeOnly = node.isTypeOnly
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      spec = literal(node.arguments[0])
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      spec = literal(node.argument.literal)
      typeOnly = true
    }
    if (spec !== undefined) found.push({ spec, typeOnly })
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

/** The src file a relative specifier names (`./x.ts`, `./x.js` or `./x` → x.ts), or undefined. */
function resolveSpec(from, spec) {
  const base = resolve(srcDir, dirname(from), spec)
  const candidates = [base, base.replace(/\.[mc]?js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')]
  const hit = candidates.find((c) => c.endsWith('.ts') && existsSync(c) && statSync(c).isFile())
  return hit && toId(hit)
}

/**
 * Every elementary cycle of a directed graph, each once, starting at its smallest node
 * (Johnson's algorithm: linear per cycle found, so a dense graph cannot blow up the search).
 */
function elementaryCycles(nodes, edges, limit) {
  const order = [...nodes].sort()
  const cycles = []
  for (let i = 0; i < order.length && cycles.length < limit; i++) {
    const start = order[i]
    const allowed = new Set(order.slice(i))
    const component = strongComponentOf(start, allowed, edges)
    const next = (v) => [...(edges.get(v) ?? [])].filter((w) => component.has(w))
    const blocked = new Set()
    const blockers = new Map()
    const stack = []
    const unblock = (v) => {
      blocked.delete(v)
      for (const w of blockers.get(v) ?? []) if (blocked.has(w)) unblock(w)
      blockers.delete(v)
    }
    const circuit = (v) => {
      let closed = false
      stack.push(v)
      blocked.add(v)
      for (const w of next(v)) {
        if (cycles.length >= limit) break
        if (w === start) {
          cycles.push([...stack, start])
          closed = true
        } else if (!blocked.has(w) && circuit(w)) closed = true
      }
      if (closed) unblock(v)
      else for (const w of next(v)) blockers.set(w, (blockers.get(w) ?? new Set()).add(v))
      stack.pop()
      return closed
    }
    if (component.size > 1 || edges.get(start)?.has(start)) circuit(start)
  }
  return cycles
}

/** The nodes that reach `start` and are reached from it, within `allowed`. */
function strongComponentOf(start, allowed, edges) {
  const reach = (adjacency) => {
    const seen = new Set([start])
    const todo = [start]
    while (todo.length > 0) {
      for (const w of adjacency(todo.pop())) {
        if (allowed.has(w) && !seen.has(w)) {
          seen.add(w)
          todo.push(w)
        }
      }
    }
    return seen
  }
  const forward = reach((v) => edges.get(v) ?? [])
  const backward = reach((v) => [...edges].filter(([, ws]) => ws.has(v)).map(([u]) => u))
  return new Set([...forward].filter((v) => backward.has(v)))
}

const addEdge = (edges, from, to) => {
  if (!edges.has(from)) edges.set(from, new Set())
  edges.get(from).add(to)
}

const files = listFiles(srcDir)
const fileEdges = new Map()
// An edge is type-only when every import along it is; one runtime import makes it runtime.
const runtimeEdges = new Set()
const unresolved = []
for (const file of files) {
  for (const { spec, typeOnly } of specifiers(file)) {
    if (!spec.startsWith('.')) continue
    const target = resolveSpec(file, spec)
    if (target === undefined) {
      unresolved.push(`${file}: '${spec}'`)
      continue
    }
    addEdge(fileEdges, file, target)
    if (!typeOnly) runtimeEdges.add(`${file} -> ${target}`)
  }
}
const importCount = [...fileEdges.values()].reduce((n, targets) => n + targets.size, 0)

const folderOf = (file) => (file.includes('/') ? `${file.slice(0, file.indexOf('/'))}/` : '.')
const folderEdges = new Map()
// For each folder edge, the first file import that makes it: what to look at to break it.
const witness = new Map()
for (const [from, targets] of fileEdges) {
  for (const to of [...targets].sort()) {
    const [a, b] = [folderOf(from), folderOf(to)]
    if (a === b) continue
    addEdge(folderEdges, a, b)
    if (!witness.has(`${a} -> ${b}`)) witness.set(`${a} -> ${b}`, `${from} -> ${to}`)
  }
}

const fileCycles = elementaryCycles(files, fileEdges, MAX_CYCLES)
const folderCycles = elementaryCycles(new Set(files.map(folderOf)), folderEdges, MAX_CYCLES)
const steps = (cycle) => cycle.slice(1).map((to, i) => `${cycle[i]} -> ${to}`)

for (const line of unresolved) console.error(`cycles: unresolved relative import in ${line}`)
if (fileCycles.length === 0 && folderCycles.length === 0) {
  console.log(`no import cycles (${files.length} files, ${importCount} imports)`)
  process.exit(0)
}
const more = (list) => (list.length >= MAX_CYCLES ? ` (stopped at ${MAX_CYCLES})` : '')
console.log(`import cycles in ${files.length} files, ${importCount} imports`)
console.log(`\nfile-level cycles: ${fileCycles.length}${more(fileCycles)}`)
for (const cycle of fileCycles) {
  console.log(`  ${cycle.join(' -> ')}`)
  const typeOnly = steps(cycle).filter((step) => !runtimeEdges.has(step))
  if (typeOnly.length > 0) console.log(`    type-only: ${typeOnly.join(', ')}`)
}
console.log(`\nfolder-level cycles: ${folderCycles.length}${more(folderCycles)}`)
for (const cycle of folderCycles) {
  console.log(`  ${cycle.join(' -> ')}`)
  for (const step of steps(cycle)) console.log(`    ${step}: ${witness.get(step)}`)
}
process.exit(1)
