// `npm run test:e2e`: the demo in a real headless Chromium (Debian's), driven by
// playwright-core: the flows a person follows, the browser's own cookie rules, and
// an attacker's pages on other hosts. The demo is plain http, reached as
// http://app.example.test:PORT (mapped to 127.0.0.1 by the browser).
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import t, { type Test } from 'tap'
import type { Browser, BrowserContext, Page, Request } from 'playwright-core'
import { startDemo } from '../demo/process.js'
import { root } from '../paths.js'
import { fetchPage, formPage, startAttacker, type Attacks } from './attacker.js'
import { HOST_RULES, launchChromium } from './chromium.js'

const SECRET = randomBytes(32).toString('hex')
const PASSWORD = 'correct horse battery'
const ATTACKER_PASSWORD = 'attacker-password'
// Written to the ignored output folder, so a test run leaves the tree clean; the
// README's copy (example/signed-in.png) is refreshed from it by hand.
const output = new URL('test/e2e/output/', root)
const screenshot = new URL('signed-in.png', output)

let browser: Browser
t.before(async () => { browser = await launchChromium(t, [HOST_RULES]) })

/** The demo with a fresh database (startDemo's own); its address under the name the browser uses. */
async function openDemo (t: Test, env: Record<string, string> = {}) {
  const demo = await startDemo(t, { SECRET_KEY: SECRET, ...env })
  return { demo, base: `http://app.example.test:${demo.port}` }
}

async function newPage (t: Test): Promise<{ context: BrowserContext, page: Page }> {
  const context = await browser.newContext()
  context.setDefaultTimeout(10_000)
  t.teardown(() => context.close())
  return { context, page: await context.newPage() }
}

async function submit (page: Page, base: string, form: 'register' | 'login', name: string, password = PASSWORD): Promise<number> {
  if (await page.locator(`#${form}-name`).count() === 0) await page.goto(base + '/')
  await page.fill(`#${form}-name`, name)
  await page.fill(`#${form}-password`, password)
  const [response] = await Promise.all([page.waitForNavigation(), page.click(`#${form} button`)])
  return response?.status() ?? 0
}

/** The name the demo shows on a fresh visit to its home page, or 'signed out'. */
async function who (page: Page, base: string): Promise<string> {
  await page.goto(base + '/')
  if (await page.locator('#name').count() === 0) return 'signed out'
  return (await page.locator('#name').textContent()) ?? ''
}

const seconds = async (page: Page, id: string): Promise<number> => Number(await page.locator(`#${id}`).getAttribute('data-seconds'))
const sessionCookie = async (context: BrowserContext, base: string) => (await context.cookies(base)).find((c) => c.name === 'session')

t.test('register, see the session times, stay signed in, call /me, sign out, sign in again', async (t) => {
  const { base } = await openDemo(t)
  const { context, page } = await newPage(t)
  await page.goto(base + '/')
  t.equal(await page.locator('#status').textContent(), 'Signed out.', 'signed out: the sign-in and register forms')

  const registeredAt = Date.now() / 1000
  t.equal(await submit(page, base, 'register', 'Ada Lovelace'), 200, 'register, then the redirect to the home page')
  t.equal(await page.locator('#name').textContent(), 'Ada Lovelace', 'signed in as the new account')
  const issued = await seconds(page, 'issued-at')
  const expires = await seconds(page, 'expires-at')
  const latest = await seconds(page, 'absolute-end')
  t.ok(Math.abs(issued - registeredAt) < 5, 'the page shows when the session started')
  t.equal(expires - issued, 1800, 'and when it ends: the 30-minute idle time')
  t.equal(latest - issued, 43200, 'and the latest it can last: 12 hours')

  await page.reload()
  t.equal(await page.locator('#name').textContent(), 'Ada Lovelace', 'still signed in after a reload')
  t.notMatch(await page.evaluate(() => document.cookie), /session=/, 'page scripts cannot see the session cookie (HttpOnly)')
  const cookie = await sessionCookie(context, base)
  t.match(cookie, { httpOnly: true, sameSite: 'Lax', path: '/', secure: false, domain: 'app.example.test' }, 'a host-only cookie named "session" (plain http: no __Host- prefix)')
  t.ok(cookie !== undefined && Math.abs(cookie.expires - (registeredAt + 1800)) < 60, `the browser keeps it for the idle time (${Math.round((cookie?.expires ?? 0) - registeredAt)} s)`)

  // The demo's pages allow no scripts (CSP), so the browser opens /me itself.
  const me = await (await page.goto(base + '/me'))?.json()
  t.match(me, { name: 'Ada Lovelace', userId: /^\d+$/ }, 'GET /me: the account id and name')
  await page.goto(base + '/')

  await page.setViewportSize({ width: 760, height: 640 })
  mkdirSync(output, { recursive: true })
  await page.screenshot({ path: screenshot.pathname, fullPage: true })
  t.pass('screenshot of the signed-in page saved to test/e2e/output/signed-in.png')

  await Promise.all([page.waitForNavigation(), page.click('#sign-out')])
  t.equal(await page.locator('#status').textContent(), 'Signed out.', 'Sign out: the forms again')
  t.equal(await sessionCookie(context, base), undefined, 'the cookie is gone from the browser')
  t.equal((await page.goto(base + '/me'))?.status(), 401, 'and /me answers 401')
  await page.goto(base + '/')

  t.equal(await submit(page, base, 'login', 'Ada Lovelace'), 200, 'sign in with the password')
  t.equal(await page.locator('#name').textContent(), 'Ada Lovelace', 'signed in again')
})

t.test('a wrong password shows the form again with an error, and signs nobody in', async (t) => {
  const { base } = await openDemo(t)
  const { page: first } = await newPage(t)
  await submit(first, base, 'register', 'Grace Hopper')
  const { context, page } = await newPage(t)
  t.equal(await submit(page, base, 'login', 'Grace Hopper', 'not the password'), 401, 'answered 401')
  t.equal(await page.locator('#error').textContent(), 'Wrong name or password.', 'the error on the page')
  t.equal(await page.locator('#login-name').inputValue(), 'Grace Hopper', 'the name kept in the form')
  t.equal(await sessionCookie(context, base), undefined, 'no cookie')
  t.equal(await submit(page, base, 'login', 'Nobody Here', 'not the password'), 401, 'an unknown name: the same answer')
  t.equal(await page.locator('#error').textContent(), 'Wrong name or password.')
  t.equal(await who(page, base), 'signed out')
})

t.test('two browsers as one user: Sign out everywhere in one signs the other out at its next request', async (t) => {
  const { base } = await openDemo(t)
  const { context: laptop, page: onLaptop } = await newPage(t)
  const { context: phone, page: onPhone } = await newPage(t)
  await submit(onLaptop, base, 'register', 'Ada')
  await submit(onPhone, base, 'login', 'Ada')
  t.equal(await who(onLaptop, base), 'Ada', 'signed in on the laptop')
  t.equal(await who(onPhone, base), 'Ada', 'and on the phone')

  await Promise.all([onLaptop.waitForNavigation(), onLaptop.click('#sign-out-everywhere')])
  t.match(await onLaptop.locator('#notice').textContent(), /Signed out everywhere/, 'the laptop says so')
  t.equal(await sessionCookie(laptop, base), undefined, 'the laptop\'s cookie is gone')
  t.ok(await sessionCookie(phone, base), 'the phone still holds its cookie')
  t.equal(await who(onPhone, base), 'signed out', 'the phone\'s next request: signed out')
  t.equal((await onPhone.goto(base + '/me'))?.status(), 401, 'and /me refuses it')

  await submit(onPhone, base, 'login', 'Ada')
  t.equal(await who(onPhone, base), 'Ada', 'signing in again works')
  t.equal(await who(onLaptop, base), 'signed out', 'the laptop stays signed out')
})

t.test('idle for the ttl the session ends; active, it keeps renewing', async (t) => {
  const ttl = 4
  const { base } = await openDemo(t, { SESSION_TTL: String(ttl) })
  const { context, page } = await newPage(t)
  await submit(page, base, 'register', 'Active')
  const firstEnd = await seconds(page, 'expires-at')
  // Active: a visit every half second for longer than the ttl.
  const started = Date.now()
  let visits = 0
  while (Date.now() - started < (ttl + 2) * 1000) {
    await page.waitForTimeout(500)
    await page.reload()
    visits++
    if (await page.locator('#name').count() === 0) break
  }
  t.equal(await page.locator('#name').textContent(), 'Active', `still signed in after ${visits} visits over ${((Date.now() - started) / 1000).toFixed(1)} s, longer than the ${ttl} s ttl`)
  const laterEnd = await seconds(page, 'expires-at')
  t.ok(laterEnd > firstEnd + 1, `the end moved on: ${laterEnd - firstEnd} s later than at sign-in (rolling renewal)`)

  // Idle: no request until the browser drops the cookie (bounded), then one.
  const idleFrom = Date.now()
  while (await sessionCookie(context, base) !== undefined) {
    if (Date.now() - idleFrom > (ttl + 2) * 1000) throw new Error('the browser kept the cookie past its Max-Age')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const dropped = (Date.now() - idleFrom) / 1000
  t.ok(dropped <= ttl + 0.5, `idle, the browser dropped the cookie after ${dropped.toFixed(1)} s`)
  t.equal(await who(page, base), 'signed out', 'and the next visit is signed out')
})

t.test('attacker pages on another site and on a sibling host, against the demo: refused, the visitor stays signed in', async (t) => {
  const { demo, base } = await openDemo(t, { LOG_LEVEL: 'info' })
  // What the plugin logged for each refusal (at info, with its reason).
  const refusals = (): string[] => demo.output().split('\n').filter((l) => l.includes('cross-origin request refused')).map((l) => String(JSON.parse(l).reason))
  // The attacker has an account of their own.
  const mine = await fetch(demo.base + '/register', { method: 'POST', redirect: 'manual', body: new URLSearchParams({ name: 'mallory', password: ATTACKER_PASSWORD }) })
  t.equal(mine.status, 303, 'the attacker registered (a request with no Origin: not a browser, allowed)')
  const attacks: Attacks = {
    'login-form': (target) => formPage(`${target}/login`, { name: 'mallory', password: ATTACKER_PASSWORD }),
    'logout-form': (target) => formPage(`${target}/logout`),
    'logout-everywhere-form': (target) => formPage(`${target}/logout-everywhere`),
    fetch: (target) => fetchPage(target, [['/logout', {}], ['/logout-everywhere', {}], ['/login', { name: 'mallory', password: ATTACKER_PASSWORD }]])
  }
  const attacker = await startAttacker(t, attacks)
  const { context, page } = await newPage(t)
  const posts: Request[] = []
  context.on('request', (request) => { if (request.method() === 'POST' && request.url().startsWith(base)) posts.push(request) })
  const describe = async (request: Request): Promise<string> => {
    // As the browser reports them; for fetch() it leaves out what its network stack adds (Origin).
    const headers = await request.allHeaders()
    const status = (await request.response())?.status() ?? 'no answer'
    return `POST ${new URL(request.url()).pathname}, Origin ${headers.origin ?? '(not reported)'}, Sec-Fetch-Site ${headers['sec-fetch-site'] ?? 'none sent'}, session cookie ${/(^|; )session=/.test(headers.cookie ?? '') ? 'sent' : 'not reported'}: ${status}`
  }
  const run = async (url: string, kind: string): Promise<{ sent: Request[], reasons: string[] }> => {
    const mark = posts.length
    const logged = refusals().length
    if (kind === 'fetch') {
      await page.goto(url)
      await page.waitForFunction(() => document.title === 'done')
    } else {
      await Promise.all([page.waitForURL((u) => u.href.startsWith(base)), page.goto(url)])
    }
    const sent = posts.slice(mark)
    await Promise.all(sent.map((r) => r.response()))
    // The demo's log lines arrive through a pipe: give them a moment (bounded).
    for (let i = 0; i < 20 && refusals().length - logged < sent.length; i++) await new Promise((resolve) => setTimeout(resolve, 50))
    return { sent, reasons: refusals().slice(logged) }
  }

  await submit(page, base, 'register', 'Visitor')
  const token = (await sessionCookie(context, base))?.value
  const origins: Array<[string, string]> = [['another site', `http://evil.test:${attacker.port}`], ['a sibling host', `http://evil.example.test:${attacker.port}`]]
  let attempts = 0
  for (const [where, origin] of origins) {
    for (const kind of Object.keys(attacks)) {
      const { sent, reasons } = await run(`${origin}/${kind}?target=${encodeURIComponent(base)}`, kind)
      attempts += sent.length
      for (const r of sent) t.comment(`${where}, ${kind}: ${await describe(r)}`)
      t.comment(`${where}, ${kind}: the plugin logged ${reasons.length} refusal(s): ${[...new Set(reasons)].join('; ')}`)
      const statuses = await Promise.all(sent.map(async (r) => (await r.response())?.status()))
      t.ok(statuses.length > 0 && statuses.every((s) => s === 403), `${where}, ${kind}: ${statuses.length} POST(s), all refused with 403`)
      t.equal(await who(page, base), 'Visitor', `${where}, ${kind}: still signed in as the visitor`)
      t.equal((await sessionCookie(context, base))?.value, token, `${where}, ${kind}: the same cookie`)
    }
  }
  t.comment(`${attempts} cross-origin POSTs to the demo, all refused`)

  await Promise.all([page.waitForNavigation(), page.click('#sign-out')])
  for (const [where, origin] of origins) {
    const { sent } = await run(`${origin}/login-form?target=${encodeURIComponent(base)}`, 'login-form')
    t.equal((await sent[0]?.response())?.status(), 403, `signed out, ${where}: the login form is refused`)
    t.equal(await who(page, base), 'signed out', `signed out, ${where}: never signed in as the attacker`)
  }
  t.equal(await submit(page, base, 'login', 'Visitor'), 200, 'the demo\'s own sign-in form still works')
  t.equal(await who(page, base), 'Visitor')
})
