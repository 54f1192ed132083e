// Guarded routes: fastify.requireSession, as a route's preHandler or a scope's hook,
// answers 401 with Fastify's error body and lets a session through; request.requireUserId()
// gives the signed-in user id or the same 401, and the route goes no further. What a
// browser gets instead of the 401 (the README's error handler): html-apps.test.ts; the
// recent-login guard: recent-login.test.ts.
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import sessions, { createSession } from '../lib/index.js'
import { OTHER_SECRET, SECRET, T0, buildApp } from './helpers.js'

const token = createSession('alice', { secret: SECRET, now: () => T0 })
const signedIn = { cookie: `__Host-Http-session=${token}` }
const UNAUTHORIZED = { statusCode: 401, code: 'FST_DBBASIC_SESSIONS_UNAUTHORIZED', error: 'Unauthorized', message: 'No valid session' }

async function build (configure: (app: FastifyInstance) => void, sessionName?: 'auth'): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(sessions, { secret: SECRET, now: () => T0, sessionName })
  configure(app)
  await app.ready()
  return app
}

t.test('requireSession answers 401 with Fastify\'s error body, and lets a session through', async (t) => {
  const app = await buildApp()
  t.teardown(() => app.close())
  const denied = await app.inject({ url: '/private' })
  t.equal(denied.statusCode, 401)
  t.same(denied.json(), { statusCode: 401, code: 'FST_DBBASIC_SESSIONS_UNAUTHORIZED', error: 'Unauthorized', message: 'No valid session' })
  const forged = await app.inject({ url: '/private', headers: { cookie: '__Host-Http-session=' + createSession('eve', { secret: OTHER_SECRET }) } })
  t.equal(forged.statusCode, 401)
  const token = createSession('erin', { secret: SECRET, now: () => T0 })
  const allowed = await app.inject({ url: '/private', headers: { cookie: `__Host-Http-session=${token}` } })
  t.equal(allowed.statusCode, 200)
  t.same(allowed.json(), { userId: 'erin' })
})

t.test('requireSession can guard a whole scope as a hook', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(sessions, { secret: SECRET })
  await app.register(async (admin) => {
    admin.addHook('preHandler', admin.requireSession)
    admin.get('/admin', async (request) => ({ userId: request.session.userId }))
  })
  t.equal((await app.inject({ url: '/admin' })).statusCode, 401)
  const res = await app.inject({ url: '/admin', headers: { cookie: '__Host-Http-session=' + createSession(7, { secret: SECRET }) } })
  t.same(res.json(), { userId: '7' })
})

t.test('requireUserId returns the signed-in user id', async (t) => {
  const app = await build((app) => {
    app.get('/me', async (request) => ({ id: request.requireUserId() }))
  })
  t.teardown(() => app.close())
  const res = await app.inject({ url: '/me', headers: signedIn })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { id: 'alice' })
})

t.test('requireUserId answers 401 JSON without a valid session, and the route goes no further', async (t) => {
  let reached = 0
  const app = await build((app) => {
    app.get('/me', async (request) => {
      const id = request.requireUserId()
      reached++
      return { id }
    })
  })
  t.teardown(() => app.close())
  const forged = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0')
  const expired = createSession('alice', { secret: SECRET, now: () => T0 - 3600_000, ttl: 60 })
  for (const [what, headers] of [['no cookie', {}], ['a forged cookie', { cookie: `__Host-Http-session=${forged}` }], ['an expired cookie', { cookie: `__Host-Http-session=${expired}` }]] as const) {
    const res = await app.inject({ url: '/me', headers })
    t.equal(res.statusCode, 401, what)
    t.same(res.json(), UNAUTHORIZED, what)
  }
  t.equal(reached, 0)
})

t.test('requireUserId reads the property sessionName names', async (t) => {
  const app = await build((app) => {
    app.get('/me', async (request) => ({ id: request.requireUserId() }))
  }, 'auth')
  t.teardown(() => app.close())
  t.same((await app.inject({ url: '/me', headers: signedIn })).json(), { id: 'alice' })
  t.equal((await app.inject({ url: '/me' })).statusCode, 401)
})

t.test('requireUserId sees a login made earlier in the same request, and a logout, once each is done', async (t) => {
  const app = await build((app) => {
    app.post('/login-then-read', async (request, reply) => {
      await reply.createSession('bob')
      return { id: request.requireUserId() }
    })
    app.post('/logout-then-read', async (request, reply) => {
      await reply.destroySession()
      return { id: request.requireUserId() }
    })
  })
  t.teardown(() => app.close())
  t.same((await app.inject({ method: 'POST', url: '/login-then-read' })).json(), { id: 'bob' })
  const out = await app.inject({ method: 'POST', url: '/logout-then-read', headers: signedIn })
  t.equal(out.statusCode, 401)
})
