// What a client sees when a session error (a failing store, non-JSON data, …) goes unanswered in
// an Elysia app. Elysia's own default answers the error's message, which can carry internals
// (`Session store get failed: connect ECONNREFUSED 10.0.0.5:6379`); ours is Hono's: 500,
// `Internal Server Error`, and the error logged. The app's onError hooks still see the error
// first, class and code intact: Elysia calls an error's `toResponse()` only when none answered.
import { SessionError } from '../core/errors.ts'

// The body every adapter answers an unhandled session error with, as Hono's default does.
const GENERIC_ERROR = 'Internal Server Error'

// The generic answers made, so a workaround can tell them from the app's (elysia-compat.ts).
const generic = new WeakSet<Response>()

/** True for a Response `genericByDefault` made. */
export const isGenericAnswer = (value: unknown): value is Response =>
  value instanceof Response && generic.has(value)

/**
 * For an `onError` hook: gives a session error a `toResponse()` answering the generic 500, so
 * no message reaches the client unless the app's own onError answers it. Takes the error, not
 * the context: Elysia parses every body for a hook that hands its context to a function.
 */
export function genericByDefault(error: unknown): void {
  if (!(error instanceof SessionError) || 'toResponse' in error) return
  let logged = false
  Object.defineProperty(error, 'toResponse', {
    configurable: true,
    value: () => {
      // Elysia asks twice for one error; the developer reads it once.
      if (!logged) console.error(error)
      logged = true
      const response = new Response(GENERIC_ERROR, {
        status: 500,
        headers: { 'content-type': 'text/plain;charset=utf-8' },
      })
      generic.add(response)
      return response
    },
  })
}
