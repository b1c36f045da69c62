import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SessionConfigError } from '../../src/core/errors.ts'
import type { SessionRecord } from '../../src/core/types.ts'
import { fileStore } from '../../src/stores/file.ts'
import { testClock } from '../support.ts'
import { describeStore } from './contract.ts'

const tempRoot = () => mkdtemp(join(tmpdir(), 'sealed-session-file-'))

describeStore('fileStore', {
  async make(options = {}) {
    const root = await tempRoot()
    const store = fileStore({ dir: join(root, 'sessions'), ...options })
    return { store, close: () => rm(root, { recursive: true, force: true }) }
  },
  userIndex: true,
  expiresItself: false,
})

function rec(now: number, data: Record<string, unknown> = {}, seconds = 60): SessionRecord {
  return { data, createdAt: now, expiresAt: now + seconds * 1000 }
}

const ID = 'AbCdEfGhIjKlMnOpQrStUvWxYz012_-9'
const ID2 = 'zyxwvutsrqponmlkjihgfedcba987654'

/** Every file under `dir`, relative path → content. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath ?? (entry as { path?: string }).path ?? dir, entry.name)
    out[relative(dir, path)] = await readFile(path, 'utf8')
  }
  return out
}

describe('fileStore specifics', () => {
  let root: string
  let dir: string

  beforeEach(async () => {
    root = await tempRoot()
    // Deep enough that ../../.. still lands inside `root`, where the test can see it.
    dir = join(root, 'a', 'b', 'sessions')
  })

  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('writes one <id>.json per session, owner-only, with no temp file left behind', async () => {
    const store = fileStore({ dir })
    const record = rec(Date.now(), { userId: 'u1' })
    await store.set(ID, record, undefined)
    expect(await readdir(dir)).toEqual([`${ID}.json`])
    expect(JSON.parse(await readFile(join(dir, `${ID}.json`), 'utf8'))).toEqual(record)
    if (process.platform !== 'win32') {
      expect((await stat(join(dir, `${ID}.json`))).mode & 0o777).toBe(0o600)
      expect((await stat(dir)).mode & 0o777).toBe(0o700)
    }
    await store.delete(ID, undefined)
    expect(await readdir(dir)).toEqual([])
  })

  it('ids that could leave the directory never touch the filesystem outside it', async () => {
    const victim = rec(Date.now(), { userId: 'victim' })
    const victimJson = JSON.stringify(victim)
    // Files a traversal would hit: outside the sessions dir, valid session JSON.
    await mkdir(join(root, 'outside'), { recursive: true })
    await mkdir(dir, { recursive: true })
    await writeFile(join(root, 'outside', 'victim.json'), victimJson)
    await writeFile(join(root, 'a', 'b', 'victimvictimvictim.json'), victimJson)
    await writeFile(join(dir, 'inside.json'), victimJson)
    const store = fileStore({ dir })
    await store.set(ID, rec(Date.now(), { ok: true }), undefined)
    const before = await snapshot(root)

    const attempts: unknown[] = [
      '../../etc/passwd',
      '../../../outside/victim',
      '../victimvictimvictim',
      '..%2F..%2F..%2Foutside%2Fvictim',
      '..\\..\\..\\outside\\victim',
      '/etc/passwd',
      join(root, 'outside', 'victim'),
      `${'a'.repeat(16)}/../../../../outside/victim`,
      `victimvictimvictim\u0000${'a'.repeat(8)}`,
      '.'.repeat(20),
      `${ID}.json`,
      'inside',
      'a'.repeat(15),
      'a'.repeat(129),
      `${ID} `,
      `${ID}\n`,
      'é'.repeat(20),
      '',
      42,
      null,
    ]
    for (const id of attempts) {
      const bad = id as string
      expect(await store.get(bad, undefined)).toBeUndefined()
      await expect(store.set(bad, rec(Date.now(), { evil: 1 }), undefined)).rejects.toThrow(
        /session id must match/,
      )
      await expect(
        store.patch(bad, rec(Date.now(), { evil: 1 }), { set: ['evil'], deleted: [] }, undefined),
      ).rejects.toThrow(/session id must match/)
      await store.delete(bad, undefined)
    }
    expect(await snapshot(root)).toEqual(before)
    expect(await store.get(ID, undefined)).toMatchObject({ data: { ok: true } })
  })

  it('an expired file is still read (for the engine to refuse as expired); a patch removes it', async () => {
    const clock = testClock()
    const store = fileStore({ dir, now: clock.now })
    const stored = { ...rec(clock.now(), {}, 3600), idleExpiresAt: clock.now() + 10_000 }
    await store.set(ID, stored, undefined)
    clock.advance(9)
    expect(await store.get(ID, undefined)).toEqual(stored)
    clock.advance(1)
    expect(await store.get(ID, undefined)).toEqual(stored)
    expect(await readdir(dir)).toEqual([`${ID}.json`])
    // A patch never merges into it: the file goes instead.
    await store.patch(ID, rec(clock.now(), { x: 1 }), { set: ['x'], deleted: [] }, undefined)
    expect(await store.get(ID, undefined)).toBeUndefined()
    expect(await readdir(dir)).toEqual([])
  })

  it('prune() deletes expired sessions and stale temp files, and counts the sessions', async () => {
    const clock = testClock()
    const store = fileStore({ dir, now: clock.now })
    expect(await store.prune()).toBe(0) // no directory yet
    await store.set(ID, rec(clock.now(), {}, 10), undefined)
    await store.set(ID2, rec(clock.now(), {}, 100), undefined)
    const third = `${'c'.repeat(32)}`
    await store.set(third, rec(clock.now(), {}, 20), undefined)
    const staleTemp = join(dir, `.${ID}.0123456789abcdef.tmp`)
    const freshTemp = join(dir, `.${ID2}.fedcba9876543210.tmp`)
    await writeFile(staleTemp, '{"half":')
    await writeFile(freshTemp, '{"half":')
    const old = new Date(Date.now() - 3600_000)
    await utimes(staleTemp, old, old)
    await writeFile(join(dir, 'notes.txt'), 'not ours')
    clock.advance(20)
    expect(await store.prune()).toBe(2)
    expect((await readdir(dir)).sort()).toEqual(
      [`${ID2}.json`, `.${ID2}.fedcba9876543210.tmp`, 'notes.txt'].sort(),
    )
    expect(await store.prune()).toBe(0)
    expect(await store.get(ID2, undefined)).toBeDefined()
  })

  it('concurrent patches to one session in one process all survive', async () => {
    const store = fileStore({ dir })
    const now = Date.now()
    await store.set(ID, rec(now, { base: 0 }), undefined)
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        store.patch(ID, rec(now, { [`k${i}`]: i }), { set: [`k${i}`], deleted: [] }, undefined),
      ),
    )
    const stored = (await store.get(ID, undefined)) as SessionRecord
    expect(stored.data).toEqual({
      base: 0,
      ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, i])),
    })
    expect(await readdir(dir)).toEqual([`${ID}.json`])
  })

  it('a file that is not JSON reads as no session', async () => {
    const store = fileStore({ dir })
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, `${ID}.json`), '{"data":')
    expect(await store.get(ID, undefined)).toBeUndefined()
    await store.patch(ID, rec(Date.now(), { a: 1 }), { set: ['a'], deleted: [] }, undefined)
    expect(await readFile(join(dir, `${ID}.json`), 'utf8')).toBe('{"data":')
  })

  it('a read error other than a missing file is thrown (the engine reports a store error)', async () => {
    const store = fileStore({ dir })
    await mkdir(join(dir, `${ID}.json`), { recursive: true })
    await expect(store.get(ID, undefined)).rejects.toThrow()
  })

  it('a directory removed while the app runs is made again on the next write', async () => {
    const store = fileStore({ dir })
    await store.set(ID, rec(Date.now(), { a: 1 }), undefined)
    await rm(dir, { recursive: true })
    await store.set(ID2, rec(Date.now(), { b: 2 }), undefined)
    expect(await readdir(dir)).toEqual([`${ID2}.json`])
  })

  it('a missing or empty dir is a SessionConfigError', () => {
    expect(() => fileStore({ dir: '' })).toThrow(SessionConfigError)
    expect(() => fileStore({} as { dir: string })).toThrow(/dir: must be a directory path/)
  })
})
