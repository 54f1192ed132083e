// The session cookie's name and attributes (the cookieName and cookie options): as
// configured on sign-in and sign-out; the default name follows the strongest prefix the
// attributes allow; and a cookie that scripts can read is said once at start-up. Their
// rules at register: options.test.ts.
import t from 'tap'
import type { FastifyDbbasicSessionsOptions } from '../types/index.js'
import { LogCapture, NONE, buildApp, sessionCookie } from './helpers.js'

const defaults: Array<[string, FastifyDbbasicSessionsOptions, string, string[]]> = [
  ['the default attributes', {}, '__Host-Http-session', ['Max-Age=2592000', 'Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax']],
  ['secure with a domain', { cookie: { domain: 'example.com' } }, '__Http-session', ['Max-Age=2592000', 'Domain=example.com', 'Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax']],
  ['secure with another path', { cookie: { path: '/app' } }, '__Http-session', ['Max-Age=2592000', 'Path=/app', 'HttpOnly', 'Secure', 'SameSite=Lax']],
  ['readable by scripts', { cookie: { httpOnly: false } }, '__Host-session', ['Max-Age=2592000', 'Path=/', 'Secure', 'SameSite=Lax']],
  ['readable by scripts, with a domain', { cookie: { httpOnly: false, domain: 'example.com' } }, '__Secure-session', ['Max-Age=2592000', 'Domain=example.com', 'Path=/', 'Secure', 'SameSite=Lax']],
  ['plain-http development', { cookie: { secure: false } }, 'session', ['Max-Age=2592000', 'Path=/', 'HttpOnly', 'SameSite=Lax']],
  ['an explicit cookieName', { cookieName: 'sid' }, 'sid', ['Max-Age=2592000', 'Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax']]
]

for (const [what, options, name, attributes] of defaults) {
  t.test(`the cookie is named ${name} with ${what}`, async (t) => {
    const app = await buildApp(options)
    t.teardown(() => app.close())
    const login = await app.inject({ method: 'POST', url: '/login?user=a' })
    const set = String(login.headers['set-cookie'])
    t.ok(set.startsWith(`${name}=`), set)
    t.same(set.split('; ').slice(1), attributes)
    const { token } = login.json()
    t.equal((await app.inject({ url: '/whoami', headers: { cookie: `${name}=${token}` } })).json().userId, 'a')
    if (name !== 'session') {
      t.same((await app.inject({ url: '/whoami', headers: { cookie: `session=${token}` } })).json(), NONE,
        'a cookie under the old default name is not read: it could have been planted')
    }
  })
}

t.test('the configured name and attributes are used on login and logout', async (t) => {
  const app = await buildApp({
    cookieName: 'sid',
    ttl: 3600,
    cookie: { path: '/app', domain: 'example.com', secure: false, httpOnly: false, sameSite: 'strict' }
  })
  t.teardown(() => app.close())
  const login = await app.inject({ method: 'POST', url: '/login?user=bob' })
  t.same(sessionCookie(login.headers, 'sid')?.attributes, ['Max-Age=3600', 'Domain=example.com', 'Path=/app', 'SameSite=Strict'])
  t.equal(sessionCookie(login.headers, 'session'), undefined)
  const logout = await app.inject({ method: 'POST', url: '/logout' })
  t.same(sessionCookie(logout.headers, 'sid'), {
    value: '',
    attributes: ['Max-Age=0', 'Domain=example.com', 'Path=/app', 'Expires=Thu, 01 Jan 1970 00:00:00 GMT', 'SameSite=Strict'],
    raw: 'sid=; Max-Age=0; Domain=example.com; Path=/app; Expires=Thu, 01 Jan 1970 00:00:00 GMT; SameSite=Strict'
  })
  t.equal(logout.headers['cache-control'], 'no-store')
})

t.test('SameSite=None is written when asked for, with Secure', async (t) => {
  const app = await buildApp({ cookieName: '__Host-Http-session', cookie: { sameSite: 'none' } })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/login?user=a' })
  t.same(sessionCookie(res.headers, '__Host-Http-session')?.attributes, ['Max-Age=2592000', 'Path=/', 'HttpOnly', 'Secure', 'SameSite=None'])
})

t.test('httpOnly: false is said at start-up, whatever the name', async (t) => {
  for (const options of [{ cookie: { httpOnly: false } }, { cookieName: 'sid', cookie: { httpOnly: false } }] as FastifyDbbasicSessionsOptions[]) {
    const logs = new LogCapture()
    const app = await buildApp(options, logs)
    t.teardown(() => app.close())
    t.match(logs.records.filter((r) => r.level === 40).map((r) => r.msg), [/cookie\.httpOnly is false, so page scripts can read the session cookie "(__Host-session|sid)"/])
  }
  const quiet = new LogCapture()
  const app = await buildApp({}, quiet)
  t.teardown(() => app.close())
  t.notOk(quiet.records.some((r) => r.level === 40), 'nothing with the default')
})
