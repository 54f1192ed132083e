// No session Set-Cookie on a response a shared cache may store; Vary: Cookie where the
// body may depend on the session.
import t from 'tap'
import Fastify from 'fastify'
import sessions, { createSession } from '../lib/index.js'
import { NONE, OTHER_SECRET, SECRET, T0, clock, payloadOf, sessionCookie } from './helpers.js'

const S0 = T0 / 1000

/** An app whose GET /page?cc=... answers with that Cache-Control (or none), set by the route after the session was read. */
async function build (now: () => number, extra: Record<string, unknown> = {}) {
  const app = Fastify()
  await app.register(sessions, { secret: [SECRET, OTHER_SECRET], ttl: 3600, externalTtl: 3600, rolling: true, now, ...extra })
  app.get<{ Querystring: { cc?: string, expires?: string } }>('/page', async (request, reply) => {
    if (request.query.cc !== undefined) reply.header('cache-control', request.query.cc)
    if (request.query.expires !== undefined) reply.header('expires', request.query.expires)
    return { userId: request.session.userId }
  })
  for (const [url, vary] of [['/varied', 'Accept-Encoding'], ['/already', 'accept, cookie'], ['/star', '*']]) {
    app.get(url, async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=60').header('vary', vary)
      return 'ok'
    })
  }
  await app.ready()
  return app
}

const shared = ['public, max-age=86400', 's-maxage=60', 'max-age=600', 'public', 'Public, Max-Age=60', 'no-cache, public']
const notShared = ['private, max-age=86400', 'no-store', 'public, no-store', 'private', 'no-cache']

t.test('a renewal due on a response a shared cache may store waits for the next one that no shared cache stores', async (t) => {
  const time = clock()
  const app = await build(time.now)
  t.teardown(() => app.close())
  const token = createSession('u', { secret: SECRET, ttl: 3600, now: () => T0 })
  time.set(T0 + 2000_000)
  for (const cc of shared) {
    const res = await app.inject({ url: `/page?cc=${encodeURIComponent(cc)}`, headers: { cookie: `__Host-session=${token}` } })
    t.equal(res.json().userId, 'u')
    t.equal(res.headers['set-cookie'], undefined, `no Set-Cookie under "${cc}"`)
    t.equal(res.headers['cache-control'], cc, 'the route\'s caching is kept')
  }
  const expires = await app.inject({ url: '/page?expires=Thu,%2001%20Jan%202099%2000:00:00%20GMT', headers: { cookie: `__Host-session=${token}` } })
  t.equal(expires.headers['set-cookie'], undefined, 'an Expires header without Cache-Control counts as cacheable')
  for (const cc of notShared) {
    const res = await app.inject({ url: `/page?cc=${encodeURIComponent(cc)}`, headers: { cookie: `__Host-session=${token}` } })
    t.equal(payloadOf(sessionCookie(res.headers)!.value).expires, S0 + 2000 + 3600, `renewed under "${cc}"`)
    t.equal(res.headers['cache-control'], cc, 'and the route\'s own Cache-Control stays')
  }
  const plain = await app.inject({ url: '/page', headers: { cookie: `__Host-session=${token}` } })
  t.ok(sessionCookie(plain.headers) !== undefined, 'renewed without Cache-Control')
  t.equal(plain.headers['cache-control'], 'no-store', 'which then becomes no-store')
})

t.test('rotation re-signing follows the same rule', async (t) => {
  const app = await build(() => T0)
  t.teardown(() => app.close())
  const old = createSession('r', { secret: OTHER_SECRET, ttl: 3600, now: () => T0 })
  const cached = await app.inject({ url: '/page?cc=public,%20max-age=60', headers: { cookie: `__Host-session=${old}` } })
  t.equal(cached.json().userId, 'r')
  t.equal(cached.headers['set-cookie'], undefined)
  const next = await app.inject({ url: '/page', headers: { cookie: `__Host-session=${old}` } })
  t.ok(sessionCookie(next.headers) !== undefined, 're-signed on the next uncacheable response')
})

t.test('Vary: Cookie on shared-cacheable responses to requests with a session, and only those', async (t) => {
  const app = await build(() => T0, { rolling: false })
  t.teardown(() => app.close())
  const token = createSession('v', { secret: SECRET, ttl: 3600, now: () => T0 })
  const withSession = { cookie: `__Host-session=${token}` }
  t.equal((await app.inject({ url: '/page?cc=public,%20max-age=60', headers: withSession })).headers.vary, 'Cookie')
  t.equal((await app.inject({ url: '/page?cc=private', headers: withSession })).headers.vary, undefined, 'a private response needs none')
  t.equal((await app.inject({ url: '/page', headers: withSession })).headers.vary, undefined)
  t.equal((await app.inject({ url: '/page?cc=public,%20max-age=60' })).headers.vary, undefined, 'an anonymous response is the same for everyone')
  t.same((await app.inject({ url: '/page?cc=public' })).json(), { userId: NONE.userId })

  t.equal((await app.inject({ url: '/varied', headers: withSession })).headers.vary, 'Accept-Encoding, Cookie', 'added to the route\'s own Vary')
  t.equal((await app.inject({ url: '/already', headers: withSession })).headers.vary, 'accept, cookie', 'not twice')
  t.equal((await app.inject({ url: '/star', headers: withSession })).headers.vary, '*')
})
