// The session's life in the demo: times on the page, rolling renewal, the absolute
// end, and "sign out everywhere" through validate, in one process and across two.
import t from 'tap'
import { createSession } from '../../lib/index.js'
import { Browser, demoApp, shownTime, signUp, status } from './helpers.js'
import { SECRET, T0 } from '../helpers.js'

const S0 = T0 / 1000

t.test('the page shows when the session started and ends; renewal moves the end, never past the absolute end', async (t) => {
  const { app, clock } = await demoApp(t, { ttl: 1800, absoluteTtl: 43200 })
  const browser = new Browser(app)
  await signUp(t, browser, 'Ann')

  let page = await browser.get('/')
  t.equal(shownTime(page.body, 'issued-at'), S0)
  t.equal(shownTime(page.body, 'expires-at'), S0 + 1800)
  t.equal(shownTime(page.body, 'absolute-end'), S0 + 43200)
  t.match(page.body, '<time id="expires-at" datetime="2025-11-26T00:30:00Z" data-seconds="1764117000">2025-11-26 00:30:00 UTC</time>')
  t.match(page.body, 'Idle for 30 minutes and the session ends.')
  t.match(page.body, 'never past the latest time, 12 hours after signing in.')

  clock.advance(899)
  page = await browser.get('/')
  t.equal(page.headers['set-cookie'], undefined, 'more than half the ttl left: no renewal yet')
  t.equal(shownTime(page.body, 'expires-at'), S0 + 1800)

  clock.advance(2)
  page = await browser.get('/')
  t.match(page.headers['set-cookie'], /^session=.*; Max-Age=1800; Path=\/; HttpOnly; SameSite=Lax$/, 'renewed: a fresh cookie')
  t.equal(shownTime(page.body, 'expires-at'), S0 + 901 + 1800, 'the end moved: one ttl from now')
  t.equal(shownTime(page.body, 'issued-at'), S0, 'the start stays')

  // Active every 1,000 s: renewed each time, until the absolute end caps it.
  let last = S0 + 901 + 1800
  while (clock.now() / 1000 + 1000 < S0 + 43200) {
    clock.advance(1000)
    page = await browser.get('/')
    const end = shownTime(page.body, 'expires-at') as number
    t.ok(end >= last && end <= S0 + 43200, `at +${clock.now() / 1000 - S0} s the end is ${end - S0}`)
    last = end
  }
  t.equal(last, S0 + 43200, 'the end has reached the absolute end')
  t.equal(status(page.body), 'Signed in as Ann (account 1).')
  clock.advance(S0 + 43200 - clock.now() / 1000)
  t.equal(status((await browser.get('/')).body), 'Signed out.', 'at the absolute end the session is over, however active')
})

t.test('idle for one ttl, the session ends', async (t) => {
  const { app, clock } = await demoApp(t, { ttl: 600 })
  const browser = new Browser(app)
  await signUp(t, browser, 'Ann')
  clock.advance(599)
  t.equal(status((await browser.get('/')).body), 'Signed in as Ann (account 1).')
  const renewedAt = clock.now() / 1000
  clock.advance(600)
  t.equal(status((await browser.get('/')).body), 'Signed out.', `idle from ${renewedAt - S0} s to ${renewedAt - S0 + 600} s`)
})

t.test('sign out everywhere: this browser and every other one of the account are signed out', async (t) => {
  const { app, clock, database } = await demoApp(t)
  const first = new Browser(app)
  const second = new Browser(app)
  const bob = new Browser(app)
  await signUp(t, first, 'Ann')
  await signUp(t, bob, 'Bob')
  clock.advance(10)
  await signUp(t, second, 'Ann', 'correct horse', '/login')
  t.equal(status((await second.get('/')).body), 'Signed in as Ann (account 1).')

  clock.advance(10)
  const res = await first.post('/logout-everywhere')
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, '/?signed-out=everywhere')
  t.match(res.headers['set-cookie'], /^session=; Max-Age=0;/)
  t.equal(database.userById(1)?.sessions_valid_after, S0 + 20, 'the cut-off is now, in Unix seconds')
  const after = await first.get(res.headers.location as string)
  t.equal(status(after.body), 'Signed out.')
  t.match(after.body, '<p class="notice" id="notice">Signed out everywhere: every browser signed in to that account is signed out at its next request.</p>')

  const other = await second.get('/')
  t.equal(status(other.body), 'Signed out.', 'the other browser is signed out at its next request')
  t.equal((await second.get('/me')).statusCode, 401)
  t.ok(second.cookie, 'its cookie is still there, and refused')
  t.same((await bob.get('/me')).json(), { userId: '2', name: 'Bob' }, 'another account is untouched')

  t.equal((await first.post('/logout-everywhere')).headers.location, '/', 'signed out already: nothing to do')
})

t.test('a session from the cut-off second itself is refused, and signing in right after waits for the next second', async (t) => {
  const { app, clock, pauses } = await demoApp(t)
  const first = new Browser(app)
  const second = new Browser(app)
  await signUp(t, first, 'Ann')
  clock.set(T0 + 20_100)
  await signUp(t, second, 'Ann', 'correct horse', '/login')
  clock.set(T0 + 20_900)
  await first.post('/logout-everywhere')
  t.equal(status((await second.get('/')).body), 'Signed out.', 'issued at 20.1 s, cut off at 20.9 s: the token only says 20 s, so it is refused')

  t.same(pauses, [], 'no wait so far')
  await signUp(t, first, 'Ann', 'correct horse', '/login')
  t.same(pauses, [100], 'the login waited for the clock to pass the cut-off second')
  t.equal(clock.now(), T0 + 21_000)
  t.equal(status((await first.get('/')).body), 'Signed in as Ann (account 1).', 'the fresh session counts')
  t.equal(shownTime((await first.get('/')).body, 'issued-at'), S0 + 21)

  clock.advance(5)
  await signUp(t, second, 'Ann', 'correct horse', '/login')
  t.same(pauses, [100], 'later logins do not wait')
})

t.test('a cut-off never moves back', async (t) => {
  const { app, clock, database } = await demoApp(t)
  const browser = new Browser(app)
  await signUp(t, browser, 'Ann')
  clock.advance(100)
  await browser.post('/logout-everywhere')
  await signUp(t, browser, 'Ann', 'correct horse', '/login')
  clock.advance(-50) // another machine whose clock is behind
  await browser.post('/logout-everywhere')
  t.equal(database.userById(1)?.sessions_valid_after, S0 + 100)
})

t.test('another process sees a cut-off once its cache of revocationCacheSeconds has run out', async (t) => {
  const one = await demoApp(t, { revocationCacheSeconds: 2 })
  const two = await demoApp(t, { revocationCacheSeconds: 2, dataDir: one.dataDir, clock: one.clock })
  const clock = one.clock
  const first = new Browser(one.app)
  const second = new Browser(one.app)
  await signUp(t, first, 'Ann')
  await signUp(t, second, 'Ann', 'correct horse', '/login')
  clock.advance(10)
  t.equal(status((await second.get('/', two.app)).body), 'Signed in as Ann (account 1).', 'process two knows the session (and caches the cut-off)')

  t.match((await first.get('/')).body, 'within 2 s on every server process', 'the page says how long a revocation takes')
  clock.advance(0.5)
  await first.post('/logout-everywhere')
  t.equal(status((await second.get('/', one.app)).body), 'Signed out.', 'process one: at once')
  t.equal(status((await second.get('/', two.app)).body), 'Signed in as Ann (account 1).', 'process two: its cached cut-off is still the old one')
  clock.advance(1.4)
  t.equal(status((await second.get('/', two.app)).body), 'Signed in as Ann (account 1).', 'still inside the 2 s')
  clock.advance(0.1)
  t.equal(status((await second.get('/', two.app)).body), 'Signed out.', 'two seconds after process two read it, the cut-off reaches it')
})

t.test('with revocationCacheSeconds 0 every process sees a cut-off at once', async (t) => {
  const one = await demoApp(t, { revocationCacheSeconds: 0 })
  const two = await demoApp(t, { revocationCacheSeconds: 0, dataDir: one.dataDir, clock: one.clock })
  const first = new Browser(one.app)
  const second = new Browser(two.app)
  await signUp(t, first, 'Ann')
  await signUp(t, second, 'Ann', 'correct horse', '/login')
  one.clock.advance(10)
  t.equal(status((await second.get('/')).body), 'Signed in as Ann (account 1).')
  await first.post('/logout-everywhere')
  t.equal(status((await second.get('/')).body), 'Signed out.')
  await signUp(t, first, 'Ann', 'correct horse', '/login')
  t.match((await first.get('/')).body, 'at once on every server process', 'the page says so')
})

t.test('a token without a login time cannot be checked against the cut-off, so it is refused', async (t) => {
  const { app } = await demoApp(t)
  await signUp(t, new Browser(app), 'Ann')
  const cookie = `session=${createSession('1', { secret: SECRET, now: () => T0 })}`
  t.equal(status((await app.inject({ url: '/', headers: { cookie } })).body), 'Signed out.')
})
