// A sign-in burst at full speed for 10 s on two processes sharing the store: every
// login's iat is its real second (floor of the real time, ±1), and every new session is
// accepted by the next request, on the process that made it and on the other. Then a
// sign-out everywhere of an unrelated user refuses no fresh sign-in on the other process.
import t, { type Test } from 'tap'
import { App, Figures, everywhere, freshLogin, login, payloadOf, settled, startStore, whoami, type StoreKind } from './drill.js'

const BURST_MS = 10_000
/** Clients signing in at once: enough to keep both processes busy on 2 cores. */
const CLIENTS = 16

async function drill (t: Test, kind: StoreKind): Promise<void> {
  const store = await startStore(t, kind)
  const proxy = await store.proxy(t)
  const apps = await Promise.all(['A', 'B'].map(async (name) => await App.start(t, name, store, store.urlVia(proxy))))
  await settled(apps)
  const f = new Figures()
  let logins = 0
  let worstIat = 0
  let offIat = 0
  const sample: string[] = []
  const end = Date.now() + BURST_MS
  await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
    for (let i = 0; Date.now() < end; i++) {
      const [maker, other] = (c + i) % 2 === 0 ? apps : [apps[1], apps[0]]
      const user = `burst-${c}-${i % 7}`
      const before = Math.floor(Date.now() / 1000)
      const token = await login(maker, user)
      const after = Math.floor(Date.now() / 1000)
      logins++
      f.answer(200)
      const iat = payloadOf(token).iat as number
      // iat is the real second of the login: between the seconds before and after the request, ±1.
      const off = iat < before ? before - iat : iat > after ? iat - after : 0
      worstIat = Math.max(worstIat, off)
      if (off > 1) offIat++
      // The next request, on the same process, then on the other, accepts it.
      for (const app of [maker, other]) {
        const who = await whoami(app, token)
        f.answer(who.status)
        if (who.userId !== user) {
          f.freshRefused++
          f.details.push(`a login on ${maker.name} refused by ${app.name}: ${who.reason ?? who.status}`)
        }
      }
      if (i % 50 === 0) sample.push(token)
    }
  }))
  t.equal(offIat, 0, `every iat within 1 s of the real time of its login (worst: ${worstIat} s)`)
  // An unrelated user signed out everywhere on A: fresh sign-ins on B are not refused, nor the burst's sessions.
  const before = await login(apps[0], 'unrelated')
  const status = await everywhere(apps[0], 'unrelated')
  f.answer(status)
  let after = 0
  const afterEnd = Date.now() + 3000
  for (let i = 0; Date.now() < afterEnd; i++) {
    await freshLogin(apps[1], `after-${i % 20}`, f, apps)
    after++
  }
  for (const token of sample) {
    for (const app of apps) {
      const who = await whoami(app, token)
      f.answer(who.status)
      if (who.userId === null) {
        f.freshRefused++
        f.details.push(`a session of the burst refused by ${app.name} after an unrelated sign-out everywhere`)
      }
    }
  }
  t.equal((await whoami(apps[1], before)).userId, null, 'the unrelated user\'s old session is refused')
  f.details.push(`${logins} sign-ins in ${BURST_MS / 1000} s by ${CLIENTS} clients (${Math.round(logins / (BURST_MS / 1000))}/s, each checked on both processes); ` +
    `worst iat against the real second: ${worstIat} s; after the unrelated sign-out everywhere, ${after} sign-ins on B in 3 s, all accepted at once on both`)
  f.report(t, `${kind}: sign-in burst`)
}

t.test('PostgreSQL', async (t) => { await drill(t, 'postgres') })
t.test('Redis', async (t) => { await drill(t, 'redis') })
