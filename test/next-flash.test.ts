// Flash on the Next adapter: the handle's readers are async like the rest of its API, and
// proxy() consumes the flash values the page shows (a Server Component cannot write cookies).
import { NextRequest } from 'next/server.js'
import { describe, expect, it } from 'vitest'
import { nextSession } from '../src/adapters/next.ts'
import { createHandle } from '../src/adapters/next-handle.ts'
import { SessionEngine } from '../src/core/engine.ts'
import { requestOf, SECRET } from './support.ts'

/** A sealed cookie (`sid=…`) carrying `flashes` as flash values and `data` as data. */
async function cookieWith(engine: SessionEngine, flashes: [string, string][], data = {}) {
  const state = await engine.load(requestOf(), undefined)
  Object.assign(state.session, data)
  for (const [key, value] of flashes) state.session.flash(key, value)
  return (await engine.commit(state, undefined)).cookies[0]!.header.split(';', 1)[0]!
}

describe('the Next handle', () => {
  it('flash(key) and flash() answer promises of what arrived; flash(key, value) and reflash(...keys) write', async () => {
    const engine = new SessionEngine({ secret: SECRET })
    const cookie = await cookieWith(engine, [
      ['notice', 'one'],
      ['notice', 'two'],
      ['error', 'bad'],
    ])
    const state = await engine.load(requestOf(cookie), undefined)
    let writes = 0
    let last: string | undefined
    const handle = createHandle(state, async () => {
      writes++
      const commit = await engine.commit(state, undefined)
      if (commit.cookies[0]) last = commit.cookies[0].header.split(';', 1)[0]
      return commit.token
    })
    const one = handle.flash('notice')
    expect(one).toBeInstanceOf(Promise)
    expect(await one).toEqual(['one', 'two'])
    expect(await handle.flash('missing')).toEqual([])
    expect(await handle.flash()).toEqual({ notice: ['one', 'two'], error: ['bad'] })
    expect(handle.notice).toBe('two')
    expect(writes).toBe(0)

    await handle.reflash('error')
    expect(writes).toBe(1)
    await handle.flash('notice', 'three')
    expect(writes).toBe(2)

    const next = await engine.load(requestOf(last), undefined)
    expect(next.session.flash()).toEqual({ error: ['bad'], notice: ['three'] })
  })
})

describe('nextSession().proxy()', () => {
  it('consumes the flash values of a sealed session: its cookie is rewritten without them', async () => {
    const session = nextSession({ secret: SECRET })
    const engine = new SessionEngine({ secret: SECRET })
    const cookie = await cookieWith(engine, [['notice', 'hi']], { userId: 'u1' })
    const res = await session.proxy(
      new NextRequest('https://example.com/', { headers: { cookie } }),
    )
    const written = res.headers.getSetCookie()
    expect(written).toHaveLength(1)
    const after = await engine.load(requestOf(written[0]!.split(';', 1)[0]), undefined)
    expect(after.isNew).toBe(false)
    expect(after.session.toJSON()).toEqual({ userId: 'u1' })
    expect(after.session.flash()).toEqual({})
  })

  it('writes nothing for a session without flash values', async () => {
    const session = nextSession({ secret: SECRET })
    const engine = new SessionEngine({ secret: SECRET })
    const state = await engine.load(requestOf(), undefined)
    state.session.userId = 'u1'
    const cookie = (await engine.commit(state, undefined)).cookies[0]!.header.split(';', 1)[0]!
    const res = await session.proxy(
      new NextRequest('https://example.com/', { headers: { cookie } }),
    )
    expect(res.headers.getSetCookie()).toEqual([])
  })
})
