// The README's recipes for an HTML app, loaded from the README as written: the login
// form (formbody, remember me, safeRedirect) and the error handler that sends signed-out
// browsers to the login page (303) while fetch() and API clients keep the JSON 401. Last,
// that handler's first form, as apps copied it (on the 401's code and Accept alone, a
// form's POST left to the JSON 401): it still works.
import t from 'tap'
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify'
import sessions, { createSession } from '../lib/index.js'
import { loadRecipe } from './docs.js'
import { SECRET, T0, sessionCookie } from './helpers.js'

const UNAUTHORIZED = { statusCode: 401, code: 'FST_DBBASIC_SESSIONS_UNAUTHORIZED', error: 'Unauthorized', message: 'No valid session' }
const users: Record<string, { id: string, name: string, sessionsValidAfter: number }> = { ann: { id: '1', name: 'ann', sessionsValidAfter: 0 } }
// The app's own parts the recipes call, as the prelude of test/docs.ts declares them.
const checkPassword = async (form: { name: string, password: string }): Promise<typeof users[string] | null> =>
  form.password === 'right password' ? users[form.name] ?? null : null
const renderLoginPage = (message: string | null): string => `<form>${message ?? ''}</form>`

async function build (): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(sessions, { secret: SECRET })
  const scope = { app, checkPassword, renderLoginPage }
  await loadRecipe('README.md', 'login-form', scope)
  await loadRecipe('README.md', 'guarded', scope)
  await loadRecipe('README.md', 'login-redirect', scope)
  app.get('/account', { preHandler: app.requireSession }, async () => 'the account page')
  // Forms post; pages' scripts may also PUT or DELETE.
  app.route({ method: ['POST', 'PUT', 'DELETE'], url: '/account/email', preHandler: app.requireSession, handler: async () => ({ ok: true }) })
  app.get('/broken', async () => { throw new Error('not a session error') })
  await app.ready()
  return app
}

const navigate = { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8', 'sec-fetch-mode': 'navigate', 'sec-fetch-site': 'same-origin' }
const form = { ...navigate, 'content-type': 'application/x-www-form-urlencoded' }

t.test('signed out, a page navigation is sent to the login page with the way back', async (t) => {
  const app = await build()
  t.teardown(() => app.close())
  const res = await app.inject({ url: '/account?tab=email', headers: navigate })
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, '/login?next=%2Faccount%3Ftab%3Demail')
  // A browser that sends no Sec-Fetch-* headers: its Accept says it wants a page.
  const old = await app.inject({ url: '/account', headers: { accept: navigate.accept } })
  t.equal(old.headers.location, '/login?next=%2Faccount')
})

t.test('signed out, a form POST from a browser is sent to the login page with a message, not to JSON', async (t) => {
  const app = await build()
  t.teardown(() => app.close())
  for (const method of ['POST', 'PUT', 'DELETE'] as const) {
    const res = await app.inject({ method, url: '/account/email', headers: form, payload: 'email=a%40b.test' })
    t.equal(res.statusCode, 303, method)
    t.equal(res.headers.location, '/login?message=signed-out', method)
  }
})

t.test('fetch() and API clients keep the JSON 401, whatever they accept', async (t) => {
  const app = await build()
  t.teardown(() => app.close())
  const clients = {
    'fetch() from the page': { accept: '*/*', 'sec-fetch-mode': 'cors', 'sec-fetch-site': 'same-origin' },
    'fetch() asking for HTML': { accept: 'text/html', 'sec-fetch-mode': 'same-origin', 'sec-fetch-site': 'same-origin' },
    'an API client': { accept: 'application/json' },
    curl: {}
  }
  for (const [who, headers] of Object.entries(clients)) {
    for (const [method, url] of [['GET', '/account'], ['POST', '/account/email'], ['GET', '/api/me']] as const) {
      const res = await app.inject({ method, url, headers })
      t.equal(res.statusCode, 401, `${who}: ${method} ${url}`)
      t.same(res.json(), UNAUTHORIZED, `${who}: ${method} ${url}`)
    }
  }
  // Other errors are left to Fastify's handling.
  t.equal((await app.inject({ url: '/broken', headers: navigate })).statusCode, 500)
})

t.test('signing in through the form goes back to next when it is a path of this site, else to /', async (t) => {
  const app = await build()
  t.teardown(() => app.close())
  const cases: Array<[string, string]> = [
    ['%2Faccount%3Ftab%3Demail', '/account?tab=email'],
    ['%2F%2Fevil.test', '/'],
    ['%2F%5Cevil.test', '/'],
    ['%2F%09%2Fevil.test', '/'], // decoded by the form parser: a tab
    ['https%3A%2F%2Fevil.test', '/'],
    ['javascript%3Aalert(1)', '/']
  ]
  for (const [next, location] of cases) {
    const res = await app.inject({ method: 'POST', url: '/login', headers: form, payload: `name=ann&password=right+password&remember=on&next=${next}` })
    t.equal(res.statusCode, 303, next)
    t.equal(res.headers.location, location, next)
    t.ok(sessionCookie(res.headers)?.attributes.some((a) => a.startsWith('Max-Age=')), `${next}: remembered`)
  }
  const noNext = await app.inject({ method: 'POST', url: '/login', headers: form, payload: 'name=ann&password=right+password' })
  t.equal(noNext.headers.location, '/')
  t.notOk(sessionCookie(noNext.headers)?.attributes.some((a) => a.startsWith('Max-Age=')), 'remember me unticked: a browser-session cookie')
  const cookie = `__Host-Http-session=${sessionCookie(noNext.headers)?.value ?? ''}`
  t.equal((await app.inject({ url: '/account', headers: { ...navigate, cookie } })).body, 'the account page')
  t.same((await app.inject({ url: '/api/me', headers: { cookie } })).json(), { userId: '1' })

  const wrong = await app.inject({ method: 'POST', url: '/login', headers: form, payload: 'name=ann&password=wrong' })
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.body, '<form>Wrong name or password.</form>')
  t.equal(sessionCookie(wrong.headers), undefined)
  // A login form posted from another site is refused before the recipe runs.
  const forged = await app.inject({ method: 'POST', url: '/login', headers: { ...form, 'sec-fetch-site': 'cross-site' }, payload: 'name=ann&password=right+password' })
  t.equal(forged.statusCode, 403)
})

t.test('a signed-in form POST reaches its route', async (t) => {
  const app = await build()
  t.teardown(() => app.close())
  const cookie = `__Host-Http-session=${createSession('1', { secret: SECRET })}`
  const res = await app.inject({ method: 'POST', url: '/account/email', headers: { ...form, cookie }, payload: 'email=a%40b.test' })
  t.same(res.json(), { ok: true })
})

// The recipe's first form, as the README had it before it read Sec-Fetch-Mode and sent a
// form's POST to the login page.
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

const signedIn = { cookie: `__Host-Http-session=${createSession('alice', { secret: SECRET, now: () => T0 })}` }

async function buildFirstForm (): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(sessions, { secret: SECRET, now: () => T0 })
  htmlApp(app)
  await app.ready()
  return app
}

t.test('HTML recipe: a page request without a session is redirected to the login page', async (t) => {
  const app = await buildFirstForm()
  t.teardown(() => app.close())
  for (const url of ['/account', '/settings?tab=2']) {
    const res = await app.inject({ url, headers: { accept: BROWSER_ACCEPT } })
    t.equal(res.statusCode, 303, url)
    t.equal(res.headers.location, `/login?next=${encodeURIComponent(url)}`, url)
  }
})

t.test('HTML recipe: a signed-in page request gets the page', async (t) => {
  const app = await buildFirstForm()
  t.teardown(() => app.close())
  const res = await app.inject({ url: '/account', headers: { accept: BROWSER_ACCEPT, ...signedIn } })
  t.equal(res.statusCode, 200)
  t.equal(res.body, '<p>Hello alice</p>')
})

t.test('HTML recipe: API requests keep the JSON 401, and other errors are untouched', async (t) => {
  const app = await buildFirstForm()
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
