// Two requests on one session that overlap in time: what each changed must survive.
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { session } from '../src/adapters/hono.ts'
import type { SessionStore } from '../src/index.ts'
import { Jar, SECRET } from './support.ts'

/** A promise the test resolves by hand, to hold a handler between load and commit. */
function gate() {
  let open!: () => void
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { open, opened }
}

function app(store: SessionStore, gates: Record<string, Promise<void>>) {
  return new Hono()
    .use(session({ secret: SECRET, store }))
    .get('/login', (c) => {
      c.session.userId = 'u1'
      return c.text('ok')
    })
    .get('/set/:key/:value', async (c) => {
      const { key, value } = c.req.param()
      c.session[key] = value
      await gates[`${key}=${value}`]
      return c.text('ok')
    })
    .get('/del/:key', async (c) => {
      delete c.session[c.req.param('key')]
      await gates[c.req.param('key')]
      return c.text('ok')
    })
    .get('/logout', (c) => {
      c.session = null
      return c.text('ok')
    })
    .get('/me', (c) => c.json(c.session.toJSON()))
}

describe('concurrent requests on one session (Map store)', () => {
  it('keeps both keys when two overlapping requests change different keys', async () => {
    const map = new Map()
    const a = gate()
    const b = gate()
    const server = app(map, { 'theme=dark': a.opened, 'lang=fr': b.opened })
    const jar = new Jar()
    await jar.request(server, '/login')
    const cookie = jar.header()
    // Both load the same record before either commits.
    const first = server.request('http://localhost/set/theme/dark', { headers: { cookie } })
    const second = server.request('http://localhost/set/lang/fr', { headers: { cookie } })
    await new Promise((r) => setTimeout(r, 5))
    a.open()
    await first
    b.open()
    await second
    const me = await (await jar.request(server, '/me')).json()
    expect(me).toEqual({ userId: 'u1', theme: 'dark', lang: 'fr' })
    expect(map.size).toBe(1)
  })

  it('keeps a deletion and a concurrent change of another key', async () => {
    const map = new Map()
    const a = gate()
    const b = gate()
    const server = app(map, { userId: a.opened, 'lang=fr': b.opened })
    const jar = new Jar()
    await jar.request(server, '/login')
    const cookie = jar.header()
    const del = server.request('http://localhost/del/userId', { headers: { cookie } })
    const set = server.request('http://localhost/set/lang/fr', { headers: { cookie } })
    await new Promise((r) => setTimeout(r, 5))
    b.open()
    await set
    a.open()
    await del
    expect(await (await jar.request(server, '/me')).json()).toEqual({ lang: 'fr' })
  })

  it('the same key changed by both: the later commit wins', async () => {
    const map = new Map()
    const a = gate()
    const server = app(map, { 'theme=dark': a.opened })
    const jar = new Jar()
    await jar.request(server, '/login')
    const cookie = jar.header()
    const first = server.request('http://localhost/set/theme/dark', { headers: { cookie } })
    await new Promise((r) => setTimeout(r, 5))
    await server.request('http://localhost/set/theme/light', { headers: { cookie } })
    a.open()
    await first
    expect((await (await jar.request(server, '/me')).json()).theme).toBe('dark')
  })

  it('a write that overlaps a logout does not bring the session back', async () => {
    const map = new Map()
    const a = gate()
    const server = app(map, { 'theme=dark': a.opened })
    const jar = new Jar()
    await jar.request(server, '/login')
    const cookie = jar.header()
    const write = server.request('http://localhost/set/theme/dark', { headers: { cookie } })
    await new Promise((r) => setTimeout(r, 5))
    await server.request('http://localhost/logout', { headers: { cookie } })
    expect(map.size).toBe(0)
    a.open()
    await write
    expect(map.size).toBe(0)
    const res = await server.request('http://localhost/me', { headers: { cookie } })
    expect(await res.json()).toEqual({})
  })

  it('a store without patch falls back to set: the last whole write wins', async () => {
    const map = new Map<string, unknown>()
    const plain: SessionStore = {
      get: (id) => map.get(id),
      set: (id, record) => void map.set(id, record),
      delete: (id) => void map.delete(id),
    }
    const a = gate()
    const b = gate()
    const server = app(plain, { 'theme=dark': a.opened, 'lang=fr': b.opened })
    const jar = new Jar()
    await jar.request(server, '/login')
    const cookie = jar.header()
    const first = server.request('http://localhost/set/theme/dark', { headers: { cookie } })
    const second = server.request('http://localhost/set/lang/fr', { headers: { cookie } })
    await new Promise((r) => setTimeout(r, 5))
    a.open()
    await first
    b.open()
    await second
    expect(await (await jar.request(server, '/me')).json()).toEqual({ userId: 'u1', lang: 'fr' })
  })
})
