// Counts per attack class for the issue 6 note. With ATTACK_REPORT=<file> set, each test file
// appends one JSON line per class it tried: {class, run, rejected, accepted_legitimately, note}.
// Unset (the normal run), counting is a few increments and nothing is written.
// scripts/attack-report.mjs runs the adversarial files with it set and prints the table.
import { appendFileSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'

const target = typeof process === 'undefined' ? undefined : process.env.ATTACK_REPORT

/** One line of the report. */
export interface AttackLine {
  class: string
  /** Cases sent. */
  run: number
  /** Cases the library refused: a fresh session, a 4xx, an error at commit, nothing adopted. */
  rejected: number
  /** Cases that were valid after all and were accepted as such (controls, unchanged cookies). */
  accepted_legitimately: number
  note: string
}

/** A mutable count for one attack class. */
export interface AttackCount {
  run: number
  rejected: number
  accepted: number
  /** Extra outcomes, shown in the note: `{ 'no session cookie': 3 }`. */
  other: Record<string, number>
  bump(outcome: string): void
}

/**
 * The counts of one test file. Call `write()` in `afterAll`: a file that never sees
 * ATTACK_REPORT writes nothing.
 *
 * @example
 * const report = attackReport()
 * const forged = report.count('store id: forged signature', 'right shape, wrong HMAC')
 * afterAll(() => report.write())
 */
export function attackReport() {
  const counts = new Map<string, { count: AttackCount; note: string }>()
  return {
    count(name: string, note = ''): AttackCount {
      const known = counts.get(name)
      if (known) return known.count
      const count: AttackCount = {
        run: 0,
        rejected: 0,
        accepted: 0,
        other: {},
        bump(outcome) {
          this.other[outcome] = (this.other[outcome] ?? 0) + 1
        },
      }
      counts.set(name, { count, note })
      return count
    },
    /** Appends one line per class to ATTACK_REPORT, when it is set, and forgets the counts. */
    write(): void {
      if (target) {
        mkdirSync(dirname(target), { recursive: true })
        let lines = ''
        for (const [name, { count, note }] of counts) {
          if (count.run === 0) continue
          lines += `${JSON.stringify(toLine(name, count, note))}\n`
        }
        // One append per file: lines from parallel workers do not interleave.
        if (lines) appendFileSync(target, lines)
      }
      counts.clear()
    },
  }
}

function toLine(name: string, count: AttackCount, note: string): AttackLine {
  const extra = Object.entries(count.other)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')
  return {
    class: name,
    run: count.run,
    rejected: count.rejected,
    accepted_legitimately: count.accepted,
    note: [note, extra].filter(Boolean).join('; '),
  }
}
