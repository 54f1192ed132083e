// `npm run test:fleet`: faults while clients browse a fleet of three demo processes
// behind nginx, sharing one PostgreSQL and one Redis. A process killed with kill -9
// and started again, PostgreSQL stopped for 10 s, Redis stopped for 10 s. For each:
// requests sent, answers by status, wrong logins, accounts and revocations lost.
import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { startNginx, type Nginx } from './nginx.js'
import { Client, form, newStats, type Stats } from './fleet-client.js'
import { pause, postFrom, startFleet, summary, traffic, type Fleet } from './fleet-setup.js'

const PASSWORD = 'fault-password-' + randomBytes(4).toString('hex')
const OUTAGE_MS = 10_000
const ACCOUNT_MAX = 5

interface Drill {
  fleet: Fleet
  nginx: Nginx
  clients: Client[]
  /** Copies of cookies signed out everywhere before the faults: each must stay refused. */
  revoked: string[]
  accounts: number
}

/** Four browsing clients (four: coprime to three processes, so each client meets all three). */
async function setUp (t: Test): Promise<Drill> {
  const fleet = await startFleet(t, randomBytes(32).toString('hex'), { ACCOUNT_RATE_LIMIT_MAX: String(ACCOUNT_MAX) })
  const nginx = await startNginx(t, fleet.backends.map((b) => b.port))
  const clients = Array.from({ length: 4 }, (_, i) => new Client(`browser-${i}`, PASSWORD, nginx.base))
  for (const c of clients) await c.register()
  // Another user signs in twice and signs out everywhere: the two old cookies are revoked.
  const leaver = new Client('leaver', PASSWORD, nginx.base)
  await leaver.register()
  const copy = new Client('leaver', PASSWORD, nginx.base)
  await copy.login()
  const revoked = [leaver.cookie as string, copy.cookie as string]
  const out = await fetch(nginx.base + '/logout-everywhere', form({}, leaver.cookie))
  t.equal(out.status, 303, 'signed out everywhere')
  await pause(2500) // the staleness, 2 s, and a little: every process has the revocation
  // The one who signs in and out during each fault.
  await new Client('visitor', PASSWORD, nginx.base).register()
  return { fleet, nginx, clients, revoked, accounts: clients.length + 2 }
}

/** Copies of revoked cookies any process accepts (each process asked directly). */
async function revocationsLost (d: Drill): Promise<number> {
  let accepted = 0
  for (const cookie of d.revoked) {
    for (const { port } of d.fleet.backends) {
      const res = await fetch(`http://127.0.0.1:${port}/me`, { headers: { cookie: `session=${cookie}` } })
      await res.arrayBuffer()
      if (res.status !== 401) accepted++
    }
  }
  return accepted
}

async function accountsLost (d: Drill): Promise<number> {
  const [{ n }] = await d.fleet.query('SELECT count(*)::int AS n FROM users')
  return d.accounts - Number(n)
}

/**
 * While the fault runs, someone signs in, looks at the home page and signs out, over
 * and over: those pages answer, or say 503 (never another 5xx).
 */
async function visitor (d: Drill, until: Promise<unknown>, stats: Stats): Promise<void> {
  const state = { done: false }
  until.then(() => { state.done = true }, () => { state.done = true })
  const v = new Client('visitor', PASSWORD, d.nginx.base)
  while (!state.done) {
    const status = await v.tryLogin()
    record(stats, `sign-in ${status}`)
    if (status === 303) {
      const home = await fetch(d.nginx.base + '/', { headers: v.headers })
      await home.arrayBuffer()
      record(stats, `home ${home.status}`)
      const out = await fetch(d.nginx.base + '/logout', form({}, v.cookie))
      await out.arrayBuffer()
      record(stats, `sign-out ${out.status}`)
      if (out.status === 303) v.cookie = undefined
    }
    await pause(200)
  }
}

function record (stats: Stats, key: string): void {
  stats.statuses[key] = (stats.statuses[key] ?? 0) + 1
  stats.requests++
  if (/ 5\d\d$/.test(key) && !key.endsWith(' 503')) {
    stats.failed++
    stats.failures[key] = (stats.failures[key] ?? 0) + 1
  }
}

/** Runs the fault while the clients browse and the visitor comes and goes; checks and prints the figures. */
async function drill (t: Test, d: Drill, what: string, fault: () => Promise<void>): Promise<{ browsing: Stats, visits: Stats }> {
  const browsing = newStats()
  const visits = newStats()
  const done = fault()
  await Promise.all([traffic(d.clients, browsing, done), visitor(d, done, visits), done])
  // Afterwards, without restarting anything: a new sign-in works at once.
  const fresh = new Client(`after-${what.replace(/\W+/g, '-')}`, PASSWORD, d.nginx.base)
  await fresh.register()
  d.accounts++
  const after = newStats()
  for (let i = 0; i < 12; i++) await fresh.visit(after)
  const lostAccounts = await accountsLost(d)
  const lostRevocations = await revocationsLost(d)
  t.comment(`${what}: browsing: ${summary(browsing)}`)
  t.comment(`${what}: signing in and out meanwhile: ${visits.requests} requests, answers ${JSON.stringify(visits.statuses)}`)
  t.comment(`${what}: accounts lost: ${lostAccounts}, revocations lost: ${lostRevocations}; after it, a new account: ${summary(after)}`)
  t.equal(browsing.wrongUser + visits.wrongUser, 0, 'no wrong login')
  t.equal(browsing.failed, 0, 'browsing: no failed request')
  t.equal(visits.failed, 0, 'signing in and out: 503 at worst, never another 5xx')
  t.equal(lostAccounts, 0, 'no account lost')
  t.equal(lostRevocations, 0, 'no revocation lost: every revoked copy is still refused by every process')
  t.equal(after.lost + after.failed, 0, 'a new sign-in works at once afterwards')
  t.equal(after.statuses['200'], 12 - after.logins)
  return { browsing, visits }
}

t.test('faults while clients browse', async (t) => {
  const d = await setUp(t)

  await t.test('kill -9 one process, then start it again', async (t) => {
    const { browsing } = await drill(t, d, 'kill -9', async () => {
      await pause(1000)
      await d.fleet.killAndStart(d.fleet.backends[1])
      await pause(1000)
    })
    t.equal(browsing.lost, 0, 'no session lost: nothing of it was in the process')
    t.ok(browsing.upstreams.size === 3, 'all three answered again')
  })

  await t.test('PostgreSQL stopped for 10 s, then started', async (t) => {
    // Every client meets every process first: each knows the names it shows.
    const warm = newStats()
    for (let i = 0; i < 30; i++) for (const c of d.clients) await c.visit(warm)
    // Signed in before the stop, tries to sign out during it.
    const leaving = new Client('visitor', PASSWORD, d.nginx.base)
    await leaving.login()
    const outs: Record<string, number[]> = { during: [], after: [] }
    const signOut = async (when: 'during' | 'after', path: string): Promise<void> => {
      const res = await fetch(d.nginx.base + path, form({}, leaving.cookie))
      const body = await res.text()
      outs[when].push(res.status)
      if (when === 'during') {
        t.equal(res.headers.getSetCookie().length, 0, `${path} during the stop: the cookie is kept`)
        t.match(body, path === '/logout' ? 'You were not signed out' : 'The other browsers were not signed out', `${path}: the page says it was not done`)
      }
    }
    const { browsing, visits } = await drill(t, d, 'PostgreSQL stopped 10 s', async () => {
      await pause(500)
      await d.fleet.postgres.stop()
      await pause(1000)
      await signOut('during', '/logout-everywhere')
      await signOut('during', '/logout')
      await pause(OUTAGE_MS - 1000)
      await d.fleet.postgres.start()
      // Until a sign-in works again (bounded): the pools reconnect by themselves.
      for (let i = 0; i < 50 && (await new Client('visitor', PASSWORD, d.nginx.base).tryLogin()) !== 303; i++) await pause(200)
      await signOut('after', '/logout')
    })
    t.comment(`PostgreSQL stopped 10 s: sign out during the stop answered ${JSON.stringify(outs.during)}, after it ${JSON.stringify(outs.after)}`)
    t.same(outs, { during: [503, 503], after: [303] }, 'sign out (here, everywhere) said 503 during the stop, and worked after it')
    t.equal(browsing.lost, 0, 'signed-in users kept browsing: sessions verify by computation')
    t.ok((visits.statuses['sign-in 503'] ?? 0) > 0, 'sign-in said the service was unavailable (503) during the stop')
    t.ok((visits.statuses['sign-in 303'] ?? 0) > 0, 'and worked before and after it')
  })

  await t.test('Redis stopped for 10 s, then started: sign-in counts fall back to each process', async (t) => {
    const { browsing, visits } = await drill(t, d, 'Redis stopped 10 s', async () => {
      await pause(500)
      await d.fleet.redis.stop()
      // Guesses at one account while Redis is down: each process counts its own.
      // Until six refusals in a row (bounded): every process has used up its own count.
      const during: number[] = []
      while (during.length < 45 && !(during.length >= 6 && during.slice(-6).every((s) => s === 429))) {
        during.push((await postFrom(d.nginx.base, '/login', { name: 'target-during', password: `guess ${during.length}` }, `127.0.1.${during.length + 1}`)).status)
      }
      t.comment(`Redis down: guesses at one account: ${JSON.stringify(during)}`)
      const wrong = during.filter((s) => s === 401).length
      t.ok(wrong >= ACCOUNT_MAX && wrong <= 3 * ACCOUNT_MAX, `fail open to a per-process limit: ${wrong} guesses checked, at most ${3 * ACCOUNT_MAX} (${ACCOUNT_MAX} on each of 3 processes)`)
      t.ok(during.slice(-6).every((s) => s === 429), 'then every process refuses')
      t.notOk(during.some((s) => s >= 500), 'no 5xx')
      await pause(OUTAGE_MS - 1000)
      await d.fleet.redis.start()
      await pause(2500) // each process's ioredis reconnects on its own, trying at least every second
      const after = []
      for (let i = 0; i < 8; i++) after.push((await postFrom(d.nginx.base, '/login', { name: 'target-after', password: `guess ${i}` }, `127.0.2.${i + 1}`)).status)
      t.comment(`Redis back: 8 guesses at another account: ${JSON.stringify(after)}`)
      t.same(after, [401, 401, 401, 401, 401, 429, 429, 429], 'counted in Redis again: one limit for the fleet')
    })
    t.equal(browsing.lost, 0)
    t.notOk(Object.keys(visits.statuses).some((k) => / 5\d\d$/.test(k)), 'signing in and out went on: no 5xx at all')
  })
})
