// The public API of `sealed-session`: the engine for custom adapters, errors, revocation, types.
export { sessionEngine } from './core/engine.ts'
export {
  SessionConfigError,
  type SessionConfigIssue,
  SessionDataError,
  SessionError,
  type SessionErrorCode,
  SessionStoreError,
  SessionTooLargeError,
} from './core/errors.ts'
export { defaults, MIN_SECRET_LENGTH } from './core/options.ts'
export { applySessionPatch, sessionDeadline } from './core/record.ts'
export { type SessionRevocationOptions, sessionRevocation } from './core/revocation.ts'
export type {
  DefaultSessionData,
  InvalidReason,
  MaybePromise,
  OpenSession,
  ReservedSessionKey,
  Session,
  SessionCommit,
  SessionCookie,
  SessionCookieOptions,
  SessionData,
  SessionEncoder,
  SessionEngine,
  SessionHandle,
  SessionInfo,
  SessionMethods,
  SessionMigrator,
  SessionOptions,
  SessionPatch,
  SessionRecord,
  SessionRequest,
  SessionRevocation,
  SessionStore,
  UserSessionIndex,
  WriteMeta,
} from './core/types.ts'
