import { nextSession } from 'sealed-session/next'

/** What this app keeps in its session. */
export interface AppSession {
  user?: string
  notice?: string
}

// One function for the whole app; `await session()` opens the current request's session.
// `next start` runs with NODE_ENV=production, where a missing secret is an error.
export const session = nextSession<AppSession>({ secret: process.env.SESSION_SECRET })
