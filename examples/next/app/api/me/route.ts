import { session } from '../../../lib/session'

/** The signed-in user as JSON, or 401. */
export async function GET(): Promise<Response> {
  const s = await session()
  if (!s.user) return Response.json({ error: 'not signed in' }, { status: 401 })
  return Response.json({ user: s.user })
}
