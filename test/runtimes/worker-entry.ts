// A Cloudflare Worker serving the Hono contract fixture; bundled and run by test/runtimes/workerd.ts.
import { nodeCrypto } from '../../src/crypto/node-crypto.ts'
import { createFixture } from '../adapters/fixtures/hono.ts'
import { fixtureWorker } from './support.ts'

export default fixtureWorker(
  (secret, store, schema) => createFixture({ secret, store, schema }),
  nodeCrypto !== undefined,
)
