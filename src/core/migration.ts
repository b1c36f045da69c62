// What a `migrateFrom` entry is to the engine. Entries are made by sealed-session/migrate (which
// imports the core, never the other way round): apps that do not migrate ship none of it.
import type { Steps } from '../util/steps.ts'
import type { ResolvedOptions } from './options.ts'
import type { SessionState } from './state/session-state.ts'
import type { InvalidReason, SessionMigrator, SessionRequest } from './types.ts'

/** A `SessionMigrator` as `sealed-session/migrate` makes it. */
export interface Migrator extends SessionMigrator {
  /** Binds it to one engine's options (secret, cookie name, clock); called at construction. */
  bind(o: ResolvedOptions): BoundMigrator
}

/** A migrator bound to one engine. */
export interface BoundMigrator {
  /**
   * Looks for the old library's cookie in `request`. A session found is handed to `state`
   * (`adoptForeign`): true. Otherwise why its cookie was refused, or undefined when the request
   * carries none (or the entry's `until` has passed). A reader must refuse our own payloads
   * (an expired or revoked session of ours is never another library's).
   */
  open(request: SessionRequest, state: SessionState): Steps<true | InvalidReason | undefined>
}
