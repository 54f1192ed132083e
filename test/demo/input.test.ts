// Whatever arrives at the demo's forms, a mistake is a 400 page for a person,
// never a 500 and never a session.
import t from 'tap'
import type { InjectOptions } from 'fastify'
import { Browser, demoApp, errorText, signUp } from './helpers.js'

const FORM = 'application/x-www-form-urlencoded'
const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString()

t.test('form fields a person can get wrong: the forms again, with what to fix', async (t) => {
  const { app, database } = await demoApp(t)
  const cases: Array<[string, string, string, string]> = [
    ['/register', form({ name: '', password: 'long enough' }), 'Please enter a name.', 'an empty name'],
    ['/register', form({ name: ' \t ', password: 'long enough' }), 'Please enter a name.', 'a name of spaces'],
    ['/register', form({ name: 'Ann', password: '' }), 'Please enter a password.', 'an empty password'],
    ['/register', form({ name: 'Ann', password: 'seven77' }), 'A password has at least 8 characters.', 'a 7-character password'],
    ['/register', form({ name: 'Ann', password: '\u00e9'.repeat(7) }), 'A password has at least 8 characters.', 'characters are counted, not bytes'],
    ['/register', form({ name: 'x'.repeat(5000), password: 'long enough' }), 'A name has at most 64 characters.', 'a 5,000-character name'],
    ['/register', form({ name: 'x'.repeat(65), password: 'long enough' }), 'A name has at most 64 characters.', 'a 65-character name'],
    ['/register', form({ name: 'A\u0000nn', password: 'long enough' }), 'A name cannot hold control characters or invisible ones (zero-width spaces, direction marks).', 'a NUL in the name'],
    ['/register', form({ name: 'Ann\nBob', password: 'long enough' }), 'A name cannot hold control characters or invisible ones (zero-width spaces, direction marks).', 'a newline in the name'],
    ['/register', form({ name: 'Ann\u202Egnp.exe', password: 'long enough' }), 'A name cannot hold control characters or invisible ones (zero-width spaces, direction marks).', 'a bidi override in the name'],
    ['/register', form({ name: 'A\u200bnn', password: 'long enough' }), 'A name cannot hold control characters or invisible ones (zero-width spaces, direction marks).', 'a zero-width space in the name'],
    ['/register', form({ name: 'P\u0430ul', password: 'long enough' }), 'A name cannot mix Latin and Cyrillic letters: some of them look alike, so the name could pass for another.', 'a Cyrillic a in a Latin name'],
    ['/register', form({ name: 'Ann', password: 'long\u0007enough' }), 'A password cannot hold control characters.', 'a control character in the password'],
    ['/register', form({ name: 'Ann', password: 'p'.repeat(1025) }), 'A password has at most 1024 characters.', 'a 1,025-character password'],
    ['/register', form({ name: 'Ann' }), 'Please fill in a name and a password.', 'no password field'],
    ['/register', form({ password: 'long enough' }), 'Please fill in a name and a password.', 'no name field'],
    ['/register', '', 'Please fill in a name and a password.', 'an empty form'],
    ['/register', 'name=Ann&name=Bob&password=long+enough', 'Please fill in a name and a password.', 'the name twice (an array)'],
    ['/register', 'name=Ann&password=long+enough&password=other+one', 'Please fill in a name and a password.', 'the password twice'],
    ['/register', 'name[a]=1&password=long+enough', 'Please fill in a name and a password.', 'bracket syntax is not an object'],
    ['/login', form({ name: '', password: 'whatever' }), 'Please enter a name.', 'sign in with an empty name'],
    ['/login', form({ name: 'Ann', password: '' }), 'Please enter a password.', 'sign in with an empty password'],
    ['/login', form({ name: 'y'.repeat(5000), password: 'whatever' }), 'A name has at most 64 characters.', 'sign in with a 5,000-character name'],
    ['/login', form({ name: 'Ann', password: 'p'.repeat(5000) }), 'A password has at most 1024 characters.', 'sign in with a 5,000-character password'],
    ['/login', '', 'Please fill in a name and a password.', 'sign in with an empty form']
  ]
  for (const [url, payload, message, what] of cases) {
    const res = await app.inject({ method: 'POST', url, headers: { 'content-type': FORM }, payload })
    t.equal(res.statusCode, 400, what)
    t.match(res.headers['content-type'], /^text\/html; charset=utf-8/, what)
    t.equal(res.headers['set-cookie'], undefined, what)
    t.equal(errorText(res.body), message, what)
    t.match(res.body, '<form id="login"', `${what}: the forms are there to try again`)
  }
  t.equal(await database.countUsers(), 0, 'no account was made')
})

t.test('the longest name and the shortest password are accepted', async (t) => {
  const { app, database } = await demoApp(t)
  await signUp(t, new Browser(app), 'n'.repeat(63) + '\u00e9', '12345678')
  t.equal((await database.userById(1))?.name, 'n'.repeat(63) + '\u00e9')
  // A password short of 8 is not a form mistake at sign-in: it is just wrong.
  t.equal((await new Browser(app).post('/login', { name: 'Ann', password: 'short' })).statusCode, 401)
})

t.test('bodies that are not a form: a 400 page, never a 500, never a session', async (t) => {
  const { app, database } = await demoApp(t)
  await signUp(t, new Browser(app), 'Ann', 'correct horse')
  const json = JSON.stringify({ name: 'Ann', password: 'correct horse' })
  const cases: Array<[string, InjectOptions]> = [
    ['a JSON body with good fields', { headers: { 'content-type': 'application/json' }, payload: json }],
    ['a JSON body with wrong types', { headers: { 'content-type': 'application/json' }, payload: '{"name":["Ann"],"password":{"a":1}}' }],
    ['broken JSON', { headers: { 'content-type': 'application/json' }, payload: '{"name":' }],
    ['text/plain', { headers: { 'content-type': 'text/plain' }, payload: 'name=Ann&password=correct+horse' }],
    ['multipart', { headers: { 'content-type': 'multipart/form-data; boundary=x' }, payload: '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nAnn\r\n--x--\r\n' }],
    ['no content type', { payload: 'name=Ann&password=correct+horse' }],
    ['a malformed content type', { headers: { 'content-type': '/;;' }, payload: 'name=Ann' }],
    ['a form over 16 KiB', { headers: { 'content-type': FORM }, payload: form({ name: 'Ann', password: 'correct horse', pad: 'x'.repeat(17000) }) }]
  ]
  for (const url of ['/login', '/register']) {
    for (const [what, options] of cases) {
      const res = await app.inject({ method: 'POST', url, ...options })
      t.equal(res.statusCode, 400, `${url}: ${what}`)
      t.match(res.headers['content-type'], /^text\/html; charset=utf-8/)
      t.equal(res.headers['set-cookie'], undefined)
      t.equal(errorText(res.body), 'The form could not be read. Please use the forms on the demo page.', `${url}: ${what}`)
    }
  }
  for (const url of ['/logout', '/logout-everywhere', '/devices/sign-out']) {
    const res = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: json })
    t.equal(res.statusCode, 400, `${url} with a JSON body`)
  }
  t.equal(await database.countUsers(), 1)
})

t.test('odd but harmless forms are read as forms', async (t) => {
  const { app } = await demoApp(t)
  const post = (payload: string) => app.inject({ method: 'POST', url: '/register', headers: { 'content-type': FORM }, payload })
  t.equal((await post('name=%E0%A4%A&password=long+enough')).statusCode, 303, 'a broken percent escape is kept as text')
  t.equal((await post('__proto__=x&constructor=y&name=Bob&password=long+enough')).statusCode, 303, 'extra fields are ignored')
  t.equal((await post('name=%ED%A0%80&password=long+enough')).statusCode, 303, 'an encoded surrogate becomes a replacement character')
})

t.test('pages that do not exist are a 404 page; the forms take POST only', async (t) => {
  const { app } = await demoApp(t)
  for (const [method, url] of [['GET', '/nowhere'], ['GET', '/login'], ['GET', '/logout-everywhere'], ['GET', '/devices/sign-out'], ['PUT', '/register']] as const) {
    const res = await app.inject({ method, url })
    t.equal(res.statusCode, 404, `${method} ${url}`)
    t.match(res.headers['content-type'], /^text\/html/)
    t.equal(errorText(res.body), 'There is no such page.')
  }
  t.equal((await app.inject('/?signed-out[]=everywhere&x=%ZZ')).statusCode, 200, 'an odd query on / is ignored')
})
