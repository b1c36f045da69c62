// Every seal gets its own IV, also across the refills of the IV pool.
import { describe, expect, it } from 'vitest'
import { IronCodec } from '../src/crypto/iron.ts'
import { SECRET } from './support.ts'

describe('IronCodec IVs', () => {
  it('600 seals of the same value carry 600 distinct IVs and open again', async () => {
    const codec = new IronCodec([{ id: '', secret: SECRET }])
    const ivs = new Set<string>()
    const seals: string[] = []
    for (let i = 0; i < 600; i++) {
      const sealed = await codec.seal({ d: { same: true } })
      seals.push(sealed)
      ivs.add(sealed.split('*')[3]!)
    }
    expect(ivs.size).toBe(600)
    for (const sealed of [seals[0]!, seals[255]!, seals[256]!, seals[599]!]) {
      expect(await codec.unseal(sealed)).toEqual({
        ok: true,
        value: { d: { same: true } },
        stale: false,
      })
    }
  })
})
