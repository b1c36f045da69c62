import { serve } from '@hono/node-server'
import { createApp } from './app.ts'

const port = Number(process.env.PORT ?? 3000)
serve({ fetch: createApp().fetch, port, hostname: process.env.HOST ?? 'localhost' }, (info) => {
  console.log(`sealed-session example on http://localhost:${info.port}`)
})
