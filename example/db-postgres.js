// @ts-check
// The demo on a PostgreSQL server (DATABASE_URL): the same calls as db-sqlite.js,
// through the pg Pool that @fastify/postgres made. Migrated at start under an
// advisory lock, so processes starting together migrate once. A server that is down
// or unreachable fails the call as DatabaseUnavailable once pg gives up (its connect
// and query timeouts bound the wait); any other error is a fault of the demo.
import { DatabaseUnavailable } from './db.js'

/** Steps of the schema; demo_schema holds how many have run. */
export const pgMigrations = [
  `CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    name_key text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    created_at bigint NOT NULL
  );
  CREATE TABLE devices (
    session_id text PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id),
    signed_in_at bigint NOT NULL,
    browser text NOT NULL
  );
  CREATE INDEX devices_by_user ON devices (user_id, signed_in_at);`
]
const LOCK = 7_250_520_017 // any number the demo alone uses for pg_advisory_xact_lock

/**
 * @param {import('pg').Pool} pool
 * @returns {Promise<{ from: number, to: number }>}
 */
export async function migratePostgres (pool) {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK])
    await client.query('CREATE TABLE IF NOT EXISTS demo_schema (version integer NOT NULL)')
    const { rows } = await client.query('SELECT version FROM demo_schema')
    if (rows.length === 0) await client.query('INSERT INTO demo_schema VALUES (0)')
    const from = rows.length === 0 ? 0 : rows[0].version
    if (from > pgMigrations.length) throw new Error(`the database has schema version ${from}, newer than this demo knows (${pgMigrations.length})`)
    for (let step = from; step < pgMigrations.length; step++) await client.query(pgMigrations[step])
    await client.query('UPDATE demo_schema SET version = $1', [pgMigrations.length])
    await client.query('COMMIT')
    return { from, to: pgMigrations.length }
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    client.release()
  }
}

/** SQLSTATE classes that mean "the server cannot answer now", not "the query is wrong". */
const UNAVAILABLE = /^(08|57P|53)/

/** @param {unknown} err */
export function isUnavailable (err) {
  const code = /** @type {{ code?: unknown }} */ (err)?.code
  // pg's own connection errors carry no SQLSTATE; socket errors carry E-codes.
  return typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code) || UNAVAILABLE.test(code)
}

/**
 * @param {import('pg').Pool} pool
 * @param {string} where
 * @param {import('fastify-dbbasic-sessions').RevocationStore} revocations
 * @returns {Promise<import('./db.js').DemoDatabase>}
 */
export async function openPostgres (pool, where, revocations) {
  const migration = await migratePostgres(pool)
  /** @param {string} text @param {unknown[]} values */
  const query = async (text, values) => {
    try {
      return (await pool.query(text, values)).rows
    } catch (err) {
      if (isUnavailable(err)) throw new DatabaseUnavailable('PostgreSQL did not answer', err)
      throw err
    }
  }
  /** @param {Record<string, any> | undefined} row @returns {any} pg gives bigint ids as text */
  const user = (row) => row === undefined ? undefined : { ...row, id: Number(row.id) }
  return {
    where,
    created: migration.from === 0,
    migration,
    userByKey: async (key) => user((await query('SELECT id, name, password_hash FROM users WHERE name_key = $1', [key]))[0]),
    userById: async (id) => user((await query('SELECT id, name FROM users WHERE id = $1', [id]))[0]),
    async addUser (name, key, passwordHash, createdAt) {
      const rows = await query('INSERT INTO users (name, name_key, password_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING id', [name, key, passwordHash, createdAt])
      return rows.length === 0 ? null : Number(rows[0].id)
    },
    countUsers: async () => Number((await query('SELECT count(*) AS n FROM users', []))[0].n),
    async addDevice (userId, device, forgetBefore) {
      await query(`WITH gone AS (DELETE FROM devices WHERE signed_in_at < $5)
        INSERT INTO devices (session_id, user_id, signed_in_at, browser) VALUES ($1, $2, $3, $4)
        ON CONFLICT (session_id) DO UPDATE SET signed_in_at = EXCLUDED.signed_in_at, browser = EXCLUDED.browser`,
      [device.sessionId, userId, device.signedInAt, device.browser, forgetBefore])
    },
    devicesOf: async (userId, since) => (await query(
      'SELECT session_id, signed_in_at, browser FROM devices WHERE user_id = $1 AND signed_in_at >= $2 ORDER BY signed_in_at DESC, session_id LIMIT 50',
      [userId, since])).map((r) => ({ sessionId: r.session_id, signedInAt: Number(r.signed_in_at), browser: r.browser })),
    hasDevice: async (userId, sessionId) => (await query('SELECT 1 FROM devices WHERE user_id = $1 AND session_id = $2', [userId, sessionId])).length > 0,
    async removeDevice (userId, sessionId, keep = null) {
      if (sessionId === null) await query('DELETE FROM devices WHERE user_id = $1 AND session_id IS DISTINCT FROM $2', [userId, keep])
      else await query('DELETE FROM devices WHERE user_id = $1 AND session_id = $2', [userId, sessionId])
    },
    revocations,
    // The pool belongs to @fastify/postgres, which ends it when the app closes.
    close: async () => {}
  }
}
