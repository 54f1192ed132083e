// A session's lifetime: the ttl (the plugin's and a login's own), rolling renewal,
// absoluteTtl, the login time of a token without one (externalTtl, Python's tokens) and
// clockTolerance. The rules hold when a token is read, from what it carries and the
// options in force, never from the time it happens to be read at: lowering ttl or
// absoluteTtl shortens sessions already issued, and a replayed copy gains nothing. Time
// comes from the `now` option: no test sleeps. (Remember me: remember-me.test.ts;
// readSession's verdict at every boundary: read-session.test.ts.)
import t, { type Test } from 'tap'
import { createSession, getSession } from '../lib/index.js'
import { LogCapture, NONE, OTHER_SECRET, SECRET, T0, buildApp, clock, fieldsOf as payloadOf, payloadOf as rawPayloadOf, sessionCookie, visit } from './helpers.js'

const S0 = T0 / 1000

// ttl: expired at the second it says, the plugin's or a login's own, and lowered for sessions already issued.
async function loginThenAsk (t: Test, ttl: number | undefined, ...offsets: number[]): Promise<Array<string | null>> {
  const time = clock()
  const app = await buildApp(ttl === undefined ? { now: time.now } : { ttl, now: time.now })
  t.teardown(() => app.close())
  const { token } = (await app.inject({ method: 'POST', url: '/login?user=zoe' })).json()
  const answers = []
  for (const seconds of offsets) {
    time.set(T0 + seconds * 1000)
    answers.push((await app.inject({ url: '/whoami', headers: { cookie: `__Host-Http-session=${token}` } })).json().userId)
  }
  return answers
}

t.test('a session is valid one second before its expiry and expired exactly at it', async (t) => {
  t.same(await loginThenAsk(t, 3600, 0, 3599, 3599.999, 3600, 3601, 86400), ['zoe', 'zoe', 'zoe', null, null, null])
})

t.test('the default ttl is 30 days', async (t) => {
  t.same(await loginThenAsk(t, undefined, 2591999, 2592000), ['zoe', null])
})

t.test('the shortest ttl, one second', async (t) => {
  t.same(await loginThenAsk(t, 1, 0, 0.999, 1), ['zoe', 'zoe', null])
})

t.test('a login in the middle of a second counts from the whole second, as the reference does', async (t) => {
  const time = clock(T0 + 900)
  const app = await buildApp({ ttl: 10, now: time.now })
  t.teardown(() => app.close())
  const { token } = (await app.inject({ method: 'POST', url: '/login?user=y' })).json()
  t.equal(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).expires, T0 / 1000 + 10)
})

t.test('an expired cookie is logged at debug with reason "expired"', async (t) => {
  const time = clock()
  const logs = new LogCapture()
  const app = await buildApp({ ttl: 60, now: time.now }, logs)
  t.teardown(() => app.close())
  const { token } = (await app.inject({ method: 'POST', url: '/login?user=x' })).json()
  time.advance(60)
  const res = await app.inject({ url: '/private', headers: { cookie: `__Host-Http-session=${token}` } })
  t.equal(res.statusCode, 401)
  t.same(logs.records.filter((r) => r.reason !== undefined).map((r) => [r.level, r.reason]), [[10, 'no cookie'], [20, 'expired']])
})

t.test('a per-login ttl sets both the expiry and Max-Age, and is checked', async (t) => {
  const app = await buildApp()
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/login?user=a&ttl=60' })
  t.equal(sessionCookie(res.headers)?.attributes[0], 'Max-Age=60')
  const { token } = res.json()
  t.equal(getSession(token, { secret: SECRET, now: () => T0 + 59_000 }), 'a')
  t.equal(getSession(token, { secret: SECRET, now: () => T0 + 60_000 }), null)
  const bad = await app.inject({ method: 'POST', url: '/login?user=a&ttl=0' })
  t.equal(bad.statusCode, 500)
  t.equal(bad.json().message, 'fastify-dbbasic-sessions: ttl must be an integer number of seconds from 1 to 34560000 (400 days); got 0')
  t.equal(sessionCookie(bad.headers), undefined, 'no cookie on a refused login')
})

t.test('lowering ttl ends sessions already issued at the next request', async (t) => {
  const time = clock()
  const before = await buildApp({ ttl: 2592000, now: time.now })
  t.teardown(() => before.close())
  const token = (await before.inject({ method: 'POST', url: '/login?user=long' })).json().token as string
  const after = await buildApp({ ttl: 60, now: time.now })
  t.teardown(() => after.close())
  time.set(T0 + 59_000)
  t.equal((await visit(after, token)).session.userId, 'long', 'within the new ttl of its login')
  t.equal((await visit(after, token)).session.expiresAt, S0 + 60, 'and ending at login + the new ttl')
  time.set(T0 + 120_000)
  t.same((await visit(after, token)).session, NONE, 'a 30-day cookie is over 120 s after a login under ttl 60')
  t.same(await after.readSession(`__Host-Http-session=${token}`), NONE, 'readSession agrees')
})

t.test('lowering ttl under rolling counts from the last renewal', async (t) => {
  const time = clock()
  const before = await buildApp({ ttl: 3600, rolling: true, now: time.now })
  t.teardown(() => before.close())
  const token = (await before.inject({ method: 'POST', url: '/login?user=r' })).json().token as string
  time.set(T0 + 2000_000)
  const renewed = (await visit(before, token)).cookie!.value
  const after = await buildApp({ ttl: 600, rolling: true, now: time.now })
  t.teardown(() => after.close())
  time.set(T0 + 2599_000)
  t.equal((await visit(after, renewed)).session.userId, 'r', 'inside 600 s of the renewal')
  time.set(T0 + 2600_000)
  t.same((await visit(after, renewed)).session, NONE, 'idle 600 s since the renewal: over, though the token says 3600')
})

// The login time and the session id every token of the plugin carries.
for (const option of [{}, { rolling: true }, { absoluteTtl: 7200 }, { validate: () => true }]) {
  t.test(`with ${Object.keys(option)[0] ?? 'the defaults'}, tokens carry the login time and a session id after expires, and Python still reads them`, async (t) => {
    const app = await buildApp({ ttl: 3600, ...option })
    t.teardown(() => app.close())
    const { token } = (await app.inject({ method: 'POST', url: '/login?user=42' })).json()
    const { sid } = rawPayloadOf(token)
    t.match(sid, /^[A-Za-z0-9_-]{24}$/, 'a session id of 144 bits, base64url')
    t.equal(Buffer.from(token.split('.')[0], 'base64url').toString(), `{"user_id": "42", "expires": ${S0 + 3600}, "iat": ${S0}, "sid": "${sid as string}"}`)
    // The reference ignores fields it does not know; the standalone verifier is the reference's rule.
    t.equal(getSession(token, { secret: SECRET, now: () => T0 }), '42')
    t.same((await visit(app, token)).session, { userId: '42', issuedAt: S0, expiresAt: S0 + 3600, sessionId: sid })
  })
}

t.test('two logins of one user in the same millisecond get different cookies and session ids', async (t) => {
  const app = await buildApp({ ttl: 3600 })
  t.teardown(() => app.close())
  const ids = new Set<string>()
  const tokens = new Set<string>()
  for (let i = 0; i < 20; i++) {
    const { token } = (await app.inject({ method: 'POST', url: '/login?user=same' })).json()
    tokens.add(token)
    ids.add(rawPayloadOf(token).sid as string)
  }
  t.equal(tokens.size, 20)
  t.equal(ids.size, 20)
})

// rolling: renewal past the half-life, for the login's own ttl.
t.test('rolling: renewal starts just after the half-life, not before', async (t) => {
  const time = clock()
  const app = await buildApp({ ttl: 3600, rolling: true, now: time.now })
  t.teardown(() => app.close())
  const { token } = (await app.inject({ method: 'POST', url: '/login?user=r' })).json()

  time.set(T0 + 1799_000)
  let seen = await visit(app, token)
  t.equal(seen.cookie, undefined, '1801 s left: still fresh, no Set-Cookie')
  time.set(T0 + 1800_000)
  seen = await visit(app, token)
  t.equal(seen.cookie, undefined, 'exactly half left: still no Set-Cookie')
  t.equal(seen.setCookies, 0)

  time.set(T0 + 1801_000)
  seen = await visit(app, token)
  t.equal(seen.setCookies, 1, 'one Set-Cookie')
  t.same(payloadOf(seen.cookie!.value), { user_id: 'r', expires: S0 + 1801 + 3600, iat: S0, renewed: S0 + 1801 }, 'a full ttl from now, same login time')
  t.equal(rawPayloadOf(seen.cookie!.value).sid, rawPayloadOf(token).sid, 'the same session id')
  t.equal(seen.cookie!.attributes[0], 'Max-Age=3600')
  t.same(seen.session, { userId: 'r', issuedAt: S0, expiresAt: S0 + 1801 + 3600, sessionId: rawPayloadOf(token).sid }, 'request.session shows the new expiry')

  time.set(T0 + 3601_000)
  t.same((await visit(app, token)).session, NONE, 'the old cookie still ends on time')
  t.equal((await visit(app, seen.cookie!.value)).session.userId, 'r', 'the renewed one lives on')
})

t.test('rolling: no renewal cookie when the route signs in or out itself', async (t) => {
  const time = clock()
  const app = await buildApp({ ttl: 3600, rolling: true, now: time.now })
  t.teardown(() => app.close())
  const { token } = (await app.inject({ method: 'POST', url: '/login?user=old' })).json()
  time.advance(3000)
  const login = await app.inject({ method: 'POST', url: '/login?user=new', headers: { cookie: `__Host-Http-session=${token}` } })
  const cookies = ([] as string[]).concat(login.headers['set-cookie'] as string)
  t.equal(cookies.length, 1)
  t.equal(payloadOf(cookies[0].slice('__Host-Http-session='.length).split(';')[0]).user_id, 'new')
  const logout = await app.inject({ method: 'POST', url: '/logout', headers: { cookie: `__Host-Http-session=${token}` } })
  t.same(([] as string[]).concat(logout.headers['set-cookie'] as string).map((c) => c.split(';')[0]), ['__Host-Http-session='])
})

t.test('a per-login ttl is kept by rolling renewals, never stretched to the plugin\'s ttl', async (t) => {
  const time = clock()
  const app = await buildApp({ rolling: true, now: time.now })
  t.teardown(() => app.close())
  const login = await app.inject({ method: 'POST', url: '/login?user=short&ttl=300' })
  t.equal(sessionCookie(login.headers)!.attributes[0], 'Max-Age=300')
  t.same(payloadOf(login.json().token), { user_id: 'short', expires: S0 + 300, iat: S0, ttl: 300 }, 'the token carries its own ttl')
  time.set(T0 + 200_000)
  const renewed = await visit(app, login.json().token)
  t.equal(renewed.cookie!.attributes[0], 'Max-Age=300', 'renewed for its own ttl')
  t.same(payloadOf(renewed.cookie!.value), { user_id: 'short', expires: S0 + 500, iat: S0, renewed: S0 + 200, ttl: 300 })
  time.set(T0 + 500_000)
  t.same((await visit(app, renewed.cookie!.value)).session, NONE, 'idle for its own ttl: signed out')
  time.set(T0 + 30_000_000)
  t.same((await visit(app, renewed.cookie!.value)).session, NONE, 'and certainly 30,000 s later')
  const plain = await app.inject({ method: 'POST', url: '/login?user=long' })
  t.equal(payloadOf(plain.json().token).ttl, undefined, 'a login with the plugin\'s ttl carries none')
})

t.test('a session whose renewed cookie would be too large keeps working, without a new cookie', async (t) => {
  const time = clock()
  const logs = new LogCapture()
  const app = await buildApp({ ttl: 600, rolling: true, externalTtl: 600, now: time.now }, logs)
  t.teardown(() => app.close())
  // A token without iat that just fits; with iat and a sid added it would not.
  const id = 'x'.repeat(2960)
  const token = createSession(id, { secret: SECRET, ttl: 600, now: () => T0 })
  t.ok(token.length <= 4096)
  time.advance(500)
  const seen = await visit(app, token)
  t.equal(seen.status, 200)
  t.equal(seen.session.userId, id)
  t.equal(seen.setCookies, 0)
  t.same(logs.records.filter((r) => r.code !== undefined).map((r) => [r.level, r.code, r.msg]),
    [[20, 'FST_DBBASIC_SESSIONS_TOO_LARGE', 'fastify-dbbasic-sessions: could not re-issue the cookie']])
})

// absoluteTtl: a cap from the login time, however active the session and however its copies are replayed.
t.test('absoluteTtl caps the expiry and Max-Age of a login and of every renewal', async (t) => {
  const time = clock()
  const app = await buildApp({ ttl: 3600, absoluteTtl: 5400, rolling: true, now: time.now })
  t.teardown(() => app.close())
  const login = await app.inject({ method: 'POST', url: '/login?user=a&ttl=7200' })
  t.equal(login.headers['set-cookie']!.toString().split('; ')[1], 'Max-Age=5400', 'a per-login ttl over the cap is capped')
  t.equal(payloadOf(login.json().token).expires, S0 + 5400)

  const { token } = (await app.inject({ method: 'POST', url: '/login?user=b' })).json()
  time.set(T0 + 1801_000)
  const renewed = await visit(app, token)
  t.same(payloadOf(renewed.cookie!.value), { user_id: 'b', expires: S0 + 5400, iat: S0, renewed: S0 + 1801 }, 'renewed up to the cap, not a full ttl')
  t.equal(renewed.cookie!.attributes[0], `Max-Age=${5400 - 1801}`)
  time.set(T0 + 4000_000)
  t.equal((await visit(app, renewed.cookie!.value)).setCookies, 0, 'nothing to gain once at the cap: no cookie')
  time.set(T0 + 5399_000)
  t.equal((await visit(app, renewed.cookie!.value)).session.userId, 'b')
  time.set(T0 + 5400_000)
  t.same((await visit(app, renewed.cookie!.value)).session, NONE)
})

t.test('absoluteTtl ends a session whose token says it lives longer (the cap was lowered)', async (t) => {
  const time = clock()
  const before = await buildApp({ ttl: 3600, absoluteTtl: 10800, rolling: true, now: time.now })
  t.teardown(() => before.close())
  const { token } = (await before.inject({ method: 'POST', url: '/login?user=c' })).json()
  time.set(T0 + 3000_000)
  const renewed = (await visit(before, token)).cookie!.value
  t.equal(payloadOf(renewed).expires, S0 + 6600)

  const logs = new LogCapture()
  const after = await buildApp({ ttl: 3600, absoluteTtl: 5400, now: time.now }, logs)
  t.teardown(() => after.close())
  time.set(T0 + 5000_000)
  t.same((await visit(after, renewed)).session, { userId: 'c', issuedAt: S0, expiresAt: S0 + 5400, sessionId: rawPayloadOf(token).sid }, 'expiresAt shows the capped end')
  time.set(T0 + 5400_000)
  t.same((await visit(after, renewed)).session, NONE, 'ends at iat + absoluteTtl though the token says later')
  t.same(logs.records.filter((r) => r.reason !== undefined).map((r) => r.reason), ['absolute lifetime over'])
})

t.test('a rolling session with an absolute lifetime, followed over several renewals until it must end', async (t) => {
  const time = clock()
  const ttl = 1800
  const absoluteTtl = 4 * 3600
  const app = await buildApp({ ttl, absoluteTtl, rolling: true, now: time.now })
  t.teardown(() => app.close())
  let token = (await app.inject({ method: 'POST', url: '/login?user=busy' })).json().token as string
  const expiries: number[] = []
  // The user comes back every 20 minutes, carrying whatever cookie the last response left.
  for (let minute = 20; minute < 240; minute += 20) {
    time.set(T0 + minute * 60_000)
    const seen = await visit(app, token)
    t.equal(seen.session.userId, 'busy', `still signed in at minute ${minute}`)
    t.equal(seen.session.issuedAt, S0, 'the login time never moves')
    if (seen.cookie !== undefined) {
      token = seen.cookie.value
      expiries.push(payloadOf(token).expires)
      t.ok(Number(seen.cookie.attributes[0].slice('Max-Age='.length)) <= S0 + absoluteTtl - (T0 / 1000 + minute * 60), 'Max-Age never passes the cap')
    }
  }
  t.ok(expiries.length >= 5, `renewed ${expiries.length} times`)
  t.equal(expiries[expiries.length - 1], S0 + absoluteTtl, 'the last renewal reaches the cap exactly')
  time.set(T0 + (absoluteTtl - 1) * 1000)
  t.equal((await visit(app, token)).session.userId, 'busy', 'one second before the end')
  time.set(T0 + absoluteTtl * 1000)
  t.same((await visit(app, token)).session, NONE, 'at iat + absoluteTtl the session ends, however busy')
  t.equal((await visit(app, token, '/private')).status, 401)
})

for (const clockTolerance of [0, 120]) {
  t.test(`absoluteTtl caps a Python 30-day token however often its copy is replayed (clockTolerance ${clockTolerance})`, async (t) => {
    const time = clock()
    const absoluteTtl = 12 * 3600
    const app = await buildApp({ ttl: 1800, rolling: true, absoluteTtl, clockTolerance, now: time.now })
    t.teardown(() => app.close())
    const python = createSession('py', { secret: SECRET, now: () => T0 })
    // Python's default ttl is the default externalTtl: the login counts as T0.
    let token = python
    let lastSignedIn = T0
    for (let at = T0; at < T0 + 31 * 86400_000; at += 1200_000) {
      time.set(at)
      const seen = await visit(app, token)
      const replay = await visit(app, python)
      if (seen.session.userId === null) {
        t.equal(replay.session.userId, null, 'the original copy ends with the renewed one')
        break
      }
      lastSignedIn = at
      if (seen.cookie !== undefined) {
        token = seen.cookie.value
        t.ok(payloadOf(token).iat! <= at / 1000, 'the login time written is never in the future')
        t.equal(payloadOf(token).iat, S0, 'the login time is the token\'s own')
      }
    }
    const lived = (lastSignedIn - T0) / 1000
    t.ok(lived < absoluteTtl + clockTolerance, `signed in for ${lived} s, under absoluteTtl (+ tolerance)`)
    t.ok(lived >= absoluteTtl - 1200, `and not cut shorter (${lived} s)`)
  })
}

t.test('a replayed Python token never outlives its cap, through the hook or readSession', async (t) => {
  const time = clock()
  const app = await buildApp({ ttl: 1800, rolling: true, absoluteTtl: 12 * 3600, now: time.now })
  t.teardown(() => app.close())
  const python = createSession('py', { secret: SECRET, now: () => T0 })
  // The original copy, never renewed: idle past ttl after 30 minutes, and past the cap for ever after.
  for (const hours of [0.25, 0.5, 1, 11, 12, 24, 696]) {
    time.set(T0 + hours * 3600_000)
    const hooked = (await visit(app, python)).session.userId
    const read = (await app.readSession(`__Host-Http-session=${python}`)).userId
    t.equal(read, hooked, `${hours} h: readSession agrees with the hook`)
    t.equal(read, hours < 0.5 ? 'py' : null, `${hours} h after its login`)
  }
})

// A token without a login time (Python's, the standalone API's): it counts as issued externalTtl before it expires.
t.test('a token without iat counts as issued externalTtl before it expires, and a renewal writes that login time in', async (t) => {
  const time = clock()
  const app = await buildApp({ ttl: 3600, absoluteTtl: 5400, rolling: true, externalTtl: 3600, now: time.now })
  t.teardown(() => app.close())
  // As dbbasic-sessions in Python makes it: no iat.
  const python = createSession('py', { secret: SECRET, ttl: 3600, now: () => T0 })
  const first = await visit(app, python)
  t.same(first.session, { userId: 'py', issuedAt: null, expiresAt: S0 + 3600, sessionId: null }, 'issuedAt shows what the token carries')
  t.equal(first.setCookies, 0, 'nothing to write: the login time follows from the token alone')
  time.set(T0 + 2000_000)
  const renewed = await visit(app, python)
  t.same(payloadOf(renewed.cookie!.value), { user_id: 'py', expires: S0 + 5400, iat: S0, renewed: S0 + 2000 }, 'renewed, capped at (expires - externalTtl) + absoluteTtl')
  time.set(T0 + 5400_000)
  t.same((await visit(app, renewed.cookie!.value)).session, NONE)
  t.same((await visit(app, python)).session, NONE, 'and the original copy too')
})

t.test('externalTtl is the longest ttl a token without iat may have: one claiming more is refused, one within it is re-signed without a login time in the future', async (t) => {
  const time = clock()
  const logs = new LogCapture()
  const app = await buildApp({ ttl: 3600, externalTtl: 600, secret: [SECRET, OTHER_SECRET], now: time.now }, logs)
  t.teardown(() => app.close())
  // Made with Python's 30 days under an externalTtl of 10 minutes: its login, counted
  // back from its expiry, would be 30 days ahead, and a sign-out everywhere could not
  // tell whether it came before.
  const python = createSession('py', { secret: OTHER_SECRET, now: () => T0 })
  t.same((await visit(app, python)).session, NONE)
  t.ok(logs.records.some((r) => r.reason === 'issued in the future'))
  const fits = createSession('py', { secret: OTHER_SECRET, ttl: 600, now: () => T0 })
  const first = await visit(app, fits)
  t.equal(first.session.userId, 'py', 'a token made with externalTtl or less is read')
  t.equal(rawPayloadOf(first.cookie!.value).iat, S0, 'and re-signed with the login time it counts as, now')
  time.set(T0 + 500_000)
  t.equal((await visit(app, first.cookie!.value)).session.userId, 'py', 'the re-signed cookie still signs in')
  const shorter = createSession('py', { secret: OTHER_SECRET, ttl: 60, now: () => T0 })
  time.set(T0)
  t.ok(rawPayloadOf((await visit(app, shorter)).cookie!.value).iat! < S0, 'a shorter ttl counts as an earlier login: the safe side')
})

// clockTolerance: accepted that much past expiry or ahead of the clock, never renewed on the tolerance alone.
t.test('a token accepted only through clockTolerance is never renewed', async (t) => {
  const time = clock()
  const app = await buildApp({ ttl: 600, clockTolerance: 300, rolling: true, now: time.now })
  t.teardown(() => app.close())
  const { token } = (await app.inject({ method: 'POST', url: '/login?user=late' })).json()
  time.set(T0 + 899_000)
  const late = await visit(app, token)
  t.equal(late.session.userId, 'late', 'accepted 299 s after it expired')
  t.equal(late.setCookies, 0, 'but not renewed: the idle limit stays ttl')
  time.set(T0 + 599_000)
  t.equal((await visit(app, token)).cookie!.attributes[0], 'Max-Age=600', 'one second before its expiry it still renews')
})

t.test('clockTolerance: accepted that many seconds past expiry, and an iat that far in the future', async (t) => {
  const time = clock()
  const app = await buildApp({ ttl: 600, absoluteTtl: 600, clockTolerance: 30, now: time.now })
  t.teardown(() => app.close())
  const { token } = (await app.inject({ method: 'POST', url: '/login?user=skew' })).json()
  time.set(T0 + 629_000)
  t.equal((await visit(app, token)).session.userId, 'skew', '29 s late: accepted')
  time.set(T0 + 630_000)
  t.same((await visit(app, token)).session, NONE, '30 s late: expired')

  // A token from a server whose clock runs ahead.
  const ahead = clock(T0 + 30_000)
  const fast = await buildApp({ ttl: 600, absoluteTtl: 600, now: ahead.now })
  t.teardown(() => fast.close())
  time.set(T0)
  const at30 = (await fast.inject({ method: 'POST', url: '/login?user=early' })).json().token
  t.equal((await visit(app, at30)).session.userId, 'early', 'iat 30 s ahead: accepted')
  ahead.set(T0 + 31_000)
  const at31 = (await fast.inject({ method: 'POST', url: '/login?user=early' })).json().token
  t.same((await visit(app, at31)).session, NONE, 'iat 31 s ahead: refused')
})

t.test('clockTolerance 0 (the default): expired at expires, an iat one second ahead refused', async (t) => {
  const time = clock()
  const app = await buildApp({ ttl: 60, rolling: true, now: time.now })
  t.teardown(() => app.close())
  const ahead = await buildApp({ ttl: 60, rolling: true, now: () => T0 + 1000 })
  t.teardown(() => ahead.close())
  const future = (await ahead.inject({ method: 'POST', url: '/login?user=f' })).json().token
  t.same((await visit(app, future)).session, NONE)
  time.set(T0 + 1000)
  t.equal((await visit(app, future)).session.userId, 'f')
})

t.test('a token inside the tolerance is accepted but not re-issued (its cookie is already gone)', async (t) => {
  const time = clock()
  const app = await buildApp({ ttl: 600, externalTtl: 600, clockTolerance: 60, secret: [SECRET, 'a-newer-secret-0123456789abcdef0123456789'].reverse(), now: time.now })
  t.teardown(() => app.close())
  const old = createSession('late', { secret: SECRET, ttl: 600, now: () => T0 })
  time.set(T0 + 610_000)
  const seen = await visit(app, old)
  t.equal(seen.session.userId, 'late')
  t.equal(seen.setCookies, 0)
})
