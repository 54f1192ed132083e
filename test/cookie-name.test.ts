// The default cookie name follows the strongest prefix the attributes allow, and a
// cookie that scripts can read is said once at start-up.
import t from 'tap'
import type { FastifyDbbasicSessionsOptions } from '../types/index.js'
import { LogCapture, NONE, buildApp } from './helpers.js'

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
