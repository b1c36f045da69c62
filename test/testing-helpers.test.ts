// sealed-session/testing: mint a cookie for a request, read what a response set.
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import { sessionTesting } from '../src/testing.ts'
import { OLD_SECRET, SECRET } from './support.ts'

const app = new Hono()
  .use(session({ secret: SECRET }))
  .get('/me', (c) => c.text(String(c.session.userId ?? 'anon')))
  .post('/rename', (c) => {
    c.session.name = 'Ada'
    return c.text('ok')
  })
  .post('/logout', (c) => {
    c.session = null
    return c.text('ok')
  })

describe('sessionTesting', () => {
  const t = sessionTesting({ secret: SECRET })

  it('mints a cookie the app accepts', async () => {
    const res = await app.request('/me', { headers: { cookie: await t.cookie({ userId: '42' }) } })
    expect(await res.text()).toBe('42')
  })

  it('reads the session a response set, null when cleared, undefined when untouched', async () => {
    const cookie = await t.cookie({ userId: '42' })
    const renamed = await app.request('/rename', { method: 'POST', headers: { cookie } })
    expect(await t.read(renamed)).toEqual({ userId: '42', name: 'Ada' })
    const out = await app.request('/logout', { method: 'POST', headers: { cookie } })
    expect(await t.read(out)).toBeNull()
    const untouched = await app.request('/me', { headers: { cookie } })
    expect(await t.read(untouched)).toBeUndefined()
  })

  it('a cookie minted with another secret is refused by the app', async () => {
    const other = sessionTesting({ secret: OLD_SECRET })
    const res = await app.request('/me', {
      headers: { cookie: await other.cookie({ userId: '1' }) },
    })
    expect(await res.text()).toBe('anon')
  })

  it('refuses to mint an empty session', async () => {
    await expect(t.cookie({})).rejects.toThrow(/nothing to write/)
  })
})
