import { nextSession } from 'sealed-session/next'

// The adapter contract's fixture sessions (test/adapters/contract.ts): one sealed, one kept in
// a Map. Module state lives as long as the `next start` process.
const secret = process.env.SESSION_SECRET
export const store = new Map<string, unknown>()
export const sealedSession = nextSession({ secret })
export const storeSession = nextSession({ secret, store })
// A session over 4 KB spans big.0, big.1, … (chunk: true), for the chunking test.
export const chunkedSession = nextSession<{ blob?: string }>({
  secret,
  chunk: true,
  cookieName: 'big',
})
