// The demo's SQLite file and settings: made on first start, migrated once, shared
// in WAL mode, kept across restarts (PostgreSQL too); the environment variables and
// their checks.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import Database from 'libsql'
import { openSqlite as openDatabase } from '../../example/db-sqlite.js'
import { migrate, migrations } from '../../example/migrations.js'
import { DEFAULTS, settingsFromEnv } from '../../example/settings.js'
import { Browser, demoApp, onEach, signUp, status, tempDataDir } from './helpers.js'
import { clock, OTHER_SECRET } from '../helpers.js'

t.test('the first start creates the file, in WAL mode, at the latest schema version', async (t) => {
  const dataDir = join(tempDataDir(t), 'nested', 'data')
  const database = openDatabase(dataDir)
  t.teardown(database.close)
  t.equal(database.created, true)
  t.equal(database.path, join(dataDir, 'demo.sqlite'))
  t.ok(existsSync(database.path))
  t.same(database.migration, { from: 0, to: migrations.length })
  const look = new Database(database.path)
  t.teardown(() => look.close())
  t.same(look.prepare('PRAGMA journal_mode').raw().get(), ['wal'])
  t.same(look.prepare('PRAGMA user_version').raw().get(), [3])
  const columns = look.prepare('SELECT name, type, "notnull", pk FROM pragma_table_info(\'users\')').raw().all()
  t.same(columns, [
    ['id', 'INTEGER', 0, 1],
    ['name', 'TEXT', 1, 0],
    ['password_hash', 'TEXT', 1, 0],
    ['sessions_valid_after', 'INTEGER', 1, 0],
    ['created_at', 'INTEGER', 1, 0],
    ['name_key', 'TEXT', 0, 0]
  ])
  const tables = look.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").raw().all()
  t.same(tables, [['devices'], ['revocations'], ['users']])
})

t.test('starting again runs no migration and keeps every account', async (t) => {
  const dataDir = tempDataDir(t)
  const first = openDatabase(dataDir)
  await first.addUser('Ann', 'ann', 'hash', 1)
  await first.close()
  for (let i = 0; i < 2; i++) {
    const again = openDatabase(dataDir)
    t.equal(again.created, false)
    t.same(again.migration, { from: 3, to: 3 }, `start ${i + 2}: nothing to migrate`)
    t.equal(await again.countUsers(), 1)
    t.equal((await again.userByKey('ann'))?.password_hash, 'hash')
    await again.close()
  }
})

t.test('migrate is idempotent on an open file, and refuses a newer schema than it knows', async (t) => {
  const dataDir = tempDataDir(t)
  await openDatabase(dataDir).close()
  const db = new Database(join(dataDir, 'demo.sqlite'))
  t.teardown(() => db.close())
  t.same(migrate(db), { from: 3, to: 3 })
  t.same(migrate(db), { from: 3, to: 3 })
  db.exec('PRAGMA user_version = 7')
  t.throws(() => migrate(db), /the database has schema version 7, newer than this demo knows \(3\)/)
  t.throws(() => openDatabase(dataDir), /schema version 7/)
})

onEach('restarting the app with the same secret keeps the accounts, the sessions and the sign-outs', async (t, kind) => {
  const time = clock()
  const before = await demoApp(t, { kind, clock: time })
  const { dataDir } = before
  const url = before.databaseUrl === undefined ? {} : { databaseUrl: before.databaseUrl }
  const browser = new Browser(before.app)
  await signUp(t, browser, 'Ann')
  const gone = new Browser(before.app)
  await signUp(t, gone, 'Ann', 'correct horse', '/login')
  const copy = gone.cookie as string
  await gone.post('/logout')
  await before.app.close()

  const after = await demoApp(t, { dataDir, clock: time, ...url })
  t.equal((await after.app.inject({ url: '/me', headers: { cookie: copy } })).statusCode, 401, 'a session signed out before the restart stays signed out')
  browser.app = after.app
  time.advance(60)
  t.equal(status((await browser.get('/')).body), 'Signed in as Ann (account 1).', 'the cookie from before the restart still signs in')
  await signUp(t, new Browser(after.app), 'Ann', 'correct horse', '/login')

  const rotated = await demoApp(t, { dataDir, clock: time, secret: OTHER_SECRET, ...url })
  t.equal(status((await browser.get('/', rotated.app)).body), 'Signed out.', 'another secret: the sessions are gone')
  await signUp(t, new Browser(rotated.app), 'Ann', 'correct horse', '/login')
  t.pass('the accounts are not')
})

t.test('settings: the defaults', async (t) => {
  const settings = settingsFromEnv({ SECRET_KEY: 'k'.repeat(40) })
  t.same(settings, {
    port: 3000,
    secret: 'k'.repeat(40),
    secretGenerated: false,
    ttl: 1800,
    absoluteTtl: 43200,
    revocationStaleness: 2,
    rateLimitMax: 10,
    accountRateLimitMax: 10,
    databaseUrl: undefined,
    redisUrl: undefined,
    trustProxy: undefined,
    dataDir: DEFAULTS.dataDir,
    logLevel: undefined
  })
  t.match(DEFAULTS.dataDir, /example[/\\]\.data$/, 'example/.data, wherever the demo is started from')
  const generated = settingsFromEnv({})
  t.equal(generated.secretGenerated, true)
  t.match(generated.secret, /^[0-9a-f]{64}$/)
  t.not(settingsFromEnv({}).secret, generated.secret, 'a new one each time')
})

t.test('settings: every variable', async (t) => {
  t.same(settingsFromEnv({
    PORT: '8080',
    SECRET_KEYS: 'a'.repeat(32) + ',' + 'b'.repeat(32),
    SECRET_KEY: 'ignored when SECRET_KEYS is set',
    SESSION_TTL: '60',
    SESSION_ABSOLUTE_TTL: '60',
    REVOCATION_STALENESS: '1',
    RATE_LIMIT_MAX: '5000',
    ACCOUNT_RATE_LIMIT_MAX: '20',
    DATABASE_URL: 'postgres://demo:secret@db.internal:5432/demo',
    REDIS_URL: 'redis://cache.internal:6379/2',
    TRUST_PROXY: '10.0.0.0/8, 127.0.0.1',
    DATA_DIR: '/tmp/somewhere',
    LOG_LEVEL: 'debug'
  }), {
    port: 8080,
    secret: ['a'.repeat(32), 'b'.repeat(32)],
    secretGenerated: false,
    ttl: 60,
    absoluteTtl: 60,
    revocationStaleness: 1,
    rateLimitMax: 5000,
    accountRateLimitMax: 20,
    databaseUrl: 'postgres://demo:secret@db.internal:5432/demo',
    redisUrl: 'redis://cache.internal:6379/2',
    trustProxy: '10.0.0.0/8,127.0.0.1',
    dataDir: '/tmp/somewhere',
    logLevel: 'debug'
  })
  t.equal(settingsFromEnv({ SESSION_TTL: '86400' }).absoluteTtl, 86400, 'unset, the absolute lifetime grows to one ttl')
  t.equal(settingsFromEnv({ SESSION_TTL: '', PORT: '' }).ttl, 1800, 'empty means unset')
  t.equal(settingsFromEnv({ TRUST_PROXY: '1' }).trustProxy, 1, 'a hop count')
  t.same(settingsFromEnv({ SECRET_KEYS: 'a'.repeat(32) + ',' + 'b'.repeat(32), SECRET_KEYS_NEXT: 'c'.repeat(32) }).secret,
    { current: 'a'.repeat(32), previous: ['b'.repeat(32)], next: ['c'.repeat(32)] }, 'SECRET_KEYS_NEXT: secrets by role, step 1 of the rotation recipe')
  t.equal(settingsFromEnv({ DATABASE_URL: 'postgresql://h/db' }).databaseUrl, 'postgresql://h/db')
})

t.test('settings: wrong values stop the demo with a message naming the variable', async (t) => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ SESSION_TTL: '0' }, 'SESSION_TTL must be a whole number from 1 on; got "0"'],
    [{ SESSION_TTL: '1.5' }, 'SESSION_TTL must be a whole number from 1 on; got "1.5"'],
    [{ SESSION_TTL: '-5' }, 'SESSION_TTL must be a whole number from 1 on; got "-5"'],
    [{ SESSION_TTL: '30m' }, 'SESSION_TTL must be a whole number from 1 on; got "30m"'],
    [{ SESSION_TTL: '1e3' }, 'SESSION_TTL must be a whole number from 1 on; got "1e3"'],
    [{ SESSION_TTL: '9999999999' }, 'SESSION_TTL must be a whole number from 1 on; got "9999999999"'],
    [{ SESSION_TTL: '600', SESSION_ABSOLUTE_TTL: '599' }, 'SESSION_ABSOLUTE_TTL (599) must be at least SESSION_TTL (600)'],
    [{ SESSION_ABSOLUTE_TTL: '100' }, 'SESSION_ABSOLUTE_TTL (100) must be at least SESSION_TTL (1800)'],
    [{ REVOCATION_STALENESS: 'soon' }, 'REVOCATION_STALENESS must be a whole number from 1 on; got "soon"'],
    [{ REVOCATION_STALENESS: '0' }, 'REVOCATION_STALENESS must be a whole number from 1 on; got "0"'],
    [{ REVOCATION_STALENESS: '61' }, 'REVOCATION_STALENESS must be at most 60 seconds; got 61'],
    [{ ACCOUNT_RATE_LIMIT_MAX: '0' }, 'ACCOUNT_RATE_LIMIT_MAX must be a whole number from 1 on; got "0"'],
    [{ DATABASE_URL: 'mysql://u:secret@h/db' }, 'DATABASE_URL must be a postgres:// or postgresql:// URL'],
    [{ REDIS_URL: 'http://u:secret@h' }, 'REDIS_URL must be a redis:// or rediss:// URL'],
    [{ SECRET_KEY: 'k'.repeat(40), SECRET_KEYS_NEXT: 'c'.repeat(32) }, 'SECRET_KEYS_NEXT needs SECRET_KEYS: its first secret signs, the next ones only verify'],
    [{ TRUST_PROXY: 'nginx' }, 'TRUST_PROXY must be a hop count or the proxies\' addresses, comma-separated; got "nginx"'],
    [{ RATE_LIMIT_MAX: '0' }, 'RATE_LIMIT_MAX must be a whole number from 1 on; got "0"'],
    [{ PORT: 'http' }, 'PORT must be a whole number from 0 on; got "http"'],
    [{ PORT: '70000' }, 'PORT must be a port number up to 65535; got 70000']
  ]
  for (const [env, message] of cases) t.throws(() => settingsFromEnv(env), { message }, JSON.stringify(env))
})
