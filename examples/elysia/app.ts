// A small login / flash / logout app on Elysia in sealed-cookie mode: no database, the whole
// session lives in an encrypted cookie. A theme switch uses Elysia's own cookie API beside it.
import { Elysia, type ElysiaConfig, t } from 'elysia'
import { session } from 'sealed-session/elysia'

type Data = { userId?: string; name?: string; notice?: string; visits?: number }

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)

const page = (body: string) =>
  new Response(`<!doctype html>\n<title>sealed-session elysia example</title>\n${body}`, {
    headers: { 'content-type': 'text/html; charset=utf-8' },
  })

// Elysia's redirect('/') needs an absolute URL under Node (Response.redirect); this works on both.
const home = () => new Response(null, { status: 303, headers: { location: '/' } })

/**
 * Builds the app; `secret` comes from the environment in real deployments. On Bun the default
 * adapter serves it; pass `{ adapter: node() }` from `@elysiajs/node` to serve it on Node.
 */
export function createApp(secret = process.env.SESSION_SECRET, config: ElysiaConfig<''> = {}) {
  return (
    new Elysia(config)
      .use(session<Data>({ secret, maxAge: 7 * 86_400 }))
      .get('/', ({ session, cookie }) => {
        const { name, notice } = session
        session.visits = (session.visits ?? 0) + 1
        const theme = cookie.theme?.value === 'dark' ? 'dark' : 'light'
        const status = notice ? `<p role="status">${escapeHtml(notice)}</p>\n` : ''
        return page(
          `<body class="${theme}">\n${status}` +
            (name
              ? `<p>Signed in as <b>${escapeHtml(name)}</b> (visit ${session.visits}).</p>
<form method="post" action="/logout"><button>Sign out</button></form>`
              : `<form method="post" action="/login">
<label>Name <input name="name" required /></label><button>Sign in</button>
</form>`) +
            `\n<form method="post" action="/theme"><button>Switch theme</button></form>`,
        )
      })
      .post(
        '/login',
        async ({ body, session }) => {
          const name = (body.name ?? '').trim()
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
        },
        { body: t.Object({ name: t.Optional(t.String()) }) },
      )
      .post('/logout', ({ session }) => {
        session.destroy()
        session.flash('notice', 'Signed out')
        return home()
      })
      // Elysia's reactive cookie API and the session cookie arrive together.
      .post('/theme', ({ cookie, session }) => {
        const next = cookie.theme?.value === 'dark' ? 'light' : 'dark'
        cookie.theme!.set({ value: next, path: '/', sameSite: 'lax', maxAge: 365 * 86_400 })
        session.flash('notice', `Theme: ${next}`)
        return home()
      })
      // A guard reads the session before the handler runs.
      .get('/me', ({ session }) => ({ userId: session.userId, name: session.name }), {
        beforeHandle: ({ session, status }) => (session.userId ? undefined : status(401, null)),
      })
  )
}
