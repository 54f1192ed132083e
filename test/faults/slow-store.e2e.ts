// A slow store: the proxy delays every chunk 2 s each way (a read takes 4 s and more),
// under onStale 'refuse' and staleness 2, on a process with the default timeout (5 s)
// and one with 12 s. What happens is printed: how often a valid session is refused
// ('revocations unavailable': staleness counts from the last completed read), the
// 'revocation-slow' warning (said once), how long sign-outs take, whether one that
// answered 503 was applied all the same, and how long the other process takes to
// enforce them. Broken promises fail it: a 5xx, or a revoked session accepted past the
// staleness and the read time.
import t, { type Test } from 'tap'
import { App, Figures, enforced, login, logout, everywhere, median, settled, startStore, stats, whoami, type StoreKind } from './drill.js'
import { pause } from '../servers/process.js'
import { waitFor } from '../servers/wait.js'

const STALENESS = 2
const DELAY_MS = 2000
/** A read: a round trip through the delays, and the rest of one under way that just missed the sign-out. */
const READ_MS = 2 * 2 * DELAY_MS
const BOUND_MS = STALENESS * 1000 + READ_MS + 1000
const SLOW_FOR_MS = 20_000

async function drill (t: Test, kind: StoreKind): Promise<void> {
  const store = await startStore(t, kind)
  const proxy = await store.proxy(t)
  // A pg connection needs two round trips to open: 8 s through the delays. B waits for
  // the store longer than a round trip and a read ahead of it (12 s), A the default 5 s.
  const config = { staleness: STALENESS, onStale: 'refuse' as const, connectTimeoutMs: 15_000 }
  const a = await App.start(t, 'A(timeout 5 s)', store, store.urlVia(proxy), { ...config, timeout: 5000 })
  const b = await App.start(t, 'B(timeout 12 s)', store, store.urlVia(proxy), { ...config, timeout: 12_000 })
  const apps = [a, b]
  await settled(apps)
  const f = new Figures()
  const valid = await login(a, 'valid')
  const victims = await Promise.all(Array.from({ length: 4 }, async (_, i) => ({ user: `victim-${i}`, token: await login(a, `victim-${i}`) })))
  proxy.set('delay', DELAY_MS)
  const slowUntil = Date.now() + SLOW_FOR_MS
  // A valid session asked on both, all along: how often each refuses it.
  const answers = { accepted: 0, unavailable: 0 }
  const on = { value: true }
  const asking = (async () => {
    while (on.value) {
      for (const app of apps) {
        const who = await whoami(app, valid)
        f.answer(who.status)
        if (who.userId === 'valid') answers.accepted++
        else if (who.reason === 'revocations unavailable') answers.unavailable++
      }
      await pause(100)
    }
  })()
  // Sign-outs on both at once, each enforced on the other.
  const signOutMs: number[] = []
  try {
    await pause(3000)
    await Promise.all(victims.map(async (victim, i) => {
      const revoker = apps[i % 2]
      const started = Date.now()
      const status = i < 2 ? await logout(revoker, victim.token, 30_000) : await everywhere(revoker, victim.user, 30_000)
      const answeredAt = Date.now()
      signOutMs.push(answeredAt - started)
      f.signOut(status, true)
      if (status === 200) {
        await enforced(apps, victim.token, answeredAt, BOUND_MS, f, BOUND_MS + 10_000)
        return
      }
      // Its answer came after the timeout; the store may have taken it before its deadline all the same.
      await pause(BOUND_MS)
      const refused = (await Promise.all(apps.map(async (app) => await whoami(app, victim.token)))).filter((w) => w.reason === 'revoked').length
      f.details.push(`a sign-out on ${revoker.name} answered ${status} after ${answeredAt - started} ms; ${refused > 0 ? 'the store had taken it before its deadline: it was enforced' : 'it was not applied'}`)
    }))
    await waitFor(() => Date.now() >= slowUntil, SLOW_FOR_MS, 'the slow period to end')
  } finally {
    on.value = false
    await asking
  }
  proxy.set('forward')
  const slowEvents = await Promise.all(apps.map(async (app) => (await stats(app)).events['revocation-slow'] ?? 0))
  const slowLogged = apps.map((app) => app.count('took longer than revocation.staleness'))
  const slowMs = apps.map((app) => app.output().split('\n').filter((l) => l.includes('took longer than revocation.staleness')).map((l) => (JSON.parse(l) as { ms: number }).ms))
  const share = Math.round(100 * answers.unavailable / Math.max(1, answers.accepted + answers.unavailable))
  const stale = apps.map((app) => `${app.name} ${app.count('has not been read for over')} (${app.count('reading the revocation store took longer than')} after a read that timed out)`)
  f.details.push(`delay ${DELAY_MS} ms each way for ${SLOW_FOR_MS / 1000} s: the valid session was refused as unavailable ${answers.unavailable} times and accepted ${answers.accepted} (${share}% refused); ` +
    `'revocation-slow' published ${slowEvents.join(' and ')} times, logged ${slowLogged.join(' and ')} times (reads of ${slowMs.flat().join(', ')} ms); ` +
    `sign-outs answered in median ${median(signOutMs)} ms, max ${Math.max(...signOutMs)} ms; stale periods: ${stale.join(', ')}; ` +
    'enforcement is the time until each process refused a session as revoked (as unavailable meanwhile)')
  t.ok(slowEvents.every((n) => n >= 1), 'each process said its reads were slow')
  // Under onStale 'refuse', a process whose reads time out refuses everything, as unavailable:
  // what counts is that no revoked session is accepted past the bound, not when 'revoked' shows.
  f.report(t, `${kind}: slow store`)
}

t.test('PostgreSQL', async (t) => { await drill(t, 'postgres') })
t.test('Redis', async (t) => { await drill(t, 'redis') })
