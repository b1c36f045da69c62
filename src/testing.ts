import { SessionEngine } from './core/engine.ts'
import { readCookie } from './core/request.ts'
import type { SessionOptions, SessionRequest } from './core/types.ts'

type Data = Record<string, unknown>

/** A request that carries `cookie`, over HTTPS (so the cookie gets Secure as in production). */
const testRequest = (cookie: string | undefined): SessionRequest => ({
  header: (name) => (name === 'cookie' ? cookie : undefined),
  url: () => 'https://test.invalid/',
})

/**
 * Helpers for an app's own tests: make a session cookie for a request, and read the session a
 * response set, with the same options (secret, cookie name, store) the app uses.
 *
 * @example
 * const t = sessionTesting({ secret: process.env.SESSION_SECRET })
 * const res = await app.request('/account', { headers: { cookie: await t.cookie({ userId: '42' }) } })
 * expect(await t.read(res)).toMatchObject({ userId: '42' })
 */
export function sessionTesting(options: SessionOptions) {
  const engine = new SessionEngine(options)
  const name = engine.options.cookieName
  return {
    /** A `Cookie` header value (`name=value`) carrying a session with `data`. */
    async cookie(data: Data): Promise<string> {
      const state = await engine.load(testRequest(undefined), undefined)
      Object.assign(state.session, data)
      const setCookie = (await engine.commit(state, undefined)).cookies[0]?.header
      if (!setCookie) throw new Error('sessionTesting.cookie: nothing to write for empty data')
      return setCookie.slice(0, setCookie.indexOf(';'))
    },
    /**
     * The session data a response's Set-Cookie carries (or a `name=value` string), `null` when
     * the response cleared the session, `undefined` when it did not touch it.
     */
    async read(from: Response | string): Promise<Data | null | undefined> {
      const header =
        typeof from === 'string'
          ? from
          : from.headers.getSetCookie().find((c) => c.startsWith(`${name}=`))
      if (header === undefined) return undefined
      const pair = header.split(';', 1)[0]!
      const [value] = readCookie(pair, name)
      if (value === undefined) return null
      const state = await engine.load(testRequest(`${name}=${value}`), undefined)
      return state.isNew ? null : state.session.toJSON()
    },
  }
}
