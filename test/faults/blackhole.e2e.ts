// A blackhole for 15 s mid-traffic, then healed. Two processes reach the store through
// the proxy that goes dark (A under onStale 'accept', B under 'refuse'); a third, C, keeps
// its own way to the store and signs sessions out meanwhile. During it: no session
// revoked before it is accepted, A keeps accepting valid sessions, B refuses them, a
// sign-out on A answers 503. Once healed, without a restart: A and B enforce every
// sign-out C made meanwhile within the staleness, and sign-outs work again.
import t, { type Test } from 'tap'
import { App, Figures, enforced, everywhere, freshLogin, login, logout, settled, startStore, whoami, type StoreKind } from './drill.js'
import { pause } from '../servers/process.js'
import { waitFor } from '../servers/wait.js'

const STALENESS = 2
const BOUND_MS = STALENESS * 1000 + 1000
const OUTAGE_MS = 15_000
const TIMEOUT = 2000

async function drill (t: Test, kind: StoreKind): Promise<void> {
  const store = await startStore(t, kind)
  const dark = await store.proxy(t)
  const lit = await store.proxy(t)
  const a = await App.start(t, 'A(accept)', store, store.urlVia(dark), { staleness: STALENESS, timeout: TIMEOUT, onStale: 'accept' })
  const b = await App.start(t, 'B(refuse)', store, store.urlVia(dark), { staleness: STALENESS, timeout: TIMEOUT, onStale: 'refuse' })
  const c = await App.start(t, 'C(writer)', store, store.urlVia(lit), { staleness: STALENESS, timeout: TIMEOUT })
  const apps = [a, b, c]
  await settled(apps)
  const f = new Figures()
  const valid = await login(c, 'valid')
  // Signed out before the blackhole, on C, and enforced everywhere.
  const before = [await login(a, 'before-1'), await login(b, 'before-2')]
  const beforeUser = await login(c, 'before-user')
  for (const token of before) f.signOut(await logout(c, token), false)
  f.signOut(await everywhere(c, 'before-user'), false)
  const revokedBefore = [...before, beforeUser]
  await Promise.all(revokedBefore.map(async (token) => { await enforced(apps, token, Date.now(), BOUND_MS, f) }))
  // To be signed out on C during the blackhole.
  const victims = await Promise.all(Array.from({ length: 6 }, async (_, i) => ({ user: `during-${i}`, token: await login(apps[i % 3], `during-${i}`) })))
  const aOwn = await login(a, 'a-own')

  // Traffic on A and B all along: the sessions revoked before, and a valid one.
  const seen = { aValid: [0, 0], bValid: [0, 0] }
  const on = { value: true }
  const traffic = (async () => {
    while (on.value) {
      for (const app of [a, b]) {
        for (const token of revokedBefore) {
          const who = await whoami(app, token)
          f.answer(who.status)
          if (who.userId !== null) {
            f.revokedAfterBound++
            f.details.push(`${app.name} accepted a session revoked before the blackhole`)
          }
        }
        const who = await whoami(app, valid)
        f.answer(who.status)
        seen[app === a ? 'aValid' : 'bValid'][who.userId === null ? 1 : 0]++
      }
      await pause(50)
    }
  })()
  let healedAt = 0
  const during = { aSignOut: 0, freshOnA: '', freshOnB: '' }
  try {
    dark.set('blackhole')
    const darkAt = Date.now()
    // C signs out, spread over the blackhole; A tries to and cannot.
    for (const [i, victim] of victims.entries()) {
      await pause(OUTAGE_MS / (victims.length + 2))
      f.signOut(i % 3 === 2 ? await everywhere(c, victim.user) : await logout(c, victim.token), false)
    }
    during.aSignOut = await logout(a, aOwn, TIMEOUT + 10_000)
    f.signOut(during.aSignOut, true)
    // A sign-in during it works where sessions are checked against what is known (A), not where they are refused (B).
    const freshA = await login(a, 'fresh-during')
    during.freshOnA = (await whoami(a, freshA)).userId ?? 'refused'
    during.freshOnB = (await whoami(b, await login(b, 'fresh-during'))).reason ?? 'accepted'
    await waitFor(() => Date.now() >= darkAt + OUTAGE_MS, OUTAGE_MS, 'the end of the blackhole')
    healedAt = Date.now()
    dark.set('forward')
    // Everything C signed out meanwhile is enforced by A and B within the bound, counted from the heal.
    await Promise.all(victims.map(async (victim) => { await enforced([a, b], victim.token, healedAt, BOUND_MS, f) }))
  } finally {
    on.value = false
    await traffic
  }
  t.equal(during.aSignOut, 503, 'a sign-out on A during the blackhole answered 503')
  t.equal(during.freshOnA, 'fresh-during', 'a sign-in on A during the blackhole was accepted there (onStale accept)')
  t.equal(during.freshOnB, 'revocations unavailable', 'and refused on B (onStale refuse)')
  t.same(await whoami(a, aOwn).then((w) => w.userId), 'a-own', 'the session whose sign-out answered 503 was not ended')
  // Without a restart: sign-outs work again, on A, enforced everywhere; sign-ins work on B.
  await waitFor(async () => (await whoami(b, valid)).userId === 'valid', 10_000, 'B to accept sessions again')
  f.signOut(await logout(a, aOwn), false)
  await enforced(apps, aOwn, Date.now(), BOUND_MS, f)
  await freshLogin(b, 'after', f, apps)
  for (const app of [a, b]) {
    t.equal(app.count('has not been read for over'), 1, `${app.name}: the stale period logged once`)
    t.equal(app.count('answers again'), 1, `${app.name}: the recovery logged once`)
  }
  f.details.push(`${OUTAGE_MS / 1000} s blackhole: A answered the valid session ${seen.aValid[0]}x accepted, ${seen.aValid[1]}x refused; ` +
    `B ${seen.bValid[0]}x accepted, ${seen.bValid[1]}x refused; ${victims.length} sign-outs made on C meanwhile; enforcement counted from the heal`)
  f.report(t, `${kind}: blackhole ${OUTAGE_MS / 1000} s`, { enforcementMaxMs: BOUND_MS })
}

t.test('PostgreSQL', async (t) => { await drill(t, 'postgres') })
t.test('Redis', async (t) => { await drill(t, 'redis') })
