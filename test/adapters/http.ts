// Serves a fetch handler on 127.0.0.1 with the runtime's own server: Bun.serve under Bun,
// @hono/node-server (node:http) under Node. Tests that need a real HTTP hop share it.
import type { AddressInfo } from 'node:net'

type FetchHandler = (request: Request, ...args: any[]) => Response | Promise<Response>

/** A server on 127.0.0.1 and how to stop it. */
export interface Listening {
  /** Like `http://127.0.0.1:40123`. */
  base: string
  /** Which server answers: `bun` or `node`. */
  server: 'bun' | 'node'
  close(): Promise<void>
}

declare const Bun:
  | {
      serve(options: { port: number; hostname: string; fetch: FetchHandler }): {
        port: number
        stop(closeActiveConnections?: boolean): unknown
      }
    }
  | undefined

/**
 * Listens on a free port of 127.0.0.1 and calls `fetch` for every request.
 *
 * @example
 * const { base, close } = await listen(app.fetch)
 */
export async function listen(fetch: FetchHandler): Promise<Listening> {
  if (typeof Bun !== 'undefined') {
    const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch })
    return {
      base: `http://127.0.0.1:${server.port}`,
      server: 'bun',
      close: async () => {
        await server.stop(true)
      },
    }
  }
  const { serve } = await import('@hono/node-server')
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  const { port } = server.address() as AddressInfo
  return {
    base: `http://127.0.0.1:${port}`,
    server: 'node',
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        // Keep-alive sockets from fetch() would hold close() open.
        if ('closeAllConnections' in server) server.closeAllConnections()
      }),
  }
}
