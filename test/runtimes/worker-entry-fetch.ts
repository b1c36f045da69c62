// A Cloudflare Worker serving the fetch adapter's contract fixture (routes on `withSession`);
// bundled and run by test/runtimes/workerd.ts.
import { nodeCrypto } from '../../src/crypto/node-crypto.ts'
import { createFixture } from '../adapters/fixtures/fetch.ts'
import { fixtureWorker } from './support.ts'

export default fixtureWorker(
  (secret, store, schema) => createFixture({ secret, store, schema }),
  nodeCrypto !== undefined,
)
