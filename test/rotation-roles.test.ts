// Secrets by role: current signs, next verifies and is kept, previous verifies and is
// re-signed. A rolling deploy of any step of the recipe re-signs a cookie at most once,
// whichever servers a client reaches (docs/rotation.md).
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Secret, SessionEvent } from '../types/index.js'
import { createSession, diagnosticsChannelName, getSession } from '../lib/index.js'
import { LogCapture, T0, buildApp, clock, payloadOf, visit } from './helpers.js'
import { alternate, signerOf } from './mixed-fleet.js'

const OLD = 'old-secret-0123456789abcdef0123456789abcdef'
const NEW = 'new-secret-0123456789abcdef0123456789abcdef'
const N2 = 'n2-secret-0123456789abcdef0123456789abcdefg'
const ALL = [OLD, NEW, N2]
const S0 = T0 / 1000
const TTL = 3600

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

// The recipe, step by step: a server not yet deployed (before) and one deployed (after).
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
