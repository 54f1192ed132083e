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
  // Made by the old version (its cookie name was "session"), before the upgrade.
  const old = await buildApp({ cookieName: 'session', now: () => T0 })
  t.teardown(() => old.close())
  const before = (await old.inject({ method: 'POST', url: '/login?user=kept' })).json().token as string
  const res = await app.inject({ url: '/whoami', headers: { cookie: `session=${before}` } })
  t.equal(res.json().userId, 'kept', 'still signed in across the upgrade')
  const set = ([] as string[]).concat(res.headers['set-cookie'] as string)
  t.equal(set.length, 2)
  t.match(set[0], /^__Host-session=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/, 're-issued under the new name')
  const moved = set[0].split(';')[0].slice('__Host-session='.length)
  t.same(payloadOf(moved), payloadOf(before), 'with everything the token carried: expiry, login time, session id')
  t.equal(set[1], 'session=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax', 'and the old one cleared')
  t.equal(res.headers['cache-control'], 'no-store')

  const planter = await buildApp({ cookieName: 'session', ttl: 3600, now: () => (upgrade + 10 * 86400) * 1000 })
  t.teardown(() => planter.close())
  const after = (await planter.inject({ method: 'POST', url: '/login?user=planted' })).json().token as string
  time.set((upgrade + 10 * 86400 + 60) * 1000)
  t.same((await app.inject({ url: '/whoami', headers: { cookie: `session=${after}` } })).json(), NONE, 'a one-hour login made ten days after the upgrade is refused from the old name')
  t.ok(logs.records.some((r) => r.reason === 'legacy cookie issued after the upgrade'))
  for (const [what, token] of [
    ['a 30-day token made before the upgrade', createSession('py', { secret: SECRET, now: () => T0 })],
    ['a one-hour token made after the upgrade', createSession('planted', { secret: SECRET, ttl: 3600, now: () => (upgrade + 10 * 86400) * 1000 })]
  ]) {
    t.same((await app.inject({ url: '/whoami', headers: { cookie: `session=${token}` } })).json(), NONE, `without iat (Python, the standalone API): ${what} is refused`)
  }
  t.ok(logs.records.some((r) => r.reason === 'legacy cookie without iat'))

  time.set(T0 + 3600_000)
  const current = (await app.inject({ method: 'POST', url: '/login?user=current' })).json().token as string
  const both = await app.inject({ url: '/whoami', headers: { cookie: `session=${before}; __Host-session=${current}` } })
  t.equal(both.json().userId, 'current', 'the old name is read only when the new one is absent')
  t.equal(both.headers['set-cookie'], undefined)
})

t.test('legacyCookie.acceptWithoutIat: tokens without iat count as issued externalTtl before they expire', async (t) => {
  const time = clock(T0 + 3600_000)
  const upgrade = S0 + 1800
  const app = await buildApp({ legacyCookie: { name: 'session', issuedBefore: upgrade, acceptWithoutIat: true }, now: time.now })
  t.teardown(() => app.close())
  const before = createSession('kept', { secret: SECRET, now: () => T0 })
  t.equal((await app.inject({ url: '/whoami', headers: { cookie: `session=${before}` } })).json().userId, 'kept', 'a Python login from before the upgrade moves')
  const after = createSession('planted', { secret: SECRET, now: () => (upgrade + 1) * 1000 })
  t.same((await app.inject({ url: '/whoami', headers: { cookie: `session=${after}` } })).json(), NONE, 'one made a second after it does not')
  await t.rejects(buildApp({ legacyCookie: { name: 'session', issuedBefore: 1, acceptWithoutIat: 'yes' as unknown as boolean } }),
    { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION', message: 'fastify-dbbasic-sessions: legacyCookie.acceptWithoutIat must be true or false; got "yes"' })
})

t.test('legacyCookie: signing out clears an old-name cookie whenever the request carried one, valid or not', async (t) => {
  const app = await buildApp({ legacyCookie: { name: 'session', issuedBefore: S0 + 1 } })
  t.teardown(() => app.close())
  const { token } = (await app.inject({ method: 'POST', url: '/login?user=me' })).json()
  for (const planted of ['garbage', createSession('attacker', { secret: SECRET, now: () => T0 })]) {
    const res = await app.inject({ method: 'POST', url: '/logout', headers: { cookie: `session=${planted}; __Host-session=${token}` } })
    const set = ([] as string[]).concat(res.headers['set-cookie'] as string).map((c) => c.split(';')[0])
    t.same(set, ['__Host-session=', 'session='])
  }
})

t.test('legacyCookie: signing in or out also clears the old-name cookie', async (t) => {
  const app = await buildApp({ legacyCookie: { name: 'session', issuedBefore: S0 + 1, acceptWithoutIat: true } })
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
