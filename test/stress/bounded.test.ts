// The stress files handle one entry per answer (100k and more in a full run), and a spread in a
// call (`Math.max(...answers)`, `xs.push(...answers)`) puts every entry on the stack: past about
// 120k arguments V8 throws `RangeError: Maximum call stack size exceeded`, which is how the full
// run once died after its fault runs. So no file under test/stress/ spreads into a call; use a
// loop or a reducer. Runs with `npm test`, not only in the (long) stress run.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const DIR = fileURLToPath(new URL('./', import.meta.url))

/** `file:line: text` of every spread argument of a call or `new` in `source`. */
function spreadArguments(file: string, source: string): string[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true)
  const found: string[] = []
  const visit = (node: ts.Node) => {
    if (
      ts.isSpreadElement(node) &&
      (ts.isCallExpression(node.parent) || ts.isNewExpression(node.parent))
    ) {
      const { line } = sf.getLineAndCharacterOfPosition(node.getStart())
      found.push(`${file}:${line + 1}: ${node.parent.getText().slice(0, 80)}`)
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return found
}

describe('stress files', () => {
  it('finds a spread argument where there is one (and not in array or object literals)', () => {
    const sample = [
      'const a = [...xs]',
      'const o = { ...x }',
      'const m = Math.max(...answers.map((a) => a.latency))',
      'ys.push(...xs)',
      'new Set(...xs)',
    ].join('\n')
    expect(spreadArguments('sample.ts', sample).map((f) => f.split(':')[1])).toEqual([
      '3',
      '4',
      '5',
    ])
  })

  it('spread nothing into a call', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.ts'))
    expect(files).toContain('faults.stress.ts')
    const found = files.flatMap((f) => spreadArguments(f, readFileSync(DIR + f, 'utf8')))
    expect(found).toEqual([])
  })
})
