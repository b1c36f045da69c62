// The public API of `sealed-session/migrate`: `migrateFrom` entries for the session cookies of
// other libraries, so that switching to sealed-session logs nobody out. Kept out of the core:
// an app that does not migrate ships none of it.

export type { SessionMigrator } from '../core/types.ts'
export type { MigrateOptions } from './_shared.ts'
export { type H3MigrateOptions, h3 } from './h3.ts'
export { type HonoSessionMigrateOptions, honoSession } from './hono-session.ts'
export { type HonoSessionsMigrateOptions, honoSessions } from './hono-sessions.ts'
export { type IronSessionMigrateOptions, ironSession } from './iron-session.ts'
