// Start with: bun examples/elysia/server.ts   (PORT, HOST and SESSION_SECRET are optional)
import { createApp } from './app.ts'

createApp().listen(
  { port: Number(process.env.PORT ?? 3000), hostname: process.env.HOST ?? 'localhost' },
  (server) =>
    console.log(`sealed-session elysia example on http://${server.hostname}:${server.port}`),
)
