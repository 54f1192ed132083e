// Guarded routes: request.requireUserId() gives the id or the 401, and the README's
// error handler sends page requests to a login page while API clients keep the JSON 401.
import t from 'tap'
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify'
import sessions, { createSession } from '../lib/index.js'
import { SECRET, T0 } from './helpers.js'

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

// The README's recipe for HTML apps, as an app would write it.
function htmlApp (app: FastifyInstance): void {
  app.setErrorHandler<FastifyError>(async (error, request, reply) => {
    if (error.code === 'FST_DBBASIC_SESSIONS_UNAUTHORIZED' && request.method === 'GET' &&
        request.headers.accept?.includes('text/html') === true) {
      return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303)
    }
    throw error // everything else goes to Fastify's default handler: JSON, as before
  })
  app.get('/account', { preHandler: app.requireSession }, async (request, reply) =>
    reply.type('text/html').send(`<p>Hello ${request.requireUserId()}</p>`))
  app.get('/settings', async (request, reply) => reply.type('text/html').send(`<p>Settings of ${request.requireUserId()}</p>`))
  app.get('/api/me', { preHandler: app.requireSession }, async (request) => ({ id: request.requireUserId() }))
  app.post('/account', { preHandler: app.requireSession }, async () => ({ saved: true }))
  app.get('/broken', async () => { throw new Error('boom') })
}

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'

t.test('HTML recipe: a page request without a session is redirected to the login page', async (t) => {
  const app = await build(htmlApp)
  t.teardown(() => app.close())
  for (const url of ['/account', '/settings?tab=2']) {
    const res = await app.inject({ url, headers: { accept: BROWSER_ACCEPT } })
    t.equal(res.statusCode, 303, url)
    t.equal(res.headers.location, `/login?next=${encodeURIComponent(url)}`, url)
  }
})

t.test('HTML recipe: a signed-in page request gets the page', async (t) => {
  const app = await build(htmlApp)
  t.teardown(() => app.close())
  const res = await app.inject({ url: '/account', headers: { accept: BROWSER_ACCEPT, ...signedIn } })
  t.equal(res.statusCode, 200)
  t.equal(res.body, '<p>Hello alice</p>')
})

t.test('HTML recipe: API requests keep the JSON 401, and other errors are untouched', async (t) => {
  const app = await build(htmlApp)
  t.teardown(() => app.close())
  for (const accept of ['application/json', '*/*', undefined]) {
    const res = await app.inject({ url: '/api/me', headers: accept === undefined ? {} : { accept } })
    t.equal(res.statusCode, 401, `Accept: ${accept}`)
    t.same(res.json(), UNAUTHORIZED, `Accept: ${accept}`)
  }
  const post = await app.inject({ method: 'POST', url: '/account', headers: { accept: BROWSER_ACCEPT } })
  t.equal(post.statusCode, 401, 'a form post is not redirected: its body would be lost')
  t.same(post.json(), UNAUTHORIZED)
  const broken = await app.inject({ url: '/broken', headers: { accept: BROWSER_ACCEPT } })
  t.equal(broken.statusCode, 500)
  t.equal(broken.json().message, 'boom')
})
