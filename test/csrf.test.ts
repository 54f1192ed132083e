// Cross-origin protection: on by default, from Sec-Fetch-Site, else Origin against Host.
import t from 'tap'
import Fastify from 'fastify'
import sessions, { createSession } from '../lib/index.js'
import { crossOriginRefusal } from '../lib/csrf.js'
import type { FastifyDbbasicSessionsOptions } from '../types/index.js'
import { LogCapture, SECRET, T0, sessionCookie } from './helpers.js'

const HOST = 'app.example.com'
const SELF = `https://${HOST}`

/** An app whose POST routes count how far a request got: body parser, preHandler, handler. */
async function build (options: FastifyDbbasicSessionsOptions = {}, logs?: LogCapture) {
  const reached: string[] = []
  const app = Fastify(logs === undefined ? {} : { logger: { level: 'trace', stream: logs } })
  await app.register(sessions, { secret: SECRET, now: () => T0, ...options })
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) => { reached.push('body'); done(null, body) })
  const preHandler = async (): Promise<void> => { reached.push('preHandler') }
  app.post('/login', { preHandler }, async (request, reply) => { reached.push('handler'); await reply.createSession('someone'); return { userId: request.session.userId } })
  app.post('/logout', { preHandler }, async (_request, reply) => { reached.push('handler'); await reply.destroySession(); return { ok: true } })
  app.post('/idp/callback', { preHandler, config: { csrf: false } }, async () => { reached.push('handler'); return { ok: true } })
  app.route({ method: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'DELETE'], url: '/any', handler: async (request) => ({ method: request.method }) })
  await app.ready()
  return { app, reached }
}

const post = (url: string, headers: Record<string, string>) => ({ method: 'POST' as const, url, headers: { host: HOST, 'content-type': 'text/plain', ...headers }, payload: 'x' })

const refusedCases: Array<[string, Record<string, string>, string]> = [
  ['a cross-site form post', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.test' }, 'Sec-Fetch-Site is cross-site'],
  ['a post from a sibling host of the same site', { 'sec-fetch-site': 'same-site', origin: 'https://evil.example.com' }, 'Sec-Fetch-Site is same-site'],
  ['a cross-site post whose Origin was stripped', { 'sec-fetch-site': 'cross-site' }, 'Sec-Fetch-Site is cross-site'],
  ['an unknown Sec-Fetch-Site value', { 'sec-fetch-site': 'weird', origin: SELF }, 'Sec-Fetch-Site is not same-origin'],
  ['an old browser: Origin of another host', { origin: 'https://evil.test' }, 'Origin does not match Host'],
  ['an old browser: same host on another port', { origin: `https://${HOST}:8443` }, 'Origin does not match Host'],
  ['an opaque origin', { origin: 'null' }, 'Origin does not match Host']
]

for (const [what, headers, reason] of refusedCases) {
  t.test(`refused by default: ${what}`, async (t) => {
    const logs = new LogCapture()
    const { app, reached } = await build({}, logs)
    t.teardown(() => app.close())
    const token = createSession('victim', { secret: SECRET, now: () => T0 })
    for (const url of ['/login', '/logout']) {
      const res = await app.inject(post(url, { ...headers, cookie: `__Host-Http-session=${token}` }))
      t.equal(res.statusCode, 403)
      t.same(res.json(), { statusCode: 403, code: 'FST_DBBASIC_SESSIONS_CROSS_ORIGIN', error: 'Forbidden', message: 'Cross-origin request refused' })
      t.equal(res.headers['set-cookie'], undefined, 'the session and the cookies are left as they are')
    }
    t.same(reached, [], 'refused before body parsing, preHandlers and the route')
    const lines = logs.records.filter((r) => r.reason === reason)
    t.equal(lines.length, 2, 'one line per refusal, with the reason')
    t.ok(logs.records.every((r) => (r.level as number) <= 30), 'nothing logged above info')
  })
}

const passedCases: Array<[string, Record<string, string>]> = [
  ['a same-origin post', { 'sec-fetch-site': 'same-origin', origin: SELF }],
  ['a post the user typed or bookmarked (none)', { 'sec-fetch-site': 'none' }],
  ['an old browser: Origin of this host', { origin: SELF }],
  ['an old browser, Host in another case', { origin: 'https://APP.example.com' }],
  ['no browser at all (neither header)', {}]
]

for (const [what, headers] of passedCases) {
  t.test(`passes: ${what}`, async (t) => {
    const { app, reached } = await build()
    t.teardown(() => app.close())
    const res = await app.inject(post('/login', headers))
    t.equal(res.statusCode, 200)
    t.equal(res.json().userId, 'someone')
    t.ok(sessionCookie(res.headers) !== undefined)
    t.same(reached, ['body', 'preHandler', 'handler'])
  })
}

t.test('GET, HEAD and OPTIONS always pass; PUT, PATCH and DELETE are checked', async (t) => {
  const { app } = await build()
  t.teardown(() => app.close())
  const crossSite = { host: HOST, 'sec-fetch-site': 'cross-site', origin: 'https://evil.test' }
  for (const method of ['GET', 'HEAD', 'OPTIONS'] as const) {
    t.equal((await app.inject({ method, url: '/any', headers: crossSite })).statusCode, 200, method)
  }
  for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
    t.equal((await app.inject({ method, url: '/any', headers: crossSite })).statusCode, 403, method)
  }
})

t.test('trustedOrigins lets named origins through, and only those', async (t) => {
  const { app } = await build({ csrf: { trustedOrigins: ['https://front.example.com', 'http://localhost:5173'] } })
  t.teardown(() => app.close())
  t.equal((await app.inject(post('/login', { 'sec-fetch-site': 'same-site', origin: 'https://front.example.com' }))).statusCode, 200)
  t.equal((await app.inject(post('/login', { 'sec-fetch-site': 'cross-site', origin: 'http://localhost:5173' }))).statusCode, 200)
  t.equal((await app.inject(post('/login', { origin: 'https://front.example.com' }))).statusCode, 200, 'old browser, trusted origin')
  t.equal((await app.inject(post('/login', { 'sec-fetch-site': 'cross-site', origin: 'https://front.example.com.evil.test' }))).statusCode, 403)
  t.equal((await app.inject(post('/login', { 'sec-fetch-site': 'cross-site', origin: 'http://front.example.com' }))).statusCode, 403, 'the scheme counts')
})

t.test('trustedOrigins takes exact origins of any scheme a browser sends: extensions, hybrid apps\' web views', async (t) => {
  const origins = [
    'chrome-extension://abcdefghijklmnopabcdefghijklmnop',
    'moz-extension://2b7a6c9e-0f3e-4c7a-9b1d-3f2e1a0b9c8d',
    'safari-web-extension://2b7a6c9e-0f3e-4c7a-9b1d-3f2e1a0b9c8d',
    'capacitor://localhost',
    'ionic://localhost',
    'tauri://localhost',
    'http://[::1]:8080',
    'https://app.example.com:8443'
  ]
  const { app } = await build({ csrf: { trustedOrigins: origins } })
  t.teardown(() => app.close())
  for (const origin of origins) {
    t.equal((await app.inject(post('/login', { 'sec-fetch-site': 'cross-site', origin }))).statusCode, 200, origin)
    t.equal((await app.inject(post('/login', { origin }))).statusCode, 200, `${origin}, no Sec-Fetch-Site`)
  }
  for (const origin of ['chrome-extension://abcdefghijklmnopabcdefghijklmnoq', 'capacitor://localhost.evil.test', 'moz-extension://2b7a6c9e', 'null']) {
    t.equal((await app.inject(post('/login', { 'sec-fetch-site': 'cross-site', origin }))).statusCode, 403, `${origin} is not trusted`)
  }
})

t.test('a route opts out with config: { csrf: false }; csrf: false turns the check off', async (t) => {
  const crossSite = { 'sec-fetch-site': 'cross-site', origin: 'https://idp.example.net' }
  const { app, reached } = await build()
  t.teardown(() => app.close())
  t.equal((await app.inject(post('/idp/callback', crossSite))).statusCode, 200, 'an identity provider\'s form_post callback')
  t.same(reached, ['body', 'preHandler', 'handler'])
  t.equal((await app.inject(post('/login', crossSite))).statusCode, 403, 'the other routes are still checked')

  const off = await build({ csrf: false })
  t.teardown(() => off.app.close())
  t.equal((await off.app.inject(post('/login', crossSite))).statusCode, 200)
})

t.test('a refused request has no session for error handlers to see, and an unknown route is refused too', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(sessions, { secret: SECRET, now: () => T0 })
  app.setErrorHandler(async (error: Error & { statusCode?: number }, request, reply) => reply.code(error.statusCode ?? 500).send({ who: request.session.userId, code: (error as { code?: string }).code }))
  const token = createSession('victim', { secret: SECRET, now: () => T0 })
  const res = await app.inject({ method: 'POST', url: '/nowhere', headers: { host: HOST, 'sec-fetch-site': 'cross-site', cookie: `__Host-Http-session=${token}` } })
  t.equal(res.statusCode, 403)
  t.same(res.json(), { who: null, code: 'FST_DBBASIC_SESSIONS_CROSS_ORIGIN' })
})

t.test('trustedOrigins must be origins as browsers send them', async (t) => {
  for (const bad of [
    'https://front.example.com/', 'front.example.com', 'https://Front.example.com', 'https://a.example.com/path', 'not a url',
    'null', 'https://a.example.com:443', 'https://user:pw@a.example.com', 'https://a.example.com?x', 'https://a.example.com#x',
    'chrome-extension://abcdef/', 'chrome-extension://abcdef/popup.html', 'Chrome-extension://abcdef', 'chrome-extension://ABCDEF',
    'chrome-extension://', 'chrome-extension:abcdef', 'capacitor://localhost?x=1', 'capacitor://localhost#top',
    'capacitor://user@localhost', 'capacitor://LocalHost', 'capacitor://localhost:99999', 'capacitor://localhost:080',
    'capacitor://local host', ' capacitor://localhost', 'x://a%41', 'file://host', 'file:///etc'
  ]) {
    const app = Fastify()
    app.register(sessions, { secret: SECRET, csrf: { trustedOrigins: [bad] } })
    await t.rejects(async () => { await app.ready() }, { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION', message: /csrf\.trustedOrigins\[0\] must be an origin as a browser sends it/ }, bad)
    await app.close()
  }
  const app = Fastify()
  app.register(sessions, { secret: SECRET, csrf: { trustedOrigins: 'https://a.example.com' } as unknown as { trustedOrigins: string[] } })
  await t.rejects(async () => { await app.ready() }, { message: 'fastify-dbbasic-sessions: csrf.trustedOrigins must be an array of origins like "https://app.example.com"; got "https://a.example.com"' })
  await app.close()
  const typo = Fastify()
  typo.register(sessions, { secret: SECRET, csrf: { trustedOrigin: [] } as unknown as boolean })
  await t.rejects(async () => { await typo.ready() }, { message: /unknown option "csrf.trustedOrigin" \(did you mean "csrf.trustedOrigins"\?\)/ })
  await typo.close()
})

t.test('csrf: true is the default spelled out; over HTTP/2 the :authority stands for Host', async (t) => {
  const { app } = await build({ csrf: true })
  t.teardown(() => app.close())
  t.equal((await app.inject(post('/login', { 'sec-fetch-site': 'cross-site' }))).statusCode, 403)
  const trusted = new Set<string>()
  t.equal(crossOriginRefusal('POST', { ':authority': HOST, origin: SELF }, trusted), undefined)
  t.equal(crossOriginRefusal('POST', { ':authority': 'other.example.com', origin: SELF }, trusted), 'Origin does not match Host')
  t.equal(crossOriginRefusal('POST', { origin: SELF }, trusted), 'Origin does not match Host', 'no host at all: refused')
})

t.test('csrf: {} is the default with no trusted origin', async (t) => {
  const { app } = await build({ csrf: {} })
  t.teardown(() => app.close())
  t.equal((await app.inject(post('/login', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.test' }))).statusCode, 403)
  t.equal((await app.inject(post('/login', { 'sec-fetch-site': 'same-origin' }))).statusCode, 200)
})
