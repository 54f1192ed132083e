// What guards the demo's forms and pages: the rate limits on sign-in and register
// (per client address, behind a trusted proxy too, and per account), same-origin
// posts, headers that keep the pages private, and server faults shown as a page
// without details.
import { join } from 'node:path'
import t from 'tap'
import Database from 'libsql'
import { Browser, demoApp, errorText, signUp, status } from './helpers.js'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

t.test('sign-in attempts are limited per address: 429 after rateLimitMax a minute, as a page', async (t) => {
  const { app } = await demoApp(t, { rateLimitMax: 3 })
  await signUp(t, new Browser(app), 'Ann')
  const attempt = () => app.inject({ method: 'POST', url: '/login', headers: FORM, payload: 'name=Ann&password=guess+guess' })
  for (let i = 1; i <= 3; i++) {
    const res = await attempt()
    t.equal(res.statusCode, 401, `attempt ${i} is answered`)
    t.equal(res.headers['x-ratelimit-remaining'], String(3 - i))
  }
  const refused = await attempt()
  t.equal(refused.statusCode, 429)
  t.match(refused.headers['content-type'], /^text\/html; charset=utf-8/)
  // The limiter's window runs on the real clock: the wait is what is left of the minute.
  const wait = Number(refused.headers['retry-after'])
  t.ok(wait >= 1 && wait <= 60, `Retry-After: ${wait}`)
  t.equal(errorText(refused.body), `Too many attempts from your address: try again in ${wait} seconds.`)
  const right = await app.inject({ method: 'POST', url: '/login', headers: FORM, payload: 'name=Ann&password=correct+horse' })
  t.equal(right.statusCode, 429, 'the right password waits too: no guess is checked')
  t.equal(right.headers['set-cookie'], undefined)
  t.equal((await app.inject('/')).statusCode, 200, 'pages are not limited')
})

t.test('wrong passwords are limited per account, from whatever address; a right one does not count', async (t) => {
  const { app } = await demoApp(t, { accountRateLimitMax: 3 })
  await signUp(t, new Browser(app), 'Ann')
  await signUp(t, new Browser(app), 'Bob')
  const attempt = (name: string, password: string, from: string) =>
    app.inject({ method: 'POST', url: '/login', headers: FORM, payload: new URLSearchParams({ name, password }).toString(), remoteAddress: from })
  for (let i = 0; i < 5; i++) t.equal((await attempt('Ann', 'correct horse', `10.0.0.${i}`)).statusCode, 303, 'right passwords are not counted')
  for (let i = 1; i <= 3; i++) t.equal((await attempt(i === 2 ? 'ANN' : 'Ann', 'guess guess', `10.0.1.${i}`)).statusCode, 401, `wrong password ${i}, from its own address`)
  const refused = await attempt('ann', 'guess guess', '10.0.1.9')
  t.equal(refused.statusCode, 429, 'the fourth, from yet another address, is refused')
  const wait = Number(refused.headers['retry-after'])
  t.ok(wait >= 1 && wait <= 60, `Retry-After: ${wait}`)
  t.equal(errorText(refused.body), `Too many wrong passwords for this account: try again in ${wait} seconds.`)
  t.equal((await attempt('Ann', 'correct horse', '10.0.2.1')).statusCode, 429, 'the right password waits too')
  t.equal((await attempt('Bob', 'correct horse', '10.0.1.1')).statusCode, 303, 'another account is not held up')
})

t.test('behind a trusted proxy the client address is the one it forwards; a made-up X-Forwarded-For changes nothing', async (t) => {
  const { app } = await demoApp(t, { rateLimitMax: 2, trustProxy: '127.0.0.1' })
  const attempt = (forwarded: string) => app.inject({
    method: 'POST', url: '/login', headers: { ...FORM, 'x-forwarded-for': forwarded }, payload: 'name=Nobody&password=guess+guess', remoteAddress: '127.0.0.1'
  })
  t.equal((await attempt('203.0.113.1')).statusCode, 401)
  t.equal((await attempt('198.51.100.7, 203.0.113.1')).statusCode, 401, 'the client put an address of its own first: the proxy\'s last word counts')
  t.equal((await attempt('203.0.113.1')).statusCode, 429, 'the same client, a third time')
  t.equal((await attempt('203.0.113.2')).statusCode, 401, 'another client behind the same proxy has its own count')

  const direct = await demoApp(t, { rateLimitMax: 2 })
  const untrusted = (forwarded: string) => direct.app.inject({ method: 'POST', url: '/login', headers: { ...FORM, 'x-forwarded-for': forwarded }, payload: 'name=Nobody&password=guess+guess' })
  t.equal((await untrusted('203.0.113.1')).statusCode, 401)
  t.equal((await untrusted('203.0.113.2')).statusCode, 401)
  t.equal((await untrusted('203.0.113.3')).statusCode, 429, 'without TRUST_PROXY the header is not believed')
})

t.test('registering is limited on its own count', async (t) => {
  const { app, database } = await demoApp(t, { rateLimitMax: 2 })
  const register = (name: string) => app.inject({ method: 'POST', url: '/register', headers: FORM, payload: `name=${name}&password=long+enough` })
  t.equal((await register('a')).statusCode, 303)
  t.equal((await register('b')).statusCode, 303)
  t.equal((await register('c')).statusCode, 429)
  t.equal(await database.countUsers(), 2)
  const login = await app.inject({ method: 'POST', url: '/login', headers: FORM, payload: 'name=a&password=long+enough' })
  t.equal(login.statusCode, 303, 'sign-in has its own count')
})

t.test('the forms are same-origin: posts without Origin, or from the page itself, are taken', async (t) => {
  const { app } = await demoApp(t)
  const headers = [
    {},
    { origin: 'http://localhost:80' },
    { 'sec-fetch-site': 'same-origin', origin: 'http://localhost:80' }
  ]
  for (const [i, extra] of headers.entries()) {
    const res = await app.inject({ method: 'POST', url: '/register', headers: { ...FORM, ...extra }, payload: `name=user${i}&password=long+enough` })
    t.equal(res.statusCode, 303, JSON.stringify(extra))
    t.ok(res.headers['set-cookie'])
  }
})

t.test('a form posted from another site is refused with a 403 page before its body is read', async (t) => {
  const { app, database } = await demoApp(t)
  const browser = new Browser(app)
  await signUp(t, browser, 'Ann')
  const cookie = browser.cookie as string
  const attacks: Array<[string, Record<string, string>]> = [
    ['/logout-everywhere', { 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' }],
    ['/logout-everywhere', { 'sec-fetch-site': 'same-site', origin: 'http://sub.localhost' }],
    ['/logout', { origin: 'http://evil.example' }],
    ['/login', { 'sec-fetch-site': 'cross-site', origin: 'null' }],
    ['/register', { origin: 'http://localhost:8080' }]
  ]
  for (const [url, headers] of attacks) {
    const res = await app.inject({ method: 'POST', url, headers: { ...FORM, ...headers, cookie }, payload: 'name=Mallory&password=long+enough' })
    t.equal(res.statusCode, 403, `${url} ${JSON.stringify(headers)}`)
    t.match(res.headers['content-type'], /^text\/html; charset=utf-8/)
    t.equal(errorText(res.body), 'This form was sent from another site, so it was refused.')
    t.equal(res.headers['set-cookie'], undefined, 'no cookie set or deleted')
    t.equal(res.headers['content-security-policy'], "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
  }
  const json = await app.inject({ method: 'POST', url: '/login', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, payload: '{' })
  t.equal(json.statusCode, 403, 'refused before the (broken) body is parsed')
  t.equal(await database.countUsers(), 1, 'no account was made')
  t.match((await browser.get('/')).body, '(this browser)', 'the one sign-in, listed')
  t.equal(status((await browser.get('/')).body), 'Signed in as Ann (account 1).', 'still signed in')
})

t.test('every page is private and stays on this site', async (t) => {
  const { app } = await demoApp(t)
  const browser = new Browser(app)
  const pages = [
    await browser.get('/'),
    await browser.post('/login', { name: '', password: '' }),
    await app.inject({ method: 'POST', url: '/login', headers: { 'content-type': 'application/json' }, payload: '{}' })
  ]
  await signUp(t, browser, 'Ann')
  pages.push(await browser.get('/'), await browser.get('/me'), await browser.get('/nowhere'))
  for (const res of pages) {
    t.equal(res.headers['cache-control'], 'no-store', `${res.statusCode}: not stored by any cache`)
    t.equal(res.headers['content-security-policy'], "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    t.equal(res.headers['x-content-type-options'], 'nosniff')
    t.equal(res.headers['referrer-policy'], 'same-origin')
  }
})

t.test('a fault on the server is a 500 page that tells nothing of the cause', async (t) => {
  const { app, dataDir } = await demoApp(t)
  const browser = new Browser(app)
  await signUp(t, browser, 'Ann')
  // Someone else breaks the file under the running app.
  const other = new Database(join(dataDir, 'demo.sqlite'))
  other.exec('ALTER TABLE users RENAME TO gone')
  other.close()
  for (const res of [await browser.get('/'), await browser.post('/register', { name: 'Bob', password: 'long enough' })]) {
    // A broken schema is the demo's fault, not an outage: 500, not 503.
    t.equal(res.statusCode, 500)
    t.match(res.headers['content-type'], /^text\/html; charset=utf-8/)
    t.equal(errorText(res.body), 'Something went wrong on the server.')
    t.notMatch(res.body, /libsql|sqlite|database|at .*\.js/i)
  }
  t.equal(status((await app.inject('/')).body), 'Signed out.', 'pages without a session still work')
})
