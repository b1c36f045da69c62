// A small login / flash / logout app in sealed-cookie mode: no database, the whole session
// lives in an encrypted cookie.
import { Hono } from 'hono'
import { html } from 'hono/html'
import { session } from 'sealed-session/hono'

type Data = { userId?: string; name?: string; notice?: string; visits?: number }

/** Builds the app; `secret` comes from the environment in real deployments. */
export function createApp(secret = process.env.SESSION_SECRET) {
  return new Hono()
    .use(session<Data>({ secret, maxAge: 7 * 86_400 }))
    .get('/', (c) => {
      const { name, notice } = c.session
      c.session.visits = (c.session.visits ?? 0) + 1
      return c.html(html`<!doctype html>
        <title>sealed-session example</title>
        ${notice ? html`<p role="status">${notice}</p>` : ''}
        ${
          name
            ? html`<p>Signed in as <b>${name}</b> (visit ${c.session.visits}).</p>
                <form method="post" action="/logout"><button>Sign out</button></form>`
            : html`<form method="post" action="/login">
                <label>Name <input name="name" required /></label><button>Sign in</button>
              </form>`
        }`)
    })
    .post('/login', async (c) => {
      const form = await c.req.formData()
      const name = String(form.get('name') ?? '').trim()
      if (!name) {
        c.session.flash('notice', 'Please enter a name')
        return c.redirect('/', 303)
      }
      // A new id on login, so a session id planted before login is worth nothing.
      await c.session.regenerate()
      c.session.userId = crypto.randomUUID()
      c.session.name = name
      c.session.flash('notice', `Welcome, ${name}`)
      return c.redirect('/', 303)
    })
    .post('/logout', (c) => {
      c.session = null
      c.session.flash('notice', 'Signed out')
      return c.redirect('/', 303)
    })
    .get('/me', (c) =>
      c.session.userId
        ? c.json({ userId: c.session.userId, name: c.session.name })
        : c.json(null, 401),
    )
}
