// "Remember me" unticked: reply.createSession(id, { persistent: false }) sets a
// browser-session cookie (no Max-Age, no Expires) whose token still expires after its
// ttl; renewals and re-signings keep it that way.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { getSession } from '../lib/index.js'
import type { FastifyDbbasicSessionsOptions } from '../types/index.js'
import { NONE, OTHER_SECRET, SECRET, T0, buildApp, clock, fieldsOf as payloadOf, payloadOf as rawPayloadOf, sessionCookie, visit } from './helpers.js'

const S0 = T0 / 1000
const SESSION_COOKIE = ['Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax']

async function setup (options: FastifyDbbasicSessionsOptions): Promise<FastifyInstance> {
  return buildApp(options, undefined, (app) => {
    app.post<{ Querystring: { user: string, remember?: string, ttl?: string } }>('/signin', async (request, reply) => {
      const { user, remember, ttl } = request.query
      const { token } = await reply.createSession(user, {
        persistent: remember === undefined ? undefined : remember === 'yes',
        ttl: ttl === undefined ? undefined : Number(ttl)
      })
      return { token }
    })
  })
}

const attributesOf = (headers: Record<string, unknown>, name?: string): string[] | undefined => sessionCookie(headers, name)?.attributes

t.test('persistent: false sets a cookie without Max-Age or Expires; the token says so', async (t) => {
  const app = await setup({ ttl: 3600 })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/signin?user=alice&remember=no' })
  t.same(attributesOf(res.headers), SESSION_COOKIE)
  t.same(payloadOf(res.json().token), { user_id: 'alice', expires: S0 + 3600, iat: S0, persistent: false })
  t.equal(res.headers['cache-control'], 'no-store')
})

t.test('persistent: true, or left out, keeps Max-Age and writes no persistent field', async (t) => {
  const app = await setup({ ttl: 3600 })
  t.teardown(() => app.close())
  for (const url of ['/signin?user=alice&remember=yes', '/signin?user=alice']) {
    const res = await app.inject({ method: 'POST', url })
    t.same(attributesOf(res.headers), ['Max-Age=3600', ...SESSION_COOKIE], url)
    t.same(payloadOf(res.json().token), { user_id: 'alice', expires: S0 + 3600, iat: S0 }, url)
  }
})

t.test('the browser-session cookie\'s token still expires after its ttl', async (t) => {
  const time = clock()
  const app = await setup({ ttl: 3600, now: time.now })
  t.teardown(() => app.close())
  const { token } = (await app.inject({ method: 'POST', url: '/signin?user=alice&remember=no&ttl=600' })).json()
  time.set(T0 + 599_000)
  t.equal((await visit(app, token)).session.userId, 'alice')
  time.set(T0 + 600_000)
  t.same((await visit(app, token)).session, NONE, 'a browser left open does not keep it alive')
})

t.test('a rolling renewal keeps it non-persistent, with the login\'s own ttl', async (t) => {
  const time = clock()
  const app = await setup({ ttl: 3600, rolling: true, now: time.now })
  t.teardown(() => app.close())
  const { token } = (await app.inject({ method: 'POST', url: '/signin?user=alice&remember=no&ttl=600' })).json()
  time.set(T0 + 400_000)
  const renewed = await visit(app, token)
  t.same(renewed.cookie?.attributes, SESSION_COOKIE, 'no Max-Age on the renewal either')
  t.same(payloadOf(renewed.cookie!.value), { user_id: 'alice', expires: S0 + 400 + 600, iat: S0, renewed: S0 + 400, ttl: 600, persistent: false })
  time.set(T0 + 800_000)
  const again = await visit(app, renewed.cookie!.value)
  t.same(again.cookie?.attributes, SESSION_COOKIE, 'nor on the next one')
  t.equal(payloadOf(again.cookie!.value).persistent, false)

  const { token: remembered } = (await app.inject({ method: 'POST', url: '/signin?user=bob&remember=yes&ttl=600' })).json()
  time.set(T0 + 1200_000)
  t.same((await visit(app, remembered)).cookie?.attributes, ['Max-Age=600', ...SESSION_COOKIE], 'a remembered session renews with Max-Age')
})

t.test('a re-signing with the newest secret keeps it non-persistent', async (t) => {
  const before = await setup({ secret: OTHER_SECRET, ttl: 3600 })
  t.teardown(() => before.close())
  const { token } = (await before.inject({ method: 'POST', url: '/signin?user=alice&remember=no' })).json()
  const after = await setup({ secret: [SECRET, OTHER_SECRET], ttl: 3600 })
  t.teardown(() => after.close())
  const resigned = await visit(after, token)
  t.equal(resigned.session.userId, 'alice')
  t.same(resigned.cookie?.attributes, SESSION_COOKIE)
  t.same(payloadOf(resigned.cookie!.value), { user_id: 'alice', expires: S0 + 3600, iat: S0, persistent: false })
  t.equal(rawPayloadOf(resigned.cookie!.value).sid, rawPayloadOf(token).sid, 'the same session id')
  t.equal(getSession(resigned.cookie!.value, { secret: SECRET, now: () => T0 }), 'alice', 'signed with the newest secret')
})

t.test('persistent must be a boolean', async (t) => {
  const app = await buildApp({}, undefined, (app) => {
    app.post('/odd', async (_request, reply) => reply.createSession('a', { persistent: 'no' as unknown as boolean }))
  })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/odd' })
  t.equal(res.statusCode, 500)
  t.match(res.json(), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION', message: /persistent must be true or false; got "no"/ })
  t.equal(res.headers['set-cookie'], undefined)
})
