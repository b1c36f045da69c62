// When a session ends: its creation time, absolute and idle deadlines, and the changes to them
// a request makes (renew, restart on regenerate/destroy, rolling refresh). Epoch milliseconds.
import { sessionDeadline } from '../record.ts'
import type { SessionRecord } from '../types.ts'

/** The lifetime rules of one engine, in milliseconds. */
export interface LifetimeRules {
  now: () => number
  maxAgeMs: number
  idleTimeoutMs: number | undefined
  rolling: boolean
  /**
   * With a revocation list: the longest a session may live (the list's `maxAge`, which grows as
   * engines attach), read on each `renew()`, which is capped to it.
   */
  longestMs?: (() => number) | undefined
}

/**
 * The deadlines of one session during one request: `adopt()` a loaded record's, or
 * `restart()` for a new session (the engine does one or the other on load).
 */
export class Lifetime {
  createdAt: number
  /** Absolute deadline. */
  expiresAt: number
  /** Idle deadline; undefined without `idleTimeout` (unless the record carried one). */
  idleExpiresAt: number | undefined
  /** `renew()` moved the deadline: the session must be written. */
  renewed = false
  /** A rolling refresh is due: the session must be written although nothing changed. */
  refreshDue = false
  readonly #rules: LifetimeRules

  constructor(rules: LifetimeRules) {
    this.#rules = rules
    this.createdAt = 0
    this.expiresAt = 0
    this.idleExpiresAt = undefined
  }

  /** A new lifetime starting now (a new session, a login, a logout). */
  restart(): void {
    const { now, maxAgeMs, idleTimeoutMs } = this.#rules
    const at = now()
    this.createdAt = at
    this.expiresAt = at + maxAgeMs
    this.idleExpiresAt = idleTimeoutMs === undefined ? undefined : at + idleTimeoutMs
    this.renewed = false
    this.refreshDue = false
  }

  /** Takes the deadlines of a loaded record and decides whether a rolling refresh is due. */
  adopt(record: SessionRecord<unknown>, at: number): void {
    this.createdAt = record.createdAt
    this.expiresAt = record.expiresAt
    this.idleExpiresAt = record.idleExpiresAt
    this.refreshDue = this.#rules.rolling && this.#halfWindowPassed(at)
  }

  /** True once half the rolling window has passed since the deadline was last moved. */
  #halfWindowPassed(at: number): boolean {
    const { idleTimeoutMs, maxAgeMs } = this.#rules
    if (idleTimeoutMs !== undefined) {
      // A record sealed before idleTimeout was configured has no idle deadline yet.
      if (this.idleExpiresAt === undefined) return true
      return this.idleExpiresAt - at <= idleTimeoutMs / 2
    }
    return this.expiresAt - at <= maxAgeMs / 2
  }

  /**
   * Restarts the absolute lifetime: `maxAge` seconds from now, or the engine's `maxAge`; never
   * past the revocation list's `maxAge` (a longer one would outlive the list's entries).
   * Throws a RangeError for anything but a positive finite number.
   */
  renew(maxAge?: number): void {
    if (maxAge !== undefined && !(Number.isFinite(maxAge) && maxAge > 0)) {
      throw new RangeError(`renew(maxAge) takes a positive number of seconds, got ${maxAge}`)
    }
    const { now, maxAgeMs, longestMs } = this.#rules
    const ms = maxAge === undefined ? maxAgeMs : maxAge * 1000
    this.expiresAt = now() + (longestMs ? Math.min(ms, longestMs()) : ms)
    this.renewed = true
  }

  /** Moves the deadlines a write moves: the idle deadline always, a sliding maxAge when due. */
  beforeWrite(at: number): void {
    const { idleTimeoutMs, maxAgeMs } = this.#rules
    if (this.refreshDue && idleTimeoutMs === undefined) this.expiresAt = at + maxAgeMs
    if (idleTimeoutMs !== undefined) this.idleExpiresAt = at + idleTimeoutMs
  }

  /**
   * What `deadline()` will be after this response: moved by a due rolling refresh, or, with an
   * idle timeout, by any write (`writes()` says whether there is one).
   */
  deadlineAfterCommit(writes: () => boolean): number {
    if (!this.refreshDue && (this.#rules.idleTimeoutMs === undefined || !writes())) {
      return this.deadline()
    }
    // What beforeWrite() would do now, undone: the projection cannot drift from the write.
    const { expiresAt, idleExpiresAt } = this
    this.beforeWrite(this.#rules.now())
    const deadline = this.deadline()
    this.expiresAt = expiresAt
    this.idleExpiresAt = idleExpiresAt
    return deadline
  }

  /** After a commit: the deadlines written are the new starting point. */
  rebase(): void {
    this.renewed = false
    this.refreshDue = false
  }

  /** The earlier of the absolute and idle deadlines. */
  deadline(): number {
    return sessionDeadline(this)
  }
}
