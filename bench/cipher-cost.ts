// What one AES-256-CBC update and one SHA-256 cost this runtime, beside its AES throughput: on
// some machines Node's OpenSSL runs AES without AES-NI (bench/README.md), and then a seal's
// encryption is most of a sealed write. Prints one JSON line. Run: node --import tsx
// bench/cipher-cost.ts, or bun bench/cipher-cost.ts
import { createCipheriv, hash } from 'node:crypto'
import { AesCbc } from '../src/crypto/node-crypto.ts'
import { median } from './lib.ts'

const key = new Uint8Array(32).fill(7)
const iv = new Uint8Array(16)
const cipher = createCipheriv('aes-256-cbc', key, iv).setAutoPadding(false)
const small = Buffer.alloc(160)
const big = Buffer.alloc(1 << 20)
const ours = new AesCbc(key)
// A 150-character JSON, padded to the same 160 bytes as the bare update: about what a seal of
// the small session encrypts.
const base = JSON.stringify({ v: 3, d: { userId: 'u_123', role: 'admin', pad: '' } })
const plain = base.replace('""', `"${'x'.repeat(150 - base.length)}"`)
let sink = 0

/** Median µs per call of `f` (which returns a length, summed so nothing is optimised away) over five timed runs of `n` calls, after a warm-up of `n`. */
function cost(n: number, f: () => number): number {
  for (let i = 0; i < n; i++) sink += f()
  const runs: number[] = []
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now()
    for (let i = 0; i < n; i++) sink += f()
    runs.push(((performance.now() - t0) * 1000) / n)
  }
  return median(runs)
}
const round = (x: number) => Math.round(x * 1000) / 1000
const result = {
  runtime: typeof Bun === 'undefined' ? `node ${process.version}` : `bun ${Bun.version}`,
  'cbc update 160 B (µs)': round(cost(100_000, () => cipher.update(small).length)),
  'AesCbc.encrypt 150 B (µs)': round(cost(100_000, () => ours.encrypt(plain, iv).length)),
  'sha256 160 B to base64url (µs)': round(
    cost(100_000, () => hash('sha256', small, 'base64url').length),
  ),
  'cbc MiB/s (1 MiB updates)': Math.round(1e6 / cost(20, () => cipher.update(big).length)),
}
declare const Bun: { version: string }
console.log(JSON.stringify(sink > 0 ? result : {}))
