// A 503 means not applied. With the store blackholed (connections held, bytes kept and
// delivered when it heals, as TCP would), a sign-out and a sign-out everywhere answer
// 503 within the timeout; the network then heals and the held writes reach the store
// after their deadline: the store refuses them by its own clock, so neither revocation
// ever appears, and the cookie, which was not signed out, stays valid everywhere.
import t, { type Test } from 'tap'
import { App, Figures, enforced, everywhere, freshLogin, logout, pgAdmin, redisAdmin, settled, startStore, whoami, payloadOf, type StoreKind } from './drill.js'
import { waitFor } from '../servers/wait.js'

const STALENESS = 2
const TIMEOUT = 2000
/** The 503 comes when the plugin stops waiting: the timeout, and a request's time on a busy machine. */
const ANSWER_SLACK_MS = 1500

async function drill (t: Test, kind: StoreKind): Promise<void> {
  const store = await startStore(t, kind)
  const proxy = await store.proxy(t)
  const config = { staleness: STALENESS, timeout: TIMEOUT }
  const apps = [await App.start(t, 'A', store, store.urlVia(proxy), config), await App.start(t, 'B', store, store.urlVia(proxy), config)]
  const [a, b] = apps
  await settled(apps)
  const f = new Figures()
  const alice = await freshLogin(a, 'alice', f, apps)
  const bob = [await freshLogin(a, 'bob', f, apps), await freshLogin(b, 'bob', f, apps)]

  proxy.set('blackhole')
  const outAt = Date.now()
  const out = await logout(a, alice, TIMEOUT + 10_000)
  const outMs = Date.now() - outAt
  const allAt = Date.now()
  const all = await everywhere(b, 'bob', TIMEOUT + 10_000)
  const allMs = Date.now() - allAt
  f.signOut(out, true)
  f.signOut(all, true)
  t.equal(out, 503, 'a sign-out while the store is unreachable answers 503')
  t.equal(all, 503, 'so does a sign-out everywhere')
  t.ok(outMs <= TIMEOUT + ANSWER_SLACK_MS && allMs <= TIMEOUT + ANSWER_SLACK_MS, `within the timeout (${TIMEOUT} ms): ${outMs} ms, ${allMs} ms`)
  const heldUp = proxy.up
  proxy.set('forward')
  const deliveredUp = proxy.up - heldUp
  const healedAt = Date.now()

  // Both processes read the store again: a revocation made after the heal is enforced by both.
  const probe = await freshLogin(b, 'probe', f, apps)
  await waitFor(async () => await logout(b, probe) === 200, 20_000, 'a sign-out to work again after the heal')
  const probeAt = Date.now()
  const readAgainMs = probeAt - healedAt
  await enforced(apps, probe, probeAt, STALENESS * 1000 + 1000, f)
  // And a read later still, past another staleness: the held writes had every chance to land.
  await waitFor(() => Date.now() > probeAt + STALENESS * 1000, STALENESS * 1000 + 1000, 'a staleness to pass')
  for (const app of apps) {
    for (const [user, token] of [['alice', alice], ['bob', bob[0]], ['bob', bob[1]]] as const) {
      const who = await whoami(app, token)
      f.answer(who.status)
      if (who.userId !== user) {
        f.lost++
        f.details.push(`${app.name} refused ${user}'s session after the heal (${who.reason ?? who.status}): a 503'd sign-out was applied late`)
      }
    }
  }
  const sid = payloadOf(alice).sid as string
  let stored: number
  if (kind === 'postgres') {
    const admin = await pgAdmin(t, store)
    const { rows } = await admin.query('SELECT count(*)::int AS n FROM dbbasic_sessions_revocations WHERE subject = $1 OR (kind = \'user\' AND subject = \'bob\')', [sid])
    stored = rows[0].n
  } else {
    const admin = redisAdmin(t, store)
    const members = await admin.zrange('{dbbasic-sessions:revocations}:log', '0', '-1')
    stored = members.filter((m) => m.includes(`"${sid}"`) || m.includes('["user","bob"')).length
    // The held writes did reach Redis, late, and its script refused them by Redis's clock.
    const refused = Number(/errorstat_DEADLINE:count=(\d+)/.exec(await admin.info('errorstats'))?.[1] ?? 0)
    t.equal(refused, 2, 'Redis refused both writes as past their deadline when they arrived')
  }
  t.equal(stored, 0, 'the store holds neither revocation')
  f.details.push(`${deliveredUp} bytes held during the blackhole were delivered to the store at the heal; sign-outs answered 503 in ${outMs} ms and ${allMs} ms (timeout ${TIMEOUT}); ` +
    `a sign-out worked again ${readAgainMs} ms after the heal; store rows for the 503'd sign-outs: ${stored}`)
  f.report(t, `${kind}: failed sign-out`, { enforcementMaxMs: STALENESS * 1000 + 1000 })
}

t.test('PostgreSQL', async (t) => { await drill(t, 'postgres') })
t.test('Redis', async (t) => { await drill(t, 'redis') })
