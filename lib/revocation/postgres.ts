// The revocation store in PostgreSQL (13 or later), on the app's own pg Pool. No import
// of pg: the pool is described structurally in types/index.d.ts.
//
// Each revocation gets the next number of a one-row head table, updated in the same
// statement: the row lock is held until commit, so numbers are handed out in commit
// order and "everything after number n" never skips a row that committed late. Each row
// also gets a random mark; a reader's cursor is the number and mark of the last row it
// read, so a history that went back or was replaced (a restore, another database) is
// seen as soon as that row is gone or marked otherwise, however many rows came since.
//
// The store works through a connection of its own, opened with the pool's own settings
// but outside it, which LISTENs for pushes and carries every query: a pool the app keeps
// busy delays no read or write, and a query that times out closes that connection
// instead of stranding a pool slot. Until it is up, queries go through the pool.
import { randomBytes } from 'node:crypto'
import type * as Contract from '../../types/index.js'
import { InvalidOptionError, shown } from '../errors.js'

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/
/** pg_advisory_xact_lock's key: processes creating the tables at once take turns. */
const CREATE_LOCK = 3_728_540_117
const RETRY_MIN_MS = 100
const RETRY_MAX_MS = 5000
/** Rows a read returns at most; a reader asks again for the rest. */
export const PAGE = 10_000

interface Row { at: string | null, seq: string | null, mark: string, kind: string, subject: string, after_ms: string | null, except_key: string | null, until_s: string }

interface Queryable { query: (text: string, values?: unknown[]) => Promise<{ rows: unknown[] }> }

/** One of the store's own connections: LISTENing, and carrying queries while it is up. */
interface Own extends Queryable {
  /** Closes it and opens another (a query on it took too long). */
  fail: (error: Error) => void
}

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
    ? { kind: 'user', id: row.subject, after: Number(row.after_ms), until: Number(row.until_s), ...(row.except_key === null ? {} : { except: row.except_key }) }
    : { kind: 'session', id: row.subject, until: Number(row.until_s) }

/** A connection outside the pool when the pool is pg's (it keeps its Client class and settings), else one checked out of it. */
async function open (pool: Contract.PostgresPool): Promise<{ client: Contract.PostgresPoolClient, close: () => void }> {
  if (typeof pool.Client === 'function' && pool.options !== undefined) {
    const client = new pool.Client(pool.options as never)
    client.on('error', () => {})
    const close = (): void => {
      // end() waits for a server that may not answer: the socket goes at once.
      (client as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream?.destroy?.()
      client.end().catch(() => {})
    }
    try {
      await client.connect()
    } catch (error) {
      close()
      throw error
    }
    return { client: Object.assign(client, { release: close }), close }
  }
  const client = await pool.connect()
  return { client, close: () => { client.release(true) } }
}

/** A LISTEN connection that comes back after the server does; `onChange` after each return. */
async function listen (pool: Contract.PostgresPool, channel: string, onChange: () => void, own: Set<Own>): Promise<() => Promise<void>> {
  let current: { client: Contract.PostgresPoolClient, close: () => void, own: Own } | null = null
  let stopped = false
  let listened = false
  let timer: NodeJS.Timeout | undefined
  let wait = RETRY_MIN_MS
  const retry = (): void => {
    timer = setTimeout(attempt, wait).unref()
    wait = Math.min(wait * 2, RETRY_MAX_MS)
  }
  const drop = (held: NonNullable<typeof current>): void => {
    if (current !== held) return
    current = null
    own.delete(held.own)
    held.close()
    if (!stopped) retry()
  }
  const attempt = async (): Promise<void> => {
    const opened = await open(pool).catch(() => null)
    if (opened === null) return retry()
    if (stopped) return opened.close()
    const held: NonNullable<typeof current> = {
      ...opened,
      own: { query: async (text, values) => await opened.client.query(text, values), fail: () => { drop(held) } }
    }
    current = held
    opened.client.on('error', () => { drop(held) })
    opened.client.on('end', () => { drop(held) })
    opened.client.on('notification', (message) => { if (message.channel === channel) onChange() })
    const ok = await opened.client.query(`LISTEN "${channel}"`).then(() => true, () => { drop(held); return false })
    if (!ok || current !== held) return
    own.add(held.own)
    wait = RETRY_MIN_MS
    // What was added while no connection listened.
    if (listened) onChange()
    listened = true
  }
  await attempt()
  return async () => {
    stopped = true
    clearTimeout(timer)
    if (current !== null) drop(current)
  }
}

export function postgresStore (pool: Contract.PostgresPool, options: Contract.PostgresStoreOptions = {}): Contract.RevocationStore {
  const table = checkOptions(pool, options)
  const quoted = `"${table}"`
  const head = `"${table}_head"`
  // One simple-protocol query: one implicit transaction, so the lock is held to the end.
  const createSql = `SELECT pg_advisory_xact_lock(${CREATE_LOCK});
CREATE TABLE IF NOT EXISTS ${quoted} (
  seq bigint PRIMARY KEY,
  mark bigint NOT NULL,
  kind text NOT NULL CHECK (kind IN ('session', 'user')),
  subject text NOT NULL,
  after_ms bigint,
  except_key text,
  until_s bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS "${table}_until" ON ${quoted} (until_s);
CREATE TABLE IF NOT EXISTS ${head} (one boolean PRIMARY KEY DEFAULT true CHECK (one), seq bigint NOT NULL);
INSERT INTO ${head} (seq) VALUES (0) ON CONFLICT DO NOTHING`
  // The deadline is checked by the database's clock before a number is taken: a write
  // that arrives late (a network that was down, then healed) is refused, not applied.
  const addSql = `WITH h AS (UPDATE ${head} SET seq = seq + 1 WHERE extract(epoch FROM clock_timestamp()) * 1000 <= $7 RETURNING seq),
added AS (INSERT INTO ${quoted} (seq, mark, kind, subject, after_ms, except_key, until_s) SELECT h.seq, $1, $2, $3, $4, $5, $6 FROM h RETURNING 1)
SELECT pg_notify($8, '') FROM added`
  // Always one row at least: the cursor's mark, then the page.
  const sinceSql = `SELECT (SELECT mark::text FROM ${quoted} WHERE seq = $1) AS at,
  r.seq::text AS seq, r.mark::text AS mark, r.kind, r.subject, r.after_ms::text AS after_ms, r.except_key, r.until_s::text AS until_s
FROM (VALUES (1)) v LEFT JOIN LATERAL (SELECT * FROM ${quoted} WHERE seq > $1 ORDER BY seq LIMIT ${PAGE}) r ON true
ORDER BY r.seq`
  // The newest row stays: it may be a reader's cursor, and without it the cursor would look like a reset.
  const pruneSql = `DELETE FROM ${quoted} WHERE until_s < $1 AND seq < (SELECT seq FROM ${head})`

  const own = new Set<Own>()
  /** The first of the store's own connections, else the pool; a timer or signal fails the connection of a query that takes too long. */
  const run = async (text: string, values: unknown[], signal?: AbortSignal): Promise<unknown[]> => {
    const via: Own | undefined = own.values().next().value
    const abandon = (): void => { via?.fail(new Error('timed out')) }
    signal?.addEventListener('abort', abandon, { once: true })
    try {
      return (await (via ?? pool).query(text, values)).rows
    } finally {
      signal?.removeEventListener('abort', abandon)
    }
  }

  // Looked up first: a role without CREATE on the schema uses tables made for it. A head
  // row lost on its own (a partial restore) starts again above the highest number held.
  const create = async (signal?: AbortSignal): Promise<void> => {
    const rows = await run('SELECT to_regclass($1) IS NOT NULL AS present', [head], signal) as Array<{ present: boolean }>
    if (!rows[0].present) await (own.values().next().value ?? pool).query(createSql)
    await run(`INSERT INTO ${head} (seq) SELECT coalesce(max(seq), 0) FROM ${quoted} ON CONFLICT DO NOTHING`, [], signal)
  }
  let created: Promise<void> | null = null
  const ready = async (signal?: AbortSignal): Promise<void> => {
    created ??= create(signal).catch((error: unknown) => { created = null; throw error })
    await created
  }

  const read = async (cursor: string | null, nowSeconds: number, signal?: AbortSignal): Promise<Contract.RevocationBatch> => {
    await ready(signal)
    const [seq, mark] = /^\d{1,19}:\d{0,20}$/.test(cursor ?? '') ? (cursor as string).split(':') : ['0', '']
    const rows = await run(sinceSql, [seq], signal) as Row[]
    // The row the cursor names is gone, or is another row: this history is not the one read before.
    if (seq !== '0' && rows[0].at !== mark) return { ...(await read(null, nowSeconds, signal)), reset: true }
    const found = rows.filter((row) => row.seq !== null)
    const last = found.at(-1)
    return {
      revocations: found.filter((row) => Number(row.until_s) > nowSeconds).map(revocationOf),
      cursor: last === undefined ? `${seq}:${mark}` : `${last.seq as string}:${last.mark}`,
      more: found.length === PAGE
    }
  }

  return {
    async add (revocation, deadline) {
      await ready()
      const after = revocation.kind === 'user' ? revocation.after : null
      const except = revocation.kind === 'user' ? revocation.except ?? null : null
      const mark = randomBytes(6).readUIntBE(0, 6)
      // Past the deadline the caller has reported failure: the connection goes, so the
      // statement cannot wait in it for a network to heal.
      const controller = new AbortController()
      const timer = deadline === undefined ? undefined : setTimeout(() => { controller.abort() }, Math.max(0, deadline - Date.now()))
      try {
        const rows = await run(addSql, [mark, revocation.kind, revocation.id, after, except, revocation.until, deadline ?? Number.MAX_SAFE_INTEGER, table], controller.signal)
        if (rows.length === 0) throw new Error('postgresStore: the revocation reached PostgreSQL after its deadline and was not stored')
      } finally {
        clearTimeout(timer)
      }
    },
    since: read,
    async prune (nowSeconds) {
      await ready()
      await run(pruneSql, [nowSeconds])
    },
    subscribe: async (onChange) => await listen(pool, table, onChange, own)
  }
}
