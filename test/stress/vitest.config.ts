// `npm run test:stress`: the load, many-instances and fault tests (test/stress/*.stress.ts).
// They start real processes and take minutes, so plain `npm test` does not pick them up. One
// file at a time: the load generator, the app servers and Redis share the machine's cores.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/stress/**/*.stress.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
})
