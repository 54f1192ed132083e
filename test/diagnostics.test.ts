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

/** The events published while the test runs; Fastify's request ids ('req-1'...) shown as 'req-N'. */
function listen (t: Test): Array<Record<string, unknown>> {
  const seen: Array<Record<string, unknown>> = []
  const onMessage = (message: unknown): void => {
    const event = message as Record<string, unknown>
    seen.push(typeof event.requestId === 'string' ? { ...event, requestId: event.requestId.replace(/^req-[0-9a-z]+$/, 'req-N') } : { ...event })
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
  validate: (session) => session.userId !== 'revoked'
}

async function setup (t: Test, configure?: (app: FastifyInstance) => void): Promise<FastifyInstance> {
  time.set(T0)
  const app = await buildApp(options, undefined, (app) => {
    configure?.(app)
    app.get('/cached', async (request, reply) => reply.header('cache-control', 'public, max-age=60').send({ userId: request.session.userId }))
  })
  t.teardown(() => app.close())
  return app
}

const cookie = (token: string, name = '__Host-Http-session'): { cookie: string } => ({ cookie: `${name}=${token}` })
const standalone = (user: string, at = T0, secret = SECRET): string => createSession(user, { secret, ttl: 3600, now: () => at })

t.test('channel name', async (t) => {
  t.equal(diagnosticsChannelName, 'fastify-dbbasic-sessions:session')
})

t.test('each no-session reason is published with its route, request id and method', async (t) => {
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
    ['conflicting cookies', { cookie: `__Host-Http-session=${alice}; __Host-Http-session=${bob}` }]
  ]
  for (const [, headers] of cases) await app.inject({ url: '/whoami', headers })
  t.same(seen, cases.map(([reason]) => ({ event: 'no-session', reason, route: '/whoami', method: 'GET', requestId: 'req-N' })))
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
  await app.readSession('__Host-Http-session=a.b')
  t.same(seen, [
    { event: 'no-session', reason: 'expired', route: '/whoami', method: 'GET', requestId: 'req-N' },
    { event: 'no-session', reason: 'no cookie', route: undefined, method: 'GET', requestId: 'req-N' },
    { event: 'no-session', reason: 'malformed', route: undefined, method: null, requestId: null }
  ])
  // A lowered cap ends a session the token says is still alive.
  const capped = await buildApp({ ...options, ttl: 1800, absoluteTtl: 1800 })
  t.teardown(() => capped.close())
  seen.length = 0
  time.set(T0 + 1800_000)
  await capped.inject({ url: '/whoami', headers: cookie(token) })
  t.same(seen, [{ event: 'no-session', reason: 'absolute lifetime over', route: '/whoami', method: 'GET', requestId: 'req-N' }])
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
    { event: 'renewal-deferred', reason: 'shared cache', userId: 'alice', route: '/cached', method: 'GET', requestId: 'req-N' },
    { event: 'renewed', userId: 'alice', expiresAt: S0 + 2000 + 3600, secretIndex: 0, route: '/whoami', method: 'GET', requestId: 'req-N' },
    { event: 're-signed', reason: 'older secret', userId: 'olga', expiresAt: S0 + 3600, secretIndex: 1, route: '/whoami', method: 'GET', requestId: 'req-N' },
    { event: 'renewed', userId: 'olga', expiresAt: S0 + 2000 + 3600, secretIndex: 1, route: '/whoami', method: 'GET', requestId: 'req-N' },
    { event: 're-signed', reason: 'older secret', userId: 'olga', expiresAt: S0 + 2000 + 3600, secretIndex: 1, route: '/whoami', method: 'GET', requestId: 'req-N' }
  ])
})

t.test('login, a refreshed login, logout and a refused cross-origin request are published', async (t) => {
  const app = await setup(t, (app) => { app.post('/confirm', async (_request, reply) => reply.refreshLogin()) })
  const seen = listen(t)
  const { token } = (await app.inject({ method: 'POST', url: '/login?user=alice' })).json()
  time.set(T0 + 60_000)
  await app.inject({ method: 'POST', url: '/confirm', headers: cookie(token) })
  time.set(T0)
  await app.inject({ method: 'POST', url: '/logout' })
  const refused = await app.inject({ method: 'POST', url: '/login?user=eve', headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' } })
  t.equal(refused.statusCode, 403)
  t.same(seen.filter((e) => e.event !== 'no-session'), [
    { event: 'created', userId: 'alice', expiresAt: S0 + 3600, route: '/login', method: 'POST', requestId: 'req-N' },
    { event: 'login-refreshed', userId: 'alice', expiresAt: S0 + 60 + 3600, route: '/confirm', method: 'POST', requestId: 'req-N' },
    { event: 'destroyed', route: '/logout', method: 'POST', requestId: 'req-N' },
    { event: 'cross-origin-refused', reason: 'Sec-Fetch-Site is cross-site', route: '/login', method: 'POST', requestId: 'req-N' }
  ])
})

t.test('every kind of event is safe to log whole: no request, no token, no secret', async (t) => {
  const ids: string[] = []
  const app = await setup(t, (app) => { app.addHook('onResponse', async (request) => { ids.push(request.id) }) })
  const events: SessionEvent[] = []
  const onMessage = (message: unknown): void => { events.push(message as SessionEvent) }
  subscribe(diagnosticsChannelName, onMessage)
  t.teardown(() => { unsubscribe(diagnosticsChannelName, onMessage) })
  const { token } = (await app.inject({ method: 'POST', url: '/login?user=alice' })).json()
  const old = standalone('olga', T0, OTHER_SECRET)
  const tokens = [token, old, standalone('lena', T0 - 100_000), 'not-a-token.0123456789abcdef0123', token.slice(0, -1)]
  time.set(T0 + 2000_000)
  await app.inject({ url: '/cached', headers: cookie(token) })
  await app.inject({ url: '/whoami', headers: cookie(token) })
  await app.inject({ url: '/whoami', headers: cookie(old) })
  time.set(T0)
  await app.inject({ url: '/whoami', headers: cookie(tokens[2], 'session') })
  await app.inject({ url: '/whoami', headers: cookie(tokens[3]) })
  await app.inject({ method: 'POST', url: '/logout', headers: cookie(token) })
  await app.inject({ method: 'POST', url: '/login?user=eve', headers: { ...cookie(token), 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' } })
  await app.readSession(`__Host-Http-session=${tokens[4]}`)
  t.same([...new Set(events.map((e) => e.event))].sort(), ['created', 'cross-origin-refused', 'destroyed', 'no-session', 're-signed', 'renewal-deferred', 'renewed'])
  for (const event of events) {
    const text = JSON.stringify(event)
    for (const secret of [SECRET, OTHER_SECRET, ...tokens]) t.notOk(text.includes(secret), `${event.event}: no token or secret`)
    // Each token's signature, in case a part of one leaked.
    for (const one of tokens) t.notOk(text.includes(one.split('.').at(-1) as string), `${event.event}: no signature`)
    const fields = ['event', 'reason', 'userId', 'expiresAt', 'secretIndex', 'route', 'requestId', 'method']
    t.same(Object.keys(event).filter((k) => !fields.includes(k)), [], `${event.event}: nothing of the request but its id, method and route`)
    t.ok(Object.values(event).every((v) => v === null || typeof v !== 'object'), `${event.event}: plain values only`)
    t.ok(['route', 'requestId', 'method'].every((k) => Object.hasOwn(event, k)), `${event.event}: route, requestId and method are there`)
    const { requestId } = event as { requestId: string | null }
    if (requestId !== null) t.ok(ids.includes(requestId), `${event.event}: the id Fastify logs the request under`)
  }
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
