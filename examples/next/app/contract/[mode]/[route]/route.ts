import { sealedSession, store, storeSession } from '../../../../lib/contract'

// The contract fixture routes, served at /contract/sealed/<route> and /contract/store/<route>.
// Changing methods write at once; direct assignments and consumed flash values need save().

type Params = { params: Promise<{ mode: string; route: string }> }

async function handle(method: string, { params }: Params): Promise<Response> {
  const { mode, route } = await params
  const s = await (mode === 'store' ? storeSession : sealedSession)()
  switch (`${method} /${route}`) {
    case 'POST /login':
      await s.regenerate()
      s.userId = 'u1'
      await s.flash('notice', 'welcome')
      return new Response('ok')
    case 'GET /me': {
      const body = { userId: s.userId ?? null, notice: s.notice ?? null, isNew: s.isNew }
      await s.save() // removes the flash value just read
      return Response.json(body)
    }
    case 'POST /reflash':
      await s.reflash()
      return Response.json({ notice: s.notice ?? null })
    case 'POST /regenerate': {
      const before = s.id
      await s.regenerate()
      return Response.json({ before, after: s.id })
    }
    case 'POST /logout':
      await s.destroy()
      return new Response('ok')
    case 'POST /count':
      s.count = (s.count ?? 0) + 1
      await s.save()
      return Response.json({ count: s.count })
    case 'GET /throw':
      s.userId = 'evil'
      throw new Error('handler failed')
    case 'GET /asset':
      return new Response('asset') // never touches the session
    case 'POST /flash-twice':
      await s.flash('notice', 'one')
      await s.flash('notice', 'two')
      return new Response('ok')
    case 'GET /flashes': {
      const body = { all: await s.flash(), notice: s.notice ?? null }
      await s.save() // removes the flash values just read
      return Response.json(body)
    }
    case 'GET /store-size':
      return Response.json({ size: store.size }) // lets the test check the Map's size
    default:
      return new Response('not found', { status: 404 })
  }
}

export const GET = (_: Request, ctx: Params) => handle('GET', ctx)
export const POST = (_: Request, ctx: Params) => handle('POST', ctx)
