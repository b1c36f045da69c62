import type { NextRequest } from 'next/server'
import { session } from './lib/session'

// Writes what reading a page's session would write (here: removes a flash value the page is
// about to show), so Server Components stay read-only. Next before 16: name this file
// middleware.ts and the function `middleware`.
export function proxy(request: NextRequest): Promise<Response> {
  return session.proxy(request)
}

// Pages only: Route Handlers and Server Actions write their own cookie.
export const config = { matcher: ['/((?!api/|contract/|_next/|favicon.ico).*)'] }
