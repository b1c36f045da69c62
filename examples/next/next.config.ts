import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { NextConfig } from 'next'

// The repository root: `sealed-session/next` maps to ../../src through tsconfig paths, and
// Turbopack only compiles files under its root.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

const config: NextConfig = {
  turbopack: { root },
  outputFileTracingRoot: root,
  // Types are checked by `tsc -p examples/next/tsconfig.json`; skip next build's own pass.
  typescript: { ignoreBuildErrors: true },
  // Lets proxy.ts see the App Router's prefetch headers (Next strips them from what the proxy
  // reads otherwise): a <Link> prefetch must not consume a flash value the page has not shown.
  skipProxyUrlNormalize: true,
}

export default config
