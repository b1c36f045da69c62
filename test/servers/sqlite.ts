// SQLite for the tests: better-sqlite3 under Node (vitest), bun:sqlite under Bun (`bun test`).
import type { SqliteDatabase } from '../../src/stores/sqlite.ts'

export type SqliteDb = SqliteDatabase & { close(): void }

export const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined'
/** The driver the tests open databases with in this runtime. */
export const sqliteDriver = isBun ? 'bun:sqlite' : 'better-sqlite3'
// A variable specifier, so Vite does not try to resolve a Bun built-in under Node.
const BUN_SQLITE = 'bun:sqlite'

/** A fresh database (`':memory:'` unless a file is given) on this runtime's driver. */
export async function openSqlite(file = ':memory:'): Promise<SqliteDb> {
  if (isBun) {
    const { Database } = (await import(BUN_SQLITE)) as { Database: new (f: string) => SqliteDb }
    return new Database(file)
  }
  const { default: Database } = await import('better-sqlite3')
  return new Database(file) as unknown as SqliteDb
}
