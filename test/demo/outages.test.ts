// When the demo's database or Redis cannot answer. A locked SQLite file holds up only
// the requests that write, never the process; a stopped PostgreSQL leaves signed-in
// people browsing while sign-in and sign-out say 503 (never 500), and everything works
// again once it is back, without a restart. A sign-out that cannot be recorded is
// never shown as done. Redis down: each process counts sign-in attempts on its own.
import { join } from 'node:path'
import Database from 'libsql'
import tap from 'tap'
import { startRedis, type RedisServer } from '../servers/redis.js'
import { Browser, demoApp, errorText, postgresServer, signUp, status } from './helpers.js'

const t = tap
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const NOT_HERE = 'You were not signed out: the sign-out could not be recorded on the server just now. This browser is still signed in; please try again in a moment.'
const NOT_SIGNED_OUT = 'The other browsers were not signed out: the sign-out could not be recorded just now. You are still signed in here; please try again in a moment.'
const UNAVAILABLE = 'The database is not answering just now. Nothing was changed; please try again in a moment.'

t.test('SQLite locked by another connection: GET /about answers at once while sign out everywhere waits, then says it was not done', async (t) => {
  const { app, dataDir } = await demoApp(t, { busyWaitMs: 1500 })
  const here = new Browser(app)
  const there = new Browser(app)
  await signUp(t, here, 'Ann')
  await signUp(t, there, 'Ann', 'correct horse', '/login')
  const other = new Database(join(dataDir, 'demo.sqlite'))
  t.teardown(() => other.close())
  other.exec('BEGIN IMMEDIATE')

  const order: string[] = []
  let ticks = 0
  const ticker = setInterval(() => { ticks++ }, 10)
  const signOut = here.post('/logout-everywhere').then((res) => { order.push('sign out everywhere'); return res })
  const about = app.inject('/about').then((res) => { order.push('about'); return res })
  const home = there.get('/').then((res) => { order.push('home'); return res })
  const [out, aboutPage, homePage] = await Promise.all([signOut, about, home])
  clearInterval(ticker)
  t.same(order, ['about', 'home', 'sign out everywhere'], 'the unrelated pages answered while the sign-out waited for the lock')
  t.ok(ticks >= 50, `the event loop kept running during the 1.5 s wait (${ticks} timer callbacks of 10 ms)`)
  t.equal(aboutPage.statusCode, 200)
  t.equal(status(homePage.body), 'Signed in as Ann (account 1).', 'reading goes on under the write lock (WAL)')

  t.equal(out.statusCode, 503, 'a 503, not a 500')
  t.equal(out.headers['retry-after'], '5')
  t.equal(errorText(out.body), NOT_SIGNED_OUT)
  t.equal(status(out.body), 'Signed in as Ann (account 1).', 'the page is the signed-in one')
  t.equal(out.headers['set-cookie'], undefined, 'this browser\'s cookie was not cleared')
  t.equal(status((await there.get('/')).body), 'Signed in as Ann (account 1).', 'the other browser is still signed in, as the page says')

  const register = await new Browser(app).post('/register', { name: 'Bob', password: 'long enough' })
  t.equal(register.statusCode, 503)
  t.equal(errorText(register.body), UNAVAILABLE)
  const logout = await there.post('/logout')
  t.equal(logout.statusCode, 503, 'sign out here: 503 too')
  t.equal(errorText(logout.body), NOT_HERE)
  t.equal(status(logout.body), 'Signed in as Ann (account 1).')
  t.equal(logout.headers['set-cookie'], undefined, 'and the cookie is kept')

  other.exec('ROLLBACK')
  const again = await here.post('/logout-everywhere')
  t.equal(again.statusCode, 303, 'the lock gone, sign out everywhere works')
  t.equal(status((await there.get('/')).body), 'Signed out.', 'and reaches the other browser')
})

t.test('PostgreSQL stopped: signed-in people keep browsing; sign-in, register and sign-out say 503; started again, all works, nothing lost', async (t) => {
  const server = await postgresServer()
  const { app } = await demoApp(t, { kind: 'postgres' })
  const browser = new Browser(app)
  const other = new Browser(app)
  await signUp(t, browser, 'Ann')
  await signUp(t, other, 'Ann', 'correct horse', '/login')
  t.equal(status((await browser.get('/')).body), 'Signed in as Ann (account 1).')

  await server.stop()
  try {
    const home = await browser.get('/')
    t.equal(status(home.body), 'Signed in as Ann (account 1).', 'the home page, from the name already read')
    t.match(home.body, 'The list of your sign-ins cannot be read just now.')
    t.same((await browser.get('/me')).json(), { userId: '1', name: 'Ann' })
    const pages = {
      'sign in': await new Browser(app).post('/login', { name: 'Ann', password: 'correct horse' }),
      register: await new Browser(app).post('/register', { name: 'Bob', password: 'long enough' }),
      'sign out': await browser.post('/logout'),
      'sign out everywhere': await browser.post('/logout-everywhere')
    }
    for (const [what, res] of Object.entries(pages)) {
      t.equal(res.statusCode, 503, `${what}: 503`)
      t.match(res.headers['content-type'], /^text\/html/)
      t.equal(res.headers['set-cookie'], undefined, `${what}: no cookie set or cleared`)
    }
    t.equal(errorText(pages['sign in'].body), UNAVAILABLE)
    t.equal(errorText(pages['sign out everywhere'].body), NOT_SIGNED_OUT)
    t.equal(errorText(pages['sign out'].body), NOT_HERE)
    t.equal(status((await browser.get('/')).body), 'Signed in as Ann (account 1).', 'still signed in here')
    t.equal((await new Browser(app).get('/about')).statusCode, 200)
  } finally {
    await server.start()
  }
  t.equal(status((await browser.get('/')).body), 'Signed in as Ann (account 1).')
  await signUp(t, new Browser(app), 'Ann', 'correct horse', '/login')
  t.pass('the account from before the stop signs in: the pool reconnected by itself')
  t.equal((await browser.post('/logout-everywhere')).statusCode, 303)
  t.equal(status((await other.get('/')).body), 'Signed out.')
})

let redis: RedisServer | undefined
const redisUrl = async (db: number): Promise<string> => {
  redis ??= await startRedis(tap)
  return `redis://127.0.0.1:${redis.port}/${db}`
}

t.test('Redis: two processes share the sign-in counts; Redis stopped, each counts its own (sign-in goes on); back, shared again', async (t) => {
  const url = await redisUrl(1)
  const one = await demoApp(t, { redisUrl: url, rateLimitMax: 4 })
  const two = await demoApp(t, { redisUrl: url, rateLimitMax: 4, dataDir: one.dataDir, clock: one.clock })
  const attempt = (app: typeof one.app, from: string) =>
    app.inject({ method: 'POST', url: '/login', headers: FORM, payload: 'name=Nobody&password=guess+guess', remoteAddress: from })
  const statuses = async (from: string): Promise<number[]> => {
    const got = []
    for (let i = 0; i < 6; i++) got.push((await attempt(i % 2 === 0 ? one.app : two.app, from)).statusCode)
    return got
  }
  t.same(await statuses('10.0.0.1'), [401, 401, 401, 401, 429, 429], 'four for the two processes together')

  await (redis as RedisServer).stop()
  try {
    const down = await statuses('10.0.0.2')
    t.same(down, [401, 401, 401, 401, 401, 401], 'Redis down: each process counts alone (fail open to a per-process limit), no 5xx')
    const more = []
    for (let i = 0; i < 3; i++) more.push((await attempt(one.app, '10.0.0.2')).statusCode)
    t.same(more, [401, 429, 429], 'and each process still stops guessing past its own four')
    await signUp(t, new Browser(one.app), 'Ann')
  } finally {
    await (redis as RedisServer).start()
  }
  // ioredis reconnects by itself (bounded wait).
  for (let i = 0; i < 40 && one.app.redis.status !== 'ready'; i++) await new Promise((resolve) => setTimeout(resolve, 100))
  t.same(await statuses('10.0.0.3'), [401, 401, 401, 401, 429, 429], 'back: counted in Redis again')
})
