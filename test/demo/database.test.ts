// The demo's database interface, both implementations (SQLite, PostgreSQL): the same
// answers to the same calls; a locked SQLite file or a stopped PostgreSQL fails the
// call as DatabaseUnavailable after a bounded wait, with the event loop free meanwhile.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import Database from 'libsql'
import pg from 'pg'
import t, { type Test } from 'tap'
import { DatabaseUnavailable, type DemoDatabase } from '../../example/db.js'
import { migratePostgres, openPostgres } from '../../example/db-postgres.js'
import { openSqlite } from '../../example/db-sqlite.js'
import { migrations } from '../../example/migrations.js'
import { nameKey } from '../../example/names.js'
import { freshPostgres, postgresServer, tempDataDir, type Kind } from './databases.js'

const noStore = { add: async () => {}, since: async () => ({ revocations: [], cursor: '0:' }) }

async function pool (t: Test, url: string): Promise<pg.Pool> {
  const p = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 1000, query_timeout: 2000 })
  p.on('error', () => {})
  t.teardown(() => p.end())
  return p
}

async function open (t: Test, kind: Kind): Promise<DemoDatabase> {
  if (kind === 'sqlite') {
    const db = openSqlite(tempDataDir(t))
    t.teardown(() => db.close())
    return db
  }
  return await openPostgres(await pool(t, await freshPostgres()), 'test', noStore)
}

for (const kind of ['sqlite', 'postgres'] as const) {
  t.test(`accounts by key: one per key, the first id 1 (${kind})`, async (t) => {
    const db = await open(t, kind)
    t.equal(db.created, true)
    t.equal(await db.addUser('Ann', nameKey('Ann'), 'hash-a', 1), 1)
    t.equal(await db.addUser('ANN', nameKey('ANN'), 'hash-b', 2), null, 'the same key: taken')
    // PostgreSQL's identity skips the number a refused insert drew: ids need not be dense.
    const bob = await db.addUser('Bob', nameKey('Bob'), 'hash-c', 3) as number
    t.ok(bob > 1)
    t.same(await db.userByKey(nameKey('aNN')), { id: 1, name: 'Ann', password_hash: 'hash-a' })
    t.same(await db.userById(bob), { id: bob, name: 'Bob' })
    t.equal(await db.userById(999), undefined)
    t.equal(await db.userByKey('nobody'), undefined)
    t.equal(await db.countUsers(), 2)
  })

  t.test(`devices: listed newest first since a time, one removed or all, old ones forgotten (${kind})`, async (t) => {
    const db = await open(t, kind)
    const ann = await db.addUser('Ann', 'ann', 'h', 1) as number
    const bob = await db.addUser('Bob', 'bob', 'h', 1) as number
    const device = (n: number, at: number) => ({ sessionId: `session-${n}-abcdefghijkl`, signedInAt: at, browser: `Browser ${n}` })
    await db.addDevice(ann, device(1, 100), 0)
    await db.addDevice(ann, device(2, 200), 0)
    await db.addDevice(bob, device(3, 300), 0)
    t.same((await db.devicesOf(ann, 0)).map((d) => d.sessionId), ['session-2-abcdefghijkl', 'session-1-abcdefghijkl'])
    t.same(await db.devicesOf(ann, 150), [device(2, 200)], 'only those since the time asked')
    t.equal(await db.hasDevice(ann, 'session-3-abcdefghijkl'), false, 'another account\'s sign-in is not Ann\'s')
    t.equal(await db.hasDevice(bob, 'session-3-abcdefghijkl'), true)
    await db.removeDevice(ann, 'session-3-abcdefghijkl')
    t.equal(await db.hasDevice(bob, 'session-3-abcdefghijkl'), true, 'Ann cannot remove Bob\'s')
    await db.removeDevice(ann, 'session-1-abcdefghijkl')
    t.same(await db.devicesOf(ann, 0), [device(2, 200)])
    await db.addDevice(ann, device(4, 400), 250)
    t.same(await db.devicesOf(ann, 0), [device(4, 400)], 'sign-ins before 250 forgotten')
    await db.removeDevice(bob, null)
    t.same(await db.devicesOf(bob, 0), [])
  })
}

t.test('SQLite: while another connection holds the write lock, reads answer, writes wait on timers then fail as DatabaseUnavailable', async (t) => {
  const db = openSqlite(tempDataDir(t), { busyWaitMs: 600 })
  t.teardown(() => db.close())
  await db.addUser('Ann', 'ann', 'h', 1)
  const other = new Database(db.path)
  t.teardown(() => other.close())
  other.exec('BEGIN IMMEDIATE')
  t.same(await db.userByKey('ann'), { id: 1, name: 'Ann', password_hash: 'h' }, 'a read is not held up by the lock (WAL)')

  let ticks = 0
  const ticker = setInterval(() => { ticks++ }, 10)
  const failed = await db.addUser('Bob', 'bob', 'h', 2).then(() => undefined, (err: unknown) => err)
  clearInterval(ticker)
  t.ok(failed instanceof DatabaseUnavailable, 'the write failed as DatabaseUnavailable')
  t.equal((failed as DatabaseUnavailable).statusCode, 503)
  t.match((failed as Error).message, 'the SQLite file stayed locked for 600 ms')
  // The wait ran on timers: other callbacks kept running (a blocking wait would give 0 or 1).
  t.ok(ticks >= 10, `the event loop ran ${ticks} timer callbacks during the wait`)
  await t.rejects(db.revocations.add({ kind: 'user', id: '1', after: 5, until: 10 }), DatabaseUnavailable, 'a revocation write too')

  const waiting = db.addUser('Bob', 'bob', 'h', 2)
  setTimeout(() => other.exec('COMMIT'), 100)
  t.equal(await waiting, 2, 'a write that waits less than busyWaitMs goes through once the lock is gone')
})

t.test('SQLite: a new file opened while another process holds the write lock waits for it (processes starting together), boundedly', async (t) => {
  // SQLite answers "locked" at once, without its busy wait, when the opener holds a read
  // lock and another connection holds the write lock: two demos starting on a new folder
  // met this at 'PRAGMA journal_mode = WAL'. The other process holds the lock for 300 ms.
  const dir = tempDataDir(t)
  const holder = spawn(process.execPath, ['--input-type=module', '-e', `
    import Database from 'libsql'
    const db = new Database(${JSON.stringify(join(dir, 'demo.sqlite'))})
    db.exec('BEGIN IMMEDIATE')
    process.stdout.write('locked\\n')
    setTimeout(() => { db.exec('COMMIT'); db.close() }, Number(process.argv[1]))
  `, '300'], { stdio: ['ignore', 'pipe', 'inherit'] })
  await once(holder.stdout, 'data')
  const started = Date.now()
  const db = openSqlite(dir)
  t.teardown(() => db.close())
  t.ok(Date.now() - started >= 200, `opened once the lock was gone (${Date.now() - started} ms)`)
  t.equal(await db.addUser('Ann', 'ann', 'h', 1), 1, 'migrated and usable')
  await once(holder, 'exit')

  // A lock never let go (on another new file): the start gives up, naming the wait.
  const other = tempDataDir(t)
  const stuck = spawn(process.execPath, ['--input-type=module', '-e', `
    import Database from 'libsql'
    const db = new Database(${JSON.stringify(join(other, 'demo.sqlite'))})
    db.exec('BEGIN IMMEDIATE')
    process.stdout.write('locked\\n')
    setTimeout(() => {}, 60_000)
  `], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { stuck.kill() })
  await once(stuck.stdout, 'data')
  const at = Date.now()
  t.throws(() => openSqlite(other, { startWaitMs: 400 }), { name: 'DatabaseUnavailable', message: /locked for 400 ms at start/ })
  t.ok(Date.now() - at < 3000, 'the wait at start is bounded')
})

t.test('SQLite: the revocations store gives what was added after its cursor, all live ones without, refuses a late write, and prunes', async (t) => {
  const db = openSqlite(tempDataDir(t))
  t.teardown(() => db.close())
  const store = db.revocations
  const empty = await store.since(null, 100)
  t.same(empty, { revocations: [], cursor: '0:', more: false })
  const others = { kind: 'user' as const, id: '8', after: 60_000, until: 300, except: 'kept-session-id-0001' }
  await store.add({ kind: 'user', id: '7', after: 50_000, until: 200 })
  await store.add({ kind: 'session', id: 'abcdefghijklmnop', until: 150 })
  await store.add(others)
  const first = await store.since(empty.cursor, 100)
  t.same(first.revocations, [{ kind: 'user', id: '7', after: 50_000, until: 200 }, { kind: 'session', id: 'abcdefghijklmnop', until: 150 }, others])
  t.match(first.cursor, /^3:[0-9a-f]{12}$/)
  t.same(await store.since(first.cursor, 100), { revocations: [], cursor: first.cursor, more: false }, 'nothing new')
  t.same((await store.since(null, 160)).revocations, [{ kind: 'user', id: '7', after: 50_000, until: 200 }, others], 'from scratch: only those still live')
  await t.rejects(store.add({ kind: 'session', id: 'too-late-session-id', until: 200 }, Date.now() - 1), /waited past its deadline/)
  // Another process on the same file sees them.
  const other = openSqlite(db.path.replace(/[/\\]demo\.sqlite$/, ''))
  t.teardown(() => other.close())
  t.equal((await other.revocations.since(null, 0)).revocations.length, 3)
  await store.prune?.(180)
  t.same((await other.revocations.since(null, 0)).revocations, [{ kind: 'user', id: '7', after: 50_000, until: 200 }, others])
  t.equal((await store.since(first.cursor, 0)).reset, undefined, 'the newest row is kept: a cursor on it still holds')
})

t.test('SQLite: a file of schema version 1 is migrated to the latest, keys made from the names, the older of two look-alikes keeping the name', async (t) => {
  const dir = tempDataDir(t)
  const old = new Database(join(dir, 'demo.sqlite'))
  old.exec(migrations[0] as string)
  old.exec('PRAGMA user_version = 1')
  old.exec("INSERT INTO users (name, password_hash, created_at) VALUES ('Straße', 'h1', 1), ('Strasse', 'h2', 2)")
  old.close()
  const db = openSqlite(dir)
  t.teardown(() => db.close())
  t.same(db.migration, { from: 1, to: 3 })
  t.same(await db.userByKey(nameKey('STRASSE')), { id: 1, name: 'Straße', password_hash: 'h1' })
  t.equal(await db.countUsers(), 2, 'no account lost')
})

t.test('PostgreSQL: processes starting together migrate once; a newer schema is refused', async (t) => {
  const url = await freshPostgres()
  const pools = await Promise.all([pool(t, url), pool(t, url), pool(t, url)])
  const results = await Promise.all(pools.map((p) => migratePostgres(p)))
  t.same(results.map((r) => r.from).sort(), [0, 1, 1], 'one migrated, the others found it done')
  t.same(await migratePostgres(pools[0]), { from: 1, to: 1 })
  await pools[0].query('UPDATE demo_schema SET version = 9')
  await t.rejects(migratePostgres(pools[0]), /the database has schema version 9, newer than this demo knows \(1\)/)
})

t.test('PostgreSQL: stopped, every call fails as DatabaseUnavailable; started again, the same pool works, nothing lost', async (t) => {
  const server = await postgresServer()
  const db = await openPostgres(await pool(t, await freshPostgres()), 'test', noStore)
  await db.addUser('Ann', 'ann', 'h', 1)
  await server.stop()
  try {
    const calls: Array<() => Promise<unknown>> = [() => db.userByKey('ann'), () => db.addUser('Bob', 'bob', 'h', 2), () => db.devicesOf(1, 0)]
    for (const call of calls) {
      await t.rejects(call(), DatabaseUnavailable)
    }
  } finally {
    await server.start()
  }
  t.same(await db.userByKey('ann'), { id: 1, name: 'Ann', password_hash: 'h' }, 'the account written before the stop is there')
  t.ok(await db.addUser('Bob', 'bob', 'h', 2), 'and takes new ones')
})

t.test('PostgreSQL: a fault of the demo itself is not taken for an outage', async (t) => {
  const url = await freshPostgres()
  const p = await pool(t, url)
  const db = await openPostgres(p, 'test', noStore)
  await p.query('ALTER TABLE users RENAME TO gone')
  const err = await db.userById(1).then(() => undefined, (e: unknown) => e)
  t.notOk(err instanceof DatabaseUnavailable)
  t.equal((err as { code?: string }).code, '42P01', 'the error as pg gave it: undefined table')
})
