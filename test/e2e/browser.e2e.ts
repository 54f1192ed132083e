// `npm run test:e2e`: the demo in a real headless Chromium (Debian's), driven by
// playwright-core: the flow a person follows, and the browser's own cookie rules.
import { existsSync, mkdirSync } from 'node:fs'
import t, { type Test } from 'tap'
import { chromium, type Browser } from 'playwright-core'
import { startDemo } from '../demo-process.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const SECRET = 'e2e-secret-0123456789abcdef0123456789abcdef'
const output = new URL('./output/', import.meta.url)

let browser: Browser
t.before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`)
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root in a container there is no sandbox to use; the rest keeps Chromium off the network.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
})
t.teardown(() => browser?.close())

/** The demo with this ttl, a fresh browser context on its home page, and a way to sign in there. */
async function openDemo (t: Test, ttl: number) {
  const demo = await startDemo(t, { SECRET_KEY: SECRET, SESSION_TTL: String(ttl) })
  const context = await browser.newContext()
  t.teardown(() => context.close())
  const page = await context.newPage()
  await page.goto(demo.base + '/')
  const signIn = async (name: string): Promise<void> => {
    await page.fill('#username', name)
    await Promise.all([page.waitForURL(demo.base + '/'), page.click('button[type=submit]')])
  }
  const sessionCookie = async () => (await context.cookies(demo.base)).find((c) => c.name === 'session')
  return { demo, page, signIn, sessionCookie }
}

t.test('sign in, stay signed in across a reload, call /me, sign out', async (t) => {
  const ttl = 3600
  const { demo, page, signIn, sessionCookie } = await openDemo(t, ttl)
  t.ok(await page.locator('#username').isVisible(), 'signed out: the login form')

  const signedInAt = Date.now() / 1000
  await signIn('Ada Lovelace')
  t.equal(await page.locator('#status').textContent(), 'Signed in as Ada Lovelace')

  await page.reload()
  t.equal(await page.locator('#status').textContent(), 'Signed in as Ada Lovelace', 'still signed in after a reload')

  t.notMatch(await page.evaluate(() => document.cookie), /session=/, 'page scripts cannot see the session cookie (HttpOnly)')
  const session = await sessionCookie()
  t.ok(session !== undefined, 'the browser keeps the session cookie')
  t.match(session, { httpOnly: true, sameSite: 'Lax', path: '/', secure: false, domain: '127.0.0.1' })
  t.ok(Math.abs(session!.expires - (signedInAt + ttl)) < 60, `expires about the ttl away (${Math.round(session!.expires - signedInAt)} s)`)

  const me = await page.evaluate(async () => (await fetch('/me')).json())
  t.same(me, { userId: 'Ada Lovelace' }, 'GET /me from the page')

  mkdirSync(output, { recursive: true })
  await page.screenshot({ path: new URL('signed-in.png', output).pathname })
  t.pass('screenshot saved to test/e2e/output/signed-in.png')

  await Promise.all([page.waitForURL(demo.base + '/'), page.click('text=Sign out')])
  t.ok(await page.locator('#username').isVisible(), 'signed out: the form again')
  t.equal(await sessionCookie(), undefined, 'the cookie is gone from the store')
  t.equal((await page.evaluate(async () => (await fetch('/me')).status)), 401)
})

t.test('with a short ttl, browser and server agree the session has ended', async (t) => {
  const ttl = 2
  const { demo, page, signIn, sessionCookie } = await openDemo(t, ttl)
  await signIn('Grace')
  const signedInAt = Date.now()
  t.equal(await page.locator('#status').textContent(), 'Signed in as Grace')
  const token = (await sessionCookie())!.value

  // Expiry is the browser's own clock: wait for it by reloading until the form
  // comes back (bounded), not for a fixed time.
  let reloads = 0
  while (!(await page.locator('#username').isVisible())) {
    if (Date.now() - signedInAt > 15_000) throw new Error('the session never ended')
    await page.waitForTimeout(200)
    await page.reload()
    reloads++
  }
  const endedAfter = (Date.now() - signedInAt) / 1000
  // Token expiry is whole seconds (floor(login) + ttl, as the reference writes it),
  // the cookie's Max-Age counts from the login itself: they may differ by under a second.
  t.ok(endedAfter >= ttl - 1 && endedAfter < ttl + 1.5, `the form came back after ${endedAfter.toFixed(1)} s (${reloads} reloads): the ttl, to the second`)
  while ((await sessionCookie()) !== undefined) {
    if (Date.now() - signedInAt > (ttl + 2) * 1000) throw new Error('the browser kept the cookie past its Max-Age')
    await page.waitForTimeout(100)
  }
  const droppedAfter = (Date.now() - signedInAt) / 1000
  t.ok(droppedAfter - endedAfter < 1.2, `the browser dropped the cookie ${droppedAfter.toFixed(1)} s after login, within a second of the server`)
  const stale = await fetch(demo.base + '/me', { headers: { cookie: `session=${token}` } })
  t.equal(stale.status, 401, 'and the server refuses the old token too')
})
