// @ts-check
// The embedded default: one SQLite file in WAL mode (several processes may share it),
// migrated at start. SQLite's own busy wait would hold the event loop while another
// connection has the write lock, so it is off: a locked write is retried on timers,
// and after busyWaitMs it fails as DatabaseUnavailable. Only the start (the journal
// mode and the migration), before the demo listens, waits in place: inside SQLite, and
// where SQLite answers "locked" without waiting (the opener holds a read lock while
// another process holds the write lock, as when two demos start on a new folder) in a
// retry loop, startWaitMs at most.
import { existsSync, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import Database from 'libsql'
import { DatabaseUnavailable } from './db.js'
import { migrate } from './migrations.js'
import { sqliteRevocations } from './revocations-sqlite.js'

/**
 * @param {string} dataDir where demo.sqlite lives (created if missing)
 * @param {{ busyWaitMs?: number, startWaitMs?: number }} [options] how long a call
 *   waits for a lock; how long opening the file does
 * @returns {import('./db.js').DemoDatabase & { path: string }}
 */
export function openSqlite (dataDir, { busyWaitMs = 2000, startWaitMs = 10_000 } = {}) {
  const dir = resolve(dataDir)
  mkdirSync(dir, { recursive: true })
  const path = join(dir, 'demo.sqlite')
  const created = !existsSync(path)
  const db = new Database(path)
  try {
    const migration = whileLocked(startWaitMs, (leftMs) => {
      db.exec(`PRAGMA busy_timeout = ${leftMs}`)
      db.exec('PRAGMA journal_mode = WAL')
      db.exec('PRAGMA synchronous = NORMAL')
      return migrate(db)
    })
    db.exec('PRAGMA busy_timeout = 0')
    const run = patiently(busyWaitMs)
    const q = prepared(db)
    return {
      path,
      where: path,
      created,
      migration,
      userByKey: (key) => run(() => pick(q.byKey.get(key))),
      userById: (id) => run(() => pick(q.byId.get(id))),
      addUser: (name, key, passwordHash, createdAt) => run(() => {
        const row = /** @type {{ id: number } | undefined} */ (q.insert.get(name, key, passwordHash, createdAt))
        return row === undefined ? null : row.id
      }),
      countUsers: () => run(() => /** @type {{ n: number }} */ (q.count.get()).n),
      addDevice: (userId, device, forgetBefore) => run(() => {
        q.forget.run(forgetBefore)
        q.addDevice.run(device.sessionId, userId, device.signedInAt, device.browser)
      }),
      devicesOf: (userId, since) => run(() => /** @type {Array<Record<string, any>>} */ (q.devices.all(userId, since))
        .map((r) => ({ sessionId: r.session_id, signedInAt: r.signed_in_at, browser: r.browser }))),
      hasDevice: (userId, sessionId) => run(() => q.device.get(userId, sessionId) !== undefined),
      removeDevice: (userId, sessionId, keep = null) => run(() => {
        if (sessionId === null) q.removeAll.run(userId, keep ?? '')
        else q.remove.run(userId, sessionId)
      }),
      revocations: sqliteRevocations(db, run),
      close: async () => { if (db.open) db.close() }
    }
  } catch (err) {
    db.close()
    throw err
  }
}

/** @param {import('libsql').Database} db */
function prepared (db) {
  return {
    byKey: db.prepare('SELECT id, name, password_hash FROM users WHERE name_key = ?'),
    byId: db.prepare('SELECT id, name FROM users WHERE id = ?'),
    // Any unique column taken (the key, or the old case-insensitive name): no account.
    insert: db.prepare('INSERT INTO users (name, name_key, password_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id'),
    count: db.prepare('SELECT count(*) AS n FROM users'),
    forget: db.prepare('DELETE FROM devices WHERE signed_in_at < ?'),
    addDevice: db.prepare('INSERT OR REPLACE INTO devices (session_id, user_id, signed_in_at, browser) VALUES (?, ?, ?, ?)'),
    devices: db.prepare('SELECT session_id, signed_in_at, browser FROM devices WHERE user_id = ? AND signed_in_at >= ? ORDER BY signed_in_at DESC, session_id LIMIT 50'),
    device: db.prepare('SELECT 1 FROM devices WHERE user_id = ? AND session_id = ?'),
    remove: db.prepare('DELETE FROM devices WHERE user_id = ? AND session_id = ?'),
    removeAll: db.prepare('DELETE FROM devices WHERE user_id = ? AND session_id <> ?')
  }
}

/** @typedef {<T>(query: () => T) => Promise<T>} Runner */

/**
 * Runs a query; while SQLite answers "locked", tries again on a timer (5, 10, 20...
 * 100 ms apart) until busyWaitMs have passed.
 * @param {number} busyWaitMs
 * @returns {Runner}
 */
export function patiently (busyWaitMs) {
  return async (query) => {
    const end = Date.now() + busyWaitMs
    for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
      try {
        return query()
      } catch (err) {
        if (!isLocked(err)) throw err
        if (Date.now() + wait > end) throw new DatabaseUnavailable(`the SQLite file stayed locked for ${busyWaitMs} ms`, err)
        await delay(wait)
      }
    }
  }
}

/**
 * Runs the start's statements, given the time left; while SQLite answers "locked",
 * blocks 10 ms and tries again, until waitMs have passed. Blocking is fine here:
 * nothing is served yet.
 * @template T
 * @param {number} waitMs
 * @param {(leftMs: number) => T} start
 * @returns {T}
 */
function whileLocked (waitMs, start) {
  const end = Date.now() + waitMs
  const pause = new Int32Array(new SharedArrayBuffer(4))
  for (;;) {
    try {
      return start(Math.max(0, end - Date.now()))
    } catch (err) {
      if (!isLocked(err)) throw err
      if (Date.now() + 10 > end) throw new DatabaseUnavailable(`the SQLite file stayed locked for ${waitMs} ms at start`, err)
      Atomics.wait(pause, 0, 0, 10)
    }
  }
}

/** @param {unknown} err */
function isLocked (err) {
  const code = /** @type {{ code?: string }} */ (err).code
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED'
}

// libsql adds a `_metadata` field to each row: keep only the columns.
/** @param {unknown} row */
function pick (row) {
  if (row === undefined || row === null) return undefined
  const { _metadata, ...columns } = /** @type {Record<string, unknown>} */ (row)
  return /** @type {any} */ (columns)
}
