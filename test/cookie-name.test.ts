// The default cookie name follows the strongest prefix the attributes allow, and the
// opt-in reading of a legacy name for an upgrade.
import t from 'tap'
import { createSession } from '../lib/index.js'
import type { FastifyDbbasicSessionsOptions } from '../types/index.js'
import { LogCapture, NONE, SECRET, T0, buildApp, clock, payloadOf } from './helpers.js'

const S0 = T0 / 1000

const defaults: Array<[string, FastifyDbbasicSessionsOptions, string, string[]]> = [
  ['the default attributes', {}, '__Host-session', ['Max-Age=2592000', 'Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax']],
  ['secure with a domain', { cookie: { domain: 'example.com' } }, '__Secure-session', ['Max-Age=2592000', 'Domain=example.com', 'Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax']],
  ['secure with another path', { cookie: { path: '/app' } }, '__Secure-session', ['Max-Age=2592000', 'Path=/app', 'HttpOnly', 'Secure', 'SameSite=Lax']],
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

t.test('legacyCookie: an old-name session from before the upgrade moves to the new name', async (t) => {
  const time = clock(T0 + 3600_000)
  const upgrade = S0 + 1800
  const logs = new LogCapture()
  const app = await buildApp({ legacyCookie: { name: 'session', issuedBefore: upgrade }, now: time.now }, logs)
  t.teardown(() => app.close())
  const before = createSession('kept', { secret: SECRET, now: () => T0 })
  const res = await app.inject({ url: '/whoami', headers: { cookie: `session=${before}` } })
  t.equal(res.json().userId, 'kept', 'still signed in across the upgrade')
  const set = ([] as string[]).concat(res.headers['set-cookie'] as string)
  t.equal(set.length, 2)
  t.match(set[0], /^__Host-session=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/, 're-issued under the new name')
  t.equal(payloadOf(set[0].split(';')[0].slice('__Host-session='.length)).expires, payloadOf(before).expires, 'with the same expiry')
  t.equal(set[1], 'session=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax', 'and the old one cleared')
  t.equal(res.headers['cache-control'], 'no-store')

  const after = createSession('planted', { secret: SECRET, now: () => (upgrade + 1) * 1000 })
  t.same((await app.inject({ url: '/whoami', headers: { cookie: `session=${after}` } })).json(), NONE, 'a session made after the upgrade is refused from the old name')
  t.ok(logs.records.some((r) => r.reason === 'legacy cookie issued after the upgrade'))

  const current = createSession('current', { secret: SECRET, now: () => T0 })
  const both = await app.inject({ url: '/whoami', headers: { cookie: `session=${before}; __Host-session=${current}` } })
  t.equal(both.json().userId, 'current', 'the old name is read only when the new one is absent')
  t.equal(both.headers['set-cookie'], undefined)
})

t.test('legacyCookie: signing in or out also clears the old-name cookie', async (t) => {
  const app = await buildApp({ legacyCookie: { name: 'session', issuedBefore: S0 + 1 } })
  t.teardown(() => app.close())
  const old = createSession('old', { secret: SECRET, now: () => T0 })
  for (const url of ['/login?user=new', '/logout']) {
    const res = await app.inject({ method: 'POST', url, headers: { cookie: `session=${old}` } })
    const set = ([] as string[]).concat(res.headers['set-cookie'] as string).map((c) => c.split(';')[0])
    t.equal(set.length, 2, url)
    t.ok(set[0].startsWith('__Host-session='))
    t.equal(set[1], 'session=')
  }
  const res = await app.inject({ method: 'POST', url: '/logout' })
  t.equal(([] as string[]).concat(res.headers['set-cookie'] as string).length, 1, 'no old cookie, nothing to clear')
})

t.test('legacyCookie is checked: both fields, a valid name, not the current name', async (t) => {
  for (const [legacyCookie, message] of [
    [{ name: 'session' }, 'legacyCookie needs issuedBefore: it must be { name, issuedBefore }'],
    [{ name: 'a b', issuedBefore: 1 }, 'legacyCookie.name must be a cookie name'],
    [{ name: 'session', issuedBefore: 1.5 }, 'legacyCookie.issuedBefore must be an integer number of seconds since the epoch; got 1.5'],
    [{ name: '__Host-session', issuedBefore: 1 }, 'legacyCookie.name must differ from the cookie name ("__Host-session")']
  ] as const) {
    await t.rejects(buildApp({ legacyCookie: legacyCookie as unknown as { name: string, issuedBefore: number } }), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION', message: new RegExp(message.replace(/[()[\]{}.?]/g, '\\$&')) })
  }
})
