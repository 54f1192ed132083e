// Step-up (ASVS 7.5): requireRecentLogin guards a sensitive route by the session's login
// time; refreshLogin, after the user proved who they are again, gives the session a new
// login time and keeps its id.
import t from 'tap'
import { createSession } from '../lib/index.js'
import { SECRET, T0, buildApp, clock, payloadOf, visit } from './helpers.js'

const S0 = T0 / 1000
const cookie = (token: string): Record<string, string> => ({ cookie: `__Host-Http-session=${token}` })

async function setup (now: () => number): Promise<Awaited<ReturnType<typeof buildApp>>> {
  return await buildApp({ now, rolling: true, ttl: 3600, externalTtl: 3600 }, undefined, (app) => {
    app.post('/email', { preHandler: app.requireRecentLogin(600) }, async () => ({ changed: true }))
    // The re-authentication recipe: the password again (here, any), then a fresh login time.
    app.post('/confirm', { preHandler: app.requireSession }, async (_request, reply) => {
      const { sessionId, issuedAt } = reply.refreshLogin()
      return { sessionId, issuedAt }
    })
  })
}

t.test('a login at most maxAgeSeconds old passes; an older one is the 401 ReauthenticationRequiredError; no session is the 401 UnauthorizedError', async (t) => {
  const time = clock()
  const app = await setup(time.now)
  t.teardown(() => app.close())
  const token = (await app.inject({ method: 'POST', url: '/login?user=ann' })).json().token
  const post = async (presented?: string): Promise<{ statusCode: number, code?: string, message?: string }> => {
    const res = await app.inject({ method: 'POST', url: '/email', headers: presented === undefined ? {} : cookie(presented) })
    return { statusCode: res.statusCode, ...res.json() }
  }
  time.advance(600)
  t.match(await post(token), { statusCode: 200 }, 'exactly maxAgeSeconds after the login')
  time.advance(1)
  t.match(await post(token), { statusCode: 401, code: 'FST_DBBASIC_SESSIONS_REAUTHENTICATION_REQUIRED', message: 'Please sign in again to continue' })
  t.match(await post(), { statusCode: 401, code: 'FST_DBBASIC_SESSIONS_UNAUTHORIZED' })
  const renewed = (await visit(app, token)).cookie?.value ?? token
  t.match(await post(renewed), { statusCode: 401, code: 'FST_DBBASIC_SESSIONS_REAUTHENTICATION_REQUIRED' }, 'a renewal keeps the login time')
  const python = createSession('py', { secret: SECRET, ttl: 3600, now: time.now })
  t.match(await post(python), { statusCode: 401, code: 'FST_DBBASIC_SESSIONS_REAUTHENTICATION_REQUIRED' }, 'a token without iat cannot show a recent login')
})

t.test('refreshLogin: a new login time, the same session id, a fresh lifetime; the copy from before stays a session but not a recent one', async (t) => {
  const time = clock()
  const app = await setup(time.now)
  t.teardown(() => app.close())
  const token = (await app.inject({ method: 'POST', url: '/login?user=bo' })).json().token
  time.advance(1000)
  const res = await app.inject({ method: 'POST', url: '/confirm', headers: cookie(token) })
  const refreshed = res.cookies.find((c) => c.name === '__Host-Http-session')!.value
  t.same(res.json(), { sessionId: payloadOf(token).sid, issuedAt: S0 + 1000 })
  t.equal(res.headers['cache-control'], 'no-store')
  t.match(payloadOf(refreshed), { user_id: 'bo', iat: S0 + 1000, sid: payloadOf(token).sid, expires: S0 + 1000 + 3600 })
  t.equal((await app.inject({ method: 'POST', url: '/email', headers: cookie(refreshed) })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/email', headers: cookie(token) })).statusCode, 401, 'the old copy does not pass the guard')
  t.equal((await visit(app, token)).session.userId, 'bo', 'but is still the session')
  const python = createSession('py', { secret: SECRET, ttl: 3600, now: time.now })
  const fromPython = await app.inject({ method: 'POST', url: '/confirm', headers: cookie(python) })
  t.match(fromPython.json(), { issuedAt: S0 + 1000, sessionId: /^[A-Za-z0-9_-]{22}$/ }, 'a Python token gets the id its copies share')
  const none = await app.inject({ method: 'POST', url: '/confirm' })
  t.equal(none.statusCode, 401)
  const short = (await app.inject({ method: 'POST', url: '/login?user=cy&ttl=600' })).json().token
  const again = (await app.inject({ method: 'POST', url: '/confirm', headers: cookie(short) })).cookies.find((c) => c.name === '__Host-Http-session')!.value
  t.match(payloadOf(again), { expires: S0 + 1000 + 600, ttl: 600 }, 'a login made with its own ttl keeps it')
})

t.test('refreshLogin without a session is the 401 (for a route without requireSession)', async (t) => {
  const app = await buildApp({}, undefined, (app) => {
    app.post('/confirm', async (_request, reply) => reply.refreshLogin())
  })
  t.teardown(() => app.close())
  t.equal((await app.inject({ method: 'POST', url: '/confirm' })).json().code, 'FST_DBBASIC_SESSIONS_UNAUTHORIZED')
})

t.test('requireRecentLogin takes whole seconds from 1 to 400 days, said when the route is defined', async (t) => {
  const app = await buildApp()
  t.teardown(() => app.close())
  for (const bad of [0, -1, 1.5, 34560001, '600', NaN]) {
    t.throws(() => app.requireRecentLogin(bad as number), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION', message: /requireRecentLogin\(maxAgeSeconds\) takes an integer number of seconds from 1 to 34560000; got/ }, String(bad))
  }
})
