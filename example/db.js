// @ts-check
// The demo's SQLite file: opened in WAL mode (several processes share it in the
// fleet test), migrated, and the few queries the app makes.
import { existsSync, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Database from 'libsql'
import { migrate } from './migrations.js'

/**
 * @typedef {object} UserRow
 * @property {number} id
 * @property {string} name
 * @property {string} password_hash
 * @property {number} sessions_valid_after
 */

/** @param {string} dataDir */
export function openDatabase (dataDir) {
  const dir = resolve(dataDir)
  mkdirSync(dir, { recursive: true })
  const path = join(dir, 'demo.sqlite')
  const created = !existsSync(path)
  const db = new Database(path)
  try {
    // Wait for another process's write instead of failing at once with SQLITE_BUSY.
    db.exec('PRAGMA busy_timeout = 5000')
    db.exec('PRAGMA journal_mode = WAL')
    db.exec('PRAGMA synchronous = NORMAL')
    const migration = migrate(db)

    const byName = db.prepare('SELECT id, name, password_hash, sessions_valid_after FROM users WHERE name = ?')
    const byId = db.prepare('SELECT id, name, sessions_valid_after FROM users WHERE id = ?')
    const insert = db.prepare(`INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)
      ON CONFLICT (name) DO NOTHING RETURNING id`)
    // A cut-off never moves back (two clicks, or two machines whose clocks differ).
    const revoke = db.prepare('UPDATE users SET sessions_valid_after = max(sessions_valid_after, ?) WHERE id = ?')
    const count = db.prepare('SELECT count(*) AS n FROM users')

    return {
      path,
      created,
      migration,
      /** @param {string} name @returns {UserRow | undefined} */
      userByName: (name) => pick(byName.get(name)),
      /** @param {number} id @returns {Omit<UserRow, 'password_hash'> | undefined} */
      userById: (id) => pick(byId.get(id)),
      /**
       * @param {string} name @param {string} passwordHash @param {number} createdAt
       * @returns {number | null} the new id, or null when the name is taken
       */
      addUser (name, passwordHash, createdAt) {
        const row = /** @type {{ id: number } | undefined} */ (insert.get(name, passwordHash, createdAt))
        return row === undefined ? null : row.id
      },
      /** @param {number} id @param {number} seconds */
      setSessionsValidAfter: (id, seconds) => { revoke.run(seconds, id) },
      countUsers: () => /** @type {{ n: number }} */ (count.get()).n,
      close: () => { if (db.open) db.close() }
    }
  } catch (err) {
    db.close()
    throw err
  }
}

/** @typedef {ReturnType<typeof openDatabase>} DemoDatabase */

// libsql adds a `_metadata` field to each row: keep only the columns.
/** @param {unknown} row */
function pick (row) {
  if (row === undefined || row === null) return undefined
  const { _metadata, ...columns } = /** @type {Record<string, unknown>} */ (row)
  return /** @type {any} */ (columns)
}
