// A new sign-in ends the session the request carried (ASVS 7.2.4): a token planted or
// stolen before the login stays out after it. All or nothing: when that revocation
// cannot be stored, the sign-in does not happen.
import t from 'tap'
import { createSession, memoryStore } from '../lib/index.js'
import type { Revocation, RevocationStore } from '../types/index.js'
import { NONE, SECRET, T0, buildApp, clock, payloadOf, visit } from './helpers.js'

const cookie = (token: string): Record<string, string> => ({ cookie: `__Host-Http-session=${token}` })

t.test('signing in over a valid session ends it: every copy of the old token is refused, the new one works', async (t) => {
  const app = await buildApp()
  t.teardown(() => app.close())
  const planted = (await app.inject({ method: 'POST', url: '/login?user=attacker' })).json().token
  const login = await app.inject({ method: 'POST', url: '/login?user=victim', headers: cookie(planted) })
  t.equal(login.statusCode, 200)
  const fresh = login.json().token
  t.not(payloadOf(fresh).sid, payloadOf(planted).sid, 'a new session id')
  t.same((await visit(app, planted)).session, NONE, 'the planted session is over')
  t.equal((await visit(app, fresh)).session.userId, 'victim')
})

t.test('every kind of presented token is ended: without iat or sid (Python, standalone), and a renewed copy with its original', async (t) => {
  const time = clock()
  const app = await buildApp({ rolling: true, ttl: 600, externalTtl: 600, now: time.now })
  t.teardown(() => app.close())
  const python = createSession('py', { secret: SECRET, ttl: 600, now: () => T0 })
  await app.inject({ method: 'POST', url: '/login?user=py', headers: cookie(python) })
  t.same((await visit(app, python)).session, NONE, 'a token without a session id, by its signature')
  const original = (await app.inject({ method: 'POST', url: '/login?user=ren' })).json().token
  time.advance(400)
  const renewed = (await visit(app, original)).cookie!.value
  t.equal(payloadOf(renewed).sid, payloadOf(original).sid)
  await app.inject({ method: 'POST', url: '/login?user=ren', headers: cookie(renewed) })
  t.same((await visit(app, renewed)).session, NONE, 'the renewed copy presented')
  t.same((await visit(app, original)).session, NONE, 'and the copy from before the renewal')
})

t.test('a cookie that gives no session (forged, expired, garbage) is nothing to end: the sign-in goes on', async (t) => {
  const store = memoryStore()
  const app = await buildApp({ revocation: { store } })
  t.teardown(() => app.close())
  for (const presented of ['garbage', createSession('old', { secret: SECRET, ttl: 60, now: () => T0 - 120_000 })]) {
    const login = await app.inject({ method: 'POST', url: '/login?user=u', headers: cookie(presented) })
    t.equal(login.statusCode, 200)
  }
  t.same((await store.since(null, T0 / 1000)).revocations, [], 'nothing was revoked')
})

t.test('all or nothing: when the old session cannot be ended, no new one is made, awaited or not', async (t) => {
  let fail = false
  const inner = memoryStore()
  const store: RevocationStore = {
    add: async (r: Revocation) => { if (fail) throw new Error('connect ECONNREFUSED'); await inner.add(r) },
    since: async (cursor, now) => await inner.since(cursor, now)
  }
  const app = await buildApp({ revocation: { store } }, undefined, (app) => {
    app.post('/login-unawaited', async (_request, reply) => {
      reply.createSession('victim').catch(() => {})
      return { ok: true }
    })
    app.post('/login-caught', async (request, reply) => {
      try {
        await reply.createSession('victim')
      } catch (err) {
        return reply.code(503).send({ tried: true, still: request.session.userId, code: (err as { code: string }).code })
      }
      return { ok: true }
    })
  })
  t.teardown(() => app.close())
  const old = (await app.inject({ method: 'POST', url: '/login?user=someone' })).json().token
  fail = true
  for (const url of ['/login?user=victim', '/login-unawaited']) {
    const res = await app.inject({ method: 'POST', url, headers: cookie(old) })
    t.equal(res.statusCode, 503, url)
    t.equal(res.json().code, 'FST_DBBASIC_SESSIONS_REVOCATION_FAILED')
    t.equal(res.headers['set-cookie'], undefined, 'no new cookie')
    t.equal(res.headers['cache-control'], 'no-store')
  }
  const caught = await app.inject({ method: 'POST', url: '/login-caught', headers: cookie(old) })
  t.same(caught.json(), { tried: true, still: 'someone', code: 'FST_DBBASIC_SESSIONS_REVOCATION_FAILED' }, 'the route that caught it answers, and request.session is untouched')
  t.equal(caught.headers['set-cookie'], undefined)
  t.equal((await visit(app, old)).session.userId, 'someone', 'the old session stands, as the browser still holds it')
  fail = false
  t.equal((await app.inject({ method: 'POST', url: '/login?user=victim', headers: cookie(old) })).statusCode, 200)
  t.same((await visit(app, old)).session, NONE)
})

t.test('createSession gives the new session\'s id and login time, as request.session now holds them', async (t) => {
  const app = await buildApp({}, undefined, (app) => {
    app.post('/signed-in', async (request, reply) => {
      const signedIn = await reply.createSession(42, { ttl: 600 })
      return { signedIn, session: request.session }
    })
  })
  t.teardown(() => app.close())
  const { signedIn, session } = (await app.inject({ method: 'POST', url: '/signed-in' })).json()
  t.same(signedIn, { userId: '42', sessionId: session.sessionId, issuedAt: T0 / 1000, expiresAt: T0 / 1000 + 600, token: signedIn.token })
  t.same(session, { userId: '42', sessionId: signedIn.sessionId, issuedAt: T0 / 1000, expiresAt: T0 / 1000 + 600 })
  t.equal(payloadOf(signedIn.token).sid, signedIn.sessionId)
})
