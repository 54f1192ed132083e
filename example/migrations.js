// @ts-check
// The SQLite schema, as numbered steps (SQL, or a function for a step that needs the
// app's own code). PRAGMA user_version records how many have run, so each runs once
// per database file, whichever process gets there first.
import { nameKey } from './names.js'

/** @type {Array<string | ((db: import('libsql').Database) => void)>} */
export const migrations = [
  `CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    -- Unix seconds: the cut-off of the demo's first "sign out everywhere" (unused since step 2).
    sessions_valid_after INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  ) STRICT`,
  // Names compared by their key (Unicode case folding, look-alikes), the devices
  // signed in, and the revocations the plugin shares between processes.
  (db) => {
    db.exec('ALTER TABLE users ADD COLUMN name_key TEXT')
    const rows = /** @type {Array<{ id: number, name: string }>} */ (db.prepare('SELECT id, name FROM users ORDER BY id').all())
    const set = db.prepare('UPDATE users SET name_key = ? WHERE id = ?')
    const seen = new Set()
    for (const { id, name } of rows) {
      // Two old accounts whose names now count as the same: the older keeps the name.
      const key = seen.has(nameKey(name)) ? `${nameKey(name)}#${id}` : nameKey(name)
      seen.add(key)
      set.run(key, id)
    }
    db.exec(`CREATE UNIQUE INDEX users_name_key ON users (name_key);
    CREATE TABLE devices (
      session_id TEXT PRIMARY KEY,
      user_id INTEGER NOT NULL REFERENCES users (id),
      signed_in_at INTEGER NOT NULL,
      browser TEXT NOT NULL
    ) STRICT;
    CREATE INDEX devices_by_user ON devices (user_id, signed_in_at);
    CREATE TABLE revocations (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      kind TEXT NOT NULL CHECK (kind IN ('session', 'user')),
      id TEXT NOT NULL,
      after INTEGER,
      until INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX revocations_by_until ON revocations (until);`)
  },
  // A sign-out of the other sessions keeps one; each row's random mark lets a reader tell
  // a history that went back (the file restored from a copy) from the one it read.
  `ALTER TABLE revocations ADD COLUMN except_id TEXT;
  ALTER TABLE revocations ADD COLUMN mark TEXT NOT NULL DEFAULT '';`
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
        const migration = migrations[step]
        if (typeof migration === 'string') db.exec(migration)
        else migration(db)
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
