// The diagnostics channel: every no-session decision with its reason and route,
// renewals, re-signings, deferrals, logins, logouts and cross-origin refusals; and
// the reasons counted into a prom-client counter, as the README shows.
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { Counter, Registry } from 'prom-client'
import { createSession, diagnosticsChannelName } from '../lib/index.js'
import type { FastifyDbbasicSessionsOptions, SessionEvent } from '../types/index.js'
import { OTHER_SECRET, SECRET, T0, buildApp, clock } from './helpers.js'

const S0 = T0 / 1000

/** The events published while the test runs, each with the URL of its request (or null). */
function listen (t: Test): Array<Record<string, unknown>> {
  const seen: Array<Record<string, unknown>> = []
  const onMessage = (message: unknown): void => {
    const { request, ...rest } = message as SessionEvent & { request?: { url: string } | null }
    seen.push({ ...rest, url: request == null ? null : request.url })
  }
  subscribe(diagnosticsChannelName, onMessage)
  t.teardown(() => { unsubscribe(diagnosticsChannelName, onMessage) })
  return seen
}

const time = clock()
const options: FastifyDbbasicSessionsOptions = {
  secret: [SECRET, OTHER_SECRET],
  ttl: 3600,
  externalTtl: 3600,
  rolling: true,
  now: time.now,
  validate: (session) => session.userId !== 'revoked',
  legacyCookie: { name: 'session', issuedBefore: S0, acceptWithoutIat: true }
}

async function setup (t: Test): Promise<FastifyInstance> {
  time.set(T0)
  const app = await buildApp(options, undefined, (app) => {
    app.get('/cached', async (request, reply) => reply.header('cache-control', 'public, max-age=60').send({ userId: request.session.userId }))
  })
  t.teardown(() => app.close())
  return app
}

const cookie = (token: string, name = '__Host-session'): { cookie: string } => ({ cookie: `${name}=${token}` })
const standalone = (user: string, at = T0, secret = SECRET): string => createSession(user, { secret, ttl: 3600, now: () => at })

t.test('channel name', async (t) => {
  t.equal(diagnosticsChannelName, 'fastify-dbbasic-sessions:session')
})

t.test('each no-session reason is published with its route and request', async (t) => {
  const app = await setup(t)
  const login = async (user: string): Promise<string> => (await app.inject({ method: 'POST', url: `/login?user=${user}` })).json().token
  const alice = await login('alice')
  const bob = await login('bob')
  const revoked = await login('revoked')
  time.set(T0 + 1000_000)
  const future = await login('future')
  time.set(T0)
  const seen = listen(t)
  const cases: Array<[string, Record<string, string>]> = [
    ['no cookie', {}],
    ['malformed', cookie('a.b.c')],
    ['bad signature', cookie(alice.slice(0, -1) + (alice.endsWith('0') ? '1' : '0'))],
    ['expired', cookie(standalone('alice', T0 - 7200_000))],
    ['issued in the future', cookie(future)],
    ['revoked', cookie(revoked)],
    ['conflicting cookies', { cookie: `__Host-session=${alice}; __Host-session=${bob}` }],
    ['legacy cookie issued after the upgrade', cookie(standalone('alice'), 'session')]
  ]
  for (const [, headers] of cases) await app.inject({ url: '/whoami', headers })
  t.same(seen, cases.map(([reason]) => ({ event: 'no-session', reason, route: '/whoami', url: '/whoami' })))
})

t.test('absolute lifetime over, an unmatched route, and readSession (no route, no request)', async (t) => {
  const before = await buildApp({ ...options, absoluteTtl: 10800 })
  t.teardown(() => before.close())
  const { token } = (await before.inject({ method: 'POST', url: '/login?user=c' })).json()
  const app = await setup(t)
  time.set(T0 + 3600_000 + 1000)
  const seen = listen(t)
  await app.inject({ url: '/whoami', headers: cookie(token) })
  time.set(T0)
  await app.inject({ url: '/nowhere' })
  await app.readSession('__Host-session=a.b')
  t.same(seen, [
    { event: 'no-session', reason: 'expired', route: '/whoami', url: '/whoami' },
    { event: 'no-session', reason: 'no cookie', route: undefined, url: '/nowhere' },
    { event: 'no-session', reason: 'malformed', route: undefined, url: null }
  ])
  // A lowered cap ends a session the token says is still alive.
  const capped = await buildApp({ ...options, ttl: 1800, absoluteTtl: 1800 })
  t.teardown(() => capped.close())
  seen.length = 0
  time.set(T0 + 1800_000)
  await capped.inject({ url: '/whoami', headers: cookie(token) })
  t.same(seen, [{ event: 'no-session', reason: 'absolute lifetime over', route: '/whoami', url: '/whoami' }])
})

t.test('a renewal, a re-signing and a deferred renewal are published', async (t) => {
  const app = await setup(t)
  const { token } = (await app.inject({ method: 'POST', url: '/login?user=alice' })).json()
  const old = standalone('olga', T0, OTHER_SECRET)
  time.set(T0 + 2000_000)
  const seen = listen(t)
  await app.inject({ url: '/cached', headers: cookie(token) })
  await app.inject({ url: '/whoami', headers: cookie(token) })
  time.set(T0 + 1000_000)
  await app.inject({ url: '/whoami', headers: cookie(old) })
  time.set(T0 + 2000_000)
  await app.inject({ url: '/whoami', headers: cookie(old) })
  t.same(seen, [
    { event: 'renewal-deferred', reason: 'shared cache', userId: 'alice', route: '/cached', url: '/cached' },
    { event: 'renewed', userId: 'alice', expiresAt: S0 + 2000 + 3600, secretIndex: 0, route: '/whoami', url: '/whoami' },
    { event: 're-signed', reason: 'older secret', userId: 'olga', expiresAt: S0 + 3600, secretIndex: 1, route: '/whoami', url: '/whoami' },
    { event: 'renewed', userId: 'olga', expiresAt: S0 + 2000 + 3600, secretIndex: 1, route: '/whoami', url: '/whoami' },
    { event: 're-signed', reason: 'older secret', userId: 'olga', expiresAt: S0 + 2000 + 3600, secretIndex: 1, route: '/whoami', url: '/whoami' }
  ])
})

t.test('every other re-issue is a re-signing with its reason: a legacy cookie name', async (t) => {
  const app = await setup(t)
  const seen = listen(t)
  // Made before the upgrade (issuedBefore is S0), under the old name.
  const legacy = standalone('lena', T0 - 100_000)
  const moved = await app.inject({ url: '/whoami', headers: cookie(legacy, 'session') })
  t.equal(moved.cookies.length, 2, 'the session under the new name, the old cookie cleared')
  time.set(T0 - 100_000 + 3000_000)
  await app.inject({ url: '/whoami', headers: cookie(legacy, 'session') })
  t.same(seen, [
    { event: 're-signed', reason: 'cookie name', userId: 'lena', expiresAt: S0 - 100 + 3600, secretIndex: 0, route: '/whoami', url: '/whoami' },
    { event: 'renewed', userId: 'lena', expiresAt: S0 - 100 + 3000 + 3600, secretIndex: 0, route: '/whoami', url: '/whoami' },
    { event: 're-signed', reason: 'cookie name', userId: 'lena', expiresAt: S0 - 100 + 3000 + 3600, secretIndex: 0, route: '/whoami', url: '/whoami' }
  ])
})

t.test('login, logout and a refused cross-origin request are published', async (t) => {
  const app = await setup(t)
  const seen = listen(t)
  await app.inject({ method: 'POST', url: '/login?user=alice' })
  await app.inject({ method: 'POST', url: '/logout' })
  const refused = await app.inject({ method: 'POST', url: '/login?user=eve', headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' } })
  t.equal(refused.statusCode, 403)
  t.same(seen.filter((e) => e.event !== 'no-session'), [
    { event: 'created', userId: 'alice', expiresAt: S0 + 3600, route: '/login', url: '/login?user=alice' },
    { event: 'destroyed', route: '/logout', url: '/logout' },
    { event: 'cross-origin-refused', reason: 'Sec-Fetch-Site is cross-site', route: '/login', url: '/login?user=eve' }
  ])
})

t.test('nothing is published once the subscriber is gone', async (t) => {
  const app = await setup(t)
  const seen: unknown[] = []
  const onMessage = (message: unknown): void => { seen.push(message) }
  subscribe(diagnosticsChannelName, onMessage)
  await app.inject({ url: '/whoami' })
  unsubscribe(diagnosticsChannelName, onMessage)
  await app.inject({ url: '/whoami' })
  t.equal(seen.length, 1)
})

t.test('the README example: reasons counted into a prom-client counter', async (t) => {
  const app = await setup(t)
  const registry = new Registry()

  // --- as in the README ---
  const noSession = new Counter({
    name: 'session_no_session_total',
    help: 'Requests that carried no valid session, by reason and route',
    labelNames: ['reason', 'route'],
    registers: [registry]
  })
  const onSession = (message: unknown): void => {
    const event = message as SessionEvent
    if (event.event === 'no-session' && event.reason !== 'no cookie') {
      noSession.inc({ reason: event.reason, route: event.route ?? '(none)' })
    }
  }
  subscribe(diagnosticsChannelName, onSession)
  // ---
  t.teardown(() => { unsubscribe(diagnosticsChannelName, onSession) })

  await app.inject({ url: '/whoami' })
  await app.inject({ url: '/private', headers: cookie('a.b.c') })
  await app.inject({ url: '/whoami', headers: cookie(standalone('alice', T0 - 7200_000)) })
  await app.inject({ url: '/whoami', headers: cookie(standalone('alice', T0 - 7200_000)) })
  await app.inject({ url: '/nowhere', headers: cookie('x.y') })
  const text = await registry.metrics()
  const samples = text.split('\n').filter((l) => l.startsWith('session_no_session_total{')).sort()
  t.same(samples, [
    'session_no_session_total{reason="expired",route="/whoami"} 2',
    'session_no_session_total{reason="malformed",route="(none)"} 1',
    'session_no_session_total{reason="malformed",route="/private"} 1'
  ])
})
