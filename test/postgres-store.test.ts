// postgresStore against a real PostgreSQL that this file starts on 127.0.0.1.
import t, { type Test } from 'tap'
import pg from 'pg'
import { postgresStore } from '../lib/index.js'
import { PAGE } from '../lib/revocation/postgres.js'
import type { PostgresPool, PostgresPoolClient, Revocation } from '../types/index.js'
import { startPostgres } from './servers/postgres.js'
import { faultRounds, readAll, readWhileWriting, subscribe } from './servers/store-checks.js'
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
  t.same(empty, { revocations: [], cursor: '0:', more: false })
  const others: Revocation = { kind: 'user', id: 'carol', after: NOW * 1000 + 7, until: NOW + 600, except: 'AZrHOpsAsid-kept-device' }
  await store.add(session)
  await store.add(user)
  await store.add(others)
  await store.add({ kind: 'session', id: 'expired', until: NOW - 1 })
  const first = await store.since(null, NOW)
  t.same(first.revocations, [session, user, others], 'the live ones, with every field; the expired one is left out')
  t.match(first.cursor, /^4:\d+$/, 'the cursor names the last row read, by number and mark')
  const nothing = await store.since(first.cursor, NOW)
  t.same(nothing, { revocations: [], cursor: first.cursor, more: false }, 'nothing new after the cursor')
  const later: Revocation = { kind: 'user', id: 'bob', after: NOW * 1000 + 5000, until: NOW + 60 }
  await store.add(later)
  const next = await store.since(nothing.cursor, NOW)
  t.same(next.revocations, [later])
  t.same((await store.since(next.cursor, NOW + 61)).revocations, [], 'expired by the clock the plugin passes')
})

t.test('the default tables, created by several processes at once, with their index', async (t) => {
  const pools = [newPool(t), newPool(t), newPool(t), newPool(t)]
  const stores = pools.flatMap((pool) => [postgresStore(pool), postgresStore(pool)])
  const batches = await Promise.all(stores.map(async (store) => await store.since(null, NOW)))
  t.equal(batches.length, 8)
  await stores[0].add(session)
  t.same((await stores[7].since(null, NOW)).revocations, [session])
  const { rows } = await pools[0].query("SELECT tablename, indexname FROM pg_indexes WHERE tablename LIKE 'dbbasic_sessions_revocations%' ORDER BY 1, 2")
  t.same(rows, [
    { tablename: 'dbbasic_sessions_revocations', indexname: 'dbbasic_sessions_revocations_pkey' },
    { tablename: 'dbbasic_sessions_revocations', indexname: 'dbbasic_sessions_revocations_until' },
    { tablename: 'dbbasic_sessions_revocations_head', indexname: 'dbbasic_sessions_revocations_head_pkey' }
  ])
})

t.test('a role that may not create in the schema uses tables made for it', async (t) => {
  const admin = newPool(t)
  const table = fresh()
  await postgresStore(admin, { table }).since(null, NOW)
  await admin.query(`CREATE ROLE app_${table} LOGIN; GRANT SELECT, INSERT, DELETE ON "${table}" TO app_${table}; GRANT SELECT, INSERT, UPDATE ON "${table}_head" TO app_${table}`)
  const store = postgresStore(newPool(t, { user: `app_${table}` }), { table })
  await store.add(session)
  await store.prune?.(NOW)
  t.same((await store.since(null, NOW)).revocations, [session])
})

t.test('numbers are given in commit order: a write that took a number first commits first, and a reader never passes one that is still open', async (t) => {
  const pool = newPool(t)
  const table = fresh()
  const store = postgresStore(pool, { table })
  const start = await store.since(null, NOW)
  const slow = await pool.connect()
  t.teardown(() => slow.release())
  // A write as the store makes it, left open: it holds the head row.
  await slow.query('BEGIN')
  await slow.query(`WITH h AS (UPDATE "${table}_head" SET seq = seq + 1 RETURNING seq) INSERT INTO "${table}" (seq, mark, kind, subject, until_s) SELECT seq, 1, 'session', 'slow', $1 FROM h`, [NOW + 60])
  const fast = store.add({ kind: 'session', id: 'fast', until: NOW + 60 })
  const meanwhile = await store.since(start.cursor, NOW)
  t.same(meanwhile.revocations, [], 'neither is visible while the first is open; the second waits for its number')
  await slow.query('COMMIT')
  await fast
  const after = await store.since(meanwhile.cursor, NOW)
  t.same(after.revocations.map((r) => r.id), ['slow', 'fast'], 'both, in the order they committed')
})

t.test('concurrent writers from several pools: a reader polling meanwhile misses none', async (t) => {
  const table = fresh()
  const reader = postgresStore(newPool(t), { table })
  const writers = [newPool(t), newPool(t), newPool(t)].map((pool) => postgresStore(pool, { table }))
  const seen = await readWhileWriting(reader, writers, NOW, 100)
  t.equal(seen.size, 300, 'every one of the 300 revocations was read')
})

t.test('a long history is read in pages of 10,000, resumed from any page', async (t) => {
  const pool = newPool(t)
  const table = fresh()
  const store = postgresStore(pool, { table })
  await store.since(null, NOW)
  await pool.query(`INSERT INTO "${table}" SELECT g, g * 7, 'session', 'id-' || g, NULL, NULL, $1 FROM generate_series(1, 25000) g`, [NOW + 60])
  await pool.query(`UPDATE "${table}_head" SET seq = 25000`)
  t.equal(PAGE, 10_000)
  const pages = await readAll(store, null, NOW)
  t.same(pages.map((p) => [p.revocations.length, p.more]), [[10_000, true], [10_000, true], [5000, false]])
  t.equal(new Set(pages.flatMap((p) => p.revocations.map((r) => r.id))).size, 25_000)
  t.same((await store.since(pages[1].cursor, NOW)).revocations[0].id, 'id-20001', 'a page asked for again starts where the cursor stops')
})

t.test('a history restored from an older copy, or another database, is a reset: read again in full, no later revocation skipped', async (t) => {
  const pool = newPool(t)
  const table = fresh()
  const store = postgresStore(pool, { table })
  for (const id of ['a', 'b', 'c']) await store.add({ kind: 'session', id, until: NOW + 60 })
  await pool.query(`CREATE TABLE "${table}_copy" AS SELECT * FROM "${table}"; CREATE TABLE "${table}_head_copy" AS SELECT * FROM "${table}_head"`)
  for (const id of ['d', 'e']) await store.add({ kind: 'session', id, until: NOW + 60 })
  const read = await store.since(null, NOW)
  // The copy goes back, as a restore of the dump would put it; then more is revoked than was lost.
  await pool.query(`TRUNCATE "${table}"; INSERT INTO "${table}" SELECT * FROM "${table}_copy"; UPDATE "${table}_head" SET seq = (SELECT seq FROM "${table}_head_copy")`)
  for (const id of ['f', 'g', 'h', 'i', 'j', 'k', 'l', 'm']) await store.add({ kind: 'session', id, until: NOW + 60 })
  const again = await store.since(read.cursor, NOW)
  t.equal(again.reset, true, 'the row the cursor names has another mark now')
  t.same(again.revocations.map((r) => r.id), ['a', 'b', 'c', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm'], 'everything the restored history holds')
  const elsewhere = postgresStore(pool, { table: fresh() })
  await elsewhere.add({ kind: 'session', id: 'z', until: NOW + 60 })
  t.match(await elsewhere.since(again.cursor, NOW), { reset: true, revocations: [{ id: 'z' }] }, 'a cursor of another database\'s history')
  t.same((await store.since('not-a-cursor', NOW)).revocations.length, 11, 'a cursor it did not make reads everything')
})

t.test('prune deletes what expired before the given time, but the newest row, which a cursor may name', async (t) => {
  const pool = newPool(t)
  const table = fresh()
  const store = postgresStore(pool, { table })
  await store.add({ kind: 'session', id: 'old', until: NOW - 10 })
  await store.add({ kind: 'session', id: 'edge', until: NOW })
  await store.add(user)
  await store.add({ kind: 'session', id: 'newest', until: NOW - 10 })
  const cursor = (await store.since(null, NOW - 20)).cursor
  await store.prune?.(NOW)
  const { rows } = await pool.query(`SELECT subject FROM "${table}" ORDER BY subject`)
  t.same(rows.map((r: { subject: string }) => r.subject), ['alice@example.com', 'edge', 'newest'])
  t.notOk((await store.since(cursor, NOW)).reset, 'a reader at the newest row is not sent back to the start')
})

t.test('a write that reaches PostgreSQL after its deadline is refused, not applied', async (t) => {
  const pool = newPool(t)
  const table = fresh()
  const store = postgresStore(pool, { table })
  await t.rejects(store.add(session, Date.now() - 1), { message: /reached PostgreSQL after its deadline and was not stored/ })
  t.same((await store.since(null, NOW)).revocations, [], 'nothing stored')
  await store.add(session, Date.now() + 5000)
  t.match((await store.since(null, NOW)).cursor, /^1:/, 'and no number was used up')
})

t.test('subscribed, the store works through a connection of its own outside the pool: an app that holds every pool connection delays no read or write', async (t) => {
  const table = fresh()
  const pool = newPool(t, { max: 1 })
  const store = postgresStore(pool, { table })
  const writer = postgresStore(newPool(t), { table })
  await writer.since(null, NOW)
  let changes = 0
  const stop = await subscribe(store, () => { changes++ })
  t.equal(pool.totalCount, 0, 'the LISTEN connection takes no pool slot')
  const held = await pool.connect()
  t.teardown(() => held.release())
  const busy = held.query('SELECT pg_sleep(3)')
  const started = Date.now()
  await within(store.add(session), 1500)
  t.same((await within(store.since(null, NOW), 1500)).revocations, [session])
  t.ok(Date.now() - started < 1500, 'both answered while the app\'s only connection was busy for 3 s')
  await writer.add(user)
  await waitFor(() => changes === 2, 5000, 'the NOTIFYs')
  await stop()
  await waitFor(async () => !(await listening(newPool(t))), 5000, 'the connection to close')
  await busy
})

t.test('a read that is aborted (the plugin stopped waiting) closes the store\'s connection; another is opened and reads go on', async (t) => {
  const table = fresh()
  const pool = newPool(t)
  const store = postgresStore(pool, { table })
  await store.add(session)
  const stop = await subscribe(store, () => {})
  t.teardown(stop)
  const pid = async (): Promise<number | undefined> => (await pool.query("SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN%'")).rows[0]?.pid
  const first = await pid()
  const locker = await pool.connect()
  t.teardown(() => locker.release())
  await locker.query(`BEGIN; LOCK TABLE "${table}" IN ACCESS EXCLUSIVE MODE`)
  const controller = new AbortController()
  const read = store.since(null, NOW, controller.signal)
  setTimeout(() => { controller.abort() }, 200)
  await t.rejects(within(read, 3000), 'the read ends with its connection')
  await locker.query('COMMIT')
  await waitFor(async () => { const now = await pid(); return now !== undefined && now !== first }, 5000, 'a new connection listening')
  t.same((await store.since(null, NOW)).revocations, [session])
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
