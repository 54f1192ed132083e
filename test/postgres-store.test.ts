// postgresStore against a real PostgreSQL 15 that this file starts on 127.0.0.1.
import t, { type Test } from 'tap'
import pg from 'pg'
import { postgresStore } from '../lib/index.js'
import type { PostgresPool, PostgresPoolClient, Revocation } from '../types/index.js'
import { startPostgres } from './servers/postgres.js'
import { faultRounds, readWhileWriting, subscribe } from './servers/store-checks.js'
import { within, waitFor } from './servers/wait.js'

const server = await startPostgres(t)
const NOW = 1_764_115_200

let tables = 0
/** A table of its own for each test, so that no test sees another's rows. */
const fresh = (): string => `revocations_${++tables}`

function newPool (tt: Test, options: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ ...server.config, connectionTimeoutMillis: 2000, ...options })
  // While the server is down, idle connections fail: the pool reports it here, not by crashing.
  pool.on('error', () => {})
  tt.teardown(async () => { await pool.end() })
  return pool
}

/** Whether a connection of the server is listening (its last statement was LISTEN). */
const listening = async (pool: pg.Pool): Promise<boolean> =>
  (await pool.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()")).rows[0].n > 0

const session: Revocation = { kind: 'session', id: 'AZrHOpsAsid-of-a-device', until: NOW + 3600 }
const user: Revocation = { kind: 'user', id: 'alice@example.com', after: NOW * 1000 + 123, until: NOW + 86400 }

t.test('the table option must be an SQL identifier, and the error names it', async (t) => {
  const pool = newPool(t)
  for (const table of ['bad-name', '1st', 'a"; DROP TABLE users; --', '', 'x'.repeat(49), 7 as unknown as string]) {
    t.throws(() => postgresStore(pool, { table }), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION', message: /^fastify-dbbasic-sessions: postgresStore option table must be an SQL identifier/ }, String(table))
  }
  t.throws(() => postgresStore({} as PostgresPool), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION', message: /postgresStore\(pool\) needs a pg Pool/ })
  t.doesNotThrow(() => postgresStore(pool, { table: '_Revocations_2' }))
})

t.test('add and since: every field round-trips, and the cursor gives only what is new', async (t) => {
  const pool = newPool(t)
  const store = postgresStore(pool, { table: fresh() })
  const empty = await store.since(null, NOW)
  t.same(empty.revocations, [])
  t.type(empty.cursor, 'string')
  await store.add(session)
  await store.add(user)
  await store.add({ kind: 'session', id: 'expired', until: NOW - 1 })
  const first = await store.since(null, NOW)
  t.same(first.revocations, [session, user], 'the live ones, with every field; the expired one is left out')
  const nothing = await store.since(first.cursor, NOW)
  t.same(nothing.revocations, [], 'nothing new after the cursor')
  const later: Revocation = { kind: 'user', id: 'bob', after: NOW * 1000 + 5000, until: NOW + 60 }
  await store.add(later)
  const next = await store.since(nothing.cursor, NOW)
  t.same(next.revocations, [later])
  t.same((await store.since(next.cursor, NOW + 61)).revocations, [], 'expired by the clock the plugin passes')
})

t.test('the default table, created by several processes at once, with its indexes', async (t) => {
  const pools = [newPool(t), newPool(t), newPool(t), newPool(t)]
  const stores = pools.flatMap((pool) => [postgresStore(pool), postgresStore(pool)])
  const batches = await Promise.all(stores.map(async (store) => await store.since(null, NOW)))
  t.equal(batches.length, 8)
  await (stores[0] as ReturnType<typeof postgresStore>).add(session)
  t.same((await (stores[7] as ReturnType<typeof postgresStore>).since(null, NOW)).revocations, [session])
  const { rows } = await (pools[0] as pg.Pool).query("SELECT indexname FROM pg_indexes WHERE tablename = 'dbbasic_sessions_revocations' ORDER BY 1")
  t.same(rows.map((r: { indexname: string }) => r.indexname), ['dbbasic_sessions_revocations_txid', 'dbbasic_sessions_revocations_until'])
})

t.test('a role that may not create in the schema uses a table made for it', async (t) => {
  const admin = newPool(t)
  const table = fresh()
  await postgresStore(admin, { table }).since(null, NOW)
  await admin.query(`CREATE ROLE app_${table} LOGIN; GRANT SELECT, INSERT, DELETE ON "${table}" TO app_${table}`)
  const store = postgresStore(newPool(t, { user: `app_${table}` }), { table })
  await store.add(session)
  await store.prune?.(NOW)
  t.same((await store.since(null, NOW)).revocations, [session])
})

t.test('a row that commits after a later one was read is still given', async (t) => {
  const pool = newPool(t)
  const table = fresh()
  const store = postgresStore(pool, { table })
  const start = await store.since(null, NOW)
  const slow = await pool.connect()
  t.teardown(() => slow.release())
  // Gets its transaction id first, commits last.
  await slow.query('BEGIN')
  await slow.query(`INSERT INTO "${table}" (kind, subject, until_s) VALUES ('session', 'slow', $1)`, [NOW + 60])
  await store.add({ kind: 'session', id: 'fast', until: NOW + 60 })
  const seen = await store.since(start.cursor, NOW)
  t.same(seen.revocations.map((r) => r.id), ['fast'])
  await slow.query('COMMIT')
  const after = await store.since(seen.cursor, NOW)
  t.ok(after.revocations.some((r) => r.id === 'slow'), 'the late commit is read after the cursor that passed it by')
})

t.test('concurrent writers from several pools: a reader polling meanwhile misses none', async (t) => {
  const table = fresh()
  const reader = postgresStore(newPool(t), { table })
  const writers = [newPool(t), newPool(t), newPool(t)].map((pool) => postgresStore(pool, { table }))
  const seen = await readWhileWriting(reader, writers, NOW, 100)
  t.equal(seen.size, 300, 'every one of the 300 revocations was read')
})

t.test('cursor edge cases: a cursor it did not make, or from another database, reads everything', async (t) => {
  const store = postgresStore(newPool(t), { table: fresh() })
  await store.add(session)
  t.same((await store.since('not-a-cursor', NOW)).revocations, [session])
  const ahead = await store.since('99999999999', NOW)
  t.same(ahead.revocations, [session], 'a cursor beyond the database\'s horizon: it was restored or replaced')
  t.ok(BigInt(ahead.cursor) < 99999999999n, 'and the cursor starts again from this database')
})

t.test('prune deletes what expired before the given time, and nothing else', async (t) => {
  const pool = newPool(t)
  const table = fresh()
  const store = postgresStore(pool, { table })
  await store.add({ kind: 'session', id: 'old', until: NOW - 10 })
  await store.add({ kind: 'session', id: 'edge', until: NOW })
  await store.add(user)
  await store.prune?.(NOW)
  const { rows } = await pool.query(`SELECT subject FROM "${table}" ORDER BY subject`)
  t.same(rows.map((r: { subject: string }) => r.subject), ['alice@example.com', 'edge'])
})

t.test('subscribe: a change from another pool is pushed; stop gives the connection back', async (t) => {
  const table = fresh()
  const pool = newPool(t)
  const listener = postgresStore(pool, { table })
  const writer = postgresStore(newPool(t), { table })
  await writer.since(null, NOW)
  let changes = 0
  const stop = await subscribe(listener, () => { changes++ })
  t.equal(pool.totalCount, 1, 'one connection held for LISTEN')
  await writer.add(session)
  await waitFor(() => changes === 1, 5000, 'the NOTIFY')
  await stop()
  await waitFor(() => pool.totalCount === 0, 5000, 'the LISTEN connection to close')
  // A second listener hears the next change; the stopped one does not.
  let others = 0
  const stopOther = await subscribe(writer, () => { others++ })
  await writer.add(user)
  await waitFor(() => others === 1, 5000, 'the other listener')
  t.equal(changes, 1, 'nothing after stop')
  await stopOther()
})

t.test('the server goes down: add and since reject; back up, both work with the same store, and push resumes', async (t) => {
  const table = fresh()
  const pool = newPool(t)
  const store = postgresStore(pool, { table })
  const writer = postgresStore(newPool(t), { table })
  await faultRounds(t, { server, store, writer, now: NOW, first: session, second: user })
})

t.test('the server is down when the store is first used and when subscribing: it keeps trying, and stops cleanly', async (t) => {
  const pool = newPool(t)
  const store = postgresStore(pool, { table: fresh() })
  await server.kill()
  await t.rejects(within(store.since(null, NOW), 10_000), 'the table cannot be created yet')
  let changes = 0
  const stop = await subscribe(store, () => { changes++ })
  await server.start()
  t.same((await store.since(null, NOW)).revocations, [], 'created once the server is back')
  await stop()
  t.equal(changes, 0)
})

t.test('a connection that dies between checkout and LISTEN, and a stop while connecting', async (t) => {
  const pool = newPool(t)
  const table = fresh()
  const writer = postgresStore(pool, { table })
  let sabotage = 1
  let gate: (() => void) | null = null
  // The real pool; the first connection is killed before LISTEN, a later one waits for the test.
  const shim: PostgresPool = {
    query: async (text, values) => await pool.query(text, values),
    connect: async (): Promise<PostgresPoolClient> => {
      const client = await pool.connect()
      if (sabotage-- === 1) await client.query('SELECT pg_terminate_backend(pg_backend_pid())').catch(() => {})
      if (sabotage < -1) await new Promise<void>((resolve) => { gate = resolve })
      return client
    }
  }
  let changes = 0
  const stop = await subscribe(postgresStore(shim, { table }), () => { changes++ })
  await writer.since(null, NOW)
  await waitFor(async () => await listening(pool), 10_000, 'the retry to listen')
  await writer.add(session)
  await waitFor(() => changes === 1, 5000, 'the change')
  // Next: the connection drops, the retry's checkout waits, and the store is stopped meanwhile.
  await pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'")
  await waitFor(() => gate !== null, 10_000, 'the retry to check out a connection')
  await stop()
  ;(gate as unknown as () => void)()
  await waitFor(() => pool.totalCount === 0, 5000, 'the late connection to be closed, not kept')
  t.equal(changes, 1)
})
