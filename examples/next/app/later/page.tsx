import { LaterLink } from './later-link'

// A page that saves through a Route Handler, then links home: the <Link> appears (and Next's
// router prefetches it) after the notice is set, before the user opens the page that shows it.
export default function Later() {
  return (
    <main>
      <LaterLink />
    </main>
  )
}
