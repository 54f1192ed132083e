// The demo in a real browser, the same scenarios in every engine (chromium.e2e.ts,
// firefox.e2e.ts, webkit.e2e.ts run them): the flows a person follows, the browser's
// own cookie rules, signing out on the server (replay-scenarios.ts), and an attacker's
// pages on other hosts. The demo is plain http, reached as http://app.example.test:PORT
// through recorder.ts, which notes what each request carried. Not a test file itself.
import { mkdirSync } from 'node:fs'
import type { Test } from 'tap'
import { root } from '../paths.js'
import { fetchPage, formPage, openAttack, startAttacker, type Attacks } from './attacker.js'
import { openDemo, sessionCookie, submit, visit, who } from './demo-visits.js'
import { clickAndWait, type Engine, type Launch, type Tab } from './engines/engine.js'
import { describe, type Exchange } from './recorder.js'
import { replayScenarios } from './replay-scenarios.js'

const ATTACKER_PASSWORD = 'attacker-password'
// Written to the ignored output folder, so a test run leaves the tree clean; the
// README's copy (example/signed-in.png) is refreshed from it by hand.
const output = new URL('test/e2e/output/', root)

const seconds = async (tab: Tab, id: string): Promise<number> => Number(await tab.attribute(`#${id}`, 'data-seconds'))
const pause = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

export function demoScenarios (t: Test, launch: Launch): void {
  let engine: Engine
  t.before(async () => {
    engine = await launch(t)
    t.comment(`${engine.name}: ${engine.version}`)
  })

  t.test('register, see the session times, stay signed in, call /me, sign out, sign in again', async (t) => {
    const demo = await openDemo(t)
    const tab = await engine.newTab(t)
    await visit(tab, demo, '/')
    t.equal(await tab.text('#status'), 'Signed out.', 'signed out: the sign-in and register forms')

    const registeredAt = Date.now() / 1000
    t.equal(await submit(tab, demo, 'register', 'Ada Lovelace'), 200, 'register, then the redirect to the home page')
    t.equal(await tab.text('#name'), 'Ada Lovelace', 'signed in as the new account')
    const issued = await seconds(tab, 'issued-at')
    const expires = await seconds(tab, 'expires-at')
    const latest = await seconds(tab, 'absolute-end')
    t.ok(Math.abs(issued - registeredAt) < 5, 'the page shows when the session started')
    t.equal(expires - issued, 1800, 'and when it ends: the 30-minute idle time')
    t.equal(latest - issued, 43200, 'and the latest it can last: 12 hours')

    t.equal(await who(tab, demo), 'Ada Lovelace', 'still signed in on the next visit')
    t.notMatch(await tab.run<string>('return document.cookie'), /session=/, 'page scripts cannot see the session cookie (HttpOnly)')
    const cookie = await sessionCookie(tab)
    t.match(cookie, { httpOnly: true, sameSite: 'Lax', path: '/', secure: false, domain: 'app.example.test' }, 'a host-only cookie named "session" (plain http: no __Host- prefix)')
    t.ok(cookie !== undefined && Math.abs(cookie.expires - (registeredAt + 1800)) < 60, `the browser keeps it for the idle time (${Math.round((cookie?.expires ?? 0) - registeredAt)} s)`)

    // The demo's pages allow no scripts (CSP), so the browser opens /me itself.
    t.equal(await visit(tab, demo, '/me'), 200)
    t.match(JSON.parse(await tab.run<string>('return document.body.innerText')), { name: 'Ada Lovelace', userId: /^\d+$/ }, 'GET /me: the account id and name')
    await visit(tab, demo, '/')

    mkdirSync(output, { recursive: true })
    await tab.screenshot(new URL(`signed-in-${engine.name}.png`, output).pathname)
    t.pass(`screenshot of the signed-in page saved to test/e2e/output/signed-in-${engine.name}.png`)

    await clickAndWait(tab, '#sign-out')
    t.equal(await tab.text('#status'), 'Signed out.', 'Sign out: the forms again')
    t.equal(await sessionCookie(tab), undefined, 'the cookie is gone from the browser')
    t.equal(await visit(tab, demo, '/me'), 401, 'and /me answers 401')

    t.equal(await submit(tab, demo, 'login', 'Ada Lovelace'), 200, 'sign in with the password')
    t.equal(await tab.text('#name'), 'Ada Lovelace', 'signed in again')
  })

  t.test('a wrong password shows the form again with an error, and signs nobody in', async (t) => {
    const demo = await openDemo(t)
    await submit(await engine.newTab(t), demo, 'register', 'Grace Hopper')
    const tab = await engine.newTab(t)
    t.equal(await submit(tab, demo, 'login', 'Grace Hopper', 'not the password'), 401, 'answered 401')
    t.equal(await tab.text('#error'), 'Wrong name or password.', 'the error on the page')
    t.equal(await tab.value('#login-name'), 'Grace Hopper', 'the name kept in the form')
    t.equal(await sessionCookie(tab), undefined, 'no cookie')
    t.equal(await submit(tab, demo, 'login', 'Nobody Here', 'not the password'), 401, 'an unknown name: the same answer')
    t.equal(await tab.text('#error'), 'Wrong name or password.')
    t.equal(await who(tab, demo), 'signed out')
  })

  t.test('idle for the ttl the session ends; active, it keeps renewing', async (t) => {
    const ttl = 4
    const demo = await openDemo(t, { SESSION_TTL: String(ttl) })
    const tab = await engine.newTab(t)
    await submit(tab, demo, 'register', 'Active')
    const firstEnd = await seconds(tab, 'expires-at')
    // Active: a visit every half second for longer than the ttl.
    const started = Date.now()
    let visits = 0
    while (Date.now() - started < (ttl + 2) * 1000) {
      await pause(500)
      visits++
      if (await who(tab, demo) === 'signed out') break
    }
    t.equal(await tab.text('#name'), 'Active', `still signed in after ${visits} visits over ${((Date.now() - started) / 1000).toFixed(1)} s, longer than the ${ttl} s ttl`)
    const laterEnd = await seconds(tab, 'expires-at')
    t.ok(laterEnd > firstEnd + 1, `the end moved on: ${laterEnd - firstEnd} s later than at sign-in (rolling renewal)`)

    // Idle: no request until the browser's cookie has expired (bounded), then one.
    // Firefox's driver goes on listing an expired cookie (its jar purges lazily):
    // what counts is that the browser no longer sends it. WebKit's driver gives the
    // expiry in whole seconds, so it is past only a second after the one reported.
    const idleFrom = Date.now()
    const live = (expires: number): boolean => expires === -1 || (expires + (Number.isInteger(expires) ? 1 : 0)) * 1000 > Date.now()
    let cookie = await sessionCookie(tab)
    const due = (cookie?.expires ?? 0) - idleFrom / 1000
    // The expiry the browser keeps (to the second), not how fast the driver polls under load.
    t.ok(cookie !== undefined && due > 0 && due <= ttl + 1, `idle from now, the browser's cookie expires in ${due.toFixed(1)} s: the ttl of the last visit`)
    while (cookie !== undefined && live(cookie.expires)) {
      if (Date.now() - idleFrom > (ttl + 5) * 1000) throw new Error('the browser kept the cookie past its Max-Age')
      await pause(100)
      cookie = await sessionCookie(tab)
    }
    t.comment(`${engine.name}: idle, the cookie expired after ${((Date.now() - idleFrom) / 1000).toFixed(1)} s (the driver ${cookie === undefined ? 'no longer lists it' : 'still lists it, expired'})`)
    const mark = demo.seen.length
    t.equal(await who(tab, demo), 'signed out', 'and the next visit is signed out')
    t.equal(demo.seen[mark]?.sentSession, false, 'the browser did not send the expired cookie')
  })

  replayScenarios(t, () => engine)

  t.test('attacker pages on another site and on a sibling host, against the demo: refused, the visitor stays signed in', (t) => attacks(t, engine))
}

async function attacks (t: Test, engine: Engine): Promise<void> {
  const demo = await openDemo(t, { LOG_LEVEL: 'info' })
  const { base, seen } = demo
  // What the plugin logged for each refusal (at info, with its reason).
  const refusals = (): string[] => demo.demo.output().split('\n').filter((l) => l.includes('cross-origin request refused')).map((l) => String(JSON.parse(l).reason))
  // The attacker has an account of their own.
  const mine = await fetch(demo.demo.base + '/register', { method: 'POST', redirect: 'manual', body: new URLSearchParams({ name: 'mallory', password: ATTACKER_PASSWORD }) })
  t.equal(mine.status, 303, 'the attacker registered (a request with no Origin: not a browser, allowed)')
  const pages: Attacks = {
    'login-form': (target) => formPage(`${target}/login`, { name: 'mallory', password: ATTACKER_PASSWORD }),
    'logout-form': (target) => formPage(`${target}/logout`),
    'logout-everywhere-form': (target) => formPage(`${target}/logout-everywhere`),
    fetch: (target) => fetchPage(target, [['/logout', {}], ['/logout-everywhere', {}], ['/login', { name: 'mallory', password: ATTACKER_PASSWORD }]])
  }
  const attacker = await startAttacker(t, pages)
  const tab = await engine.newTab(t)
  const run = async (url: string, kind: string): Promise<{ sent: Exchange[], reasons: string[] }> => {
    const mark = seen.length
    const logged = refusals().length
    await openAttack(tab, url, kind, base)
    const sent = seen.slice(mark).filter((s) => s.method === 'POST')
    // The demo's log lines arrive through a pipe: give them a moment (bounded).
    for (let i = 0; i < 20 && refusals().length - logged < sent.length; i++) await pause(50)
    return { sent, reasons: refusals().slice(logged) }
  }

  await submit(tab, demo, 'register', 'Visitor')
  const token = (await sessionCookie(tab))?.value
  const origins: Array<[string, string]> = [['another site', `http://evil.test:${attacker.port}`], ['a sibling host', `http://evil.example.test:${attacker.port}`]]
  let attempts = 0
  for (const [where, origin] of origins) {
    for (const kind of Object.keys(pages)) {
      const { sent, reasons } = await run(`${origin}/${kind}?target=${encodeURIComponent(base)}`, kind)
      attempts += sent.length
      for (const s of sent) t.comment(`${engine.name}, ${where}, ${kind}: ${describe(s)}`)
      t.comment(`${where}, ${kind}: the plugin logged ${reasons.length} refusal(s): ${[...new Set(reasons)].join('; ')}`)
      t.ok(sent.length > 0 && sent.every((s) => s.status === 403), `${where}, ${kind}: ${sent.length} POST(s), all refused with 403`)
      t.equal(await who(tab, demo), 'Visitor', `${where}, ${kind}: still signed in as the visitor`)
      t.equal((await sessionCookie(tab))?.value, token, `${where}, ${kind}: the same cookie`)
    }
  }
  t.comment(`${attempts} cross-origin POSTs to the demo, all refused`)

  await clickAndWait(tab, '#sign-out')
  for (const [where, origin] of origins) {
    const { sent } = await run(`${origin}/login-form?target=${encodeURIComponent(base)}`, 'login-form')
    t.equal(sent[0]?.status, 403, `signed out, ${where}: the login form is refused`)
    t.equal(await who(tab, demo), 'signed out', `signed out, ${where}: never signed in as the attacker`)
  }
  t.equal(await submit(tab, demo, 'login', 'Visitor'), 200, 'the demo\'s own sign-in form still works')
  t.equal(await who(tab, demo), 'Visitor')
}
