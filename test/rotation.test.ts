// Secret rotation: the first secret signs, all verify, and a token signed with an
// older one comes back re-signed with the newest, expiry unchanged.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { createSession, getSession } from '../lib/index.js'
import { LogCapture, NONE, SECRET, T0, buildApp, clock, fieldsOf, payloadOf, visit } from './helpers.js'

const OLD = 'old-secret-0123456789abcdef0123456789abcdef'
const NEW = 'new-secret-0123456789abcdef0123456789abcdef'
const S0 = T0 / 1000

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

t.test('a token of a dropped secret is simply no session', async (t) => {
  const app = await buildApp({ secret: NEW })
  t.teardown(() => app.close())
  t.same((await visit(app, createSession('z', { secret: OLD, now: () => T0 }))).session, NONE)
})
