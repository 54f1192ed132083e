// This plugin beside the store-backed session plugins, each under its own request
// property, so an app can move to it gradually.
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyRequest, type LightMyRequestResponse } from 'fastify'
import fastifyCookie from '@fastify/cookie'
import sessions from '../lib/index.js'
import { SECRET, T0 } from './helpers.js'
import { root } from './paths.js'

// Loaded by a name the compiler does not follow: their declarations of request.session
// would replace ours in this whole test program, which reads request.session everywhere.
// The typed set-up beside them is compiled without skipLibCheck by typescript.test.ts.
const load = async (name: string): Promise<FastifyPluginAsync<any>> => (await import(name)).default
const fastifySecureSession = await load('@fastify/secure-session')
const fastifySession = await load('@fastify/session')

const ours = { secret: SECRET, now: () => T0, sessionName: 'auth' as const }

/** The Cookie header a browser would send back after these responses (values as sent: not decoded). */
function jar (...responses: LightMyRequestResponse[]): string {
  const pairs = new Map<string, string>()
  for (const res of responses) {
    const headers = res.headers['set-cookie']
    for (const header of headers === undefined ? [] : Array.isArray(headers) ? headers : [headers]) {
      const pair = header.split(';')[0]
      pairs.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1))
    }
  }
  return [...pairs].map(([name, value]) => `${name}=${value}`).join('; ')
}

// The other plugin's session object, typed by the test (their types are not loaded here).
interface StoreSession { get: (key: string) => unknown, set: (key: string, value: unknown) => void }
const other = (request: FastifyRequest): StoreSession => request.session as unknown as StoreSession

function routes (app: FastifyInstance): void {
  app.post('/login', async (request, reply) => {
    reply.createSession('alice')
    other(request).set('cart', ['apple'])
    return { auth: request.auth.userId }
  })
  app.get('/both', { preHandler: app.requireSession }, async (request) => ({
    user: request.requireUserId(),
    auth: request.auth,
    cart: other(request).get('cart') ?? null
  }))
  app.get('/anonymous', async (request) => ({ auth: request.auth.userId, cart: other(request).get('cart') ?? null }))
}

async function check (t: Test, app: FastifyInstance, otherCookie: string): Promise<void> {
  const login = await app.inject({ method: 'POST', url: '/login' })
  t.equal(login.statusCode, 200, login.body)
  t.same(login.json(), { auth: 'alice' })
  const names = login.cookies.map((c) => c.name).sort()
  t.same(names, ['__Host-Http-session', otherCookie].sort(), 'each plugin set its own cookie')
  const both = await app.inject({ url: '/both', headers: { cookie: jar(login) } })
  t.equal(both.statusCode, 200, both.body)
  t.match(both.json(), {
    user: 'alice',
    auth: { userId: 'alice', issuedAt: T0 / 1000, expiresAt: T0 / 1000 + 2592000, sessionId: /^[A-Za-z0-9_-]{24}$/ },
    cart: ['apple']
  }, 'one request sees both sessions')
  const theirsOnly = await app.inject({ url: '/both', headers: { cookie: jar(login).split('; ').filter((p) => !p.startsWith('__Host-Http-session=')).join('; ') } })
  t.equal(theirsOnly.statusCode, 401, 'the other plugin\'s cookie is no session of ours')
  const anonymous = await app.inject({ url: '/anonymous' })
  t.same(anonymous.json(), { auth: null, cart: null })
}

const secureSession = { key: randomBytes(32), cookieName: 'secure-cart', cookie: { path: '/' } }
const storeSession = { secret: randomBytes(32).toString('hex'), cookieName: 'sid', cookie: { secure: false } }

t.test('beside @fastify/secure-session, registered after it', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifySecureSession, secureSession)
  await app.register(sessions, ours)
  routes(app)
  await check(t, app, 'secure-cart')
})

t.test('beside @fastify/secure-session, registered before it', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(sessions, ours)
  await app.register(fastifySecureSession, secureSession)
  routes(app)
  await check(t, app, 'secure-cart')
})

t.test('beside @fastify/session, registered after it', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyCookie)
  await app.register(fastifySession, storeSession)
  await app.register(sessions, ours)
  routes(app)
  await check(t, app, 'sid')
})

t.test('beside @fastify/session, registered before it', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(sessions, ours)
  await app.register(fastifyCookie)
  await app.register(fastifySession, storeSession)
  routes(app)
  await check(t, app, 'sid')
})

t.test('a taken name fails registration with an error naming the option', async (t) => {
  const cases: Array<[string, (app: FastifyInstance) => Promise<unknown>]> = [
    ['@fastify/secure-session', async (app) => app.register(fastifySecureSession, secureSession)],
    ['@fastify/session', async (app) => app.register(fastifyCookie).register(fastifySession, storeSession)]
  ]
  for (const [name, first] of cases) {
    const app = Fastify()
    t.teardown(() => app.close())
    await first(app)
    await t.rejects(async () => { await app.register(sessions, { secret: SECRET }) }, {
      code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION',
      message: /sessionName "session" is already a request property.*sessionName: 'auth'/
    }, `after ${name}`)
  }
})

t.test("a name Fastify's request already has is refused the same way, never overwritten", async (t) => {
  // Own properties set per request (body, query...), prototype getters (headers, ip...)
  // and Object's own names: filling any of them would break Fastify or every object.
  for (const name of ['body', 'query', 'params', 'raw', 'log', 'id', 'headers', 'ip', 'url', 'routeOptions', 'constructor', 'hasOwnProperty', 'toString', '__proto__']) {
    const app = Fastify()
    t.teardown(() => app.close())
    // Names the types refuse, as a JavaScript app may pass them.
    await t.rejects(async () => { await app.register(sessions, { secret: SECRET, sessionName: name as 'auth' }) }, {
      code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION',
      message: new RegExp(`sessionName "${name}" is already a request property \\(Fastify's own or another plugin's`)
    }, name)
  }
  const app = Fastify()
  t.teardown(() => app.close())
  await t.rejects(async () => { await app.register(sessions, { secret: SECRET, sessionName: 'requireUserId' as string as 'auth' }) }, {
    code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION',
    message: /sessionName "requireUserId" is the name of the request method this plugin adds; choose another, e.g. sessionName: 'auth'/
  }, "the plugin's own request method")
})

t.test('in the other order, with this plugin first under "session", the other plugin is the one that fails, and takes the process down', async (t) => {
  // Our check cannot see a later plugin: theirs throws Fastify's own error from inside
  // its register, uncaught, so this runs in a child process.
  const later = {
    '@fastify/secure-session': "await app.register((await import('@fastify/secure-session')).default, { key: Buffer.alloc(32, 1) })",
    '@fastify/session': "await app.register((await import('@fastify/cookie')).default); await app.register((await import('@fastify/session')).default, { secret: 'x'.repeat(32) })"
  }
  for (const [name, register] of Object.entries(later)) {
    const script = `
      const app = (await import('fastify')).default()
      await app.register((await import(${JSON.stringify(new URL('../lib/index.js', import.meta.url).href)})).default, { secret: ${JSON.stringify(SECRET)} })
      ${register}
      await app.ready()
      console.log('ready')`
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '' } })
    t.equal(child.status, 1, `${name}: the process exits`)
    t.match(child.stderr, /code: 'FST_ERR_DEC_ALREADY_PRESENT'/, name)
    t.match(child.stderr, "The decorator 'session' has already been added", name)
    t.notMatch(child.stdout, 'ready', name)
  }
})
