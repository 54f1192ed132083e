// @ts-check
// The schema, as numbered steps. PRAGMA user_version records how many have run, so
// each runs once per database file, whichever process gets there first.
export const migrations = [
  `CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    -- Unix seconds: sessions issued in this second or earlier are refused ("sign out everywhere").
    sessions_valid_after INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  ) STRICT`
]

/**
 * Runs the steps the file has not had yet, each in its own write transaction.
 * @param {import('libsql').Database} db
 * @returns {{ from: number, to: number }}
 */
export function migrate (db) {
  const read = db.prepare('PRAGMA user_version')
  const version = () => /** @type {{ user_version: number }} */ (read.get()).user_version
  const from = version()
  if (from > migrations.length) throw new Error(`the database has schema version ${from}, newer than this demo knows (${migrations.length})`)
  for (let step = from; step < migrations.length; step++) {
    // IMMEDIATE takes the write lock first: a second process starting at the same
    // time waits (busy_timeout), then sees the new version and skips the step.
    db.exec('BEGIN IMMEDIATE')
    try {
      if (version() === step) {
        db.exec(migrations[step])
        db.exec(`PRAGMA user_version = ${step + 1}`)
      }
      db.exec('COMMIT')
    } catch (err) {
      db.exec('ROLLBACK')
      throw err
    }
  }
  return { from, to: version() }
}
