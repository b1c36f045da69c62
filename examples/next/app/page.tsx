import { session } from '../lib/session'
import { login, logout } from './actions'

// A Server Component: it reads the session (cookies() makes the page dynamic) and never
// writes it. proxy.ts removes the flash from the cookie on the response that shows it.
export default async function Home() {
  const s = await session()
  return (
    <main>
      {s.notice ? <p role="status">{s.notice}</p> : null}
      {s.user ? (
        <>
          <p>
            Signed in as <b>{s.user}</b>
          </p>
          <form action={logout}>
            <button type="submit">Sign out</button>
          </form>
        </>
      ) : (
        <>
          <p>Signed out</p>
          <form action={login}>
            <input name="name" placeholder="Your name" />
            <button type="submit">Sign in</button>
          </form>
        </>
      )}
    </main>
  )
}
