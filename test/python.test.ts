// Python still reads every token the plugin writes: the machine's python3 checks each
// one as dbbasic-sessions' get_session does by its documented format (HMAC-SHA256 of
// the base64url payload text, hex; json.loads of the payload; expires after now),
// with the standard library only. Extra fields (iat, sid, renewed, ttl, persistent)
// are fields json.loads reads and get_session never looks at.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { createSession } from '../lib/index.js'
import { OTHER_SECRET, SECRET, T0, buildApp, clock, visit } from './helpers.js'

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
