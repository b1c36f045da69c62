import { session } from '../../../lib/session'

/** Leaves a one-time notice for the next page, as an API call from a client component would. */
export async function POST(): Promise<Response> {
  const s = await session()
  await s.flash('notice', 'Saved')
  return new Response(null, { status: 204 })
}
