// The secret option's shapes and their rules: every secret strong, none given twice,
// messages that name the option and never show a secret.
import t from 'tap'
import { createSession, getSession } from '../lib/index.js'
import { NONE, T0, buildApp, registerError, visit } from './helpers.js'

const A = 'a-secret-0123456789abcdef0123456789abcdefgh'
const B = 'b-secret-0123456789abcdef0123456789abcdefgh'
const C = 'c-secret-0123456789abcdef0123456789abcdefgh'
const MAKE_ONE = 'make one with: node -e "console.log(crypto.randomBytes(32).toString(\'hex\'))"'
const SHORT = 'short-secret-xyz'
const WEAK = 'ab'.repeat(20)

const refusals: Array<[string, unknown, string]> = [
  ['no current', { next: [A] }, 'secret needs current: the secret that signs, a string of at least 32 bytes'],
  ['a misspelt role', { current: A, nxt: [B] },
    'unknown option "secret.nxt" (did you mean "secret.next"?); the options are secret.current, secret.next, secret.previous'],
  ['a role that is not a list', { current: A, previous: B }, 'secret.previous must be an array of strings of at least 32 bytes'],
  ['a short current', { current: SHORT }, `secret.current must be a string of at least 32 bytes; ${MAKE_ONE}`],
  ['a short next', { current: A, next: [SHORT] }, `secret.next[0] must be a string of at least 32 bytes; ${MAKE_ONE}`],
  ['a weak previous', { current: A, previous: [B, WEAK] },
    `secret.previous[1] is too weak (it has fewer than 8 distinct characters): a secret must be random, at least 32 bytes; ${MAKE_ONE}`],
  ['current listed as next', { current: A, next: [A] },
    'secret.next[0] is the same secret as secret.current: give each secret once, in one role (current, next or previous)'],
  ['one secret next and previous', { current: A, next: [B], previous: [C, B] },
    'secret.previous[1] is the same secret as secret.next[0]: give each secret once, in one role (current, next or previous)'],
  ['a secret twice in one role', { current: A, previous: [B, B] },
    'secret.previous[1] is the same secret as secret.previous[0]: give each secret once, in one role (current, next or previous)'],
  ['a secret twice in a list', [A, B, A],
    'secret[2] is the same secret as secret[0]: give each secret once, in one role (current, next or previous)'],
  // Two strings, one key: both lone surrogates are used as the bytes of U+FFFD.
  ['two strings of the same bytes', ['\ud800' + A, '\udbff' + A],
    'secret[1] is the same secret as secret[0]: give each secret once, in one role (current, next or previous)']
]

for (const [what, secret, message] of refusals) {
  t.test(`refused at register and by the standalone API: ${what}`, async (t) => {
    const err = await registerError({ secret })
    t.equal(err.code, 'FST_DBBASIC_SESSIONS_INVALID_OPTION')
    t.equal(err.message, `fastify-dbbasic-sessions: ${message}`)
    for (const s of [A, B, C, SHORT, WEAK]) t.notOk(err.message.includes(s), 'no secret in the message')
    t.throws(() => createSession('u', { secret: secret as never }), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION', message: err.message })
    t.throws(() => getSession('x', { secret: secret as never }), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION', message: err.message })
  })
}

t.test('empty roles are none, and the roles are own properties only: a polluted Object.prototype adds no secret', async (t) => {
  const proto = Object.prototype as Record<string, unknown>
  const forged = createSession('admin', { secret: C, now: () => T0 })
  t.teardown(() => { delete proto.next; delete proto.previous; delete proto.current })
  proto.next = [C]
  proto.previous = [C]
  const app = await buildApp({ secret: { current: A, next: [], previous: [] } })
  t.teardown(() => app.close())
  t.same((await visit(app, forged)).session, NONE, 'the plugin')
  t.equal(getSession(forged, { secret: { current: A }, now: () => T0 }), null, 'the standalone API')
  t.equal(getSession(forged, { secret: { current: A }, now: () => T0 }), null, 'the standalone API, checked before')
  proto.current = C
  t.equal((await registerError({ secret: { next: [B] } })).message, 'fastify-dbbasic-sessions: secret needs current: the secret that signs, a string of at least 32 bytes')
  t.throws(() => getSession(forged, { secret: { next: [B] } as never }), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION' })
})

t.test('after a secret passed, one that differs only in what it must not hold is checked in full', async (t) => {
  const token = createSession('q', { secret: A, now: () => T0 })
  t.equal(getSession(token, { secret: { current: A, next: [B] }, now: () => T0 }), 'q')
  t.throws(() => getSession(token, { secret: { current: A, next: [B], extra: [C] } as never }), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION' })
  t.throws(() => getSession(token, { secret: { current: A, next: B } as never }), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION' })
  t.throws(() => getSession(token, { secret: { current: A, next: [B], previous: B } as never }), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION' })
  t.throws(() => getSession(token, { secret: null as never }), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION' })
  t.equal(getSession(token, { secret: { current: A, next: [B] }, now: () => T0 }), 'q', 'and the one that passed still does')
})
