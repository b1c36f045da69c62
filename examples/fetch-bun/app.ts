// A small login / flash / logout app on the fetch adapter: one Web-standard handler that
// Bun.serve (or Deno.serve, a Worker, any fetch server) calls. Sealed-cookie mode, no database.
import { withSession } from 'sealed-session/fetch'

type Data = { userId?: string; name?: string; notice?: string; visits?: number }

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)

const page = (body: string) =>
  new Response(`<!doctype html>\n<title>sealed-session fetch example</title>\n${body}`, {
    headers: { 'content-type': 'text/html; charset=utf-8' },
  })

/** Builds the fetch handler; `secret` comes from the environment in real deployments. */
export function createHandler(secret = process.env.SESSION_SECRET) {
  return withSession<Data>({ secret, maxAge: 7 * 86_400 }, async (request, session) => {
    const url = new URL(request.url)
    const route = `${request.method} ${url.pathname}`
    // Response.redirect() answers immutable headers; withSession adds the cookie to a copy.
    const home = () => Response.redirect(new URL('/', url), 303)

    if (route === 'GET /') {
      const { name, notice } = session
      session.visits = (session.visits ?? 0) + 1
      const status = notice ? `<p role="status">${escapeHtml(notice)}</p>\n` : ''
      return page(
        status +
          (name
            ? `<p>Signed in as <b>${escapeHtml(name)}</b> (visit ${session.visits}).</p>
<form method="post" action="/logout"><button>Sign out</button></form>`
            : `<form method="post" action="/login">
<label>Name <input name="name" required /></label><button>Sign in</button>
</form>`),
      )
    }
    if (route === 'POST /login') {
      const form = await request.formData()
      const name = String(form.get('name') ?? '').trim()
      if (!name) {
        session.flash('notice', 'Please enter a name')
        return home()
      }
      // A new id on login, so a session id planted before login is worth nothing.
      await session.regenerate()
      session.userId = crypto.randomUUID()
      session.name = name
      session.flash('notice', `Welcome, ${name}`)
      return home()
    }
    if (route === 'POST /logout') {
      session.destroy()
      session.flash('notice', 'Signed out')
      return home()
    }
    if (route === 'GET /me') {
      return session.userId
        ? Response.json({ userId: session.userId, name: session.name })
        : Response.json(null, { status: 401 })
    }
    return new Response('not found', { status: 404 })
  })
}
