// The demo's SQLite file and settings: made on first start, migrated once, shared
// in WAL mode, kept across restarts; the environment variables and their checks.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import Database from 'libsql'
import { openDatabase } from '../../example/db.js'
import { migrate, migrations } from '../../example/migrations.js'
import { DEFAULTS, settingsFromEnv } from '../../example/settings.js'
import { Browser, demoApp, signUp, status, tempDataDir } from './helpers.js'
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
  t.same(look.prepare('PRAGMA user_version').raw().get(), [1])
  const columns = look.prepare('SELECT name, type, "notnull", pk FROM pragma_table_info(\'users\')').raw().all()
  t.same(columns, [
    ['id', 'INTEGER', 0, 1],
    ['name', 'TEXT', 1, 0],
    ['password_hash', 'TEXT', 1, 0],
    ['sessions_valid_after', 'INTEGER', 1, 0],
    ['created_at', 'INTEGER', 1, 0]
  ])
})

t.test('starting again runs no migration and keeps every account', async (t) => {
  const dataDir = tempDataDir(t)
  const first = openDatabase(dataDir)
  first.addUser('Ann', 'hash', 1)
  first.close()
  for (let i = 0; i < 2; i++) {
    const again = openDatabase(dataDir)
    t.equal(again.created, false)
    t.same(again.migration, { from: 1, to: 1 }, `start ${i + 2}: nothing to migrate`)
    t.equal(again.countUsers(), 1)
    t.equal(again.userByName('Ann')?.password_hash, 'hash')
    again.close()
  }
})

t.test('migrate is idempotent on an open file, and refuses a newer schema than it knows', async (t) => {
  const dataDir = tempDataDir(t)
  openDatabase(dataDir).close()
  const db = new Database(join(dataDir, 'demo.sqlite'))
  t.teardown(() => db.close())
  t.same(migrate(db), { from: 1, to: 1 })
  t.same(migrate(db), { from: 1, to: 1 })
  db.exec('PRAGMA user_version = 7')
  t.throws(() => migrate(db), /the database has schema version 7, newer than this demo knows \(1\)/)
  t.throws(() => openDatabase(dataDir), /schema version 7/)
})

t.test('restarting the app with the same secret keeps the accounts and the sessions', async (t) => {
  const dataDir = tempDataDir(t)
  const time = clock()
  const before = await demoApp(t, { dataDir, clock: time })
  const browser = new Browser(before.app)
  await signUp(t, browser, 'Ann')
  await before.app.close()

  const after = await demoApp(t, { dataDir, clock: time })
  browser.app = after.app
  time.advance(60)
  t.equal(status((await browser.get('/')).body), 'Signed in as Ann (account 1).', 'the cookie from before the restart still signs in')
  await signUp(t, new Browser(after.app), 'Ann', 'correct horse', '/login')

  const rotated = await demoApp(t, { dataDir, clock: time, secret: OTHER_SECRET })
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
    revocationCacheSeconds: 2,
    rateLimitMax: 10,
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
    REVOCATION_CACHE_SECONDS: '0',
    RATE_LIMIT_MAX: '5000',
    DATA_DIR: '/tmp/somewhere',
    LOG_LEVEL: 'debug'
  }), {
    port: 8080,
    secret: ['a'.repeat(32), 'b'.repeat(32)],
    secretGenerated: false,
    ttl: 60,
    absoluteTtl: 60,
    revocationCacheSeconds: 0,
    rateLimitMax: 5000,
    dataDir: '/tmp/somewhere',
    logLevel: 'debug'
  })
  t.equal(settingsFromEnv({ SESSION_TTL: '86400' }).absoluteTtl, 86400, 'unset, the absolute lifetime grows to one ttl')
  t.equal(settingsFromEnv({ SESSION_TTL: '', PORT: '' }).ttl, 1800, 'empty means unset')
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
    [{ REVOCATION_CACHE_SECONDS: 'soon' }, 'REVOCATION_CACHE_SECONDS must be a whole number from 0 on; got "soon"'],
    [{ RATE_LIMIT_MAX: '0' }, 'RATE_LIMIT_MAX must be a whole number from 1 on; got "0"'],
    [{ PORT: 'http' }, 'PORT must be a whole number from 0 on; got "http"'],
    [{ PORT: '70000' }, 'PORT must be a port number up to 65535; got 70000']
  ]
  for (const [env, message] of cases) t.throws(() => settingsFromEnv(env), { message }, JSON.stringify(env))
})
