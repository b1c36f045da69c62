import { chunkedSession } from '../../../lib/contract'

// A chunked session (chunk: true) at /chunked/<route>: POST /chunked/set stores the request
// body, GET /chunked/read answers its length, POST /chunked/logout ends it.

type Params = { params: Promise<{ route: string }> }

export async function GET(_: Request, { params }: Params): Promise<Response> {
  const { route } = await params
  if (route !== 'read') return new Response('not found', { status: 404 })
  const s = await chunkedSession()
  return Response.json({ isNew: s.isNew, length: s.blob?.length ?? null })
}

export async function POST(request: Request, { params }: Params): Promise<Response> {
  const { route } = await params
  const s = await chunkedSession()
  if (route === 'set') await s.set('blob', await request.text())
  else if (route === 'logout') await s.destroy()
  else return new Response('not found', { status: 404 })
  return new Response('ok')
}
