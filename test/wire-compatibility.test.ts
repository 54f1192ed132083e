// Wire compatibility with dbbasic-sessions, the Python reference. Its own output: every
// token we make matches it byte for byte, and every verdict matches what a correct
// verifier returns, through the standalone API and as a cookie. And the other way:
// Python still reads every token the plugin writes, as the machine's python3 checks each
// one the way dbbasic-sessions' get_session does by its documented format (HMAC-SHA256 of
// the base64url payload text, hex; json.loads of the payload; expires after now), with
// the standard library only. Extra fields (iat, sid, renewed, ttl, persistent) are fields
// json.loads reads and get_session never looks at.
import { execFileSync } from 'node:child_process'
import t from 'tap'
import { createSession, getSession } from '../lib/index.js'
import { OTHER_SECRET, SECRET, T0, buildApp, clock, vectors, visit } from './helpers.js'

// The reference's vectors (test/fixtures/dbbasic-sessions-3.0.0.json).
t.test('the fixture is the shared vector file, whole', async (t) => {
  t.equal(vectors.create.length, 42)
  t.equal(vectors.verify.length, 199)
})

t.test('createSession makes the reference token for every create vector', async (t) => {
  for (const v of vectors.create) {
    const token = createSession(v.user_id, { secret: v.secret, ttl: v.ttl, now: () => v.now * 1000 })
    t.equal(token, v.token, `${JSON.stringify(v.user_id).slice(0, 30)} ttl=${v.ttl}`)
  }
})

t.test('getSession returns the expected verdict for every verify vector, without throwing', async (t) => {
  for (const v of vectors.verify) {
    t.equal(getSession(v.token, { secret: v.secret, now: () => v.now * 1000 }), v.expect, v.case)
  }
})

// A cookie value cannot hold spaces, quotes, commas, semicolons or backslashes,
// and a header is trimmed around each pair: those vectors are about the codec, not the header.
const COOKIE_OCTETS = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/

t.test('the plugin gives the same verdict for every vector sent as a cookie', async (t) => {
  const bySecret = new Map<string, typeof vectors.verify>()
  for (const v of vectors.verify) {
    if (!COOKIE_OCTETS.test(v.token) || v.token === '') continue
    bySecret.set(v.secret, [...(bySecret.get(v.secret) ?? []), v])
  }
  let sent = 0
  for (const [secret, cases] of bySecret) {
    let now = 0
    const app = await buildApp({ secret, now: () => now })
    t.teardown(() => app.close())
    for (const v of cases) {
      now = v.now * 1000
      const res = await app.inject({ url: '/whoami', headers: { cookie: `__Host-Http-session=${v.token}` } })
      t.equal(res.statusCode, 200)
      t.equal(res.json().userId, v.expect, v.case)
      sent++
    }
  }
  t.ok(sent >= 190, `${sent} vectors went through the plugin`)
})

// Python reading what the plugin writes.
const GET_SESSION = `
import base64, hashlib, hmac, json, sys
secret, now = sys.argv[1].encode('utf-8'), float(sys.argv[2])
for token in sys.stdin.read().split():
    payload, _, signature = token.rpartition('.')
    expected = hmac.new(secret, payload.encode('ascii'), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        print('None'); continue
    data = json.loads(base64.urlsafe_b64decode(payload))
    print(data['user_id'] if data['expires'] > now else 'None')
`

function python (tokens: string[], secret: string, nowMs: number): string[] {
  return execFileSync('python3', ['-c', GET_SESSION, secret, String(nowMs / 1000)], { input: tokens.join('\n'), encoding: 'utf8', timeout: 30_000 })
    .trim().split('\n')
}

t.test('logins, renewals, re-signings, remember-me and per-login ttls made by the plugin are read by Python', async (t) => {
  const time = clock()
  const app = await buildApp({ ttl: 3600, rolling: true, secret: [SECRET, OTHER_SECRET], now: time.now }, undefined, (app) => {
    app.post('/remember', async (_request, reply) => ({ token: (await reply.createSession('Zoë 用户', { persistent: false, ttl: 600 })).token }))
  })
  t.teardown(() => app.close())
  const login = (await app.inject({ method: 'POST', url: '/login?user=alice' })).json().token as string
  const remembered = (await app.inject({ method: 'POST', url: '/remember' })).json().token as string
  time.set(T0 + 2000_000)
  const renewed = (await visit(app, login)).cookie!.value
  const resigned = (await visit(app, createSession('bob', { secret: OTHER_SECRET, now: () => T0 }))).cookie!.value
  t.same(python([login, remembered, renewed, resigned], SECRET, T0 + 100_000), ['alice', 'Zoë 用户', 'alice', 'bob'])
  t.same(python([login], OTHER_SECRET, T0), ['None'], 'and refuses them under another secret')
  t.same(python([renewed], SECRET, T0 + 2000_000 + 3600_000), ['None'], 'and once they expire')
})
