// Server-side sign-out: destroySession ends the presented session everywhere,
// revokeAllSessions signs a user out everywhere, revokeSessionById ends one device; every
// process sharing the store enforces it. Time comes from `now`.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { createSession, memoryStore } from '../lib/index.js'
import type { FastifyDbbasicSessionsOptions, Revocation, RevocationStore } from '../types/index.js'
import { encodeToken, toKeys } from '../lib/token.js'
import { LogCapture, NONE, OTHER_SECRET, SECRET, T0, buildApp, clock, payloadOf, visit } from './helpers.js'

const S0 = T0 / 1000

async function pair (t: Test, options: FastifyDbbasicSessionsOptions = {}, store: RevocationStore = memoryStore()): Promise<[FastifyInstance, FastifyInstance]> {
  const make = async (): Promise<FastifyInstance> => {
    const app = await buildApp({ revocation: { store }, ...options }, undefined, (app) => {
      app.post<{ Querystring: { user: string } }>('/everywhere', async (request) => {
        await app.revokeAllSessions(request.query.user)
        return { ok: true }
      })
      app.post<{ Querystring: { id: string } }>('/device', async (request) => {
        await app.revokeSessionById(request.query.id)
        return { ok: true }
      })
    })
    t.teardown(() => app.close())
    return app
  }
  return [await make(), await make()]
}

const login = async (app: FastifyInstance, user: string): Promise<string> => (await app.inject({ method: 'POST', url: `/login?user=${user}` })).json().token
const logout = async (app: FastifyInstance, token: string): Promise<number> =>
  (await app.inject({ method: 'POST', url: '/logout', headers: { cookie: `__Host-Http-session=${token}` } })).statusCode
/** Lets the memory store's push reach the other instance. */
const settle = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

t.test('destroySession ends the presented session on every instance: a copy taken before is refused', async (t) => {
  const [a, b] = await pair(t)
  const token = await login(a, 'alice')
  const other = await login(a, 'alice')
  t.equal((await visit(b, token)).session.userId, 'alice')
  t.equal(await logout(a, token), 200)
  t.same((await visit(a, token)).session, NONE, 'refused at once on the instance that signed out')
  await settle()
  t.same((await visit(b, token)).session, NONE, 'and on the other one')
  t.equal((await visit(b, other)).session.userId, 'alice', 'the same user\'s other device stays signed in')
})

t.test('every kind of token is ended by destroySession: Python-made, standalone, older secret, re-signed copies', async (t) => {
  const [a, b] = await pair(t, { secret: [SECRET, OTHER_SECRET] })
  const python = createSession('py', { secret: SECRET, now: () => T0 })
  const older = createSession('old', { secret: OTHER_SECRET, now: () => T0 })
  const resigned = (await visit(a, older)).cookie!.value
  t.equal(payloadOf(resigned).user_id, 'old')
  for (const [what, presented, copies] of [
    ['a token without iat or sid', python, [python]],
    ['an older secret\'s token, signed out with its re-signed copy', resigned, [older, resigned]],
    ['an older secret\'s token, signed out with the original', older, [older, resigned]]
  ] as Array<[string, string, string[]]>) {
    if (what.endsWith('original')) {
      // A fresh pair of copies of one session, signed out through the first.
      const store = memoryStore()
      const [c, d] = await pair(t, { secret: [SECRET, OTHER_SECRET] }, store)
      const again = (await visit(c, older)).cookie!.value
      t.equal(await logout(c, older), 200)
      await settle()
      t.same((await visit(d, again)).session, NONE, `${what}: the re-signed copy is refused`)
      continue
    }
    t.equal(await logout(a, presented), 200)
    await settle()
    for (const copy of copies) t.same((await visit(b, copy)).session, NONE, what)
  }
})

t.test('revokeAllSessions signs a user out everywhere, whatever made the session; a sign-in right after works at once', async (t) => {
  const [a, b] = await pair(t)
  const plugin = await login(a, 'bob')
  const standalone = createSession('bob', { secret: SECRET, now: () => T0 })
  const otherUser = await login(a, 'carol')
  t.equal((await a.inject({ method: 'POST', url: '/everywhere?user=bob' })).statusCode, 200)
  const sameInstance = await login(a, 'bob')
  await settle()
  // The clock stands still here: the other instance orders its logins after a cut-off it has read.
  const fresh = await login(b, 'bob')
  for (const app of [a, b]) {
    t.same((await visit(app, plugin)).session, NONE, 'a plugin session from before')
    t.same((await visit(app, standalone)).session, NONE, 'a standalone (Python) session from before')
    t.equal((await visit(app, otherUser)).session.userId, 'carol', 'another user is untouched')
    t.equal((await visit(app, sameInstance)).session.userId, 'bob', 'a sign-in right after, in the same millisecond, works')
  }
  t.equal((await visit(a, fresh)).session.userId, 'bob', 'so does one on another instance')
})

t.test('revokeAllSessions covers tokens with a login time and no session id (an older version\'s) and re-signed Python ones', async (t) => {
  const [a, b] = await pair(t, { secret: [SECRET, OTHER_SECRET] })
  const keys = toKeys([SECRET])
  const older = encodeToken('hal', S0 + 3600, keys[0], { iat: S0 })
  const python = createSession('hal', { secret: OTHER_SECRET, now: () => T0 })
  const resigned = (await visit(a, python)).cookie!.value
  t.equal(payloadOf(resigned).sid?.length, 22, 'the re-signed Python token carries its copies\' key as its id')
  await a.revokeAllSessions('hal')
  await settle()
  for (const token of [older, python, resigned]) t.same((await visit(b, token)).session, NONE)
})

t.test('revokeSessionById ends one device by its session id, kept across renewals', async (t) => {
  const time = clock()
  const [a, b] = await pair(t, { ttl: 600, rolling: true, now: time.now })
  const phone = await login(a, 'dan')
  const laptop = await login(a, 'dan')
  time.advance(400)
  const renewed = (await visit(a, phone)).cookie!.value
  const sessionId = (await visit(a, renewed)).session.sessionId as string
  t.equal(sessionId, payloadOf(phone).sid, 'renewals keep the session id')
  t.equal((await a.inject({ method: 'POST', url: `/device?id=${sessionId}` })).statusCode, 200)
  await settle()
  t.same((await visit(b, phone)).session, NONE)
  t.same((await visit(b, renewed)).session, NONE, 'the renewed copy too')
  t.equal((await visit(b, laptop)).session.userId, 'dan', 'the other device stays')
  await t.rejects(a.revokeSessionById('not a session id'), { name: 'TypeError', message: /revokeSessionById takes a session id \(request\.session\.sessionId\): 16 to 64 base64url characters; to sign a user out everywhere, use revokeAllSessions\(userId\)/ })
})

t.test('by default a sign-out ends the session: a copy of the cookie taken before it is refused', async (t) => {
  const app = await buildApp()
  t.teardown(() => app.close())
  const token = await login(app, 'erin')
  t.equal(await logout(app, token), 200)
  t.same((await visit(app, token)).session, NONE)
})

t.test('revocation: false turns it off by name: a copy stays valid until it expires, and the revokers say why they cannot', async (t) => {
  const app = await buildApp({ revocation: false })
  t.teardown(() => app.close())
  const token = await login(app, 'erin')
  t.equal(await logout(app, token), 200)
  t.equal((await visit(app, token)).session.userId, 'erin', 'stateless: a copy stays valid until it expires')
  await t.rejects(app.revokeAllSessions('erin'), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION', message: /revokeAllSessions needs revocation, which is off \(revocation: false\)/ })
  await t.rejects(app.revokeSessionById(payloadOf(token).sid as string), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION', message: /revokeSessionById needs revocation, which is off/ })
})

/** A memory store that records what is written to it (not shared: the plugin reads it). */
function recording (): RevocationStore & { written: Revocation[] } {
  const inner = memoryStore()
  const written: Revocation[] = []
  return {
    written,
    add: async (r) => { written.push(r); await inner.add(r) },
    since: async (cursor, now) => await inner.since(cursor, now)
  }
}

t.test('a revocation is kept only until no token it covers can be valid', async (t) => {
  const time = clock()
  const store = recording()
  const [a] = await pair(t, { ttl: 600, now: time.now }, store)
  const token = await login(a, 'fay')
  await logout(a, token)
  await a.revokeAllSessions('fay')
  t.same(store.written.map((r) => r.kind), ['session', 'user'])
  const [session, user] = store.written
  t.equal(session.until, S0 + 600 + 2, 'a session: its end, plus the staleness during which another process may still renew it')
  t.equal(user.until, S0 + 1 + 34560000 + 2, 'a user: the longest a session can live without absoluteTtl, from the cut-off plus its one-second margin')

  const capped = recording()
  const [c] = await pair(t, { ttl: 600, absoluteTtl: 3600, rolling: true, clockTolerance: 5, now: time.now }, capped)
  await c.revokeAllSessions('fay')
  t.equal(capped.written[0].until, S0 + 6 + 3600 + 5 + 2, 'absoluteTtl (and the clock tolerance, in the margin and the grace) bound a user\'s')
  const rolling = await login(c, 'gia')
  time.advance(100)
  await logout(c, rolling)
  t.equal(capped.written[1].until, S0 + 100 + 600 + 5 + 2, 'a rolling session\'s: a renewal elsewhere may still move it one ttl past now')
  time.advance(3300)
  const [d] = await pair(t, { ttl: 3600, absoluteTtl: 3600, rolling: true, now: time.now }, capped)
  const full = await login(d, 'ida')
  time.advance(2000)
  await logout(d, full)
  t.equal(capped.written.at(-1)!.until, S0 + 3400 + 3600 + 2, 'never past the login plus absoluteTtl, renewals or not')
})

t.test('the memory store drops what expired: past its end a session\'s revocation is gone from the table', async (t) => {
  const time = clock()
  const store = memoryStore()
  const [a] = await pair(t, { ttl: 600, now: time.now }, store)
  await logout(a, await login(a, 'fay'))
  await a.revokeAllSessions('fay')
  t.same((await store.since(null, S0)).revocations.map((r) => r.kind), ['session', 'user'])
  await store.prune!(S0 + 603)
  t.same((await store.since(null, S0 + 603)).revocations.map((r) => r.kind), ['user'], 'past its end the session\'s is dropped')
})

t.test('a revocation that cannot be stored is never reported as done', async (t) => {
  const logs = new LogCapture()
  let fail = false
  const inner = memoryStore()
  const store: RevocationStore = {
    add: async (r) => { if (fail) throw new Error('connect ECONNREFUSED 127.0.0.1:5432'); await inner.add(r) },
    since: async (cursor, now) => inner.since(cursor, now)
  }
  const app = await buildApp({ revocation: { store } }, logs, (app) => {
    app.post('/everywhere', async (request) => {
      await app.revokeAllSessions(request.session.userId as string)
      return { ok: true }
    })
  })
  t.teardown(() => app.close())
  const token = await login(app, 'gus')
  fail = true
  const out = await app.inject({ method: 'POST', url: '/logout', headers: { cookie: `__Host-Http-session=${token}` } })
  t.equal(out.statusCode, 503)
  t.same(out.json(), { statusCode: 503, code: 'FST_DBBASIC_SESSIONS_REVOCATION_FAILED', error: 'Service Unavailable', message: 'The sign-out could not be completed; please try again' })
  t.equal(out.headers['set-cookie'], undefined, 'the cookie is kept: this browser stays signed in, as the session does')
  t.equal(out.headers['cache-control'], 'no-store')
  t.equal((await visit(app, token)).session.userId, 'gus', 'nothing was revoked, here either')
  const everywhere = await app.inject({ method: 'POST', url: '/everywhere', headers: { cookie: `__Host-Http-session=${token}` } })
  t.equal(everywhere.statusCode, 503)
  t.same(logs.records.filter((r) => r.level === 50 && String(r.msg).startsWith('fastify-dbbasic-sessions')).map((r) => [r.kind, r.msg]), [
    ['session', 'fastify-dbbasic-sessions: a revocation could not be stored (if the store took it, it did so within the timeout, never after); the caller was told'],
    ['user', 'fastify-dbbasic-sessions: a revocation could not be stored (if the store took it, it did so within the timeout, never after); the caller was told']
  ])
  t.notOk(logs.text.includes(token) || logs.text.includes(token.split('.')[1]), 'no token in the log')
  fail = false
  t.equal(await logout(app, token), 200, 'once the store takes writes again, signing out works')
  t.same((await visit(app, token)).session, NONE)
})

t.test('the revocation option is checked at register, naming the rule', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [1, /revocation must be true \(the default\), false \(off\) or \{ store, staleness, onStale, timeout, acceptBeforeLoad, maxRevokedSessions \}; got 1/],
    [{ store: {} }, /revocation\.store must be a revocation store: an object with add\(revocation\) and since\(cursor, nowSeconds\) methods/],
    [{ store: memoryStore(), staleness: 0 }, /revocation\.staleness must be an integer number of seconds from 1 to 60; got 0/],
    [{ store: memoryStore(), onStale: 'maybe' }, /revocation\.onStale must be "accept" or "refuse"; got "maybe"/],
    [{ store: memoryStore(), timeout: 10 }, /revocation\.timeout must be an integer number of milliseconds from 100 to 60000; got 10/],
    [{ store: memoryStore(), stalenes: 2 }, /unknown option "revocation\.stalenes" \(did you mean "revocation\.staleness"\?\)/],
    ['memory', /revocation must be true \(the default\), false \(off\) or \{ store, .*\}; got "memory"/],
    [{ acceptBeforeLoad: 'yes' }, /revocation\.acceptBeforeLoad must be true or false; got "yes"/],
    [{ maxRevokedSessions: 0 }, /revocation\.maxRevokedSessions must be an integer from 1 to 100000000; got 0/]
  ]
  for (const [revocation, message] of cases) {
    await t.rejects(buildApp({ revocation: revocation as FastifyDbbasicSessionsOptions['revocation'] }), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION', message }, String(message))
  }
  await t.rejects(buildApp({ externalTtl: 0 }), { message: /externalTtl must be an integer number of seconds from 1 to 34560000/ })
})

t.test('memoryStore read as a store (wrapped by an app): the table as it is first, then what was added, in order', async (t) => {
  const store = memoryStore()
  await store.add({ kind: 'session', id: 'AZq9dbgAMs38td7cgfC_tcYl', until: S0 + 60 })
  const first = await store.since(null, S0)
  t.same(first.revocations.map((r) => r.kind), ['session'], 'sessions as fingerprints')
  t.match(first.revocations[0].id, /^#[0-9a-f]{16}$/)
  await store.add({ kind: 'user', id: 'u', after: T0, until: S0 + 60 })
  await store.add({ kind: 'session', id: 'later-session-id-0001', until: S0 + 10 })
  const next = await store.since(first.cursor, S0)
  t.same(next.revocations, [{ kind: 'user', id: 'u', after: T0, until: S0 + 60 }, { kind: 'session', id: 'later-session-id-0001', until: S0 + 10 }], 'then the log, as added')
  t.same((await store.since(next.cursor, S0)).revocations, [], 'nothing more')
  await store.prune!(S0 + 20)
  t.same((await store.since(first.cursor, S0 + 20)).revocations.map((r) => r.id), ['u'], 'the log is pruned too')
  const strange = await store.since('99', S0)
  t.equal(strange.reset, true, 'a cursor it did not give: the table again, as a reset')
  t.same(strange.revocations.map((r) => r.kind), ['session', 'user'])
  let pushed = 0
  const stop = await store.subscribe!(() => { pushed++ })
  await store.add({ kind: 'session', id: 'pushed-session-id-0001', until: S0 + 10 })
  await settle()
  await stop()
  await store.add({ kind: 'session', id: 'pushed-session-id-0002', until: S0 + 10 })
  await settle()
  t.equal(pushed, 1, 'a subscriber hears each add until it stops')
})

t.test('revocation: true is the default said out loud; the in-process store is named once per process at start-up, never when chosen', async (t) => {
  const logs = new LogCapture()
  const app = await buildApp({ revocation: true }, logs)
  t.teardown(() => app.close())
  const token = await login(app, 'jo')
  t.equal(await logout(app, token), 200)
  t.same((await visit(app, token)).session, NONE)
  const chosen = new LogCapture()
  const other = await buildApp({ revocation: { store: memoryStore() } }, chosen)
  t.teardown(() => other.close())
  t.notOk(chosen.text.includes('kept in this process\'s memory'), 'not for a store given by name')
})

t.test('the memory store drops what expired as it grows, by the plugin\'s clock', async (t) => {
  const time = clock()
  const store = memoryStore()
  const [a] = await pair(t, { ttl: 60, now: time.now }, store)
  await logout(a, await login(a, 'kim'))
  t.equal((await store.since(null, S0)).revocations.length, 1)
  time.advance(120)
  await logout(a, await login(a, 'kim'))
  t.equal((await store.since(null, S0 + 120)).revocations.length, 1, 'the expired one was dropped when the next came, a minute on')
})
