// What a `migrateFrom` entry is to the engine. Entries are made by sealed-session/migrate (which
// imports the core, never the other way round): apps that do not migrate ship none of it.
import type { Steps } from '../util/steps.ts'
import type { ResolvedOptions } from './options.ts'
import type { SessionState } from './state/session-state.ts'
import type { InvalidReason, SessionMigrator, SessionRecord, SessionRequest } from './types.ts'

/**
 * The engine's check of a record a migrator found, before it is opened (the `schema` and
 * `flashSchema`): why it is refused, or undefined (the schema's defaults are then filled in).
 */
export type RecordCheck = (
  record: SessionRecord<Record<string, unknown>>,
) => Steps<InvalidReason | undefined>

/** A `SessionMigrator` as `sealed-session/migrate` makes it. */
export interface Migrator extends SessionMigrator {
  /**
   * Binds it to one engine's options (secret, cookie name, clock) and its check of what a
   * request brings; called at construction.
   */
  bind(o: ResolvedOptions, check: RecordCheck): BoundMigrator
}

/** A migrator bound to one engine. */
export interface BoundMigrator {
  /**
   * Looks for the old library's cookie in `request`. A session found is opened into `state`
   * (without an id, renewed so that this response writes it; `state.isNew` turns false).
   * Answers why the request's session was refused: `reason` (what our own cookies gave) as it
   * came when the request carries none of this library's cookies (or the entry's `until` has
   * passed), else why its cookie was refused, undefined once one opened. A reader must refuse
   * our own payloads: an expired or revoked session of ours is never another library's.
   */
  open(
    request: SessionRequest,
    state: SessionState,
    reason: InvalidReason | undefined,
  ): Steps<InvalidReason | undefined>
}
