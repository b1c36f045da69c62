// Elysia workarounds, kept apart from the plugin: what it takes for our Set-Cookie values to
// survive Elysia's cookie jar and its Node and Web-standard response paths, and a plugin seed.
import type { Context } from 'elysia'

/** One request's committed headers, as the Elysia plugin tracks them. */
export interface Committed {
  /** The Set-Cookie values committed for this response; emptied if a later hook throws. */
  cookies?: string[]
  /** The other headers committed (the bearer token header). */
  names?: string[]
}

import type { SessionOptions } from '../core/types.ts'
import { isGenericAnswer } from './elysia-errors.ts'

export type SetHeaders = Context['set']['headers'] | Headers

/**
 * Puts our Set-Cookie values on `set.headers` so that they survive Elysia's cookie jar: when a
 * handler changed `cookie.x.value`, Elysia assigns the jar's serialisation to
 * `set.headers['set-cookie']` after every hook has run, replacing what was there. The
 * accessor keeps ours beside whatever is assigned.
 */
function keepSetCookie(headers: SetHeaders, ours: string[]): void {
  if (headers instanceof Headers) {
    for (const value of ours) headers.append('set-cookie', value)
    return
  }
  const list = (v: unknown): string[] =>
    v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]
  const record = headers as Record<string, unknown>
  let others = list(record['set-cookie'])
  Object.defineProperty(record, 'set-cookie', {
    configurable: true,
    enumerable: true,
    // One value stays a string: Elysia turns an array into a Headers object (one Set-Cookie
    // per value), on which its Node and Web-standard adapters then lose the content type.
    get: () => (others.length === 0 && ours.length === 1 ? ours[0] : [...others, ...ours]),
    set: (value: unknown) => {
      others = list(value)
    },
  })
}

/**
 * Adds the committed headers to `set`, from where Elysia copies them onto the response, a
 * Response the handler returned included. Answers a Response to use instead when ours must go
 * on the handler's Response itself.
 */
export function addHeaders(
  c: Context['set'],
  response: unknown,
  open: Committed,
  headers: ReadonlyArray<readonly [string, string]>,
): Response | undefined {
  const set = c.headers as SetHeaders
  const cookies: string[] = []
  open.names = []
  for (const [name, value] of headers) {
    if (name === 'set-cookie') {
      cookies.push(value)
      continue
    }
    open.names.push(name)
    if (set instanceof Headers) set.set(name, value)
    else (set as Record<string, string>)[name] = value
  }
  open.cookies = cookies
  if (cookies.length === 0) return undefined
  // Will Set-Cookie hold values beside ours (the handler's cookie jar, or its own header)?
  const jar = c.cookie !== undefined && Object.keys(c.cookie).length > 0
  const more = jar || set instanceof Headers || set['set-cookie'] !== undefined
  if (more && response instanceof Response && response.headers.has('set-cookie')) {
    // Elysia drops set's Set-Cookie values when there are several and the handler's Response
    // sets its own: ours go on that Response (a copy when its headers are immutable).
    let out = response
    try {
      for (const value of cookies) out.headers.append('set-cookie', value)
    } catch {
      out = new Response(response.body, response)
      for (const value of cookies) out.headers.append('set-cookie', value)
    }
    open.cookies = []
    return out
  }
  // Several Set-Cookie values make Elysia's Node and Web-standard adapters drop the JSON
  // content type of an object body; state it up front.
  const proto =
    typeof response === 'object' && response !== null ? Object.getPrototypeOf(response) : 0
  const json = Array.isArray(response) || proto === Object.prototype || proto === null
  if (more && json && !(set instanceof Headers) && !set['content-type']) {
    set['content-type'] = 'application/json'
  }
  keepSetCookie(set, cookies)
  return undefined
}

// Dedup identity for objects and functions in the options (a Map store, onInvalid, now()).
const identities = new WeakMap<object, number>()
let lastIdentity = 0

/** FNV-1a: the seed must tell secrets apart without carrying them into Elysia's plugin list. */
function fingerprint(text: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return (h >>> 0).toString(36)
}

/**
 * Elysia skips a named plugin whose name and seed it has seen: equal options give an equal
 * seed, while distinct stores, encoders and callbacks (same JSON, different object) do not.
 */
export function seedOf(options: SessionOptions<any> | undefined): string {
  return JSON.stringify(options ?? {}, function (key, value: unknown) {
    if (key === 'secret' && this === options) return `secret:${fingerprint(JSON.stringify(value))}`
    const proto =
      typeof value === 'object' && value !== null ? Object.getPrototypeOf(value) : undefined
    const plain = proto === Object.prototype || proto === null || Array.isArray(value)
    if (typeof value === 'function' || (proto !== undefined && !plain)) {
      const object = value as object
      let id = identities.get(object)
      if (id === undefined) {
        id = ++lastIdentity
        identities.set(object, id)
      }
      return `#${id}`
    }
    return value
  })
}

/**
 * A `mapResponse` hook for Node only. Elysia maps an unanswered error through its
 * `toResponse()` (elysia-errors.ts), except on `@elysiajs/node` (1.4.5), whose `errorToResponse`
 * still sends `{ name, message, cause }` as JSON: Elysia core fixed its own adapters in 1.4.16
 * (https://github.com/elysiajs/elysia/pull/1543), the Node adapter did not follow. Elysia's
 * error handler runs the app's mapResponse hooks on what `toResponse()` answered, so this one
 * hands that answer back and the error itself is never mapped. Every other response passes.
 * Not registered on Bun, whose adapter needs no help and where every hook costs a little.
 */
export const nodeErrorMapping =
  typeof (globalThis as { Bun?: unknown }).Bun === 'undefined'
    ? (context: { response: unknown }) =>
        isGenericAnswer(context.response) ? context.response : undefined
    : undefined
