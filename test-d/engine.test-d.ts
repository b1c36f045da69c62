/**
 * Type tests for `sessionEngine()`, the engine interface for frameworks without an adapter.
 * Compiled, never run.
 */
import {
  type SessionCommit,
  type SessionCookie,
  type SessionEngine,
  type SessionHandle,
  type SessionRequest,
  sessionEngine,
  type WriteMeta,
} from 'sealed-session'
import { type Equal, expect } from './helpers.ts'

const secret = 'x'.repeat(32)
const request: SessionRequest = { header: () => undefined, url: () => 'https://example.com/' }

async function typed() {
  const engine = sessionEngine<{ visits?: number }, { id: number }>({ secret })
  expect<Equal<typeof engine, SessionEngine<{ visits?: number }, { id: number }>>>()
  const handle = await engine.load(request, { id: 1 })
  expect<Equal<typeof handle, SessionHandle<{ visits?: number }>>>()
  handle.session.visits = (handle.session.visits ?? 0) + 1
  // @ts-expect-error: not a key of the data
  handle.session.other = 1
  // @ts-expect-error: the context type is the engine's
  await engine.load(request, { id: 'one' })
  const commit = await engine.commit(handle, { id: 1 })
  expect<Equal<typeof commit, SessionCommit>>()
  expect<Equal<typeof commit.token, string | null>>()
  const cookie: SessionCookie | undefined = commit.cookies[0]
  expect<Equal<NonNullable<typeof cookie>['sameSite'], 'Strict' | 'Lax' | 'None'>>()
  for (const [name, value] of commit.headers)
    expect<Equal<[typeof name, typeof value], [string, string]>>()
  // The synchronous pair answers without a promise.
  const sync = engine.loadSync(request, { id: 1 })
  expect<Equal<ReturnType<typeof engine.commitSync>, SessionCommit>>()
  expect<Equal<typeof sync, SessionHandle<{ visits?: number }>>>()
}

// WriteMeta: what a store's set() receives after the context.
const meta: WriteMeta = { now: 0, userAgent: 'ua', userId: '1' }
// @ts-expect-error: now is required
const noNow: WriteMeta = { userAgent: 'ua' }
void typed
void meta
void noNow
