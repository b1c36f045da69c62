// A Map store answers a cookie whose signature the engine verified before without running the
// store's steps (no generator per read). That shortcut must decide exactly what the full path
// decides: an expired entry is refused and removed, a deleted one is not-found, an older key's
// cookie is signed again every time it comes, and a record the app put in the Map is copied.
import { describe, expect, it, vi } from 'vitest'
import { SessionEngine } from '../src/core/engine.ts'
import type { InvalidReason } from '../src/core/types.ts'
import { requestOf, SECRET, testClock } from './support.ts'

const OLD = 'older-secret-0123456789-abcdefghijklmnopqrstuvwxyz'
const cookieOf = (headers: readonly (readonly [string, string])[]) =>
  headers.find(([name]) => name === 'set-cookie')?.[1].split(';', 1)[0]

function setup(options: { secret?: string | string[]; map?: Map<string, any> } = {}) {
  const map = options.map ?? new Map<string, any>()
  const clock = testClock()
  const onInvalid = vi.fn<(reason: InvalidReason) => void>()
  const engine = new SessionEngine({
    secret: options.secret ?? SECRET,
    store: map,
    maxAge: 60,
    now: clock.now,
    onInvalid,
  })
  const login = () => {
    const state = engine.loadSync(requestOf(), undefined)
    state.session.userId = 'u1'
    const { headers } = engine.commitSync(state, undefined)
    return { cookie: cookieOf(headers)!, id: state.id! }
  }
  const read = (cookie: string) => {
    const state = engine.loadSync(requestOf(cookie), undefined)
    const data = state.session.toJSON()
    const { headers } = engine.commitSync(state, undefined)
    return { state, data, cookie: cookieOf(headers) }
  }
  return { map, clock, onInvalid, engine, login, read }
}

describe('Map store: a cookie verified before', () => {
  it('opens the record the Map holds, the same on every read, and writes nothing', () => {
    const { login, read, onInvalid } = setup()
    const { cookie, id } = login()
    for (let i = 0; i < 3; i++) {
      const r = read(cookie)
      expect(r.data).toEqual({ userId: 'u1' })
      expect(r.state.isNew).toBe(false)
      expect(r.state.id).toBe(id)
      expect(r.cookie).toBeUndefined()
    }
    expect(onInvalid).not.toHaveBeenCalled()
  })

  it('is refused as expired once its entry is past the deadline, and the entry is removed', () => {
    const { map, clock, login, read, onInvalid } = setup()
    const { cookie, id } = login()
    expect(read(cookie).data).toEqual({ userId: 'u1' })
    clock.advance(61)
    const r = read(cookie)
    expect(r.state.isNew).toBe(true)
    expect(r.data).toEqual({})
    expect(onInvalid.mock.calls.map((c) => c[0])).toEqual(['expired'])
    expect(map.has(id)).toBe(false)
  })

  it('is not-found once another request deleted its entry', () => {
    const { map, login, read, onInvalid } = setup()
    const { cookie, id } = login()
    expect(read(cookie).data).toEqual({ userId: 'u1' })
    map.delete(id)
    const r = read(cookie)
    expect(r.state.isNew).toBe(true)
    expect(onInvalid.mock.calls.map((c) => c[0])).toEqual(['not-found'])
  })

  it('signed with an older key of the ring, is signed again with the newest each time it comes', () => {
    const map = new Map<string, any>()
    const { cookie } = setup({ secret: OLD, map }).login()
    const rotated = setup({ secret: [SECRET, OLD], map })
    const first = rotated.read(cookie)
    const second = rotated.read(cookie)
    expect(first.data).toEqual({ userId: 'u1' })
    expect(second.data).toEqual({ userId: 'u1' })
    expect(first.cookie).toBeDefined()
    expect(first.cookie).not.toBe(cookie)
    // The browser that sent the old cookie again (a request in flight) is given the new one too.
    expect(second.cookie).toBe(first.cookie)
    expect(rotated.read(first.cookie!).cookie).toBeUndefined()
  })

  it('whose entry the app replaced with its own object, reads a copy and freezes nothing', () => {
    const { map, login, read } = setup()
    const { cookie, id } = login()
    expect(read(cookie).data).toEqual({ userId: 'u1' })
    const own = { ...map.get(id), data: { userId: 'u2', prefs: { theme: 'dark' } } }
    map.set(id, own)
    const r = read(cookie)
    expect(r.data).toEqual({ userId: 'u2', prefs: { theme: 'dark' } })
    ;(r.state.session as any).prefs.theme = 'light'
    expect(own.data.prefs.theme).toBe('dark')
    expect(Object.isFrozen(own.data.prefs)).toBe(false)
  })
})
