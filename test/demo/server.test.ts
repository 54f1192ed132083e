// `npm run demo` as a user runs it: a real process on 127.0.0.1, driven over HTTP.
// Restarts, two processes on one database, a rotation across a restart, and the
// settings read from the environment; the other files here test the routes in-process.
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { getSession } from '../../lib/index.js'
import { demoDataDir, startDemo, type Demo } from './process.js'
import { OTHER_SECRET, SECRET } from '../helpers.js'

const form = (fields: Record<string, string>, cookie?: string): RequestInit => ({
  method: 'POST',
  redirect: 'manual',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie === undefined ? {} : { cookie }) },
  body: new URLSearchParams(fields).toString()
})

const cookieOf = (res: Response): string => (res.headers.get('set-cookie') ?? '').split(';')[0]

async function register (t: Test, demo: Demo, name: string, path = '/register'): Promise<string> {
  const res = await fetch(demo.base + path, form({ name, password: 'correct horse' }))
  t.equal(res.status, 303, `${path} ${name}`)
  return cookieOf(res)
}

async function page (demo: Demo, cookie: string): Promise<string> {
  return (await fetch(demo.base + '/', { headers: { cookie } })).text()
}

t.test('register, be recognised, call /me, sign out', async (t) => {
  const demo = await startDemo(t, { SECRET_KEY: SECRET })
  t.notMatch(demo.output(), /one-time secret/, 'no warning when SECRET_KEY is set')
  t.match(demo.output(), /Secure flag is off/, 'says that Secure is off on plain http')
  t.match(demo.output(), `Created the demo's database: ${join(demo.dataDir, 'demo.sqlite')}\n`, 'says where the database lives')

  const home = await fetch(demo.base + '/')
  t.equal(home.status, 200)
  t.match(home.headers.get('content-type'), /^text\/html/)
  const html = await home.text()
  t.match(html, '<form id="login" method="post" action="/login">')
  t.match(html, '<form id="register" method="post" action="/register">')

  const res = await fetch(demo.base + '/register', form({ name: '<b>Ann</b>', password: 'correct horse' }))
  t.equal(res.status, 303)
  t.equal(res.headers.get('location'), '/')
  t.match(res.headers.get('set-cookie'), /^session=[A-Za-z0-9_=-]+\.[0-9a-f]{64}; Max-Age=1800; Path=\/; HttpOnly; SameSite=Lax$/)
  const cookie = cookieOf(res)
  t.equal(getSession(cookie.slice('session='.length), { secret: SECRET }), '1', 'a dbbasic-sessions token for account 1 under the shared secret')

  const signedIn = await page(demo, cookie)
  t.match(signedIn, '<p id="status">Signed in as <strong id="name">&#60;b&#62;Ann&#60;/b&#62;</strong> (account 1).</p>', 'the name is shown, escaped')
  t.match(signedIn, /<time id="expires-at" datetime="[0-9T:-]+Z" data-seconds="\d+">/)

  const me = await fetch(demo.base + '/me', { headers: { cookie } })
  t.same(await me.json(), { userId: '1', name: '<b>Ann</b>' })
  const anonymous = await fetch(demo.base + '/me')
  t.equal(anonymous.status, 401)
  t.same(await anonymous.json(), { statusCode: 401, code: 'FST_DBBASIC_SESSIONS_UNAUTHORIZED', error: 'Unauthorized', message: 'No valid session' })

  const wrong = await fetch(demo.base + '/login', form({ name: '<b>Ann</b>', password: 'wrong horse' }))
  t.equal(wrong.status, 401)
  t.equal(wrong.headers.get('set-cookie'), null)

  const logout = await fetch(demo.base + '/logout', { method: 'POST', redirect: 'manual', headers: { cookie } })
  t.equal(logout.status, 303)
  t.match(logout.headers.get('set-cookie'), /^session=; Max-Age=0; Path=\/;/)
})

t.test('a 5,000-character name is a 400 page, not a 500', async (t) => {
  const demo = await startDemo(t, { SECRET_KEY: SECRET })
  const res = await fetch(demo.base + '/register', form({ name: 'x'.repeat(5000), password: 'correct horse' }))
  t.equal(res.status, 400)
  t.match(res.headers.get('content-type'), /^text\/html/)
  t.equal(res.headers.get('set-cookie'), null)
  t.match(await res.text(), 'A name has at most 64 characters.')
})

t.test('a restart with the same SECRET_KEY keeps the accounts and the sessions, and migrates nothing', async (t) => {
  const DATA_DIR = demoDataDir(t)
  const first = await startDemo(t, { SECRET_KEY: SECRET, DATA_DIR })
  t.match(first.output(), 'Database schema: version 0 -> 3')
  const cookie = await register(t, first, 'Ann')
  await first.stop()

  const second = await startDemo(t, { SECRET_KEY: SECRET, DATA_DIR })
  t.match(second.output(), `Accounts are kept in ${join(DATA_DIR, 'demo.sqlite')} (1 so far)`)
  t.notMatch(second.output(), /Created|Database schema/, 'no new file, no migration')
  t.match(await page(second, cookie), 'Signed in as <strong id="name">Ann</strong>', 'the session survived the restart')
  await register(t, second, 'Ann', '/login')
})

t.test('SECRET_KEYS rotates: a cookie signed before with the old secret is re-signed with the new', async (t) => {
  const DATA_DIR = demoDataDir(t)
  const before = await startDemo(t, { SECRET_KEY: OTHER_SECRET, DATA_DIR })
  const cookie = await register(t, before, 'Ann')
  await before.stop()

  const after = await startDemo(t, { SECRET_KEYS: `${SECRET},${OTHER_SECRET}`, DATA_DIR })
  const res = await fetch(after.base + '/me', { headers: { cookie } })
  t.same(await res.json(), { userId: '1', name: 'Ann' })
  t.equal(getSession(cookieOf(res).slice('session='.length), { secret: SECRET }), '1', 'the new cookie is signed with the first secret')
})

t.test('two processes on one database: an account made on one signs in on the other; sign out everywhere reaches both', async (t) => {
  const DATA_DIR = demoDataDir(t)
  // Started together on a new folder: both migrate, neither twice.
  const env = { SECRET_KEY: SECRET, DATA_DIR, REVOCATION_STALENESS: '1' }
  const [one, two] = await Promise.all([startDemo(t, env), startDemo(t, env)])
  const laptop = await register(t, one, 'Ann')
  const phone = await register(t, two, 'Ann', '/login')
  t.match(await page(one, phone), 'Signed in as', 'a session made by one process is good on the other')
  t.match(await page(two, laptop), 'Signed in as')

  const out = await fetch(one.base + '/logout-everywhere', form({}, laptop))
  t.equal(out.headers.get('location'), '/?signed-out=everywhere')
  t.match(await page(one, phone), '<p id="status">Signed out.</p>', 'the process that signed out: at once')
  const at = Date.now()
  let html = await page(two, phone)
  // Bounded: the staleness (1 s) and a margin for the 2-core machine.
  while (!html.includes('<p id="status">Signed out.</p>') && Date.now() - at < 3000) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    html = await page(two, phone)
  }
  t.match(html, '<p id="status">Signed out.</p>', `the other process refuses the other browser ${Date.now() - at} ms later (staleness 1 s)`)
})

t.test('without SECRET_KEY the demo makes a one-time secret and says so; SESSION_TTL sets the ttl', async (t) => {
  const demo = await startDemo(t, { SESSION_TTL: '120' })
  t.match(demo.output(), /SECRET_KEY is not set: using a one-time secret, so sessions will not survive a restart/)
  const res = await fetch(demo.base + '/register', form({ name: 'temp', password: 'correct horse' }))
  t.match(res.headers.get('set-cookie'), /Max-Age=120;/)
  const cookie = cookieOf(res)
  t.equal(getSession(cookie.slice('session='.length), { secret: SECRET }), null, 'not signed with any known secret')
  t.same(await (await fetch(demo.base + '/me', { headers: { cookie } })).json(), { userId: '1', name: 'temp' })
})

t.test('a wrong setting stops the demo with a message naming the variable', async (t) => {
  await t.rejects(startDemo(t, { SECRET_KEY: SECRET, SESSION_TTL: '600', SESSION_ABSOLUTE_TTL: '60' }),
    /the demo exited \(1\):\ndemo: SESSION_ABSOLUTE_TTL \(60\) must be at least SESSION_TTL \(600\)/)
})
