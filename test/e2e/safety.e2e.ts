// `npm run test:e2e`: the browser-side safety of the plugin's defaults, in Debian's
// Chromium over HTTPS (a certificate made by the test). Names map to 127.0.0.1:
// app.example.test is the app; sub. and evil.example.test are the same site but other
// origins; evil.test is another site. The attacker pages are served by a second
// server, so their origin differs from the app's also by port.
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import formbody from '@fastify/formbody'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import sessions from 'fastify-dbbasic-sessions'
import { fetchPage, formPage, startAttacker, type Attacks } from './attacker.js'
import { HOST_RULES, launchChromium } from './chromium.js'
import { selfSignedCertificate } from './tls.js'

const SECRET = randomBytes(32).toString('hex')
const DAY_MS = 86_400_000
const COOKIE = '__Host-session'
const USERS: Record<string, string> = { visitor: 'visitor-password', attacker: 'attacker-password' }

// The server's clock runs `offset` ms ahead of the browser's: renewals come due
// without waiting. The browser keeps its own time, and Max-Age is relative.
let offset = 0

interface Seen { app: string, host: string, method: string, url: string, status: number, site: string, origin: string, sentSession: boolean, setCookie: string[], cacheControl: string, vary: string }
const seen: Seen[] = []

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const attacks: Attacks = {
  'login-form': (target) => formPage(`${target}/login`, { username: 'attacker', password: USERS.attacker, remember: 'on' }),
  'logout-form': (target) => formPage(`${target}/logout`),
  fetch: (target) => fetchPage(target, [['/logout', {}], ['/login', { username: 'attacker', password: USERS.attacker }]])
}

/** The app under test: the plugin's default options, plus rolling and a clock the test moves. */
async function buildApp (name: string, extra: Record<string, unknown>): Promise<FastifyInstance> {
  const { key, cert } = certificate
  const app = Fastify({ https: { key, cert } })
  app.addHook('onResponse', async (request, reply) => {
    const setCookie = reply.getHeader('set-cookie')
    seen.push({
      app: name,
      host: String(request.headers.host),
      method: request.method,
      url: request.url,
      status: reply.statusCode,
      site: String(request.headers['sec-fetch-site'] ?? '-'),
      origin: String(request.headers.origin ?? '-'),
      sentSession: /(^|;\s*)(__Host-)?session=/.test(request.headers.cookie ?? ''),
      setCookie: setCookie === undefined ? [] : ([] as string[]).concat(setCookie as string | string[]),
      cacheControl: String(reply.getHeader('cache-control') ?? '-'),
      vary: String(reply.getHeader('vary') ?? '-')
    })
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
    reply.createSession(username, { persistent: remember === 'on' })
    return reply.redirect('/', 303)
  })
  app.post('/logout', async (_request, reply) => reply.destroySession().redirect('/', 303))
  app.get('/me', async (request) => ({ userId: request.session.userId }))
  app.get('/public', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=86400').type('text/html; charset=utf-8')
    return '<!doctype html><title>public</title><p>The same for everyone.</p>'
  })
  // The attacker's exact pages, served by the app itself: same-origin, they must work.
  app.get('/own/:kind', async (request, reply) => {
    reply.type('text/html; charset=utf-8')
    return attacks[(request.params as { kind: string }).kind]('')
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  return app
}

const portOf = (server: { address: () => AddressInfo | string | null }): number => (server.address() as AddressInfo).port

let certificate: { key: Buffer, cert: Buffer }
let browser: Browser
let APP: string // https://app.example.test:PORT
let CONTROL: string // the same app with csrf off and the old default name
let ATTACKER_PORT: number
let HTTP_PORT: number
let mainApp: FastifyInstance
let controlApp: FastifyInstance
let plant: string[] = []

t.before(async () => {
  certificate = selfSignedCertificate(t, ['app.example.test', '*.example.test', 'evil.test'])
  mainApp = await buildApp('app', {})
  APP = `https://app.example.test:${portOf(mainApp.server)}`
  controlApp = await buildApp('control', { csrf: false, cookieName: 'session' })
  CONTROL = `https://app.example.test:${portOf(controlApp.server)}`

  // The attacker's pages over HTTPS, and a plain-http server that only plants cookies.
  ATTACKER_PORT = (await startAttacker(t, attacks, { tls: certificate, plant: () => plant })).port
  HTTP_PORT = (await startAttacker(t, {}, { plant: () => plant })).port

  browser = await launchChromium(t, ['--ignore-certificate-errors', HOST_RULES])
})

/** The attacker signs in to the app as themself, now: a genuine token for their own account. */
async function attackerToken (app = mainApp): Promise<string> {
  const login = await app.inject({ method: 'POST', url: '/login', payload: { username: 'attacker', password: USERS.attacker, remember: 'on' } })
  const token = /session=([^;]+)/.exec(String(login.headers['set-cookie']))?.[1]
  if (token === undefined) throw new Error(`the attacker could not sign in: ${login.statusCode}`)
  return token
}

async function newPage (t: Test): Promise<{ context: BrowserContext, page: Page }> {
  const context = await browser.newContext()
  context.setDefaultTimeout(10_000)
  t.teardown(() => context.close())
  return { context, page: await context.newPage() }
}

async function signIn (page: Page, base: string, name: string, remember = true): Promise<void> {
  await page.goto(base + '/')
  await page.fill('input[name=username]', name)
  await page.fill('input[name=password]', USERS[name])
  await page.setChecked('input[name=remember]', remember)
  await Promise.all([page.waitForURL(base + '/'), page.click('#login button')])
}

/** Who the app says the browser is, from a fresh visit to its home page. */
async function who (page: Page, base = APP): Promise<string> {
  await page.goto(base + '/')
  return (await page.locator('#who').textContent()) ?? ''
}

async function sessionCookie (context: BrowserContext, base = APP, name = COOKIE) {
  return (await context.cookies(base)).find((c) => c.name === name)
}

const describe = (s: Seen): string =>
  `${s.method} ${s.url} from ${s.site === '-' ? 'no Sec-Fetch-Site' : `Sec-Fetch-Site ${s.site}`}, Origin ${s.origin}, session cookie ${s.sentSession ? 'sent' : 'not sent'}: ${s.status}`

/** Runs one attacker page and returns what the app saw of it. */
async function attack (page: Page, url: string, kind: string): Promise<Seen[]> {
  const mark = seen.length
  if (kind === 'fetch') {
    await page.goto(url)
    await page.waitForFunction(() => document.title === 'done', undefined, { timeout: 10_000 })
  } else {
    const target = new URL(url).searchParams.get('target') ?? APP
    await Promise.all([page.waitForURL((u) => u.href.startsWith(target), { timeout: 10_000 }), page.goto(url)])
  }
  return seen.slice(mark).filter((s) => s.method === 'POST')
}

const attackerOrigins = (): Array<[string, string]> => [
  ['another site', `https://evil.test:${ATTACKER_PORT}`],
  ['a sibling host', `https://evil.example.test:${ATTACKER_PORT}`]
]

t.test('attacker pages on another site and on a sibling host: every form and fetch refused, the visitor stays themself', async (t) => {
  const { context, page } = await newPage(t)
  await signIn(page, APP, 'visitor')
  const token = (await sessionCookie(context))?.value
  t.ok(token, `the visitor signed in; the browser holds ${COOKIE}`)
  for (const [where, origin] of attackerOrigins()) {
    for (const kind of Object.keys(attacks)) {
      const posts = await attack(page, `${origin}/${kind}?target=${encodeURIComponent(APP)}`, kind)
      for (const s of posts) t.comment(`${where} (${origin}), ${kind}: ${describe(s)}`)
      t.equal(posts.length, kind === 'fetch' ? 2 : 1, `${where}, ${kind}: the POSTs reached the app`)
      t.ok(posts.every((s) => s.status === 403), `${where}, ${kind}: refused with 403`)
      t.ok(posts.every((s) => s.setCookie.length === 0), `${where}, ${kind}: no Set-Cookie on the refusal`)
      t.equal(await who(page), 'visitor', `${where}, ${kind}: still signed in as the visitor`)
      t.equal((await sessionCookie(context))?.value, token, `${where}, ${kind}: the browser's cookie unchanged`)
    }
  }

  await Promise.all([page.waitForURL(APP + '/'), page.click('#logout button')])
  t.equal(await who(page), 'nobody', 'signed out by the app\'s own button')
  for (const [where, origin] of attackerOrigins()) {
    const posts = await attack(page, `${origin}/login-form?target=${encodeURIComponent(APP)}`, 'login-form')
    t.comment(`signed out, ${where}: ${posts.map(describe).join('; ')}`)
    t.ok(posts.length === 1 && posts[0].status === 403, `signed out, ${where}: the login form is refused`)
    t.equal(await who(page), 'nobody', `signed out, ${where}: never signed in as the attacker`)
    t.equal(await sessionCookie(context), undefined, `signed out, ${where}: no session cookie stored`)
  }
})

t.test('the same forms from the app\'s own page work', async (t) => {
  const { context, page } = await newPage(t)
  await signIn(page, APP, 'visitor')
  let posts = await attack(page, `${APP}/own/logout-form?target=${encodeURIComponent(APP)}`, 'logout-form')
  t.comment(`own page, logout form: ${posts.map(describe).join('; ')}`)
  t.ok(posts.length === 1 && posts[0].status === 303, 'the logout form posts with 303')
  t.equal(await who(page), 'nobody', 'and signs out')
  t.equal(await sessionCookie(context), undefined)

  posts = await attack(page, `${APP}/own/login-form?target=${encodeURIComponent(APP)}`, 'login-form')
  t.comment(`own page, login form: ${posts.map(describe).join('; ')}`)
  t.ok(posts.length === 1 && posts[0].status === 303, 'the login form posts with 303')
  t.equal(await who(page), 'attacker', 'and signs in (as the account the form names)')

  const fetched = await page.evaluate(async () => (await fetch('/logout', { method: 'POST' })).status)
  t.equal(fetched, 200, 'a same-origin fetch POST /logout passes (the redirect followed)')
  t.equal(await who(page), 'nobody')
})

t.test('cookies planted by a sibling host or over plain http change nothing, before or after sign-out', async (t) => {
  const { context, page } = await newPage(t)
  await signIn(page, APP, 'visitor')
  const token = (await sessionCookie(context))?.value
  const planted = await attackerToken()
  // Plain http first: once a Secure cookie named "session" exists, Chromium would
  // not let plain http set one of that name anyway.
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
  for (const phase of ['signed in', 'after sign-out']) {
    for (const [where, url, cookies] of plants) {
      plant = cookies
      const response = await page.goto(url)
      t.equal(response?.url(), url, `${phase}, ${where}: the planting page loaded as ${new URL(url).protocol} (${response?.status()})`)
      const kept = (await context.cookies(url)).map((c) => `${c.name} (${c.domain})`)
      const sent = (await context.cookies(APP)).map((c) => `${c.name} (${c.domain})`)
      t.comment(`${phase}, ${where} set ${cookies.map((c) => c.split('=')[0] + (c.includes('Domain=') ? ' with Domain=example.test' : '') + (c.includes('Secure') ? ' Secure' : '')).join(', ')}; the jar now holds for that page: ${kept.join(', ') || 'nothing'}; and would send the app: ${sent.join(', ') || 'nothing'}`)
      const expected = phase === 'signed in' ? 'visitor' : 'nobody'
      t.equal(await who(page), expected, `${phase}, ${where}: the app sees ${expected}`)
      t.equal((await sessionCookie(context))?.value, phase === 'signed in' ? token : undefined, `${phase}, ${where}: the ${COOKIE} the app reads is the visitor's own${phase === 'signed in' ? '' : ' (none)'}`)
    }
    if (phase === 'signed in') {
      await page.goto(APP + '/')
      await Promise.all([page.waitForURL(APP + '/'), page.click('#logout button')])
    }
  }
  const names = (await context.cookies(APP)).map((c) => c.name)
  t.ok(names.includes('session') && !names.includes(COOKIE), `the planted "session" cookies are in the jar (${names.join(', ')}), and ignored`)
})

t.test('a renewal due on a publicly cacheable response waits for the next ordinary one', async (t) => {
  const { context, page } = await newPage(t)
  await signIn(page, APP, 'visitor')
  const before = (await sessionCookie(context))?.value
  offset += 16 * DAY_MS // more than half of the 30-day default ttl has passed
  const mark = seen.length
  await page.goto(APP + '/public')
  const cached = seen.slice(mark).find((s) => s.url === '/public')!
  t.comment(`renewal due, GET /public: Cache-Control ${cached.cacheControl}, Vary ${cached.vary}, Set-Cookie ${cached.setCookie.length === 0 ? 'none' : cached.setCookie.join(' | ')}`)
  t.match(cached.cacheControl, /public/, 'the route kept its public caching')
  t.same(cached.setCookie, [], 'no session Set-Cookie on the cacheable response')
  t.equal((await sessionCookie(context))?.value, before, 'the browser\'s cookie is unchanged')

  const next = seen.length
  t.equal(await who(page), 'visitor')
  const ordinary = seen.slice(next).find((s) => s.url === '/')!
  t.comment(`then GET /: Cache-Control ${ordinary.cacheControl}, Set-Cookie ${ordinary.setCookie.map((c) => c.replace(/=[^;]+/, '=…')).join(' | ') || 'none'}`)
  t.equal(ordinary.setCookie.length, 1, 'the next ordinary response renews')
  t.match(ordinary.cacheControl, /no-store|private/, 'on a response no shared cache keeps')
  const after = (await sessionCookie(context))?.value
  t.ok(after !== undefined && after !== before, 'the browser now holds the renewed token')
})

t.test('remember me off: a browser-session cookie, and still one after a renewal', async (t) => {
  const { context, page } = await newPage(t)
  await signIn(page, APP, 'visitor', false)
  const first = await sessionCookie(context)
  t.comment(`remember me off: ${COOKIE} expires ${first?.expires} (-1: a session cookie), Set-Cookie ${seen.filter((s) => s.url === '/login').at(-1)?.setCookie.map((c) => c.replace(/=[^;]+/, '=…')).join(' | ')}`)
  t.equal(first?.expires, -1, 'Chromium stores a session cookie: no Max-Age, no Expires')

  offset += 16 * DAY_MS
  const mark = seen.length
  t.equal(await who(page), 'visitor')
  const renewal = seen.slice(mark).find((s) => s.url === '/')!
  t.equal(renewal.setCookie.length, 1, 'the renewal was sent')
  t.notMatch(renewal.setCookie[0], /Max-Age|Expires/i, 'without Max-Age or Expires')
  const renewed = await sessionCookie(context)
  t.ok(renewed !== undefined && renewed.value !== first?.value, 'the browser holds the renewed token')
  t.equal(renewed?.expires, -1, 'still a session cookie after the renewal')

  const { context: other, page: otherPage } = await newPage(t)
  const signedInAt = Date.now() / 1000
  await signIn(otherPage, APP, 'visitor', true)
  const persistent = await sessionCookie(other)
  t.ok(persistent !== undefined && Math.abs(persistent.expires - (signedInAt + 30 * 86400)) < 60, `remember me on: a persistent cookie, expiring in ${Math.round(((persistent?.expires ?? 0) - signedInAt) / 86400)} days`)
})

t.test('control: the same attacks succeed against csrf: false and the cookie name "session"', async (t) => {
  const { page } = await newPage(t)
  await signIn(page, CONTROL, 'visitor')
  const posts = await attack(page, `https://evil.test:${ATTACKER_PORT}/login-form?target=${encodeURIComponent(CONTROL)}`, 'login-form')
  t.comment(`control, another site, login form: ${posts.map(describe).join('; ')}`)
  t.equal(await who(page, CONTROL), 'attacker', 'login CSRF: the visitor is now signed in as the attacker')

  await page.evaluate(async () => { await fetch('/logout', { method: 'POST' }) })
  await signIn(page, CONTROL, 'visitor')
  t.equal(await who(page, CONTROL), 'visitor')
  plant = [`session=${await attackerToken(controlApp)}; Domain=example.test; Path=/; Secure; SameSite=Lax`]
  await page.goto(`https://sub.example.test:${ATTACKER_PORT}/plant`)
  t.equal(await who(page, CONTROL), 'nobody', 'a cookie planted by a sibling host locks the visitor out')
  await page.evaluate(async () => { await fetch('/logout', { method: 'POST' }) })
  t.equal(await who(page, CONTROL), 'attacker', 'and once the visitor signs out, the planted one signs them in as the attacker')
})
