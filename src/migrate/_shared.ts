// What every migrator shares: the common options and their checks, the `until` window, finding
// the old cookie in a request, and handing what it held to the engine as a session of ours.
import { SessionConfigError, type SessionConfigIssue } from '../core/errors.ts'
import type { BoundMigrator, Migrator, RecordCheck } from '../core/migration.ts'
import { keyRing, type ResolvedOptions, secret, TOKEN } from '../core/options.ts'
import { readCookie } from '../core/request.ts'
import { storeCall } from '../core/sources.ts'
import type { SessionState } from '../core/state/session-state.ts'
import type {
  InvalidReason,
  migratorMark,
  SessionOptions,
  SessionRecord,
  SessionRequest,
} from '../core/types.ts'
import { type Check, fail, matches } from '../core/validate.ts'
import { type RingKey, randomId } from '../crypto/random.ts'
import type { Steps } from '../util/steps.ts'

/** Options every migrator takes. */
export interface MigrateOptions {
  /**
   * The old library's session cookie name. When it differs from `session()`'s `cookieName`, the
   * response that carries the session over clears it.
   */
  cookieName?: string
  /**
   * What the old library sealed with, in any form `session()`'s `secret` takes. Needed only
   * when it is not `session()`'s own.
   * @default the `secret` of `session()`
   */
  secret?: SessionOptions['secret']
  /**
   * When the entry stops reading old cookies: a `Date` or an ISO 8601 string. From then on they
   * are refused again, and a warning says so once (at start-up when the date is already past).
   * Set one: see SECURITY.md for what stays open until then.
   * @default undefined (no end)
   */
  until?: Date | string
}

/** What one old cookie held, as a library's reader found it. */
export interface Found {
  data: Record<string, unknown>
  /** When the old library would have ended it, epoch ms; undefined when it set no end. */
  expiresAt: number | undefined
  /** When it began, epoch ms, where the old library kept that. */
  createdAt?: number
  /** Keys flashed for this request: read once, then gone. */
  flash?: string[]
}

/** One library's cookie format, bound to one engine's keys. */
export interface Reader {
  /** The values to try (in order) and every cookie of the old library the request carries. */
  read(header: string | null | undefined, cookieName: string): { values: string[]; names: string[] }
  /** What one value holds, or why it is refused. */
  open(value: string, now: number): Steps<Found | InvalidReason>
}

/** How a migrator is made: its name, the default cookie, and its format's reader. */
export interface Format {
  from: string
  /** The factory's name in messages: `ironSession`. */
  factory: string
  cookieName: string | undefined
  /** The reader for `keys` (the old library's secrets) under one engine. */
  reader(keys: RingKey[], o: ResolvedOptions): Reader
}

// Longer than any cookie set a browser sends for one session (h3 chunks up to 10 of 4000 here).
const MAX_VALUE = 10 * 4096

/** An object parsed from JSON (not an array, not null). */
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** A finite number. */
export const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

/** The iron expiration of a well-formed seal, epoch ms, or undefined when it has none. */
export function sealExpiration(sealed: string): number | undefined {
  const field = sealed.split('*')[5]
  return field ? Number(field) : undefined
}

/** The first values of `cookieName` in the header, with that name when there are any. */
export function readPlain(header: string | null | undefined, cookieName: string) {
  const values = readCookie(header, cookieName)
  return { values, names: values.length > 0 ? [cookieName] : [] }
}

const cookieToken = matches(TOKEN, 'must be a cookie token: no spaces, ";", ",", "=" or quotes')

/** The end of the window as epoch ms, or an issue. */
const untilCheck: Check = (value, path, issues) =>
  untilMs(value) !== undefined || fail(issues, path, 'must be a Date or an ISO 8601 date string')

function untilMs(value: unknown): number | undefined {
  const ms =
    value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : NaN
  return Number.isFinite(ms) ? ms : undefined
}

/**
 * Checks a factory's options: the common ones and the library's own `checks`. Throws one
 * `SessionConfigError` naming every bad field, as `session()` does.
 */
function checkMigrateOptions(
  factory: string,
  options: unknown,
  checks: Record<string, Check>,
): void {
  const issues: SessionConfigIssue[] = []
  const path = `${factory}()`
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    fail(issues, path, 'options must be an object')
  } else {
    const all: Record<string, Check> = { cookieName: cookieToken, secret, until: untilCheck }
    Object.assign(all, checks)
    for (const [key, value] of Object.entries(options ?? {})) {
      const check = all[key]
      if (!check) fail(issues, path, `unknown option "${key}"`)
      else if (value !== undefined) check(value, `${path}.${key}`, issues)
    }
  }
  if (issues.length > 0) throw new SessionConfigError(issues)
}

/** A `migrateFrom` entry: one library's format, with the common options applied. */
export class Migration implements Migrator {
  declare readonly [migratorMark]: true
  readonly from: string
  /** The old cookie's name; undefined: the same as `session()`'s. */
  readonly cookieName: string | undefined
  readonly #format: Format
  readonly #secret: SessionOptions['secret']
  readonly #until: number | undefined
  #warned = false

  /**
   * @param checks the library's own options beside the common ones
   * @throws SessionConfigError naming every bad option
   */
  constructor(format: Format, options: MigrateOptions = {}, checks: Record<string, Check> = {}) {
    checkMigrateOptions(format.factory, options, checks)
    this.from = format.from
    this.#format = format
    this.#secret = options.secret
    this.#until = options.until === undefined ? undefined : untilMs(options.until)
    this.cookieName = options.cookieName ?? format.cookieName
  }

  /** True once `until` has passed at `now`; says so once. */
  ended(now: number): boolean {
    if (this.#until === undefined || now < this.#until) return false
    if (!this.#warned) {
      this.#warned = true
      console.warn(
        `[sealed-session] migrateFrom: ${this.#format.factory}() no longer reads ${this.from} cookies, its until (${new Date(this.#until).toISOString()}) has passed; remove it from migrateFrom.`,
      )
    }
    return true
  }

  bind(o: ResolvedOptions, check: RecordCheck): BoundMigrator {
    if (o.transport === 'header') {
      throw new SessionConfigError([
        { path: 'migrateFrom', message: 'only applies to the cookie transport' },
      ])
    }
    this.ended(o.now())
    const keys = this.#secret === undefined ? o.keys : keyRing(this.#secret)
    return new BoundMigration(this, o, this.#format.reader(keys, o), check)
  }
}

class BoundMigration implements BoundMigrator {
  readonly #m: Migration
  readonly #o: ResolvedOptions
  readonly #reader: Reader
  readonly #cookieName: string
  readonly #check: RecordCheck

  constructor(m: Migration, o: ResolvedOptions, reader: Reader, check: RecordCheck) {
    this.#m = m
    this.#o = o
    this.#reader = reader
    this.#cookieName = m.cookieName ?? o.cookieName
    this.#check = check
  }

  *open(
    request: SessionRequest,
    state: SessionState,
    reason: InvalidReason | undefined,
  ): Steps<InvalidReason | undefined> {
    const now = this.#o.now()
    if (this.#m.ended(now)) return reason
    const { values, names } = this.#reader.read(request.header('cookie'), this.#cookieName)
    if (values.length === 0) return reason
    // Added to what the request carried, so the next write clears them (our own name is ours
    // to write or clear already).
    const others = names.filter((n) => n !== this.#o.cookieName)
    if (others.length > 0) state.carried.others = others
    for (const value of values) {
      const refused = yield* this.#adopt(value, now, state)
      if (refused === undefined) return undefined
      if (refused) reason = refused
    }
    return reason
  }

  /**
   * Opens `value` and hands it to `state` (undefined), or says why not: false when, under our
   * own cookie name, it is in neither format (the reason our own check gave stands).
   */
  *#adopt(
    value: string,
    now: number,
    state: SessionState,
  ): Steps<InvalidReason | false | undefined> {
    const o = this.#o
    if (value.length > MAX_VALUE) return 'too-large'
    const found = yield* this.#reader.open(value, now)
    if (typeof found === 'string') {
      const neither = found === 'malformed' || found === 'invalid-data'
      return neither && this.#cookieName === o.cookieName ? false : found
    }
    // The old library's end, or our own maxAge from now: migration extends no session.
    const expiresAt = Math.min(found.expiresAt ?? Number.POSITIVE_INFINITY, now + o.maxAgeMs)
    if (expiresAt <= now) return 'expired'
    // No `sid`: the session gets a fresh id when it is written (nothing of ours to revoke).
    const record: SessionRecord<Record<string, unknown>> = {
      data: found.data,
      createdAt: Math.min(found.createdAt ?? now, now),
      expiresAt,
    }
    const flash = found.flash?.filter((key) => key in found.data)
    if (flash && flash.length > 0) record.flash = flash
    // Checked like a session of ours: data failing `schema` is refused, not carried over.
    const invalid = yield* this.#check(record)
    if (invalid) return invalid
    const revocation = o.revocation
    if (revocation) {
      // It was sealed before the switch, so before any revocation written since: a creation
      // time the old library did not keep counts as the earliest (revokeUser() reaches it).
      const query = {
        id: randomId(),
        userId: found.data[revocation.userKey],
        createdAt: found.createdAt ?? 0,
      }
      if (yield* storeCall('get', () => revocation.isRevoked(query))) return 'revoked'
    }
    const opened = { record, storeId: undefined, sealed: undefined, cached: false }
    state.open({ ...opened, stale: false, shared: false }, now)
    // Renewed to the end it already has: this response writes it, in store mode too.
    state.lifetime.renew((expiresAt - now) / 1000)
    return undefined
  }
}
