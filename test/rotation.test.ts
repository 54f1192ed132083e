// Secret rotation: the secret that signs is the first of a list, or current among roles;
// every secret verifies; a token of an older secret (later in the list, or previous) comes
// back re-signed with the signing one, its user, expiry and login time kept, while a next
// secret's token is kept as it is. A rolling deploy of each step of the recipe
// (docs/rotation.md) loses no session, and with roles re-signs a cookie at most once,
// whichever servers a client reaches. The secret option's rules and the environment
// variables: secrets.test.ts.
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Secret, SessionEvent } from '../types/index.js'
import { createSession, diagnosticsChannelName, getSession } from '../lib/index.js'
import { LogCapture, NONE, SECRET, T0, buildApp, clock, fieldsOf, payloadOf, visit } from './helpers.js'
import { alternate, signerOf } from './mixed-fleet.js'

const OLD = 'old-secret-0123456789abcdef0123456789abcdef'
const NEW = 'new-secret-0123456789abcdef0123456789abcdef'
const N2 = 'n2-secret-0123456789abcdef0123456789abcdefg'
const ALL = [OLD, NEW, N2]
const S0 = T0 / 1000
const TTL = 3600

// Re-signing: a list, newest first.
t.test('a token signed with an older secret is re-signed with the newest, same user and expiry', async (t) => {
  const time = clock()
  const logs = new LogCapture()
  const app = await buildApp({ secret: [NEW, 'middle-secret-0123456789abcdef0123456789ab', OLD], ttl: 3600, externalTtl: 3600, now: time.now }, logs)
  t.teardown(() => app.close())
  const old = createSession('u', { secret: OLD, ttl: 3600, now: () => T0 })
  time.advance(600)
  const seen = await visit(app, old)
  t.same(seen.session, { userId: 'u', issuedAt: null, expiresAt: S0 + 3600, sessionId: null })
  t.equal(seen.setCookies, 1)
  const fresh = seen.cookie!.value
  const { sid, ...rest } = payloadOf(fresh)
  t.same(rest, { ...payloadOf(old), iat: S0 }, 'the same user and expiry, the login time written in: rotation never lengthens a session')
  t.match(sid, /^[A-Za-z0-9_-]{22}$/, 'with the session id its copies are revoked by')
  t.equal(seen.cookie!.attributes[0], 'Max-Age=3000', 'Max-Age is what is left')
  t.equal(getSession(fresh, { secret: NEW, now: time.now }), 'u')
  const lines = logs.records.filter((r) => r.secretIndex !== undefined)
  t.same(lines.map((r) => [r.level, r.secretIndex, r.msg]), [[20, 2, 'fastify-dbbasic-sessions: re-signed with the newest secret']])
  t.notOk(logs.text.includes(OLD) || logs.text.includes(NEW), 'no secret in the log')

  const again = await visit(app, fresh)
  t.equal(again.setCookies, 0, 'a token signed with the newest secret is left alone')
})

t.test('with rolling, an old-secret token due for renewal gets one cookie: renewed and re-signed', async (t) => {
  const time = clock()
  const app = await buildApp({ secret: [NEW, OLD], ttl: 3600, externalTtl: 3600, rolling: true, now: time.now })
  t.teardown(() => app.close())
  const old = createSession('w', { secret: OLD, ttl: 3600, now: () => T0 })
  time.advance(2000)
  const seen = await visit(app, old)
  t.equal(seen.setCookies, 1)
  t.match(payloadOf(seen.cookie!.value), { user_id: 'w', expires: S0 + 2000 + 3600, iat: S0, renewed: S0 + 2000 })
  t.equal(getSession(seen.cookie!.value, { secret: NEW, now: time.now }), 'w')
})

t.test('rotation re-signing keeps what the token carries and never moves the login time into the future', async (t) => {
  const time = clock()
  const NEWER = 'a-newer-secret-0123456789abcdef0123456789'
  const app = await buildApp({ ttl: 86400, secret: [NEWER, SECRET], now: time.now })
  t.teardown(() => app.close())
  // Python's default ttl is 30 days, longer than this plugin's one day: issued at T0 - 29 days
  // counts as issued 30 days before it expires, which is T0 - 29 days; one day after it, over.
  const python = createSession('py', { secret: SECRET, now: () => T0 - 29 * 86400_000 })
  t.same((await visit(app, python)).session, NONE, 'a one-day plugin ends a Python login a day after it')
  const recent = createSession('py', { secret: SECRET, now: () => T0 - 3600_000 })
  const first = await visit(app, recent)
  t.equal(first.session.userId, 'py')
  t.same(fieldsOf(first.cookie!.value), { user_id: 'py', expires: S0 - 3600 + 2592000, iat: S0 - 3600 }, 're-signed with its login time written in, its expiry kept')
  time.set(T0 + 1000)
  t.equal((await visit(app, first.cookie!.value)).session.userId, 'py', 'still signed in on the next request')
  // A plugin token keeps every field through a re-signing.
  const older = await buildApp({ ttl: 86400, secret: SECRET, rolling: true, now: () => T0 - 50_000_000 })
  t.teardown(() => older.close())
  const made = (await older.inject({ method: 'POST', url: '/login?user=kept&ttl=60000' })).json().token
  const renewedByOlder = (await visit(older, made)).cookie
  t.equal(renewedByOlder, undefined)
  const resigned = await visit(app, made)
  const before = payloadOf(made)
  t.same(payloadOf(resigned.cookie!.value), before, 'iat, sid, ttl and expiry as they were')
})

t.test('a token of a dropped secret is simply no session', async (t) => {
  const app = await buildApp({ secret: NEW })
  t.teardown(() => app.close())
  t.same((await visit(app, createSession('z', { secret: OLD, now: () => T0 }))).session, NONE)
})

// Re-signing: roles.
t.test('a next secret verifies and is kept; a previous one is re-signed with current, same user and expiry', async (t) => {
  const logs = new LogCapture()
  const events: SessionEvent[] = []
  const listener = (message: unknown): void => { events.push(message as SessionEvent) }
  subscribe(diagnosticsChannelName, listener)
  t.teardown(() => unsubscribe(diagnosticsChannelName, listener))
  // Tokens of the standalone API carry no login time: they count as made with this ttl.
  const app = await buildApp({ secret: { current: NEW, next: [N2], previous: [OLD] }, ttl: TTL, externalTtl: TTL }, logs)
  t.teardown(() => app.close())

  const ahead = createSession('n', { secret: N2, ttl: TTL, now: () => T0 })
  const seenAhead = await visit(app, ahead)
  t.equal(seenAhead.session.userId, 'n')
  t.equal(seenAhead.setCookies, 0, 'a cookie of a next secret is left as it is')

  const old = createSession('o', { secret: OLD, ttl: TTL, now: () => T0 })
  const seenOld = await visit(app, old)
  t.equal(seenOld.session.userId, 'o')
  t.equal(seenOld.setCookies, 1)
  t.equal(signerOf(seenOld.cookie!.value, ALL, () => T0), 1, 'signed with current')
  const { sid, ...rest } = payloadOf(seenOld.cookie!.value)
  t.same(rest, { ...payloadOf(old), iat: S0 }, 'the same user and expiry')
  t.equal((await visit(app, seenOld.cookie!.value)).setCookies, 0, 'and then left alone')

  const resigned = events.filter((e) => e.event === 're-signed')
  t.same(resigned.map((e) => [e.userId, e.reason, e.secretIndex]), [['o', 'older secret', 2]], 'counted current 0, next 1, previous 2')
  t.same(logs.records.filter((r) => r.secretIndex !== undefined).map((r) => r.secretIndex), [2])
  t.notOk([OLD, NEW, N2].some((s) => logs.text.includes(s)), 'no secret in the log')
})

t.test('with rolling, a cookie of a next secret is renewed with that secret, not turned back to current', async (t) => {
  const time = clock()
  const app = await buildApp({ secret: { current: OLD, next: [NEW] }, ttl: TTL, externalTtl: TTL, rolling: true, now: time.now })
  t.teardown(() => app.close())
  const ahead = createSession('r', { secret: NEW, ttl: TTL, now: () => T0 })
  time.advance(2000)
  const seen = await visit(app, ahead)
  t.equal(seen.setCookies, 1, 'due for renewal')
  t.match(payloadOf(seen.cookie!.value), { user_id: 'r', expires: S0 + 2000 + TTL, iat: S0, renewed: S0 + 2000 })
  t.equal(signerOf(seen.cookie!.value, ALL, time.now), 1, 'still signed with the next secret')
  const login = await app.inject({ method: 'POST', url: '/login?user=fresh' })
  t.equal(signerOf(login.json().token, ALL, time.now), 0, 'a login is signed with current')
})

t.test('the standalone API takes the roles: current signs, every role verifies', async (t) => {
  const roles = { current: NEW, next: [N2], previous: [OLD] }
  const token = createSession('s', { secret: roles, now: () => T0 })
  t.equal(signerOf(token, ALL, () => T0), 1)
  for (const secret of ALL) t.equal(getSession(createSession('s', { secret, now: () => T0 }), { secret: roles, now: () => T0 }), 's')
  roles.previous = []
  t.equal(getSession(createSession('s', { secret: OLD, now: () => T0 }), { secret: roles, now: () => T0 }), null, 'a role edited in place counts at once')
  t.equal(getSession(createSession('s', { secret: N2, now: () => T0 }), { secret: { current: NEW, previous: [N2] }, now: () => T0 }), 's',
    'the same secrets in other roles are other options, checked and used as given')
  t.equal(getSession(token, { secret: { current: NEW, next: undefined }, now: () => T0 }), 's', 'a role given as undefined is none')
})

// The recipe with a list, as a rolling deploy of three instances.
interface DrillResult { requests: number, lost: number, answered: Set<number> }

/**
 * A rolling deploy of three instances, played with one clock. Each step restarts the
 * instances one at a time with a new secret list while twelve clients keep browsing
 * (from every minute to every 50 minutes), each holding the cookie its browser
 * would hold. A request whose cookie the browser still holds but that gets no session
 * is a lost session.
 */
async function drill (t: Test, steps: Array<{ secret: string[], waitAfter: number }>): Promise<DrillResult> {
  const time = clock()
  const ttl = 3600
  const start = async (secret: string[]): Promise<FastifyInstance> => buildApp({ secret, ttl, now: time.now })
  const fleet = await Promise.all([0, 1, 2].map(async () => start([OLD])))
  t.teardown(() => Promise.all(fleet.map(async (app) => app.close())))
  const clients = Array.from({ length: 12 }, (_, i) => ({ user: `user${i}`, every: [1, 2, 3, 50, 7, 13, 29, 2, 1, 41, 3, 17][i], cookie: undefined as string | undefined, until: 0, due: S0 + i * 4 * 60 }))
  const result: DrillResult = { requests: 0, lost: 0, answered: new Set() }
  let turn = 0

  async function browse (minutes: number): Promise<void> {
    for (let m = 0; m < minutes; m++) {
      time.advance(60)
      const now = time.now() / 1000
      for (const client of clients) {
        if (now < client.due) continue
        client.due = now + client.every * 60
        const index = turn++ % fleet.length
        const app = fleet[index]
        result.answered.add(index)
        const held = client.cookie !== undefined && now < client.until
        if (!held) {
          const res = await app.inject({ method: 'POST', url: `/login?user=${client.user}` })
          client.cookie = res.json().token
          client.until = now + ttl
          continue
        }
        const seen = await visit(app, client.cookie)
        result.requests++
        if (seen.session.userId !== client.user) result.lost++
        if (seen.cookie !== undefined) {
          client.cookie = seen.cookie.value
          client.until = now + Number(seen.cookie.attributes[0].slice('Max-Age='.length))
        }
      }
    }
  }

  await browse(30)
  for (const step of steps) {
    for (let i = 0; i < fleet.length; i++) {
      await fleet[i].close()
      fleet[i] = await start(step.secret)
      await browse(5)
    }
    await browse(step.waitAfter)
  }
  return result
}

t.test('the rotation drill: add the new secret last, then first, drop the old one after one ttl; no session lost', async (t) => {
  const result = await drill(t, [
    { secret: [OLD, NEW], waitAfter: 10 },
    { secret: [NEW, OLD], waitAfter: 60 },
    { secret: [NEW], waitAfter: 30 }
  ])
  t.comment(`rotation drill: ${result.requests} requests with a session cookie, ${result.lost} sessions lost, instances answering: ${[...result.answered].join(', ')}`)
  t.ok(result.requests > 300, `${result.requests} requests carried a session`)
  t.same([...result.answered].sort(), [0, 1, 2], 'every instance answered')
  t.equal(result.lost, 0, 'no session lost at any step')
})

t.test('the drill fails when a step is skipped, so it can tell', async (t) => {
  const noVerifyOnlyStep = await drill(t, [
    { secret: [NEW, OLD], waitAfter: 60 },
    { secret: [NEW], waitAfter: 10 }
  ])
  t.ok(noVerifyOnlyStep.lost > 0, `signing with the new secret before every instance knows it: ${noVerifyOnlyStep.lost} lost`)
  const noWait = await drill(t, [
    { secret: [OLD, NEW], waitAfter: 10 },
    { secret: [NEW, OLD], waitAfter: 0 },
    { secret: [NEW], waitAfter: 10 }
  ])
  t.ok(noWait.lost > 0, `dropping the old secret without waiting one ttl: ${noWait.lost} lost`)
})

// The recipe with roles, step by step: a server not yet deployed (before) and one deployed (after).
const RECIPE: Array<{ step: string, before: Secret, after: Secret }> = [
  { step: 'step 1, the new secret added as next', before: OLD, after: { current: OLD, next: [NEW] } },
  { step: 'step 2, the new secret current and the old one previous', before: { current: OLD, next: [NEW] }, after: { current: NEW, previous: [OLD] } },
  { step: 'step 3, the old secret dropped one ttl later', before: { current: NEW, previous: [OLD] }, after: NEW },
  { step: "the next rotation's step 1", before: NEW, after: { current: NEW, next: [N2] } }
]

async function fleet (t: Test, before: Secret, after: Secret, extra: object = {}, now = (): number => T0): Promise<FastifyInstance[]> {
  const apps = [await buildApp({ secret: before, ttl: TTL, now, ...extra }), await buildApp({ secret: after, ttl: TTL, now, ...extra })]
  t.teardown(() => Promise.all(apps.map(async (app) => app.close())))
  return apps
}

for (const { step, before, after } of RECIPE) {
  t.test(`${step}: a client alternating between the two kinds of server gets at most one Set-Cookie, in either order`, async (t) => {
    const apps = await fleet(t, before, after)
    let resigned = 0
    for (const [home, name] of [[0, 'not yet deployed'], [1, 'deployed']] as const) {
      for (const first of [0, 1]) {
        const user = `u${home}${first}`
        const token = (await apps[home].inject({ method: 'POST', url: `/login?user=${user}` })).json().token
        const walk = await alternate(apps, first, user, token, 8, ALL, () => T0)
        t.equal(walk.lost, 0, `signed in at the ${name} server, first request to server ${first}: never signed out`)
        t.ok(walk.setCookies <= 1, `signed in at the ${name} server, first request to server ${first}: ${walk.setCookies} Set-Cookie`)
        resigned += walk.resigned
      }
    }
    if (step.startsWith('step 2')) t.equal(resigned, 2, "the old secret's cookies are each re-signed once, whichever server they meet first")
    else t.equal(resigned, 0, 'nothing to re-sign in this step')
  })

  t.test(`${step}, with rolling renewals over two ttl: each cookie changes secret at most once`, async (t) => {
    const time = clock()
    const apps = await fleet(t, before, after, { rolling: true }, time.now)
    for (const home of [0, 1]) {
      for (const first of [0, 1]) {
        const user = `r${home}${first}`
        const token = (await apps[home].inject({ method: 'POST', url: `/login?user=${user}` })).json().token
        const walk = await alternate(apps, first, user, token, 12, ALL, time.now, () => { time.advance(600) })
        t.equal(walk.lost, 0, 'never signed out')
        t.ok(walk.setCookies >= 2, `renewed along the way (${walk.setCookies} Set-Cookie)`)
        t.ok(walk.resigned <= 1, `signed in at server ${home}, first request to server ${first}: the signing secret changed ${walk.resigned} times`)
      }
    }
  })
}

t.test('a plain list keeps its meaning: from [old, new] to [new, old], servers re-sign each other\'s cookies back and forth', async (t) => {
  const apps = await fleet(t, [OLD, NEW], [NEW, OLD])
  const token = (await apps[0].inject({ method: 'POST', url: '/login?user=p' })).json().token
  const walk = await alternate(apps, 1, 'p', token, 8, ALL, () => T0)
  t.equal(walk.lost, 0)
  t.equal(walk.setCookies, 8, 'every response re-signs: the churn the roles avoid')
})
