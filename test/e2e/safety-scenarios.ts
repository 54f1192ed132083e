// The browser-side safety of the plugin's defaults over HTTPS (a certificate made by
// the test), the same scenarios in every engine (chromium.e2e.ts, firefox.e2e.ts,
// webkit.e2e.ts run them). Names map to 127.0.0.1:
// app.example.test is the app; sub. and evil.example.test are the same site but other
// origins; evil.test is another site. The attacker pages are served by a second
// server, so their origin differs from the app's also by port. By the Public Suffix
// List, which has neither "test" nor "example.test", "test" is a public suffix by its
// default rule, so example.test is one site and evil.test another. Not a test file.
import { randomBytes } from 'node:crypto'
import { request as httpsRequest } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import formbody from '@fastify/formbody'
import sessions from 'fastify-dbbasic-sessions'
import { fetchPage, formPage, openAttack, startAttacker, type Attacks } from './attacker.js'
import { clickAndWait, waitForPage, type Engine, type Launch, type Tab } from './engines/engine.js'
import { describe, exchange, type Exchange } from './recorder.js'
import { selfSignedCertificate } from './tls.js'

const SECRET = randomBytes(32).toString('hex')
const DAY_MS = 86_400_000
const COOKIE = '__Host-Http-session'
const USERS: Record<string, string> = { visitor: 'visitor-password', attacker: 'attacker-password' }

// The server's clock runs `offset` ms ahead of the browser's: renewals come due
// without waiting. The browser keeps its own time, and Max-Age is relative.
let offset = 0

interface Seen extends Exchange { app: string, /** The Cookie header as it arrived. */ cookie: string }
const seen: Seen[] = []

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const attacks: Attacks = {
  'login-form': (target) => formPage(`${target}/login`, { username: 'attacker', password: USERS.attacker, remember: 'on' }),
  'logout-form': (target) => formPage(`${target}/logout`),
  fetch: (target) => fetchPage(target, [['/logout', {}], ['/login', { username: 'attacker', password: USERS.attacker }]])
}

/** The app under test: the plugin's default options, plus rolling and a clock the test moves. */
async function buildApp (t: Test, name: string, extra: Record<string, unknown>): Promise<FastifyInstance> {
  const { key, cert } = certificate
  const app = Fastify({ https: { key, cert } })
  app.addHook('onResponse', async (request, reply) => {
    seen.push({ app: name, cookie: request.headers.cookie ?? '', ...exchange(request.method, request.url, request.headers, reply.statusCode, reply.getHeaders()) })
  })
  await app.register(formbody)
  await app.register(sessions, { secret: SECRET, rolling: true, now: () => Date.now() + offset, ...extra })

  app.get('/', async (request, reply) => {
    reply.type('text/html; charset=utf-8')
    const { userId } = request.session
    return `<!doctype html><meta charset="utf-8"><title>app</title>
<p id="who">${userId === null ? 'nobody' : escapeHtml(userId)}</p>
${userId === null
  ? `<form id="login" method="post" action="/login">
  <input name="username"> <input name="password" type="password">
  <label><input type="checkbox" name="remember" checked> Remember me</label>
  <button>Sign in</button>
</form>`
  : '<form id="logout" method="post" action="/logout"><button>Sign out</button></form>'}`
  })
  app.post('/login', async (request, reply) => {
    const { username, password, remember } = request.body as Record<string, string>
    if (USERS[username] === undefined || USERS[username] !== password) return reply.code(401).send('wrong name or password')
    await reply.createSession(username, { persistent: remember === 'on' })
    return reply.redirect('/', 303)
  })
  app.post('/logout', async (_request, reply) => { await reply.destroySession(); return reply.redirect('/', 303) })
  app.get('/me', async (request) => ({ userId: request.session.userId }))
  // Browsers that ask for a favicon (WebKit does) get a cacheable one, as from a static folder.
  app.get('/favicon.ico', async (_request, reply) => reply.header('cache-control', 'public, max-age=86400').code(204).send())
  app.get('/public', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=86400').type('text/html; charset=utf-8')
    return '<!doctype html><title>public</title><p>The same for everyone.</p>'
  })
  // The attacker's exact pages, served by the app itself: same-origin, they must work.
  app.get('/own/:kind', async (request, reply) => {
    reply.type('text/html; charset=utf-8')
    return attacks[(request.params as { kind: string }).kind]('')
  })
  // A page of the site whose own script sets a cookie (what a script injected into it
  // could do), then goes to the home page with what document.cookie showed it.
  app.get('/script-cookie', async (request, reply) => {
    const { cookie } = request.query as { cookie: string }
    reply.type('text/html; charset=utf-8')
    return `<!doctype html><meta charset="utf-8"><title>script</title>
<script>document.cookie = ${JSON.stringify(cookie).replace(/</g, '\\u003c')}; location.replace('/?script-saw=' + encodeURIComponent(document.cookie))</script>`
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  return app
}

const portOf = (server: { address: () => AddressInfo | string | null }): number => (server.address() as AddressInfo).port

// One engine per test process (each engine's .e2e.ts file): this module's state is that engine's.
let certificate: { key: Buffer, cert: Buffer }
let engine: Engine
let APP: string // https://app.example.test:PORT
let CONTROL: string // the same app with csrf off and the old default name
let ATTACKER_PORT: number
let HTTP_PORT: number
let mainApp: FastifyInstance
let controlApp: FastifyInstance
// The plugin's own choice of name for other cookie options: `__Http-session` with a
// Domain, `__Host-session` without HttpOnly (the old default's prefix).
let domainApp: FastifyInstance
let hostApp: FastifyInstance
let plant: string[] = []

/** The attacker signs in to the app as themself, now: a genuine token for their own account. */
async function attackerToken (app = mainApp): Promise<string> {
  const login = await app.inject({ method: 'POST', url: '/login', payload: { username: 'attacker', password: USERS.attacker, remember: 'on' } })
  const token = /session=([^;]+)/.exec(String(login.headers['set-cookie']))?.[1]
  if (token === undefined) throw new Error(`the attacker could not sign in: ${login.statusCode}`)
  return token
}

async function signIn (tab: Tab, base: string, name: string, remember = true): Promise<void> {
  await tab.goto(base + '/')
  await tab.fill('input[name=username]', name)
  await tab.fill('input[name=password]', USERS[name])
  await tab.setChecked('input[name=remember]', remember)
  await clickAndWait(tab, '#login button')
  await waitForPage(tab, 'the home page after signing in', (url) => url === base + '/')
}

/** Who the app says the browser is, from a fresh visit to its home page. */
async function who (tab: Tab, base = APP): Promise<string> {
  await tab.goto(base + '/')
  return await tab.text('#who') ?? ''
}

/** The cookie of that name the browser holds for the page it is on. */
async function sessionCookie (tab: Tab, name = COOKIE) {
  return (await tab.cookies()).find((c) => c.name === name)
}

/** The values of the cookie `name` in a Cookie header. */
const valuesIn = (header: string, name: string): string[] =>
  header.split(/;\s*/).filter((pair) => pair.startsWith(name + '=')).map((pair) => pair.slice(name.length + 1))

/** The main app's first GET / since `mark` (WebKit asks for /favicon.ico too). */
const homeRequest = (mark: number): Seen => seen.slice(mark).find((s) => s.app === 'app' && s.method === 'GET' && s.path === '/')!

/** GET /me from the test itself, no browser, over https with only this Cookie header: the user id the app answers with. */
async function fromOutside (base: string, cookie: string): Promise<string | null> {
  const { hostname, port, host } = new URL(base)
  return await new Promise((resolve, reject) => {
    const request = httpsRequest({ host: '127.0.0.1', port, path: '/me', servername: hostname, ca: certificate.cert, headers: { host, cookie } }, (response) => {
      let body = ''
      response.setEncoding('utf8').on('data', (chunk: string) => { body += chunk }).on('end', () => {
        if (response.statusCode === 200) resolve((JSON.parse(body) as { userId: string | null }).userId)
        else reject(new Error(`/me answered ${response.statusCode}: ${body}`))
      })
    })
    request.on('error', reject).end()
  })
}

/** Runs one attacker page and returns what the app saw of it. */
async function attack (tab: Tab, url: string, kind: string): Promise<Seen[]> {
  const mark = seen.length
  await openAttack(tab, url, kind, new URL(url).searchParams.get('target') ?? APP)
  return seen.slice(mark).filter((s) => s.method === 'POST')
}

const attackerOrigins = (): Array<[string, string]> => [
  ['another site', `https://evil.test:${ATTACKER_PORT}`],
  ['a sibling host', `https://evil.example.test:${ATTACKER_PORT}`]
]

export function safetyScenarios (t: Test, launch: Launch): void {
  t.before(async () => {
    certificate = selfSignedCertificate(t, ['app.example.test', '*.example.test', 'evil.test'])
    mainApp = await buildApp(t, 'app', {})
    APP = `https://app.example.test:${portOf(mainApp.server)}`
    controlApp = await buildApp(t, 'control', { csrf: false, cookieName: 'session' })
    CONTROL = `https://app.example.test:${portOf(controlApp.server)}`
    domainApp = await buildApp(t, 'domain', { cookie: { domain: 'example.test' } })
    hostApp = await buildApp(t, 'host', { cookie: { httpOnly: false } })
    // The attacker's pages over HTTPS, and a plain-http server that only plants cookies.
    ATTACKER_PORT = (await startAttacker(t, attacks, { tls: certificate, plant: () => plant })).port
    HTTP_PORT = (await startAttacker(t, {}, { plant: () => plant })).port
    engine = await launch(t, { insecureCerts: true })
  })
  t.test(`sign-out by default: ${COOKIE} stored and sent after the sign-in form, cleared by Sign out, and a copy taken before refused after it`, signOutByDefault)
  t.test('a page script on the site sets the session cookie, then navigates: stored and sent?', scriptSetsCookie)
  t.test('attacker pages on another site and on a sibling host: every form and fetch refused, the visitor stays themself', crossSite)
  t.test('the same forms from the app\'s own page work', ownForms)
  t.test('cookies planted by a sibling host or over plain http change nothing, before or after sign-out', planting)
  t.test('a renewal due on a publicly cacheable response waits for the next ordinary one', cacheable)
  t.test('remember me off: a browser-session cookie, and still one after a renewal', rememberMeOff)
  t.test('control: the same attacks succeed against csrf: false and the cookie name "session"', control)
}

async function crossSite (t: Test): Promise<void> {
  const tab = await engine.newTab(t)
  await signIn(tab, APP, 'visitor')
  const token = (await sessionCookie(tab))?.value
  t.ok(token, `the visitor signed in; the browser holds ${COOKIE}`)
  for (const [where, origin] of attackerOrigins()) {
    for (const kind of Object.keys(attacks)) {
      const posts = await attack(tab, `${origin}/${kind}?target=${encodeURIComponent(APP)}`, kind)
      for (const s of posts) t.comment(`${engine.name}, ${where} (${origin}), ${kind}: ${describe(s)}`)
      t.equal(posts.length, kind === 'fetch' ? 2 : 1, `${where}, ${kind}: the POSTs reached the app`)
      t.ok(posts.every((s) => s.status === 403), `${where}, ${kind}: refused with 403`)
      t.ok(posts.every((s) => s.setCookie.length === 0), `${where}, ${kind}: no Set-Cookie on the refusal`)
      t.equal(await who(tab), 'visitor', `${where}, ${kind}: still signed in as the visitor`)
      t.equal((await sessionCookie(tab))?.value, token, `${where}, ${kind}: the browser's cookie unchanged`)
    }
  }

  await clickAndWait(tab, '#logout button')
  t.equal(await who(tab), 'nobody', 'signed out by the app\'s own button')
  for (const [where, origin] of attackerOrigins()) {
    const posts = await attack(tab, `${origin}/login-form?target=${encodeURIComponent(APP)}`, 'login-form')
    t.comment(`${engine.name}, signed out, ${where}: ${posts.map(describe).join('; ')}`)
    t.ok(posts.length === 1 && posts[0].status === 403, `signed out, ${where}: the login form is refused`)
    t.equal(await who(tab), 'nobody', `signed out, ${where}: never signed in as the attacker`)
    t.equal(await sessionCookie(tab), undefined, `signed out, ${where}: no session cookie stored`)
  }
}

async function ownForms (t: Test): Promise<void> {
  const tab = await engine.newTab(t)
  await signIn(tab, APP, 'visitor')
  let posts = await attack(tab, `${APP}/own/logout-form?target=${encodeURIComponent(APP)}`, 'logout-form')
  t.comment(`${engine.name}, own page, logout form: ${posts.map(describe).join('; ')}`)
  t.ok(posts.length === 1 && posts[0].status === 303, 'the logout form posts with 303')
  t.equal(await who(tab), 'nobody', 'and signs out')
  t.equal(await sessionCookie(tab), undefined)

  posts = await attack(tab, `${APP}/own/login-form?target=${encodeURIComponent(APP)}`, 'login-form')
  t.comment(`${engine.name}, own page, login form: ${posts.map(describe).join('; ')}`)
  t.ok(posts.length === 1 && posts[0].status === 303, 'the login form posts with 303')
  t.equal(await who(tab), 'attacker', 'and signs in (as the account the form names)')

  const fetched = await tab.run<number>('return (await fetch(\'/logout\', { method: \'POST\' })).status')
  t.equal(fetched, 200, 'a same-origin fetch POST /logout passes (the redirect followed)')
  t.equal(await who(tab), 'nobody')
}

async function planting (t: Test): Promise<void> {
  const tab = await engine.newTab(t)
  await signIn(tab, APP, 'visitor')
  const token = (await sessionCookie(tab))?.value
  const planted = await attackerToken()
  // Plain http first: once a Secure cookie named "session" exists, browsers do not
  // let plain http set one of that name anyway.
  const plants: Array<[string, string, string[]]> = [
    ['plain http to the app\'s own host', `http://app.example.test:${HTTP_PORT}/plant`, [
      `session=${planted}; Path=/; SameSite=Lax`,
      `${COOKIE}=${planted}; Path=/; SameSite=Lax`,
      `${COOKIE}=${planted}; Path=/; Secure; SameSite=Lax`
    ]],
    ['a sibling host', `https://sub.example.test:${ATTACKER_PORT}/plant`, [
      `session=${planted}; Domain=example.test; Path=/; Secure; SameSite=Lax`,
      `__Secure-session=${planted}; Domain=example.test; Path=/; Secure; SameSite=Lax`,
      `${COOKIE}=${planted}; Domain=example.test; Path=/; Secure; SameSite=Lax`,
      `${COOKIE}=${planted}; Path=/; Secure; SameSite=Lax`
    ]]
  ]
  // Where the engine does not enforce cookie prefixes (engine.cookiePrefixes), the
  // sibling's __Host-Http-session for Domain=example.test is stored and sent beside the
  // visitor's own: two tokens of two users are no session (never the attacker's),
  // and once sign-out has cleared the visitor's own, the planted ones are all there is
  // (plain http can then plant a host-only one too).
  const expected = (phase: string, where: string): string => {
    if (engine.cookiePrefixes) return phase === 'signed in' ? 'visitor' : 'nobody'
    if (phase === 'signed in') return where === 'a sibling host' ? 'nobody' : 'visitor'
    return 'attacker'
  }
  const own = async (): Promise<string | undefined> => (await tab.cookies()).find((c) => c.name === COOKIE && !c.domain.startsWith('.'))?.value
  for (const phase of ['signed in', 'after sign-out']) {
    for (const [where, url, cookies] of plants) {
      plant = cookies
      await tab.goto(url)
      t.equal(await tab.url(), url, `${phase}, ${where}: the planting page loaded as ${new URL(url).protocol}`)
      const jar = await tab.cookies()
      const kept = jar.map((c) => `${c.name} (${c.domain})`)
      if (where !== 'a sibling host') {
        // Visible to a plain-http page: a __Host-Http-session without Secure, stored from plain http.
        const fromHttp = jar.some((c) => c.name === COOKIE)
        t.equal(fromHttp, phase === 'after sign-out' && !engine.cookiePrefixes, fromHttp
          ? `${phase}: ${engine.name} stores ${COOKIE} from plain http (no Secure): it does not enforce the __Host- prefix`
          : `${phase}: ${engine.name} stores no ${COOKIE} from plain http${phase === 'signed in' ? ' (a Secure one of that name exists)' : ''}`)
      } else {
        const tossed = jar.some((c) => c.name === COOKIE && c.domain === '.example.test')
        t.equal(tossed, !engine.cookiePrefixes, engine.cookiePrefixes
          ? `${phase}: ${engine.name} refuses ${COOKIE} with Domain=example.test (the __Host- prefix)`
          : `${phase}: ${engine.name} stores ${COOKIE} with Domain=example.test: it does not enforce the __Host- prefix`)
      }
      const seenAs = expected(phase, where)
      t.equal(await who(tab), seenAs, `${phase}, ${where}: the app sees ${seenAs}`)
      const sent = (await tab.cookies()).map((c) => `${c.name} (${c.domain})`)
      t.comment(`${engine.name}, ${phase}, ${where} set ${cookies.map((c) => c.split('=')[0] + (c.includes('Domain=') ? ' with Domain=example.test' : '') + (c.includes('Secure') ? ' Secure' : '')).join(', ')}; the jar now holds for that page: ${kept.join(', ') || 'nothing'}; and for the app: ${sent.join(', ') || 'nothing'}`)
      const ownExpected = phase === 'signed in' ? token : engine.cookiePrefixes ? undefined : planted
      t.equal(await own(), ownExpected, `${phase}, ${where}: the host-only ${COOKIE} the app gets is ${ownExpected === token ? 'the visitor\'s own' : ownExpected === undefined ? 'none' : 'the one plain http planted'}`)
    }
    if (phase === 'signed in') {
      await tab.goto(APP + '/')
      await tab.run('await fetch(\'/logout\', { method: \'POST\' })')
    }
  }
  const names = (await tab.cookies()).map((c) => c.name)
  t.ok(names.includes('session'), `the planted "session" cookies are in the jar (${names.join(', ')}), and ignored: not the plugin's name`)
}

async function cacheable (t: Test): Promise<void> {
  const tab = await engine.newTab(t)
  await signIn(tab, APP, 'visitor')
  const before = (await sessionCookie(tab))?.value
  offset += 16 * DAY_MS // more than half of the 30-day default ttl has passed
  const mark = seen.length
  await tab.goto(APP + '/public')
  const cached = seen.slice(mark).find((s) => s.path === '/public')!
  t.comment(`${engine.name}, renewal due, GET /public: Cache-Control ${cached.cacheControl}, Vary ${cached.vary}, Set-Cookie ${cached.setCookie.length === 0 ? 'none' : cached.setCookie.join(' | ')}`)
  t.match(cached.cacheControl, /public/, 'the route kept its public caching')
  t.same(cached.setCookie, [], 'no session Set-Cookie on the cacheable response')
  t.equal((await sessionCookie(tab))?.value, before, 'the browser\'s cookie is unchanged')

  const next = seen.length
  t.equal(await who(tab), 'visitor')
  const ordinary = seen.slice(next).find((s) => s.path === '/')!
  t.comment(`${engine.name}, then GET /: Cache-Control ${ordinary.cacheControl}, Set-Cookie ${ordinary.setCookie.map((c) => c.replace(/=[^;]+/, '=…')).join(' | ') || 'none'}`)
  t.equal(ordinary.setCookie.length, 1, 'the next ordinary response renews')
  t.match(ordinary.cacheControl, /no-store|private/, 'on a response no shared cache keeps')
  const after = (await sessionCookie(tab))?.value
  t.ok(after !== undefined && after !== before, 'the browser now holds the renewed token')
}

async function rememberMeOff (t: Test): Promise<void> {
  const tab = await engine.newTab(t)
  await signIn(tab, APP, 'visitor', false)
  const first = await sessionCookie(tab)
  t.comment(`${engine.name}, remember me off: ${COOKIE} expires ${first?.expires} (-1: a session cookie), Set-Cookie ${seen.filter((s) => s.path === '/login').at(-1)?.setCookie.map((c) => c.replace(/=[^;]+/, '=…')).join(' | ')}`)
  t.equal(first?.expires, -1, `${engine.name} stores a browser-session cookie: no Max-Age, no Expires`)

  offset += 16 * DAY_MS
  const mark = seen.length
  t.equal(await who(tab), 'visitor')
  const renewal = seen.slice(mark).find((s) => s.path === '/')!
  t.equal(renewal.setCookie.length, 1, 'the renewal was sent')
  t.notMatch(renewal.setCookie[0], /Max-Age|Expires/i, 'without Max-Age or Expires')
  const renewed = await sessionCookie(tab)
  t.ok(renewed !== undefined && renewed.value !== first?.value, 'the browser holds the renewed token')
  t.equal(renewed?.expires, -1, 'still a session cookie after the renewal')

  const other = await engine.newTab(t)
  const signedInAt = Date.now() / 1000
  await signIn(other, APP, 'visitor', true)
  const persistent = await sessionCookie(other)
  t.ok(persistent !== undefined && Math.abs(persistent.expires - (signedInAt + 30 * 86400)) < 60, `remember me on: a persistent cookie, expiring in ${Math.round(((persistent?.expires ?? 0) - signedInAt) / 86400)} days`)
}

async function control (t: Test): Promise<void> {
  const tab = await engine.newTab(t)
  await signIn(tab, CONTROL, 'visitor')
  const posts = await attack(tab, `https://evil.test:${ATTACKER_PORT}/login-form?target=${encodeURIComponent(CONTROL)}`, 'login-form')
  t.comment(`${engine.name}, control, another site, login form: ${posts.map(describe).join('; ')}`)
  t.equal(await who(tab, CONTROL), 'attacker', 'login CSRF: the visitor is now signed in as the attacker')

  await tab.run('await fetch(\'/logout\', { method: \'POST\' })')
  await signIn(tab, CONTROL, 'visitor')
  t.equal(await who(tab, CONTROL), 'visitor')
  plant = [`session=${await attackerToken(controlApp)}; Domain=example.test; Path=/; Secure; SameSite=Lax`]
  await tab.goto(`https://sub.example.test:${ATTACKER_PORT}/plant`)
  t.equal(await who(tab, CONTROL), 'nobody', 'a cookie planted by a sibling host locks the visitor out')
  await tab.run('await fetch(\'/logout\', { method: \'POST\' })')
  t.equal(await who(tab, CONTROL), 'attacker', 'and once the visitor signs out, the planted one signs them in as the attacker')
}

async function signOutByDefault (t: Test): Promise<void> {
  const tab = await engine.newTab(t)
  await signIn(tab, APP, 'visitor')
  const cookie = await sessionCookie(tab)
  t.comment(`${engine.name}, after the sign-in form the jar holds: ${JSON.stringify({ ...cookie, value: '…' })}`)
  t.match(cookie, { httpOnly: true, secure: true, path: '/' }, `the browser stored ${COOKIE} from the sign-in answer, Secure and HttpOnly`)
  t.notOk(cookie?.domain.startsWith('.'), 'host-only')
  const copy = cookie?.value ?? ''
  let mark = seen.length
  t.equal(await who(tab), 'visitor', 'signed in')
  t.same(valuesIn(homeRequest(mark).cookie, COOKIE), [copy], `the next request carried ${COOKIE}, the token stored (the app saw it)`)
  t.equal(await fromOutside(APP, `${COOKIE}=${copy}`), 'visitor', 'a copy of it, sent from the test with nothing else: the visitor')

  mark = seen.length
  await clickAndWait(tab, '#logout button')
  const signOut = seen.slice(mark).find((s) => s.method === 'POST' && s.path === '/logout')
  t.equal(signOut?.status, 303, 'Sign out answered 303')
  t.match(signOut?.setCookie.join('\n'), new RegExp(`^${COOKIE}=;.*Max-Age=0`), `and cleared ${COOKIE}`)
  t.equal(await sessionCookie(tab), undefined, 'the browser dropped it')
  mark = seen.length
  t.equal(await who(tab), 'nobody', 'signed out')
  t.same(valuesIn(homeRequest(mark).cookie, COOKIE), [], `the next request carried no ${COOKIE}`)
  t.equal(await fromOutside(APP, `${COOKIE}=${copy}`), null, 'the copy taken before Sign out, replayed from the test: refused (revocation is on by default)')
}

async function scriptSetsCookie (t: Test): Promise<void> {
  const { refused, required } = engine.httpPrefixFromScript
  const cases: Array<[name: string, app: FastifyInstance, appName: string, attributes: string, httpPrefix: boolean]> = [
    [COOKIE, mainApp, 'app', 'Secure; Path=/', true],
    ['__Http-session', domainApp, 'domain', 'Domain=example.test; Secure; Path=/', true],
    ['__Host-session', hostApp, 'host', 'Secure; Path=/', false]
  ]
  for (const [name, app, appName, attributes, httpPrefix] of cases) {
    const expectRefused = httpPrefix && refused
    const status = !httpPrefix ? 'the old default, for contrast: a script may set it' : required ? 'refusal required' : 'recorded, not required'
    t.test(`${name} (${status})`, async (t) => {
      const base = `https://app.example.test:${portOf(app.server)}`
      const tab = await engine.newTab(t)
      // The app's own cookie of that name first: the engine takes it from the server.
      await signIn(tab, base, 'visitor')
      const own = await sessionCookie(tab, name)
      t.ok(own !== undefined && own.httpOnly === httpPrefix, `the app's sign-in sets ${name}${httpPrefix ? ' (HttpOnly)' : ' (not HttpOnly)'}, and ${engine.name} stores it`)
      await clickAndWait(tab, '#logout button')
      t.equal(await sessionCookie(tab, name), undefined, 'signed out: no cookie')

      const planted = await attackerToken(app)
      const set = `${name}=${planted}; ${attributes}`
      const mark = seen.length
      await tab.goto(`${base}/script-cookie?cookie=${encodeURIComponent(set)}`)
      await waitForPage(tab, 'the script to go on to the home page', (url) => url.startsWith(`${base}/?script-saw=`))
      const landed = seen.slice(mark).find((s) => s.app === appName && s.path.startsWith('/?script-saw='))!
      const scriptSaw = new URL(landed.path, base).searchParams.get('script-saw') ?? ''
      const stored = (await tab.cookies()).some((c) => c.name === name && c.value === planted)
      const sent = valuesIn(landed.cookie, name).includes(planted)
      const seenAs = await tab.text('#who')
      t.comment(`${engine.name}: a page script set "${name}=<the attacker's token>; ${attributes}"; document.cookie then showed it: ${scriptSaw.includes(name + '=')}; stored: ${stored}; sent on the next request: ${sent}; the app saw: ${seenAs}`)
      const verb = expectRefused ? 'refuses' : 'takes'
      t.equal(stored, !expectRefused, `${engine.name} ${verb} it: ${expectRefused ? 'not stored' : 'stored'}`)
      t.equal(sent, !expectRefused, expectRefused ? 'not sent' : 'sent on the next request')
      t.equal(scriptSaw.includes(name + '='), !expectRefused, expectRefused ? 'nor shown to the script' : 'and shown to the script')
      t.equal(seenAs, expectRefused ? 'nobody' : 'attacker', expectRefused ? 'the visitor stays signed out' : 'the visitor is now signed in as the attacker')
    })
  }
}
