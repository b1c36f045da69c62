import { schemaSession } from '../../../lib/schema'

// A session with a schema at /schema/<route>: GET /schema/read answers what the session holds
// (the defaults for a new one), POST /schema/visit counts and flashes a notice.

type Params = { params: Promise<{ route: string }> }

export async function GET(_: Request, { params }: Params): Promise<Response> {
  if ((await params).route !== 'read') return new Response('not found', { status: 404 })
  const s = await schemaSession()
  return Response.json({ isNew: s.isNew, data: s.all(), notices: await s.flash('notice') })
}

export async function POST(_: Request, { params }: Params): Promise<Response> {
  if ((await params).route !== 'visit') return new Response('not found', { status: 404 })
  const s = await schemaSession()
  await s.set('visits', s.visits + 1)
  await s.flash('notice', `visit ${s.visits}`)
  return Response.json({ visits: s.visits })
}
