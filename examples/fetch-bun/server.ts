// Start with: bun examples/fetch-bun/server.ts   (PORT and HOST are optional)
import { createHandler } from './app.ts'

declare const Bun: {
  serve(options: {
    port: number
    hostname: string
    fetch: (request: Request) => Promise<Response>
  }): { hostname: string; port: number }
}

const server = Bun.serve({
  port: Number(process.env.PORT ?? 3000),
  hostname: process.env.HOST ?? 'localhost',
  fetch: createHandler(),
})
console.log(`sealed-session fetch example on http://${server.hostname}:${server.port}`)
