// The demo's accounts: register, sign in, wrong passwords, taken names, sign out, /me;
// against both databases (onEach).
import t from 'tap'
import { getSession } from '../../lib/index.js'
import { nameKey } from '../../example/names.js'
import { COST, dummyHash, verifyPassword } from '../../example/passwords.js'
import { Browser, demoApp, errorText, onEach, signUp, status } from './helpers.js'
import { SECRET } from '../helpers.js'

t.test('the signed-out page offers both forms', async (t) => {
  const { app } = await demoApp(t)
  const res = await new Browser(app).get('/')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/html; charset=utf-8/)
  t.equal(status(res.body), 'Signed out.')
  t.match(res.body, '<form id="login" method="post" action="/login">')
  t.match(res.body, '<form id="register" method="post" action="/register">')
  t.match(res.body, /<input id="login-password" name="password" type="password" autocomplete="current-password"/)
  t.match(res.body, /<input id="register-password" name="password" type="password" autocomplete="new-password" required minlength="8">/)
  t.equal(res.headers['set-cookie'], undefined, 'no cookie for a visitor')
})

onEach('register signs in: the account id is the session user id, and the page shows the name', async (t, kind) => {
  const { app, database } = await demoApp(t, { kind })
  const browser = new Browser(app)
  await signUp(t, browser, 'Ann')
  const token = (browser.cookie as string).slice('session='.length)
  const id = (await database.userByKey(nameKey('Ann')))?.id
  t.equal(id, 1)
  t.equal(getSession(token, { secret: SECRET, now: () => 1764115200000 }), '1', 'the session user id is the account id')

  const home = await browser.get('/')
  t.equal(status(home.body), 'Signed in as Ann (account 1).')
  t.match(home.body, '<button type="submit" id="sign-out">Sign out</button>')
  t.match(home.body, '<button type="submit" id="sign-out-everywhere">Sign out everywhere</button>')

  const me = await browser.get('/me')
  t.equal(me.statusCode, 200)
  t.same(me.json(), { userId: '1', name: 'Ann' })
})

onEach('the password is stored as a salted scrypt hash, never as given', async (t, kind) => {
  const { app, database } = await demoApp(t, { kind })
  await signUp(t, new Browser(app), 'Ann', 'same password')
  await signUp(t, new Browser(app), 'Bob', 'same password')
  const ann = (await database.userByKey(nameKey('Ann')))?.password_hash as string
  const bob = (await database.userByKey(nameKey('Bob')))?.password_hash as string
  t.match(ann, /^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
  t.notMatch(ann, 'same password')
  t.not(ann, bob, 'a salt per user: the same password hashes differently')
  t.equal(await verifyPassword('same password', ann), true)
  t.equal(await verifyPassword('same passwore', ann), false)
})

onEach('sign in with the right password; a wrong one or an unknown name gets the form again with 401', async (t, kind) => {
  const { app } = await demoApp(t, { kind })
  await signUp(t, new Browser(app), 'Ann', 'correct horse')

  const browser = new Browser(app)
  for (const [name, password] of [['Ann', 'wrong horse'], ['Nobody', 'correct horse'], ['Ann', 'correct hors']]) {
    const res = await browser.post('/login', { name, password })
    t.equal(res.statusCode, 401, `${name} / ${password}`)
    t.equal(res.headers['set-cookie'], undefined)
    t.equal(errorText(res.body), 'Wrong name or password.', 'the same message whether the name exists or not')
    t.match(res.body, `<input id="login-name" name="name" autocomplete="username" required maxlength="64" value="${name}">`, 'the name is kept in the form')
    t.match(res.body, '<form id="login"')
  }
  t.equal(browser.cookie, undefined)

  await signUp(t, browser, 'Ann', 'correct horse', '/login')
  t.same((await browser.get('/me')).json(), { userId: '1', name: 'Ann' })
  await signUp(t, new Browser(app), 'ann', 'correct horse', '/login')
  t.pass('names are matched without regard to case')
})

t.test('an unknown name is checked against a dummy hash of the same cost as a real one', async (t) => {
  const dummy = await dummyHash()
  t.match(dummy, new RegExp(`^scrypt\\$${COST.N}\\$${COST.r}\\$${COST.p}\\$`))
  t.same(COST, { N: 16384, r: 8, p: 1 })
  t.not(await dummyHash(), dummy, 'of a random password')
})

onEach('a name already taken, or one that looks the same, gets a friendly 409 page, and no session', async (t, kind) => {
  const { app, database } = await demoApp(t, { kind })
  await signUp(t, new Browser(app), 'Ann')
  const browser = new Browser(app)
  for (const name of ['Ann', 'ANN', '  ann ', 'Ａｎｎ']) {
    const res = await browser.post('/register', { name, password: 'another password' })
    t.equal(res.statusCode, 409, JSON.stringify(name))
    t.match(res.headers['content-type'], /^text\/html/)
    t.match(errorText(res.body), /^The name “(Ann|ANN|ann)” is taken, or one that looks the same is\. Sign in if it is yours, or register another name\.$/)
    t.equal(res.headers['set-cookie'], undefined)
  }
  t.equal(await database.countUsers(), 1)
  await signUp(t, new Browser(app), 'Coco')
  const lookalike = await browser.post('/register', { name: '\u0421\u043e\u0441\u043e', password: 'another password' })
  t.equal(lookalike.statusCode, 409, 'an all-Cyrillic name that displays as "Coco" is the same name')
  t.equal(await database.countUsers(), 2)
  t.equal(await verifyPassword('correct horse', (await database.userByKey(nameKey('Ann')))?.password_hash as string), true, 'the first account keeps its password')
})

onEach('names are trimmed and normalised (NFKC) before they are stored, and compared by Unicode case folding', async (t, kind) => {
  const { app, database } = await demoApp(t, { kind })
  await signUp(t, new Browser(app), '  Zoe\u0308  ')
  t.equal((await database.userById(1))?.name, 'Zo\u00eb')
  await signUp(t, new Browser(app), 'Zo\u00eb', 'correct horse', '/login')
  await signUp(t, new Browser(app), 'ZO\u00cb', 'correct horse', '/login')
  t.pass('beyond ASCII, case does not matter')
  t.equal((await new Browser(app).post('/register', { name: 'Zoe\u0308', password: 'correct horse' })).statusCode, 409)
  await signUp(t, new Browser(app), 'Stra\u00dfe')
  await signUp(t, new Browser(app), 'STRASSE', 'correct horse', '/login')
  t.pass('ß and SS are one name, as Unicode case folding has it')
})

onEach('a name with an invisible character or mixing look-alike scripts is refused, saying why', async (t, kind) => {
  const { app, database } = await demoApp(t, { kind })
  for (const [name, error] of [
    ['A\u200bnn', 'A name cannot hold control characters or invisible ones (zero-width spaces, direction marks).'],
    ['\u0410nn', 'A name cannot mix Cyrillic and Latin letters: some of them look alike, so the name could pass for another.']
  ]) {
    const res = await new Browser(app).post('/register', { name, password: 'correct horse' })
    t.equal(res.statusCode, 400)
    t.equal(errorText(res.body), error)
  }
  t.equal(await database.countUsers(), 0)
})

onEach('the name is shown escaped', async (t, kind) => {
  const { app } = await demoApp(t, { kind })
  const browser = new Browser(app)
  await signUp(t, browser, '<b>"Ann"</b> & co')
  const home = await browser.get('/')
  t.match(home.body, '<strong id="name">&#60;b&#62;&#34;Ann&#34;&#60;/b&#62; &#38; co</strong>')
  t.notMatch(home.body, '<b>')
  t.same((await browser.get('/me')).json(), { userId: '1', name: '<b>"Ann"</b> & co' })
})

onEach('sign out deletes the cookie and ends the session on the server; the page is the signed-out one again', async (t, kind) => {
  const { app } = await demoApp(t, { kind })
  const browser = new Browser(app)
  await signUp(t, browser, 'Ann')
  const copy = browser.cookie as string
  const res = await browser.post('/logout')
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, '/')
  t.match(res.headers['set-cookie'], /^session=; Max-Age=0; Path=\//)
  t.equal(browser.cookie, undefined)
  t.equal((await app.inject({ url: '/me', headers: { cookie: copy } })).statusCode, 401, 'a copy of the cookie taken before is refused: the session ended on the server')
  t.equal(status((await browser.get('/')).body), 'Signed out.')
  t.equal((await browser.get('/me')).statusCode, 401)
  t.equal((await browser.post('/logout')).statusCode, 303, 'signing out twice is harmless')
})

t.test('/me is guarded by requireSession: JSON 401 without a session', async (t) => {
  const { app } = await demoApp(t)
  const res = await app.inject('/me')
  t.equal(res.statusCode, 401)
  t.match(res.headers['content-type'], /^application\/json/)
  t.same(res.json(), { statusCode: 401, code: 'FST_DBBASIC_SESSIONS_UNAUTHORIZED', error: 'Unauthorized', message: 'No valid session' })
})

onEach('a validly signed session for an account that does not exist is no session', async (t, kind) => {
  const { app } = await demoApp(t, { kind })
  const { createSession } = await import('../../lib/index.js')
  for (const userId of ['7', 'Ann', '01', '1e3']) {
    const cookie = `session=${createSession(userId, { secret: SECRET, now: () => 1764115200000 })}`
    const home = await app.inject({ url: '/', headers: { cookie } })
    t.equal(status(home.body), 'Signed out.', userId)
    t.equal((await app.inject({ url: '/me', headers: { cookie } })).statusCode, 401, userId)
  }
})
