// The revocation store in PostgreSQL (13 or later), on the app's own pg Pool. No import
// of pg: the pool is described structurally in types/index.d.ts.
// The cursor is a transaction id horizon, not a row id: ids are handed out before commit,
// so a row can commit after a higher one was read. Each row records the id of the
// transaction that wrote it; a read returns the xmin of its snapshot, below which every
// transaction has ended, and the next read takes every row at or above it again.
import type * as Contract from '../../types/index.js'
import { InvalidOptionError } from '../errors.js'
import { shown } from '../options.js'

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/
/** pg_advisory_xact_lock's key: processes creating the table at once take turns. */
const CREATE_LOCK = 3_728_540_117
const RETRY_MIN_MS = 100
const RETRY_MAX_MS = 5000

interface Row { horizon: string, kind: string | null, subject: string, after_ms: string | null, until_s: string }

function checkOptions (pool: unknown, options: Contract.PostgresStoreOptions): string {
  const candidate = pool as Partial<Contract.PostgresPool> | null
  if (typeof candidate?.query !== 'function' || typeof candidate.connect !== 'function') {
    throw new InvalidOptionError(`postgresStore(pool) needs a pg Pool (with query and connect), such as fastify.pg.pool; got ${shown(pool)}`)
  }
  const table = options.table ?? 'dbbasic_sessions_revocations'
  if (typeof table !== 'string' || !IDENTIFIER.test(table)) {
    throw new InvalidOptionError(`postgresStore option table must be an SQL identifier: a letter or _, then letters, digits or _, at most 48 characters; got ${shown(table)}`)
  }
  return table
}

const revocationOf = (row: Row): Contract.Revocation =>
  row.kind === 'user'
    ? { kind: 'user', id: row.subject, after: Number(row.after_ms), until: Number(row.until_s) }
    : { kind: 'session', id: row.subject, until: Number(row.until_s) }

/** A LISTEN connection that comes back after the server does; `onChange` after each return. */
async function listen (pool: Contract.PostgresPool, channel: string, onChange: () => void): Promise<() => Promise<void>> {
  let client: Contract.PostgresPoolClient | null = null
  let stopped = false
  let listened = false
  let timer: NodeJS.Timeout | undefined
  let wait = RETRY_MIN_MS
  const retry = (): void => {
    timer = setTimeout(attempt, wait).unref()
    wait = Math.min(wait * 2, RETRY_MAX_MS)
  }
  const drop = (held: Contract.PostgresPoolClient, error?: Error): void => {
    if (client !== held) return
    client = null
    held.release(error ?? true)
    if (!stopped) retry()
  }
  const attempt = async (): Promise<void> => {
    const held = await pool.connect().catch(() => null)
    if (held === null) return retry()
    if (stopped) return held.release(true)
    client = held
    held.on('error', (error) => drop(held, error))
    held.on('end', () => drop(held))
    held.on('notification', (message) => { if (message.channel === channel) onChange() })
    const ok = await held.query(`LISTEN "${channel}"`).then(() => true, (error: Error) => { drop(held, error); return false })
    if (!ok || client !== held) return
    wait = RETRY_MIN_MS
    // What was added while no connection listened.
    if (listened) onChange()
    listened = true
  }
  await attempt()
  return async () => {
    stopped = true
    clearTimeout(timer)
    if (client !== null) drop(client)
  }
}

export function postgresStore (pool: Contract.PostgresPool, options: Contract.PostgresStoreOptions = {}): Contract.RevocationStore {
  const table = checkOptions(pool, options)
  const quoted = `"${table}"`
  // One simple-protocol query: one implicit transaction, so the lock is held to the end.
  const createSql = `SELECT pg_advisory_xact_lock(${CREATE_LOCK});
CREATE TABLE IF NOT EXISTS ${quoted} (
  txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  kind text NOT NULL CHECK (kind IN ('session', 'user')),
  subject text NOT NULL,
  after_ms bigint,
  until_s bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS "${table}_txid" ON ${quoted} (txid);
CREATE INDEX IF NOT EXISTS "${table}_until" ON ${quoted} (until_s)`
  const addSql = `WITH added AS (INSERT INTO ${quoted} (kind, subject, after_ms, until_s) VALUES ($1, $2, $3, $4) RETURNING 1)
SELECT pg_notify($5, '') FROM added`
  const sinceSql = (all: boolean): string => `WITH h AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS horizon)
SELECT h.horizon::text AS horizon, r.kind, r.subject, r.after_ms::text AS after_ms, r.until_s::text AS until_s
FROM h LEFT JOIN ${quoted} r ON r.until_s > $1${all ? '' : ' AND r.txid >= $2::xid8'}`

  // Looked up first: a role without CREATE on the schema uses a table made for it.
  const create = async (): Promise<void> => {
    const { rows } = await pool.query('SELECT to_regclass($1) IS NOT NULL AS present', [quoted]) as { rows: Array<{ present: boolean }> }
    if (!(rows[0] as { present: boolean }).present) await pool.query(createSql)
  }
  let created: Promise<void> | null = null
  const ready = async (): Promise<void> => {
    created ??= create().catch((error: unknown) => { created = null; throw error })
    await created
  }
  const read = async (cursor: string | null, nowSeconds: number): Promise<Contract.RevocationBatch> => {
    await ready()
    const all = cursor === null || !/^\d{1,20}$/.test(cursor)
    const { rows } = await pool.query(sinceSql(all), all ? [nowSeconds] : [nowSeconds, cursor]) as { rows: Row[] }
    const horizon = (rows[0] as Row).horizon
    // A horizon below the cursor: another database (restored, or replaced) answers now.
    if (!all && BigInt(horizon) < BigInt(cursor)) return await read(null, nowSeconds)
    return { revocations: rows.filter((row) => row.kind !== null).map(revocationOf), cursor: horizon }
  }

  return {
    async add (revocation) {
      await ready()
      const after = revocation.kind === 'user' ? revocation.after : null
      await pool.query(addSql, [revocation.kind, revocation.id, after, revocation.until, table])
    },
    since: read,
    async prune (nowSeconds) {
      await ready()
      await pool.query(`DELETE FROM ${quoted} WHERE until_s < $1`, [nowSeconds])
    },
    subscribe: async (onChange) => await listen(pool, table, onChange)
  }
}
