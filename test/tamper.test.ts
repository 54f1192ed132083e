// The seed's security cases, sent as cookies: each is "no session", answered by
// the route (never a 4xx/5xx from the plugin), with one debug line saying why.
import { createHmac } from 'node:crypto'
import t from 'tap'
import { createSession } from '../lib/index.js'
import { LogCapture, NONE, OTHER_SECRET, SECRET, T0, buildApp } from './helpers.js'

const valid = createSession('42', { secret: SECRET, ttl: 3600, now: () => T0 })
const [payload, signature] = valid.split('.')
const reencode = (json: string): string => Buffer.from(json).toString('base64').replace(/\+/g, '-').replace(/\//g, '_')
const flip = (c: string): string => (c === '0' ? '1' : '0')

const cases: Array<[string, string, string]> = [
  ['user id changed, old signature', reencode('{"user_id": "1", "expires": 1764118800}') + '.' + signature, 'bad signature'],
  ['expiry extended, old signature', reencode('{"user_id": "42", "expires": 1864118800}') + '.' + signature, 'bad signature'],
  ['field added, old signature', reencode('{"user_id": "42", "expires": 1764118800, "admin": true}') + '.' + signature, 'bad signature'],
  ['last signature character changed', valid.slice(0, -1) + flip(valid.slice(-1)), 'bad signature'],
  ['first signature character changed', payload + '.' + flip(signature[0]) + signature.slice(1), 'bad signature'],
  ['signature re-cased', payload + '.' + signature.toUpperCase(), 'malformed'],
  ['signed with another secret', createSession('42', { secret: OTHER_SECRET, ttl: 3600, now: () => T0 }), 'bad signature'],
  ['padding stripped from the payload', payload.replace(/=+$/, '') + '.' + signature, 'bad signature'],
  ['three parts', valid + '.' + signature, 'malformed'],
  ['four parts', 'a.b.c.d', 'malformed'],
  ['empty', '', 'malformed'],
  ['10,000 characters', 'a'.repeat(10_000), 'malformed'],
  ['binary bytes', '\u0001\u0002\u0003', 'malformed'],
  ['latin-1 bytes', '\u00ff\u00fe.\u00e9', 'malformed'],
  ['non-ASCII signature', payload + '.' + 'é'.repeat(64), 'malformed'],
  ['a signature of the right length that is not hex', payload + '.' + 'z'.repeat(64), 'malformed'],
  ['a signed payload that is not JSON', 'bm90IGpzb24=.' + createHmac('sha256', SECRET).update('bm90IGpzb24=').digest('hex'), 'malformed']
]

t.test('the untouched token signs in (the baseline the cases change)', async (t) => {
  const app = await buildApp()
  t.teardown(() => app.close())
  t.equal((await app.inject({ url: '/whoami', headers: { cookie: `__Host-Http-session=${valid}` } })).json().userId, '42')
})

for (const [what, value, reason] of cases) {
  t.test(`${what}: no session, reason "${reason}"`, async (t) => {
    const logs = new LogCapture()
    const app = await buildApp({}, logs)
    t.teardown(() => app.close())
    const res = await app.inject({ url: '/whoami', headers: { cookie: `__Host-Http-session=${value}` } })
    t.equal(res.statusCode, 200)
    t.same(res.json(), NONE)
    const ours = logs.records.filter((r) => String(r.msg).startsWith('fastify-dbbasic-sessions'))
    t.same(ours.map((r) => [r.level, r.reason, r.msg]), [[20, reason, 'fastify-dbbasic-sessions: no session']], 'one debug line with the reason')
    t.same(logs.records.filter((r) => (r.level as number) >= 40), [], 'nothing at warn or above')
    if (value.length > 8) t.notOk(logs.text.includes(value), 'the cookie value is not logged')
  })
}

t.test('a missing cookie is no session, with reason "no cookie"', async (t) => {
  const logs = new LogCapture()
  const app = await buildApp({}, logs)
  t.teardown(() => app.close())
  for (const headers of [{}, { cookie: 'other=1' }, { cookie: '' }, { cookie: ';;=;' }]) {
    t.same((await app.inject({ url: '/whoami', headers })).json(), NONE)
  }
  const lines = logs.records.filter((r) => r.reason !== undefined)
  t.same(lines.map((r) => r.reason), ['no cookie', 'no cookie', 'no cookie', 'no cookie'])
  // Health checks and assets carry no cookie: at debug they would be a line each.
  t.same(lines.map((r) => r.level), [10, 10, 10, 10], 'at trace, not debug')
})

t.test('two valid cookies for different users give reason "conflicting cookies"', async (t) => {
  const logs = new LogCapture()
  const app = await buildApp({}, logs)
  t.teardown(() => app.close())
  const other = createSession('43', { secret: SECRET, now: () => T0 })
  t.same((await app.inject({ url: '/whoami', headers: { cookie: `__Host-Http-session=${valid}; __Host-Http-session=${other}` } })).json(), NONE)
  t.same(logs.records.filter((r) => r.reason !== undefined).map((r) => r.reason), ['conflicting cookies'])
})
