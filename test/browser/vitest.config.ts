// `npm run test:browser`: real Chromium (the system's, driven by playwright-core) against the
// examples and a test app over HTTP and HTTPS (docs/browser-tests.md). Not part of `npm test`:
// it needs a browser installed and builds the Next example. One file at a time, so Chromium and
// `next build` do not fight over the cores and every wait stays well inside its bound.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/browser/**/*.browser.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    // Starting a server and Chromium; the Next file raises its own for `next build`.
    hookTimeout: 60_000,
  },
})
