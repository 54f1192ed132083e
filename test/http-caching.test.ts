// HTTP caches (the verified-token cache is token-cache.test.ts): a login or logout
// response is always no-store; no session Set-Cookie (renewal, re-signing) on a response
// a shared cache may store, deferred to the next one none stores; Vary: Cookie where the
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
  app.get<{ Querystring: { cc?: string, expires?: string, cdn?: string, surrogate?: string } }>('/page', async (request, reply) => {
    if (request.query.cc !== undefined) reply.header('cache-control', request.query.cc)
    if (request.query.expires !== undefined) reply.header('expires', request.query.expires)
    if (request.query.cdn !== undefined) reply.header('cdn-cache-control', request.query.cdn)
    if (request.query.surrogate !== undefined) reply.header('surrogate-control', request.query.surrogate)
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

t.test('a login or logout response is always no-store, whatever caching the route asked for', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(sessions, { secret: SECRET })
  app.post('/before', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=86400')
    reply.createSession('a')
    return 'ok'
  })
  app.post('/after', async (_request, reply) => {
    reply.destroySession()
    reply.header('cache-control', 'private, max-age=5')
    return 'ok'
  })
  app.get('/plain', async () => 'ok')
  t.equal((await app.inject({ method: 'POST', url: '/before' })).headers['cache-control'], 'no-store')
  t.equal((await app.inject({ method: 'POST', url: '/after' })).headers['cache-control'], 'no-store')
  t.equal((await app.inject({ url: '/plain' })).headers['cache-control'], undefined, 'other responses keep their own')
})

t.test('a renewal due on a response a shared cache may store waits for the next one that no shared cache stores', async (t) => {
  const time = clock()
  const app = await build(time.now)
  t.teardown(() => app.close())
  const token = createSession('u', { secret: SECRET, ttl: 3600, now: () => T0 })
  time.set(T0 + 2000_000)
  for (const cc of shared) {
    const res = await app.inject({ url: `/page?cc=${encodeURIComponent(cc)}`, headers: { cookie: `__Host-Http-session=${token}` } })
    t.equal(res.json().userId, 'u')
    t.equal(res.headers['set-cookie'], undefined, `no Set-Cookie under "${cc}"`)
    t.equal(res.headers['cache-control'], cc, 'the route\'s caching is kept')
  }
  const expires = await app.inject({ url: '/page?expires=Thu,%2001%20Jan%202099%2000:00:00%20GMT', headers: { cookie: `__Host-Http-session=${token}` } })
  t.equal(expires.headers['set-cookie'], undefined, 'an Expires header without Cache-Control counts as cacheable')
  for (const cc of notShared) {
    const res = await app.inject({ url: `/page?cc=${encodeURIComponent(cc)}`, headers: { cookie: `__Host-Http-session=${token}` } })
    t.equal(payloadOf(sessionCookie(res.headers)!.value).expires, S0 + 2000 + 3600, `renewed under "${cc}"`)
    t.equal(res.headers['cache-control'], cc, 'and the route\'s own Cache-Control stays')
  }
  const plain = await app.inject({ url: '/page', headers: { cookie: `__Host-Http-session=${token}` } })
  t.ok(sessionCookie(plain.headers) !== undefined, 'renewed without Cache-Control')
  t.equal(plain.headers['cache-control'], 'no-store', 'which then becomes no-store')
})

/** The query string of /page for these response headers. */
const query = (headers: Record<string, string>): string => new URLSearchParams(headers).toString()

t.test('headers aimed at a CDN, and a private qualified by field names, count as a shared cache would read them', async (t) => {
  const time = clock()
  const app = await build(time.now)
  t.teardown(() => app.close())
  const token = createSession('u', { secret: SECRET, ttl: 3600, now: () => T0 })
  time.set(T0 + 2000_000)
  const shared: Array<Record<string, string>> = [
    // private="field" only keeps those fields out of a shared cache: the rest is stored.
    { cc: 'private="set-cookie"' },
    { cc: 'private="set-cookie", max-age=60' },
    { cc: 'Private="Set-Cookie, X-Other", max-age=60' },
    // RFC 9213: a CDN follows CDN-Cache-Control and ignores Cache-Control.
    { cc: 'private, max-age=60', cdn: 'max-age=600' },
    { cc: 'no-store', cdn: 'public, s-maxage=60' },
    { cdn: 'max-age=60' },
    // Surrogate-Control (Fastly, Akamai, Varnish): max-age lets the surrogate store it.
    { cc: 'private, no-store', surrogate: 'max-age=3600' },
    { surrogate: 'max-age=60+30, content="ESI/1.0"' }
  ]
  const notShared: Array<Record<string, string>> = [
    { cc: 'private, max-age=60', cdn: 'no-store' },
    { cc: 'private', cdn: 'private' },
    { cc: 'no-store', surrogate: 'no-store' },
    { cc: 'private', surrogate: 'content="ESI/1.0"' }
  ]
  for (const headers of shared) {
    const res = await app.inject({ url: `/page?${query(headers)}`, headers: { cookie: `__Host-Http-session=${token}` } })
    t.equal(res.json().userId, 'u')
    t.equal(res.headers['set-cookie'], undefined, `no renewal under ${JSON.stringify(headers)}`)
    t.match(res.headers.vary, /Cookie/, `Vary: Cookie under ${JSON.stringify(headers)}`)
  }
  for (const headers of notShared) {
    const res = await app.inject({ url: `/page?${query(headers)}`, headers: { cookie: `__Host-Http-session=${token}` } })
    t.ok(sessionCookie(res.headers) !== undefined, `renewed under ${JSON.stringify(headers)}`)
  }
})

t.test('rotation re-signing follows the same rule', async (t) => {
  const app = await build(() => T0)
  t.teardown(() => app.close())
  const old = createSession('r', { secret: OTHER_SECRET, ttl: 3600, now: () => T0 })
  const cached = await app.inject({ url: '/page?cc=public,%20max-age=60', headers: { cookie: `__Host-Http-session=${old}` } })
  t.equal(cached.json().userId, 'r')
  t.equal(cached.headers['set-cookie'], undefined)
  const next = await app.inject({ url: '/page', headers: { cookie: `__Host-Http-session=${old}` } })
  t.ok(sessionCookie(next.headers) !== undefined, 're-signed on the next uncacheable response')
})

t.test('Vary: Cookie on every response a cache may store (the browser\'s own included) to a request with a session, and only those', async (t) => {
  const app = await build(() => T0, { rolling: false })
  t.teardown(() => app.close())
  const token = createSession('v', { secret: SECRET, ttl: 3600, now: () => T0 })
  const withSession = { cookie: `__Host-Http-session=${token}` }
  t.equal((await app.inject({ url: '/page?cc=public,%20max-age=60', headers: withSession })).headers.vary, 'Cookie')
  // A's private page must not be shown from the browser's cache once A signs out and B
  // signs in: the browser keys its entry by the Cookie header (as Flask does since CVE-2023-30861).
  for (const cc of ['private, max-age=60', 'private', 'max-age=0', 'no-cache']) {
    t.equal((await app.inject({ url: `/page?cc=${encodeURIComponent(cc)}`, headers: withSession })).headers.vary, 'Cookie', `"${cc}": the browser may keep it`)
  }
  t.equal((await app.inject({ url: '/page', headers: withSession })).headers.vary, 'Cookie', 'no Cache-Control: kept for the back button')
  t.equal((await app.inject({ url: '/page?cc=no-store', headers: withSession })).headers.vary, undefined, 'no-store: no cache keeps it')
  t.equal((await app.inject({ url: '/page?cc=private,%20no-store', headers: withSession })).headers.vary, undefined)
  t.equal((await app.inject({ url: '/page?cc=public,%20max-age=60' })).headers.vary, undefined, 'an anonymous response is the same for everyone')
  t.same((await app.inject({ url: '/page?cc=public' })).json(), { userId: NONE.userId })

  t.equal((await app.inject({ url: '/varied', headers: withSession })).headers.vary, 'Accept-Encoding, Cookie', 'added to the route\'s own Vary')
  t.equal((await app.inject({ url: '/already', headers: withSession })).headers.vary, 'accept, cookie', 'not twice')
  t.equal((await app.inject({ url: '/star', headers: withSession })).headers.vary, '*')
})
