// A Next.js workaround, kept apart from the adapter. A Server Action called with JavaScript on
// that ends in redirect() makes Next fetch the redirect target from its own server and send that
// render inside the action's response. The proxy runs for that inner GET, but Next drops the
// inner response's Set-Cookie (`actionsForbiddenHeaders` in next/dist/server/app-render/
// action-handler.js), so a flash value the page shows there would stay in the browser's cookie
// and show again on the next page.

/** True for the GET Next sends to itself to render a Server Action's redirect target. */
export function isActionRedirectRender(request: Request): boolean {
  // Next copies the action's response headers, x-action-redirect among them, onto that GET (and
  // hides its `rsc` header from the proxy, so that one cannot tell).
  return request.method === 'GET' && request.headers.has('x-action-redirect')
}

/**
 * The proxy's answer to that GET when it has a cookie to write: not a Flight response, so Next
 * answers the action without the render and the browser loads the target itself, through the
 * proxy, whose Set-Cookie then reaches it (one more round trip, only when a cookie must change).
 */
export function renderInBrowser(): Response {
  return new Response(null, { status: 204, headers: { 'cache-control': 'no-store' } })
}
