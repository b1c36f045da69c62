// The app the HTTPS browser test drives: a sealed session in a `__Host-` cookie, chunked when it
// outgrows one cookie, with forms to sign in, make the session bigger or smaller, and sign out.
import { randomBytes } from 'node:crypto'
import { Hono } from 'hono'
import { html } from 'hono/html'
import { session } from '../../src/adapters/hono.ts'

type Data = { name?: string; notice?: string; blob?: string }

/** Builds the fixture app; `cookieName` must keep the `__Host-` prefix the test checks. */
export function createFixtureApp(secret: string, cookieName = '__Host-sid') {
  return (
    new Hono()
      .use(session<Data>({ secret, cookieName, chunk: true }))
      .get('/', (c) => {
        const { name, notice, blob } = c.session
        return c.html(html`<!doctype html>
        <title>sealed-session browser fixture</title>
        ${notice ? html`<p role="status">${notice}</p>` : ''}
        <p id="user">${name ? `Signed in as ${name}` : 'Signed out'}</p>
        <p id="blob">${blob?.length ?? 0} characters of blob</p>
        <form method="post" action="/login">
          <label>Name <input name="name" /></label><button>Sign in</button>
        </form>
        <form method="post" action="/blob">
          <button name="kb" value="8">Blob 8 KB</button>
          <button name="kb" value="4">Blob 4 KB</button>
          <button name="kb" value="0">No blob</button>
        </form>
        <form method="post" action="/logout"><button>Sign out</button></form>`)
      })
      .post('/login', async (c) => {
        const name = String((await c.req.formData()).get('name') ?? '')
        await c.session.regenerate()
        c.session.name = name
        c.session.flash('notice', `Welcome, ${name}`)
        return c.redirect('/', 303)
      })
      // Random hex, so the sealed value is as long as the data makes it: 8 KB needs three chunks.
      .post('/blob', async (c) => {
        const kb = Number((await c.req.formData()).get('kb'))
        if (kb > 0) c.session.blob = randomBytes(kb * 512).toString('hex')
        else delete c.session.blob
        return c.redirect('/', 303)
      })
      .post('/logout', (c) => {
        c.session = null
        return c.redirect('/', 303)
      })
      // The names of the cookies this request carried, as the server received them.
      .get('/cookie-names', (c) =>
        c.json(
          (c.req.header('cookie') ?? '')
            .split(';')
            .map((pair) => pair.split('=', 1)[0]!.trim())
            .filter(Boolean),
        ),
      )
      // Controls for the prefix rules: the browser must refuse the first two (no Secure; a Path
      // other than /) and keep the third. (A Domain equal to an IP host is taken as host-only.)
      .get('/refused-prefix-cookies', (c) => {
        c.header('set-cookie', '__Host-no-secure=1; Path=/', { append: true })
        c.header('set-cookie', '__Host-sub-path=1; Path=/sub; Secure', { append: true })
        c.header('set-cookie', '__Host-control=1; Path=/; Secure', { append: true })
        return c.text('set')
      })
  )
}
