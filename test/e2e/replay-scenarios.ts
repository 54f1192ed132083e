// Signing out on the server, in a real browser, the same scenarios in every engine
// (demo-scenarios.ts runs them): a copy of the session cookie taken from the browser
// before "Sign out", "Sign out everywhere" or "Sign out this one" is refused after it,
// replayed from the test with nothing else and set back into a fresh browser.
// No engine differs here: the server refuses what the browser presents, and each
// driver's addCookie (engines/) puts the copy in host-only. Not a test file itself.
import type { Test } from 'tap'
import { openDemo, sessionCookie, submit, visit, who, type Opened } from './demo-visits.js'
import { clickAndWait, type Cookie, type Engine, type Tab } from './engines/engine.js'

interface Answer { me: number, home: string }

/** The demo's answers to requests from the test carrying only this cookie, no browser: /me's status and who the home page shows. */
async function replay (demo: Opened, cookie: Cookie): Promise<Answer> {
  const headers = { cookie: `${cookie.name}=${cookie.value}` }
  const me = await fetch(demo.demo.base + '/me', { headers })
  await me.arrayBuffer()
  const page = await (await fetch(demo.demo.base + '/', { headers })).text()
  const home = /<strong id="name">([^<]*)</.exec(page)?.[1] ?? (page.includes('<p id="status">Signed out.</p>') ? 'signed out' : 'neither page')
  return { me: me.status, home }
}

/** The session cookie of a tab on the demo, failing the test when there is none. */
async function copyOf (t: Test, tab: Tab, demo: Opened, whose: string): Promise<Cookie> {
  await visit(tab, demo, '/')
  const copy = await sessionCookie(tab)
  if (copy === undefined) throw new Error(`${whose}: the browser holds no session cookie to copy`)
  t.same(await replay(demo, copy), { me: 200, home: 'Ada' }, `${whose}'s cookie, copied from the browser and sent from the test with nothing else: signed in as Ada`)
  return copy
}

/** Ada signed in on two browsers; the phone's cookie copied. */
async function laptopAndPhone (t: Test, engine: Engine, demo: Opened): Promise<{ laptop: Tab, phone: Tab, copy: Cookie }> {
  const laptop = await engine.newTab(t)
  const phone = await engine.newTab(t)
  await submit(laptop, demo, 'register', 'Ada')
  await submit(phone, demo, 'login', 'Ada')
  t.equal(await who(laptop, demo), 'Ada', 'signed in on the laptop')
  return { laptop, phone, copy: await copyOf(t, phone, demo, 'the phone') }
}

/** The phone, signed out elsewhere: its copied cookie from the test, and the phone itself, are refused. */
async function phoneRefused (t: Test, demo: Opened, phone: Tab, copy: Cookie): Promise<void> {
  t.same(await replay(demo, copy), { me: 401, home: 'signed out' }, 'the phone\'s copied cookie replayed from the test: refused')
  t.ok(await sessionCookie(phone), 'the phone still holds its cookie')
  t.equal(await who(phone, demo), 'signed out', 'the phone\'s next request: signed out')
  t.equal(await visit(phone, demo, '/me'), 401, 'and /me refuses it')
}

const others = async (tab: Tab): Promise<number> => await tab.run<number>('return document.querySelectorAll("#devices li.device:not(.this)").length')

export function replayScenarios (t: Test, engine: () => Engine): void {
  t.test('Sign out ends the session on the server: a copy of its cookie taken before is refused after it', async (t) => {
    const demo = await openDemo(t)
    const tab = await engine().newTab(t)
    await submit(tab, demo, 'register', 'Ada')
    const copy = await copyOf(t, tab, demo, 'this browser')
    // A second browser with the copy set into its jar: the browser's own route of a replay.
    const other = await engine().newTab(t)
    await visit(other, demo, '/')
    await other.addCookie(copy)
    t.equal(await who(other, demo), 'Ada', 'the copy set into a fresh browser: signed in as Ada there too')

    await clickAndWait(tab, '#sign-out')
    t.equal(await tab.text('#status'), 'Signed out.', 'Sign out: the forms again')
    t.equal(await sessionCookie(tab), undefined, 'the cookie is gone from this browser')

    t.same(await replay(demo, copy), { me: 401, home: 'signed out' }, 'the copy replayed from the test: /me answers 401, the home page is signed out')
    const mark = demo.seen.length
    t.equal(await who(other, demo), 'signed out', 'the other browser, presenting the copy: signed out')
    t.equal(demo.seen[mark]?.sentSession, true, 'it did send the copy (the recorder saw the cookie)')
    t.equal((await sessionCookie(other))?.value, copy.value, 'and still holds exactly the copy: the server refuses it, it does not depend on the browser dropping it')
    t.equal(await visit(other, demo, '/me'), 401, 'its /me: 401')
  })

  t.test('Sign out everywhere in one browser: the other browser and a copy of its cookie are refused, and a new sign-in works at once', async (t) => {
    const demo = await openDemo(t)
    const { laptop, phone, copy } = await laptopAndPhone(t, engine(), demo)

    await clickAndWait(laptop, '#sign-out-everywhere')
    const signedOutAt = Date.now()
    t.match(await laptop.text('#notice'), /Signed out everywhere/, 'the laptop says so')
    t.equal(await sessionCookie(laptop), undefined, 'the laptop\'s cookie is gone')
    await phoneRefused(t, demo, phone, copy)

    // No wait, no clock moved: a sign-out everywhere cuts off the sessions begun before it, to the millisecond.
    t.equal(await submit(phone, demo, 'login', 'Ada'), 200, 'the phone signs in again')
    t.equal(await phone.text('#name'), 'Ada', `signed in on the phone ${Date.now() - signedOutAt} ms after Sign out everywhere`)
    const fresh = await sessionCookie(phone)
    t.same(fresh === undefined ? undefined : await replay(demo, fresh), { me: 200, home: 'Ada' }, 'its new cookie is good')
    t.same(await replay(demo, copy), { me: 401, home: 'signed out' }, 'the old copy stays refused')
    t.equal(await who(laptop, demo), 'signed out', 'the laptop stays signed out')
  })

  t.test('the list of sign-ins: "Sign out this one" refuses that browser and a copy of its cookie, and keeps this one', async (t) => {
    const demo = await openDemo(t)
    const { laptop, phone, copy } = await laptopAndPhone(t, engine(), demo)

    await visit(laptop, demo, '/')
    t.equal(await laptop.text('#devices li.this strong'), '(this browser)', 'the laptop\'s list marks this browser')
    t.equal(await others(laptop), 1, 'and lists one other sign-in, the phone')
    await clickAndWait(laptop, '#devices li.device:not(.this) button')
    t.equal(await laptop.text('#notice'), 'That browser is signed out.', 'the laptop says so')
    t.equal(await laptop.text('#name'), 'Ada', 'and is still signed in')
    t.equal(await others(laptop), 0, 'the phone is off the list')

    await phoneRefused(t, demo, phone, copy)
    t.equal(await who(laptop, demo), 'Ada', 'the laptop stays signed in')
    t.equal(await visit(laptop, demo, '/me'), 200, 'and its /me answers')
  })
}
