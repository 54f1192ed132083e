// The store does not wait behind the app. Each process's own connection to the store is
// kept busy by slow app queries, held continuously: PostgreSQL, a pool of 4 with twice as
// many `SELECT pg_sleep(3)` always waiting for it; Redis, the app's client blocked by
// BLPOP 3 s after BLPOP 3 s (two always queued on it). Sign-outs on one process are enforced on the other within
// the staleness (and a read), not after the queue of slow queries, and they answer at once.
import t, { type Test } from 'tap'
import { App, Figures, call, enforced, everywhere, freshLogin, login, logout, median, settled, startStore, type StoreKind } from './drill.js'

const STALENESS = 2
const BOUND_MS = STALENESS * 1000 + 1000
const POOL_MAX = 4
const SLOW_S = 3
/** Sign-outs made at once, in each of two rounds. */
const AT_ONCE = 4

async function drill (t: Test, kind: StoreKind): Promise<void> {
  const store = await startStore(t, kind)
  const proxy = await store.proxy(t)
  // Queued app queries wait for a pool slot (rather than fail after a second, as the other drills' pools do).
  const apps = await Promise.all(['A', 'B'].map(async (name) => await App.start(t, name, store, store.urlVia(proxy), { staleness: STALENESS, poolMax: POOL_MAX, connectTimeoutMs: 60_000 })))
  await settled(apps)
  const f = new Figures()
  // Slow queries sent again as soon as each answers: twice the pool, or two blocking commands on the one client.
  const busy = { on: true }
  const slow = { done: 0, failed: 0 }
  const load = Promise.all(apps.flatMap((app) => Array.from({ length: kind === 'postgres' ? 2 * POOL_MAX : 2 }, async () => {
    while (busy.on) {
      const { status } = await call(app, 'GET', `/busy?s=${SLOW_S}`, undefined, 60_000)
      if (status === 200) slow.done++
      else slow.failed++
    }
  })))
  // Until the slow queries hold each pool (and queue behind it).
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const answerMs: number[] = []
  try {
    for (let round = 0; round < 2; round++) {
      await Promise.all(Array.from({ length: AT_ONCE }, async (_, i) => {
        const [revoker, other] = i % 2 === 0 ? apps : [apps[1], apps[0]]
        const user = `busy-${round}-${i}`
        const token = await login(other, user)
        const started = Date.now()
        const status = i < AT_ONCE / 2 ? await logout(revoker, token) : await everywhere(revoker, user)
        answerMs.push(Date.now() - started)
        f.signOut(status, false)
        await enforced(apps, token, Date.now(), BOUND_MS, f)
        await freshLogin(other, user, f, apps)
      }))
    }
  } finally {
    busy.on = false
    await load
  }
  f.details.push(`${slow.done} slow app ${kind === 'postgres' ? 'queries' : 'commands'} of ${SLOW_S} s ran meanwhile (${slow.failed} failed); ` +
    `sign-outs answered in median ${median(answerMs)} ms, max ${Math.max(...answerMs)} ms`)
  f.report(t, `${kind}: busy ${kind === 'postgres' ? 'pool' : 'client'}`, { enforcementMaxMs: BOUND_MS })
  t.ok(Math.max(...answerMs) < SLOW_S * 1000, 'no sign-out waited for a slow query')
}

t.test('PostgreSQL', async (t) => { await drill(t, 'postgres') })
t.test('Redis', async (t) => { await drill(t, 'redis') })
