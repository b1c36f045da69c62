import type { RingKey } from '../crypto/random.ts'
import { SessionConfigError, type SessionConfigIssue } from './errors.ts'
import { mapStore } from './map-store.ts'
import type {
  InvalidReason,
  SessionEncoder,
  SessionOptions,
  SessionRevocation,
  SessionSchema,
  SessionStore,
} from './types.ts'
import {
  at,
  boolean,
  type Check,
  each,
  fail,
  func,
  is,
  matches,
  methods,
  object,
  oneOf,
  seconds,
  string,
} from './validate.ts'

/** Shortest secret accepted, in characters (iron's own minimum). */
export const MIN_SECRET_LENGTH = 32

/** Defaults of every option that has one. Units are seconds. */
export const defaults = Object.freeze({
  cookieName: 'sid',
  tokenHeader: 'session-token',
  maxAge: 86_400,
  path: '/',
  sameSite: 'Lax',
  secure: 'auto',
  httpOnly: true,
  partitioned: false,
  maxChunks: 3,
} as const)

export type { RingKey } from '../crypto/random.ts'

export interface ResolvedCookie {
  domain: string | undefined
  path: string
  sameSite: 'Strict' | 'Lax' | 'None'
  secure: boolean | 'auto'
  httpOnly: boolean
  partitioned: boolean
}

export interface ResolvedOptions {
  /** Newest first. */
  keys: RingKey[]
  cookieName: string
  cookie: ResolvedCookie
  transport: 'cookie' | 'header'
  /** Lower-cased response header name for header transport. */
  tokenHeader: string
  /** Absolute lifetime (option `maxAge`, seconds), in milliseconds. */
  maxAgeMs: number
  /** Idle timeout (option `idleTimeout`, seconds), in milliseconds. */
  idleTimeoutMs: number | undefined
  rolling: boolean
  store: SessionStore | undefined
  encoder: SessionEncoder | undefined
  onInvalid: ((reason: InvalidReason, ctx: any) => void) | undefined
  now: () => number
  /** Bound into every seal and signed id. */
  purpose: string
  /** Most cookies one session may span; 1 when chunking is off. */
  maxChunks: number
  revocation: SessionRevocation | undefined
  schema: SessionSchema | undefined
  flashSchema: SessionSchema | undefined
}

// RFC 6265 §4.1.1: a cookie name is an RFC 7230 token.
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// Attribute values may not hold ';' or controls (RFC 6265 §4.1.1 av-octet); spaces are refused too.
const PATH = /^\/[\x21-\x3A\x3C-\x7E]*$/
const DOMAIN =
  /^\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/
// iron only accepts word characters in a password id.
const PASSWORD_ID = /^\w+$/

const secretString = string([
  (s) => s.length >= MIN_SECRET_LENGTH,
  `must be at least ${MIN_SECRET_LENGTH} characters`,
])
const nonEmpty = 'must hold at least one secret'
const secretList = each(secretString, [(a) => a.length > 0, nonEmpty])

// A string, a list (newest first) or ids to secrets; each form reports its own problems.
export const secret: Check = (value, path, issues) => {
  if (typeof value === 'string') return secretString(value, path, issues)
  if (Array.isArray(value)) return secretList(value, path, issues)
  if (typeof value !== 'object' || value === null) {
    return fail(issues, path, 'must be a string, an array of strings or an object of id: string')
  }
  const entries = Object.entries(value)
  if (entries.length === 0) return fail(issues, path, nonEmpty)
  const before = issues.length
  for (const [id, s] of entries) {
    if (!PASSWORD_ID.test(id)) fail(issues, path, `id "${id}": ids must be letters, digits or _`)
    secretString(s, at(path, id), issues)
  }
  // Which key is newest: the largest number, or the first named id. JavaScript lists
  // integer-like keys first whatever the order written, so a mix has no clear newest key.
  const numeric = entries.filter(([id]) => /^\d+$/.test(id)).length
  if (numeric > 0 && numeric < entries.length) {
    fail(
      issues,
      path,
      'ids must be all numbers (the largest is the newest) or all names (the first is the newest), not a mix',
    )
  }
  return issues.length === before
}

const chunkRange = 'must be a whole number from 2 to 10'
const chunkObject = object<{ maxChunks: number }>(
  {
    maxChunks: is((v): v is number => Number.isInteger(v), chunkRange, [
      (n) => n >= 2 && n <= 10,
      chunkRange,
    ]),
  },
  'must be true, false or { maxChunks }',
)

const revocationList = methods(
  ['revoke', 'revokeUser', 'isRevoked', 'retainFor'],
  'must be a revocation list from sessionRevocation()',
)

const standardSchema = is(
  (v): v is SessionSchema => typeof (v as SessionSchema)?.['~standard']?.validate === 'function',
  'must be a Standard Schema',
)

const checkOptions = object<SessionOptions>({
  secret,
  cookieName: matches(
    TOKEN,
    'must be a cookie token: no spaces, ";", ",", "=", quotes or controls',
  ),
  cookie: object<NonNullable<SessionOptions['cookie']>>({
    domain: matches(DOMAIN, 'must be a host name such as example.com'),
    path: matches(PATH, 'must start with "/" and hold no ";", spaces or controls'),
    sameSite: oneOf(
      ['Strict', 'Lax', 'None', 'strict', 'lax', 'none'],
      'must be "Strict", "Lax" or "None" (or lower case)',
    ),
    secure: oneOf([true, false, 'auto'], 'must be true, false or "auto"'),
    httpOnly: boolean,
    partitioned: boolean,
  }),
  transport: oneOf(['cookie', 'header']),
  tokenHeader: matches(TOKEN, 'must be a header name token'),
  maxAge: seconds,
  idleTimeout: seconds,
  rolling: boolean,
  store: methods(
    ['get', 'set', 'delete'],
    'must be a Map or an object with get, set and delete methods',
  ),
  encoder: methods(['encode', 'decode'], 'must be an object with encode and decode methods'),
  onInvalid: func,
  now: func,
  purpose: string(
    [(s) => s.length > 0, 'must be a non-empty string'],
    [(s) => s.length <= 200, 'must be at most 200 characters'],
  ),
  chunk: (value, path, issues) => typeof value === 'boolean' || chunkObject(value, path, issues),
  revocation: (value, path, issues) =>
    revocationList(value, path, issues) &&
    seconds((value as SessionRevocation).maxAge, at(path, 'maxAge'), issues),
  schema: standardSchema,
  flashSchema: standardSchema,
  migrateFrom: each(methods(['bind'], 'must come from sealed-session/migrate')),
})

/** Fields as given: any of them may have failed its own check. */
type Unchecked<T> = { readonly [K in keyof T]?: unknown }

/** Rules across fields, reported whether or not the fields passed their own checks. */
function crossFieldIssues(o: Unchecked<SessionOptions>, issues: SessionConfigIssue[]): void {
  const name = typeof o.cookieName === 'string' ? o.cookieName : defaults.cookieName
  const cookie: Unchecked<SessionOptions['cookie'] & {}> =
    typeof o.cookie === 'object' && o.cookie !== null ? o.cookie : {}
  const secure = cookie.secure ?? defaults.secure
  const issue = (path: string, message: string) => fail(issues, path, message)
  // Prefix rules: https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-4.1.3
  // Browsers match the prefixes case-insensitively (`__host-` too).
  const lower = name.toLowerCase()
  if (lower.startsWith('__host-')) {
    if (cookie.domain !== undefined) issue('cookie.domain', 'not allowed with a __Host- cookie')
    if ((cookie.path ?? '/') !== '/') issue('cookie.path', 'must be "/" with a __Host- cookie')
    if (secure === false) issue('cookie.secure', 'must not be false with a __Host- cookie')
  } else if (lower.startsWith('__secure-') && secure === false) {
    issue('cookie.secure', 'must not be false with a __Secure- cookie')
  }
  if (String(cookie.sameSite).toLowerCase() === 'none' && secure === false) {
    issue('cookie.secure', 'must not be false when sameSite is "None"')
  }
  if (cookie.partitioned && secure === false) {
    issue('cookie.secure', 'must not be false when partitioned is set')
  }
  if (o.encoder && o.store) issue('encoder', 'only applies in sealed mode; remove it or the store')
  if (o.revocation && o.store) {
    issue(
      'revocation',
      'only applies in sealed mode: in store mode deleting the entry revokes a session (see destroyUserSessions)',
    )
  }
  if (o.revocation && o.encoder) {
    issue('revocation', 'needs the built-in iron sealing, which carries the session id')
  }
  if (o.chunk && o.store) {
    issue('chunk', 'only applies in sealed mode: a store-mode cookie is a short id')
  }
  if (o.chunk && o.transport === 'header') issue('chunk', 'only applies to the cookie transport')
}

let warnedRandomSecret = false

export function keyRing(secret: NonNullable<SessionOptions['secret']>): RingKey[] {
  if (typeof secret === 'string') return [{ id: '', secret }]
  if (Array.isArray(secret)) {
    // Ids derived from position would shift on every rotation; iron's '' plus trying each key
    // keeps old cookies readable whatever the order, and the ring is small.
    return secret.map((s) => ({ id: '', secret: s }))
  }
  const entries = Object.entries(secret as Record<string, string>)
  const numeric = entries.every(([id]) => /^\d+$/.test(id))
  // iron-session's convention: with numeric ids the largest is the newest.
  if (numeric) entries.sort(([a], [b]) => Number(b) - Number(a))
  return entries.map(([id, s]) => ({ id, secret: s }))
}

function randomSecret(): string {
  const bytes = new Uint8Array(32)
  crypto.getRandomValues(bytes)
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

/**
 * Whether `NODE_ENV` is `production`. Never throws and never prompts: where the environment
 * cannot be read (Deno without `--allow-env=NODE_ENV`) it counts as production.
 */
function isProduction(): boolean {
  const g = globalThis as any
  try {
    // Deno would stop at a terminal to ask for the permission: ask Deno first, read if granted.
    const env = g.Deno?.permissions?.querySync?.({ name: 'env', variable: 'NODE_ENV' })
    if (env && env.state !== 'granted') return true
    return g.process?.env?.NODE_ENV === 'production'
  } catch {
    return true
  }
}

/**
 * Validates options and fills in defaults; throws one `SessionConfigError` naming every bad field.
 */
export function resolveOptions(options: SessionOptions = {}): ResolvedOptions {
  const issues: SessionConfigIssue[] = []
  checkOptions(options, '', issues)
  // Not an object: none of its fields can be read.
  if (typeof options !== 'object' || options === null) throw new SessionConfigError(issues)
  crossFieldIssues(options, issues)
  // Read once, here: requests never look at the environment.
  const production = isProduction()
  if (options.secret === undefined && production) {
    issues.unshift({
      path: 'secret',
      message: `is required in production: pass at least ${MIN_SECRET_LENGTH} random characters, e.g. from process.env.SESSION_SECRET`,
    })
  }
  if (issues.length > 0) throw new SessionConfigError(issues)

  let secret = options.secret
  if (secret === undefined) {
    secret = randomSecret()
    if (!warnedRandomSecret) {
      warnedRandomSecret = true
      console.warn(
        '[sealed-session] No `secret` given: using a random one, so every session ends when this process restarts. Set `secret` (e.g. process.env.SESSION_SECRET); it is required when NODE_ENV=production.',
      )
    }
  }

  const c = options.cookie ?? {}
  const sameSite = (c.sameSite ?? defaults.sameSite).toLowerCase()
  const secure = c.secure ?? defaults.secure
  const store = options.store
  return {
    keys: keyRing(secret),
    cookieName: options.cookieName ?? defaults.cookieName,
    transport: options.transport ?? 'cookie',
    tokenHeader: (options.tokenHeader ?? defaults.tokenHeader).toLowerCase(),
    cookie: {
      domain: c.domain,
      path: c.path ?? defaults.path,
      sameSite: sameSite === 'strict' ? 'Strict' : sameSite === 'none' ? 'None' : 'Lax',
      // In production 'auto' is Secure whatever the request says: behind a TLS proxy that
      // forwards to http://localhost, or for a crafted Host, the URL looks like development.
      secure: secure === 'auto' && production ? true : secure,
      httpOnly: c.httpOnly ?? defaults.httpOnly,
      partitioned: c.partitioned ?? defaults.partitioned,
    },
    maxAgeMs: (options.maxAge ?? defaults.maxAge) * 1000,
    idleTimeoutMs: options.idleTimeout === undefined ? undefined : options.idleTimeout * 1000,
    rolling: options.rolling ?? options.idleTimeout !== undefined,
    store: store instanceof Map ? mapStore(store) : store,
    encoder: options.encoder,
    onInvalid: options.onInvalid,
    now: options.now ?? Date.now,
    purpose: options.purpose ?? options.cookieName ?? defaults.cookieName,
    maxChunks: !options.chunk
      ? 1
      : options.chunk === true
        ? defaults.maxChunks
        : (options.chunk.maxChunks ?? defaults.maxChunks),
    revocation: options.revocation,
    schema: options.schema,
    flashSchema: options.flashSchema,
  }
}
