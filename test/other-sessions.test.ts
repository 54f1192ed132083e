// "Sign out the other sessions" (ASVS 7.4.2, 7.4.3): one call that ends every session of
// the user but the current one, which is never refused, on this process or another,
// before or after either has read it. Each app is a process with its own clock, sharing
// a store as another process would.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { createSession, memoryStore } from '../lib/index.js'
import type { FastifyDbbasicSessionsOptions, RevocationStore } from '../types/index.js'
import { NONE, SECRET, T0, buildApp, clock, visit } from './helpers.js'
import { logStore } from './log-store.js'

const cookie = (token: string): Record<string, string> => ({ cookie: `__Host-Http-session=${token}` })

async function processOn (t: Test, store: RevocationStore, options: FastifyDbbasicSessionsOptions = {}): Promise<FastifyInstance> {
  const app = await buildApp({ ...options, revocation: { store, staleness: 60 } }, undefined, (app) => {
    app.post('/others', async (_request, reply) => {
      await reply.revokeOtherSessions()
      return { ok: true }
    })
    app.post<{ Querystring: { user: string } }>('/everywhere', async (request) => {
      await app.revokeAllSessions(request.query.user)
      return { ok: true }
    })
  })
  t.teardown(() => app.close())
  return app
}
const login = async (app: FastifyInstance, user: string): Promise<string> => (await app.inject({ method: 'POST', url: `/login?user=${user}` })).json().token
const others = async (app: FastifyInstance, token: string): Promise<number> => (await app.inject({ method: 'POST', url: '/others', headers: cookie(token) })).statusCode
const settle = async (): Promise<void> => { for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve)) }

t.test('the other sessions end everywhere; the current one, and every copy of it, never is refused', async (t) => {
  const time = clock()
  const store = logStore()
  const a = await processOn(t, store, { now: time.now, rolling: true, ttl: 600 })
  const b = await processOn(t, store, { now: time.now, rolling: true, ttl: 600 })
  const phone = await login(a, 'ann')
  const laptop = await login(b, 'ann')
  const python = createSession('ann', { secret: SECRET, ttl: 600, now: time.now })
  const other = await login(a, 'bo')
  time.advance(1)
  store.quiet = true
  t.equal(await others(a, phone), 200)
  t.equal((await visit(a, phone)).session.userId, 'ann', 'the current session, at once')
  t.equal((await visit(b, phone)).session.userId, 'ann', 'and on a process that has not read it yet')
  store.push()
  await settle()
  for (const app of [a, b]) {
    t.equal((await visit(app, phone)).session.userId, 'ann', 'still, once read')
    t.same((await visit(app, laptop)).session, NONE, 'the other device')
    t.same((await visit(app, python)).session, NONE, 'a token without a session id')
    t.equal((await visit(app, other)).session.userId, 'bo', 'another user')
  }
  time.advance(400)
  const renewed = (await visit(b, phone)).cookie!.value
  t.equal((await visit(a, renewed)).session.userId, 'ann', 'a renewal of the current session is the current session')
  t.equal((await visit(a, await login(b, 'ann'))).session.userId, 'ann', 'a new sign-in works at once')
})

t.test('the current session is a token without a session id: kept by its signature', async (t) => {
  const store = memoryStore()
  const a = await processOn(t, store, { externalTtl: 600 })
  const python = createSession('cy', { secret: SECRET, ttl: 600, now: () => T0 })
  const phone = await login(a, 'cy')
  t.equal(await others(a, python), 200)
  t.equal((await visit(a, python)).session.userId, 'cy')
  t.same((await visit(a, phone)).session, NONE)
})

t.test('a later sign-out everywhere, or a sign-out of the others made from another device, ends the kept session too', async (t) => {
  const store = memoryStore()
  const a = await processOn(t, store)
  const phone = await login(a, 'dee')
  t.equal(await others(a, phone), 200)
  const tablet = await login(a, 'dee')
  t.equal(await others(a, tablet), 200)
  t.same((await visit(a, phone)).session, NONE, 'the tablet, signed in after, signed out the others: the phone is one')
  t.equal((await visit(a, tablet)).session.userId, 'dee')
  t.equal((await a.inject({ method: 'POST', url: '/everywhere?user=dee' })).statusCode, 200)
  t.same((await visit(a, tablet)).session, NONE, 'everywhere means everywhere')
})

t.test('without a session it is the 401; with revocation off it says what it needs; a store that fails is the 503 and nothing changes', async (t) => {
  let fail = false
  const inner = memoryStore()
  const store: RevocationStore = {
    add: async (r) => { if (fail) throw new Error('connect ECONNREFUSED'); await inner.add(r) },
    since: async (cursor, now) => await inner.since(cursor, now)
  }
  const a = await processOn(t, store)
  const res = await a.inject({ method: 'POST', url: '/others' })
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'FST_DBBASIC_SESSIONS_UNAUTHORIZED')
  const phone = await login(a, 'eve')
  const laptop = await login(a, 'eve')
  fail = true
  const failed = await a.inject({ method: 'POST', url: '/others', headers: cookie(phone) })
  t.equal(failed.statusCode, 503)
  t.equal((await visit(a, laptop)).session.userId, 'eve', 'nothing was revoked')
  const off = await buildApp({ revocation: false }, undefined, (app) => {
    app.post('/others', async (_request, reply) => { await reply.revokeOtherSessions(); return { ok: true } })
  })
  t.teardown(() => off.close())
  const offToken = (await off.inject({ method: 'POST', url: '/login?user=eve' })).json().token
  const refused = await off.inject({ method: 'POST', url: '/others', headers: cookie(offToken) })
  t.equal(refused.statusCode, 500)
  t.match(refused.json(), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION', message: /revokeOtherSessions needs revocation, which is off/ })
})

t.test('two sign-outs in one route, neither awaited: the response waits for both', async (t) => {
  const store = memoryStore()
  const a = await processOn(t, store)
  const phone = await login(a, 'fay')
  const laptop = await login(a, 'fay')
  const app = await buildApp({ revocation: { store } }, undefined, (app) => {
    app.post('/both', async (_request, reply) => {
      reply.revokeOtherSessions().catch(() => {})
      reply.destroySession().catch(() => {})
      return { ok: true }
    })
  })
  t.teardown(() => app.close())
  t.equal((await app.inject({ method: 'POST', url: '/both', headers: cookie(phone) })).statusCode, 200)
  t.same((await visit(app, laptop)).session, NONE, 'the others')
  t.same((await visit(app, phone)).session, NONE, 'and this one')
})
