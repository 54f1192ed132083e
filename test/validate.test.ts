// validate(session, request): stateless revocation, sync or async.
import t from 'tap'
import Fastify from 'fastify'
import sessions, { createSession } from '../lib/index.js'
import type { ValidatedSession } from '../types/index.js'
import { LogCapture, NONE, OTHER_SECRET, SECRET, T0, buildApp, clock, payloadOf, sessionCookie, visit } from './helpers.js'

const S0 = T0 / 1000

t.test('true keeps the session; validate gets the session and the request', async (t) => {
  const calls: Array<[ValidatedSession, string]> = []
  const app = await buildApp({ ttl: 600, validate: (session, request) => { calls.push([session, request?.url ?? 'null']); return true } })
  t.teardown(() => app.close())
  const { token } = (await app.inject({ method: 'POST', url: '/login?user=v' })).json()
  const sessionId = payloadOf(token).sid
  t.same((await visit(app, token)).session, { userId: 'v', issuedAt: S0, expiresAt: S0 + 600, sessionId })
  t.same(calls, [[{ userId: 'v', issuedAt: S0, expiresAt: S0 + 600, sessionId }, '/whoami']])
})

t.test('false means no session, reason "revoked", and requireSession answers 401', async (t) => {
  const logs = new LogCapture()
  const app = await buildApp({ validate: () => false }, logs)
  t.teardown(() => app.close())
  const token = createSession('gone', { secret: SECRET, now: () => T0 })
  t.same((await visit(app, token)).session, NONE)
  t.equal((await visit(app, token, '/private')).status, 401)
  t.same(logs.records.filter((r) => r.reason !== undefined).map((r) => r.reason), ['revoked', 'revoked'])
})

t.test('a promise works like the value it resolves to', async (t) => {
  let allow = true
  const app = await buildApp({ validate: async () => { await new Promise((resolve) => setImmediate(resolve)); return allow } })
  t.teardown(() => app.close())
  const token = createSession('p', { secret: SECRET, now: () => T0 })
  t.equal((await visit(app, token)).session.userId, 'p')
  allow = false
  t.same((await visit(app, token)).session, NONE)
})

t.test('a throwing or rejecting validate fails the request through Fastify\'s error handling', async (t) => {
  for (const validate of [
    () => { throw new Error('user database is down') },
    async () => { throw new Error('user database is down') },
    () => Promise.reject(new Error('user database is down'))
  ]) {
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(sessions, { secret: SECRET, validate, rolling: true, ttl: 600, externalTtl: 600, now: () => T0 + 500_000 })
    const handled: string[] = []
    app.setErrorHandler((err: Error, _request, reply) => { handled.push(err.message); return reply.code(503).send({ retry: true }) })
    let routeRan = false
    app.get('/', async () => { routeRan = true; return 'ok' })
    const token = createSession('x', { secret: SECRET, ttl: 600, now: () => T0 })
    const res = await app.inject({ url: '/', headers: { cookie: `__Host-Http-session=${token}` } })
    t.equal(res.statusCode, 503, 'the app\'s error handler answered')
    t.same(handled, ['user database is down'])
    t.notOk(routeRan, 'no silent login or logout: the route never ran')
    t.equal(res.headers['set-cookie'], undefined, 'no renewal cookie either')
  }
})

t.test('an error handler sees request.session as an empty session, never null, when validate throws or returns a non-boolean', async (t) => {
  for (const validate of [() => { throw new Error('down') }, async () => { throw new Error('down') }, () => 'yes']) {
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(sessions, { secret: SECRET, validate: validate as unknown as () => boolean, now: () => T0 })
    // Written to the types: request.session is never null.
    app.setErrorHandler((_err, request, reply) => reply.code(503).send({ signedIn: request.session.userId !== null, session: request.session }))
    app.get('/', async () => 'ok')
    const token = createSession('x', { secret: SECRET, now: () => T0 })
    const res = await app.inject({ url: '/', headers: { cookie: `__Host-Http-session=${token}` } })
    t.equal(res.statusCode, 503, res.body)
    t.same(res.json(), { signedIn: false, session: NONE })
  }
})

t.test('a validate that returns something other than a boolean is an error whose text does not show the value', async (t) => {
  const returned = 'internal-detail-' + 'x'.repeat(30)
  for (const validate of [() => undefined, async () => returned, () => ({ role: 'admin' })]) {
    const logs = new LogCapture()
    const app = await buildApp({ validate: validate as unknown as () => boolean }, logs)
    t.teardown(() => app.close())
    const res = await app.inject({ url: '/whoami', headers: { cookie: `__Host-Http-session=${createSession('x', { secret: SECRET, now: () => T0 })}` } })
    t.equal(res.statusCode, 500)
    t.equal(res.json().message, 'fastify-dbbasic-sessions: validate must return true or false (or a promise of one)')
    t.notMatch(res.body, /internal-detail|admin|undefined/, 'the returned value never reaches the client')
    const detail = logs.records.find((r) => r.msg === 'fastify-dbbasic-sessions: validate returned something other than a boolean')
    t.equal(detail?.level, 20, 'the value is kept for a debug line')
    t.ok(['undefined', `"${returned.slice(0, 40)}…"`, 'an object'].includes(detail?.got as string), String(detail?.got))
  }
})

t.test('validate runs only for a correctly signed, unexpired token', async (t) => {
  let calls = 0
  const time = clock()
  const app = await buildApp({ ttl: 60, validate: () => { calls++; return true }, now: time.now })
  t.teardown(() => app.close())
  await visit(app, undefined)
  await visit(app, 'garbage')
  await visit(app, createSession('x', { secret: OTHER_SECRET, now: () => T0 }))
  const { token } = (await app.inject({ method: 'POST', url: '/login?user=y' })).json()
  time.advance(60)
  await visit(app, token)
  t.equal(calls, 0)
  time.set(T0)
  await visit(app, token)
  t.equal(calls, 1)
})

t.test('a token without iat (from Python) reaches validate with issuedAt null', async (t) => {
  const seen: ValidatedSession[] = []
  const app = await buildApp({ ttl: 3600, externalTtl: 3600, validate: (session) => { seen.push(session); return true } })
  t.teardown(() => app.close())
  await visit(app, createSession('py', { secret: SECRET, ttl: 3600, now: () => T0 }))
  t.same(seen, [{ userId: 'py', issuedAt: null, expiresAt: S0 + 3600, sessionId: null }])
})

t.test('log out everywhere, without a store: compare issuedAt with a time kept on the user', async (t) => {
  const time = clock()
  // The user table the app already has; the plugin adds nothing to it.
  const users = new Map<string, { sessionsValidAfter: number }>([['ann', { sessionsValidAfter: 0 }]])
  const app = await buildApp({
    ttl: 3600,
    now: time.now,
    validate: async ({ userId, issuedAt }) => {
      const user = users.get(userId)
      return user !== undefined && issuedAt !== null && issuedAt > user.sessionsValidAfter
    }
  })
  t.teardown(() => app.close())
  const laptop = (await app.inject({ method: 'POST', url: '/login?user=ann' })).json().token
  time.advance(60)
  const phone = (await app.inject({ method: 'POST', url: '/login?user=ann' })).json().token
  t.equal((await visit(app, laptop)).session.userId, 'ann')
  t.equal((await visit(app, phone)).session.userId, 'ann')

  time.advance(60)
  users.get('ann')!.sessionsValidAfter = Math.floor(time.now() / 1000)
  t.same((await visit(app, laptop)).session, NONE, 'the laptop is signed out')
  t.same((await visit(app, phone)).session, NONE, 'and so is the phone')
  time.advance(1)
  const again = (await app.inject({ method: 'POST', url: '/login?user=ann' })).json().token
  t.equal((await visit(app, again)).session.userId, 'ann', 'a new login works')
  t.equal(payloadOf(again).iat, Math.floor(time.now() / 1000))
})

t.test('a revoked session due for renewal gets no renewal cookie', async (t) => {
  const time = clock()
  const app = await buildApp({ ttl: 600, rolling: true, validate: () => false, now: time.now })
  t.teardown(() => app.close())
  const token = createSession('r', { secret: SECRET, ttl: 600, now: () => T0 })
  time.advance(500)
  const seen = await visit(app, token)
  t.same(seen.session, NONE)
  t.equal(seen.setCookies, 0)
})

t.test('a renewal still in flight when the user signs out does not undo the sign-out: revocation refuses it, and so does the validate cut-off', async (t) => {
  for (const recipe of [false, true]) {
    const time = clock()
    let sessionsValidAfter = 0
    let release: () => void = () => {}
    const slow = new Promise<void>((resolve) => { release = resolve })
    const app = await buildApp({
      ttl: 3600,
      rolling: true,
      now: time.now,
      ...(recipe ? { validate: ({ issuedAt }) => issuedAt !== null && issuedAt > sessionsValidAfter } : {})
    }, undefined, (app) => {
      app.get('/slow', async (request) => { await slow; return request.session })
      app.post('/logout-everywhere', async (_request, reply) => {
        sessionsValidAfter = Math.floor(time.now() / 1000)
        await reply.destroySession()
        return { ok: true }
      })
    })
    t.teardown(() => app.close())
    const { token } = (await app.inject({ method: 'POST', url: '/login?user=u' })).json()
    time.set(T0 + 2000_000)
    // A slow request, due for renewal, starts; the user signs out while it runs.
    const inFlight = app.inject({ url: '/slow', headers: { cookie: `__Host-Http-session=${token}` } })
    await new Promise((resolve) => setImmediate(resolve))
    const logout = await app.inject({ method: 'POST', url: recipe ? '/logout-everywhere' : '/logout', headers: { cookie: `__Host-Http-session=${token}` } })
    t.equal(sessionCookie(logout.headers, '__Host-Http-session')!.value, '', 'the sign-out response clears the cookie')
    release()
    const late = await inFlight
    const renewed = sessionCookie(late.headers, '__Host-Http-session')
    t.ok(renewed !== undefined, 'the slow response arrives after it, carrying a renewal the browser keeps')
    time.set(T0 + 2001_000)
    const next = await visit(app, renewed!.value)
    t.same(next.session, NONE, recipe ? 'with the cut-off recipe, the renewed cookie signs no one in' : 'the renewal keeps the session id, which the sign-out revoked')
  }
})
