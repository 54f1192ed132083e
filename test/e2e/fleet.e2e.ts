// `npm run test:fleet`: Debian's nginx on a loopback port, round-robin over three
// demo processes with the same secrets, sharing one PostgreSQL (accounts, devices,
// revocations) and one Redis (sign-in counts). Sessions survive whichever process
// answers, a rolling secret rotation, and a process killed outright. "Sign out
// everywhere" on one process reaches the others within the revocation staleness; the
// sign-in limits hold across the processes and per real client behind nginx; a
// shared cache in front of the demo never hands one user's cookie or page to another.
// The fault drills (database, Redis, a process killed while clients browse) are in faults.e2e.ts.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { startNginx } from './nginx.js'
import { getSession } from '../../lib/index.js'
import { Client, COOKIE, form, newStats, tokenUser } from './fleet-client.js'
import { postFrom, startFleet, summary } from './fleet-setup.js'

const OLD = randomBytes(32).toString('hex')
const NEW = randomBytes(32).toString('hex')
const TTL = 6
const STALENESS = 2
const PASSWORD = 'fleet-password-' + randomBytes(4).toString('hex')

t.test('one sign-in, thousands of requests through nginx: signed in on every one, all three processes answering', async (t) => {
  const fleet = await startFleet(t, OLD)
  const nginx = await startNginx(t, fleet.backends.map((b) => b.port))
  const client = new Client('fleet-user', PASSWORD, nginx.base)
  await client.register()
  const stats = newStats()
  const started = Date.now()
  while (stats.requests < 3000) await client.visit(stats)
  t.comment(`fleet: ${summary(stats)}, in ${((Date.now() - started) / 1000).toFixed(1)} s (ttl ${TTL} s, rolling)`)
  t.equal(stats.upstreams.size, 3, 'all three processes answered')
  t.equal(stats.logins, 0, 'rolling renewal kept the one session going: no second sign-in')
  t.ok(stats.renewals > 0, `the session was renewed ${stats.renewals} times`)
  t.equal(stats.lost, 0, 'no request lost its session')
  t.equal(stats.wrongUser, 0)
  t.equal(stats.failed, 0)
})

t.test('the rotation drill through nginx, secrets by role, processes restarted one at a time: no one signed out, each cookie re-signed at most once a step; then a process killed outright', async (t) => {
  const fleet = await startFleet(t, OLD)
  const nginx = await startNginx(t, fleet.backends.map((b) => b.port))
  const clients = Array.from({ length: 4 }, (_, i) => new Client(`user-${i}`, PASSWORD, nginx.base))
  for (const c of clients) await c.register()
  const stats = newStats()
  // The recipe of docs/rotation.md in the environment.
  const steps: Array<[string, string, string | undefined]> = [['add the new secret as next', OLD, NEW], ['make it current, the old one previous', `${NEW},${OLD}`, undefined], ['drop the old one', NEW, undefined]]
  const signer = (c: Client): string => c.cookie === undefined ? 'none' : getSession(c.cookie, { secret: OLD }) !== null ? 'old' : 'new'
  const state = { step: 0 }
  const last = new Map(clients.map((c) => [c, signer(c)]))
  // Changes of the signing secret, per step and client: at most one (old to new), never back.
  const changes = steps.map(() => new Map(clients.map((c) => [c, 0])))
  let back = 0

  const drill = (async () => {
    for (const [i, [what, secrets, next]] of steps.entries()) {
      state.step = i
      if (next === undefined && !secrets.includes(',')) {
        // One ttl after the last process started signing with the new secret.
        await new Promise((resolve) => setTimeout(resolve, TTL * 1000 + 500))
      }
      for (const backend of fleet.backends) {
        await fleet.restart(backend, secrets, next)
        await new Promise((resolve) => setTimeout(resolve, 300))
      }
      t.comment(`step done: ${what}`)
    }
  })()
  const watched = (async () => {
    const done = { v: false }
    drill.then(() => { done.v = true }, () => { done.v = true })
    while (!done.v) {
      for (const c of clients) {
        await c.visit(stats)
        const now = signer(c)
        const before = last.get(c) as string
        if (now !== before && now !== 'none' && before !== 'none') {
          const map = changes[state.step]
          map.set(c, (map.get(c) as number) + 1)
          if (now === 'old') back++
        }
        last.set(c, now)
      }
    }
  })()
  await Promise.all([drill, watched])
  const most = changes.map((m) => Math.max(...m.values()))
  t.comment(`rotation drill: ${summary(stats)}; changes of signing secret per client, by step: ${changes.map((m) => JSON.stringify([...m.values()])).join(' ')}`)
  t.equal(back, 0, 'no cookie was ever re-signed back to the old secret')
  t.ok(most.every((n) => n <= 1), `no client re-signed more than once a step (most in a step: ${most.join(', ')})`)
  t.ok(stats.requests > 500, `${stats.requests} requests during the drill`)
  t.equal(stats.lost, 0, 'no session lost at any step')
  t.equal(stats.wrongUser, 0)
  t.equal(stats.failed, 0, 'no failed request: each process drained, and nginx moved refused connections to another')

  const afterKill = newStats()
  fleet.backends[1].demo.child.kill('SIGKILL')
  for (let i = 0; i < 500; i++) for (const c of clients) await c.visit(afterKill)
  t.comment(`after SIGKILL of one process: ${summary(afterKill)}`)
  t.equal(afterKill.lost, 0, 'killing a process loses no session: nothing was stored in it')
  t.equal(afterKill.failed, 0)
  t.equal(afterKill.upstreams.size, 2, 'the two processes left answered')
})

t.test('sign out everywhere on one process reaches all three within the staleness; a new sign-in works at once', async (t) => {
  const fleet = await startFleet(t, OLD)
  const nginx = await startNginx(t, fleet.backends.map((b) => b.port))
  const browsers = Array.from({ length: 3 }, () => new Client('ada', PASSWORD, nginx.base))
  await browsers[0].register()
  for (const b of browsers.slice(1)) await b.login()
  const bystander = new Client('grace', PASSWORD, nginx.base)
  await bystander.register()

  // Every process accepts every browser before.
  const direct = async (b: Client, port: number): Promise<number> => {
    const res = await fetch(`http://127.0.0.1:${port}/me`, { headers: b.headers })
    if (res.status === 200) b.keep(res)
    await res.arrayBuffer()
    return res.status
  }
  for (const b of [...browsers, bystander]) {
    for (const { port } of fleet.backends) t.equal(await direct(b, port), 200, `before: process ${port} accepts ${b.name}'s browser`)
  }

  const signOut = await fetch(nginx.base + '/logout-everywhere', form({}, browsers[0].cookie))
  const at = Date.now()
  await signOut.arrayBuffer()
  t.equal(signOut.status, 303, `sign out everywhere answered by ${signOut.headers.get('x-upstream')}`)
  t.match(signOut.headers.get('set-cookie'), new RegExp(`^${COOKIE}=;`), 'and it cleared that browser\'s own cookie')

  // Each other browser's cookie, on each process directly, until every one is refused
  // (bounded). A slow poll can only see a refusal late, never early, so the bound is
  // checked on the last request still accepted: when it was sent.
  const others = browsers.slice(1)
  const pairs = others.flatMap((b, i) => fleet.backends.map(({ port }) => ({ b, port, key: `browser ${i + 2} on ${port}`, lastAccepted: 0, refused: -1 })))
  const limit = (STALENESS + 3) * 1000
  let polls = 0
  while (pairs.some((p) => p.refused < 0) && Date.now() - at < limit) {
    for (const p of pairs.filter((p) => p.refused < 0)) {
      const sent = Date.now() - at
      polls++
      if (await direct(p.b, p.port) === 401) p.refused = Date.now() - at
      else p.lastAccepted = sent
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const latest = Math.max(...pairs.map((p) => p.lastAccepted))
  t.comment(`sign out everywhere: ${pairs.filter((p) => p.refused >= 0).length} of ${pairs.length} (browser, process) pairs refused after ${polls} polls; last request still accepted sent ${latest} ms after; by pair (last accepted / first refused): ${pairs.map((p) => `${p.key}: ${p.lastAccepted} / ${p.refused} ms`).join(', ')}`)
  t.ok(pairs.every((p) => p.refused >= 0), 'every other browser is signed out on every process')
  t.ok(latest < STALENESS * 1000 + 100, `within the documented staleness, ${STALENESS} s: no request sent later was accepted (the last, ${latest} ms after)`)

  for (const { port } of fleet.backends) t.equal(await direct(bystander, port), 200, `another user on process ${port} is still signed in`)
  const again = new Client('ada', PASSWORD, nginx.base)
  await again.login()
  t.pass('signed in again at once, without waiting for the next second')
  const stats = newStats()
  for (let i = 0; i < 30; i++) await again.visit(stats)
  t.ok(stats.requests === 30 && stats.lost === 0 && stats.upstreams.size === 3, `signing in again works on every process (${summary(stats)})`)
})

t.test('a shared cache in front of the fleet never gives one user the other\'s cookie or page', async (t) => {
  const fleet = await startFleet(t, OLD)
  const nginx = await startNginx(t, fleet.backends.map((b) => b.port), { cache: true })
  const users = [new Client('alice', PASSWORD, nginx.base), new Client('bob', PASSWORD, nginx.base)]
  for (const u of users) await u.register()
  const counts = { requests: 0, hits: 0, misses: 0, renewals: 0, renewalsOnPublic: 0, foreignCookie: 0, foreignBody: 0, cachedWithCookie: 0, lost: 0, failed: 0 }
  const publicBodies = new Set<string>()
  const [alice, bob] = users
  const started = Date.now()
  // Long enough that every session comes due for renewal several times (ttl 6 s,
  // renewed in its second half). Each round's public URL is new, so its first
  // request reaches a process, often with a renewal-due cookie; the same URL
  // right after, from the other user and again from the first, may come from the cache.
  for (let round = 0; Date.now() - started < 3 * TTL * 1000 && round < 2000; round++) {
    const about = `/about?round=${round}`
    const visits: Array<[Client, string]> = [[alice, about], [bob, about], [alice, about], [bob, about], [alice, '/'], [bob, '/'], [alice, '/me'], [bob, '/me']]
    for (const [u, path] of visits) {
      const res = await fetch(nginx.base + path, { headers: u.headers })
      const body = await res.text()
      counts.requests++
      const cache = res.headers.get('x-cache')
      if (cache === 'HIT') counts.hits++
      if (cache === 'MISS') counts.misses++
      for (const c of res.headers.getSetCookie()) {
        const value = c.startsWith(COOKIE + '=') ? c.slice(COOKIE.length + 1).split(';')[0] : ''
        if (value === '') continue
        if (tokenUser(value) !== u.userId) counts.foreignCookie++
        if (cache === 'HIT') counts.cachedWithCookie++
        if (path.startsWith('/about')) counts.renewalsOnPublic++
        counts.renewals++
      }
      if (res.status !== 200) {
        if (res.status === 401) counts.lost++
        else counts.failed++
        continue
      }
      u.keep(res)
      const other = u === alice ? bob : alice
      if (body.includes(other.name)) counts.foreignBody++
      if (path.startsWith('/about')) publicBodies.add(body)
      else if (!body.includes(u.name)) counts.foreignBody++
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.comment(`shared cache: ${JSON.stringify(counts)}`)
  t.ok(counts.hits > 0, `the cache served ${counts.hits} responses itself`)
  t.ok(counts.renewals >= 2 * 3, `the sessions were renewed (${counts.renewals} times) while the users browsed`)
  t.equal(counts.renewalsOnPublic, 0, 'no renewal went out on a publicly cacheable response')
  t.equal(counts.cachedWithCookie, 0, 'no cached response carried a Set-Cookie')
  t.equal(counts.foreignCookie, 0, 'no user ever received the other\'s cookie')
  t.equal(counts.foreignBody, 0, 'no user ever received the other\'s page')
  t.equal(counts.lost, 0)
  t.equal(counts.failed, 0)
  t.equal(publicBodies.size, 1, 'the public page is the same for everyone')
})

t.test('sign-in limits: per real client behind nginx and across the three processes; per account from many addresses', async (t) => {
  const fleet = await startFleet(t, OLD, { RATE_LIMIT_MAX: '6', ACCOUNT_RATE_LIMIT_MAX: '4' })
  const nginx = await startNginx(t, fleet.backends.map((b) => b.port))
  for (const [name, from] of [['ada', '127.0.0.50'], ['grace', '127.0.0.51']]) {
    t.equal((await postFrom(nginx.base, '/register', { name, password: PASSWORD }, from)).status, 303, `register ${name}`)
  }

  // One client guesses: other names each time, so only its address limit counts.
  const guesses = []
  for (let i = 0; i < 9; i++) guesses.push(await postFrom(nginx.base, '/login', { name: `nobody-${i}`, password: 'guess guess' }, '127.0.0.2'))
  const byStatus = (answers: Array<{ status: number }>): Record<number, number> => answers.reduce<Record<number, number>>((m, a) => ({ ...m, [a.status]: (m[a.status] ?? 0) + 1 }), {})
  t.comment(`one client, 9 guesses: ${JSON.stringify(byStatus(guesses))}, in order ${guesses.map((g) => `${g.status} from ${g.upstream}`).join(', ')}`)
  t.same(guesses.map((g) => g.status), [401, 401, 401, 401, 401, 401, 429, 429, 429], 'six attempts a minute for the whole fleet, not six per process')
  t.equal(new Set(guesses.map((g) => g.upstream)).size, 3, 'the attempts went to all three processes')
  const spoofed = await postFrom(nginx.base, '/login', { name: 'nobody-x', password: 'guess guess' }, '127.0.0.2', { 'x-forwarded-for': '10.1.2.3' })
  t.equal(spoofed.status, 429, 'an X-Forwarded-For the client makes up does not give it a new count')

  const other = await postFrom(nginx.base, '/login', { name: 'ada', password: PASSWORD }, '127.0.0.3')
  t.equal(other.status, 303, 'another client signs in meanwhile: one client\'s failures do not lock out another')

  // Guesses at one account from many addresses, each well under its own limit.
  const spread = []
  for (let i = 0; i < 6; i++) spread.push(await postFrom(nginx.base, '/login', { name: 'GRACE', password: `guess ${i}` }, `127.0.0.${10 + i}`))
  t.comment(`one account, 6 guesses from 6 addresses: ${JSON.stringify(byStatus(spread))}`)
  t.same(spread.map((g) => g.status), [401, 401, 401, 401, 429, 429], 'four wrong passwords a minute for the account, whatever the address (and however its name is written)')
  t.equal((await postFrom(nginx.base, '/login', { name: 'grace', password: PASSWORD }, '127.0.0.30')).status, 429, 'the right password waits too: a guess is never checked')
  t.equal((await postFrom(nginx.base, '/login', { name: 'ada', password: PASSWORD }, '127.0.0.31')).status, 303, 'another account is not held up')
})
