// `vitest` for runtimes that cannot run vitest (Deno, workerd): the Deno and workerd runners
// alias the `vitest` import to this file, so a store test written for vitest (the shared store
// contract, a store's own cases) registers here and runs unchanged on the real runtime.
// `expect` is vitest's own (chai with @vitest/expect's matchers), so every assertion means what
// it means under vitest (chai and @vitest/expect are devDependencies, at vitest's versions).
// Only what those files use: describe, it, before/afterEach, expect.

import { JestAsymmetricMatchers, JestChaiExpect, JestExtend } from '@vitest/expect'
import * as chai from 'chai'
import type { ContractResult } from '../adapters/contract.ts'

chai.use(JestExtend)
chai.use(JestChaiExpect)
chai.use(JestAsymmetricMatchers)

type Fn = () => unknown

/** vitest's `expect`, as its types describe it. */
export const expect = chai.expect as unknown as typeof import('vitest').expect

interface Scope {
  name: string
  beforeEach: Fn[]
  afterEach: Fn[]
  parent: Scope | undefined
}

interface Case {
  name: string
  fn: Fn
  scope: Scope
  timeoutMs: number
}

const root: Scope = { name: '', beforeEach: [], afterEach: [], parent: undefined }
let current = root
const cases: Case[] = []

export function describe(name: string, body: () => void): void {
  const scope: Scope = { name, beforeEach: [], afterEach: [], parent: current }
  current = scope
  try {
    body()
  } finally {
    current = scope.parent!
  }
}

export function it(name: string, fn: Fn, timeoutMs = 5000): void {
  const path: string[] = [name]
  for (let s: Scope | undefined = current; s && s !== root; s = s.parent) path.unshift(s.name)
  cases.push({ name: path.join(' > '), fn, scope: current, timeoutMs })
}
export const test = it

export const beforeEach = (fn: Fn) => void current.beforeEach.push(fn)
export const afterEach = (fn: Fn) => void current.afterEach.push(fn)

/** Every registered case's full name (`describe > … > it`), in order. */
export function caseNames(): string[] {
  return cases.map((c) => c.name)
}

function withTimeout(run: Promise<unknown>, ms: number, name: string): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${name}`)), ms)
  })
  return Promise.race([run, timeout]).finally(() => clearTimeout(timer))
}

/**
 * Runs case `index` with its scopes' hooks (outer `beforeEach` first, inner `afterEach` first,
 * as vitest does) and answers its result; an `afterEach` runs even when the case failed.
 *
 * @example
 * for (const [i] of caseNames().entries()) console.log(await runCase(i))
 */
export async function runCase(index: number): Promise<ContractResult> {
  const c = cases[index]
  if (!c) return { name: `case ${index}`, ok: false, error: 'no such case' }
  const scopes: Scope[] = []
  for (let s: Scope | undefined = c.scope; s; s = s.parent) scopes.unshift(s)
  let error: string | undefined
  try {
    for (const s of scopes) for (const hook of s.beforeEach) await hook()
    await withTimeout(Promise.resolve().then(c.fn), c.timeoutMs, c.name)
  } catch (err) {
    error = err instanceof Error ? err.message : String(err)
  }
  for (const s of scopes.reverse()) {
    for (const hook of s.afterEach) {
      try {
        await hook()
      } catch (err) {
        error ??= `afterEach: ${err instanceof Error ? err.message : String(err)}`
      }
    }
  }
  return error === undefined ? { name: c.name, ok: true } : { name: c.name, ok: false, error }
}
