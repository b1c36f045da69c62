export { SessionEngine } from './core/engine.ts'
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
export {
  type SessionRevocation,
  type SessionRevocationOptions,
  sessionRevocation,
} from './core/revocation.ts'
export type { SessionState } from './core/session.ts'
export type {
  DefaultSessionData,
  InvalidReason,
  MaybePromise,
  OpenSession,
  ReservedSessionKey,
  Session,
  SessionCookieOptions,
  SessionData,
  SessionEncoder,
  SessionInfo,
  SessionMethods,
  SessionOptions,
  SessionPatch,
  SessionRecord,
  SessionStore,
  UserSessionIndex,
} from './core/types.ts'
export { applySessionPatch, sessionDeadline } from './core/types.ts'
