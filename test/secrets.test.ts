// The secrets: the secret option's shapes (a string, a list whose first signs, roles:
// current, next, previous) and its rules (every secret at least 32 bytes of UTF-8 and not
// obviously weak, none given twice, messages that name the option and never show a
// secret), and the secrets taken from the environment without the option: SECRET_KEYS
// (comma-separated, the first signs, the others are previous), SECRET_KEYS_NEXT (next
// secrets), or SECRET_KEY (one secret, used whole, as dbbasic-sessions reads it). What
// each role does to a cookie, and the rotation recipe: rotation.test.ts.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { createSession, getSession } from '../lib/index.js'
import { weakness } from '../lib/secrets.js'
import { NONE, SECRET, T0, buildApp, registerError, visit } from './helpers.js'
import { alternate, signerOf } from './mixed-fleet.js'

const A = 'a-secret-0123456789abcdef0123456789abcdefgh'
const B = 'b-secret-0123456789abcdef0123456789abcdefgh'
const C = 'c-secret-0123456789abcdef0123456789abcdefgh'
const OLD = 'old-secret-0123456789abcdef0123456789abcdef'
const NEW = 'new-secret-0123456789abcdef0123456789abcdef'
const N2 = 'n2-secret-0123456789abcdef0123456789abcdefg'
const ALL = [OLD, NEW, N2]
const SHORT = 'short-secret-xyz'
const WEAK = 'ab'.repeat(20)
const COMMAND = 'node -e "console.log(crypto.randomBytes(32).toString(\'hex\'))"'
const MAKE_ONE = `make one with: ${COMMAND}`
const now = (): number => T0

type Variables = Partial<Record<'SECRET_KEY' | 'SECRET_KEYS' | 'SECRET_KEYS_NEXT', string>>
const NAMES = ['SECRET_KEY', 'SECRET_KEYS', 'SECRET_KEYS_NEXT'] as const
const saved = NAMES.map((name) => process.env[name])
t.teardown(() => NAMES.forEach((name, i) => { if (saved[i] === undefined) delete process.env[name]; else process.env[name] = saved[i] }))

// The secret option.
t.test('secrets: each at least 32 bytes, never shown, with a way to make one', async (t) => {
  const short = 'hunter2-is-not-long-enough'
  const cases: Array<[unknown, string]> = [
    [short, 'secret must be a string of at least 32 bytes, or a non-empty array of such strings'],
    ['', 'secret must be a string of at least 32 bytes'],
    [[], 'secret must be a string of at least 32 bytes, or a non-empty array of such strings'],
    [[SECRET, short], 'secret[1] must be a string of at least 32 bytes;'],
    [[SECRET, 42], 'secret[1] must be a string of at least 32 bytes'],
    [42, 'secret must be a string of at least 32 bytes, or a non-empty array of such strings']
  ]
  for (const [secret, message] of cases) {
    const err = await registerError({ secret })
    t.ok(err.message.includes(message), err.message)
    t.notOk(err.message.includes(short), 'the short secret is not echoed')
    t.notOk(err.message.includes(SECRET), 'the good secret is not echoed')
  }
  const err = await registerError({ secret: short })
  t.ok(err.message.endsWith(COMMAND), 'says how to make a secret')
})

t.test('a secret is measured in UTF-8 bytes, as it is used', async (t) => {
  // 11 characters, 33 bytes: long enough as a key although short as text.
  const currencies = '€₩₹₽₺₴₸₿₫₪₭'
  const app = await buildApp({ secret: currencies })
  t.teardown(() => app.close())
  const login = await app.inject({ method: 'POST', url: '/login?user=a' })
  t.equal(login.statusCode, 200)
  t.ok((await registerError({ secret: currencies.slice(0, 10) })).message.includes('at least 32 bytes'), '30 bytes are refused')
})

t.test('obviously weak secrets are refused, each of a list and SECRET_KEY, with the rule and how to make one', async (t) => {
  const weak: Array<[string, string]> = [
    ['a'.repeat(40), 'fewer than 8 distinct characters'],
    ['abcdefg'.repeat(6), 'fewer than 8 distinct characters'],
    ['passwordpassword1234passwordpassword1234', 'repeats a shorter pattern'],
    ['0123456789abcdef'.repeat(2), 'repeats a shorter pattern'],
    ['0123456789abcdef'.repeat(2) + '01234', 'repeats a shorter pattern']
  ]
  for (const [secret, why] of weak) {
    for (const [options, name] of [[{ secret }, 'secret'], [{ secret: [SECRET, secret] }, 'secret[1]']] as const) {
      const err = await registerError(options)
      t.equal(err.code, 'FST_DBBASIC_SESSIONS_INVALID_OPTION')
      t.equal(err.message, `fastify-dbbasic-sessions: ${name} is too weak (it ${why.startsWith('fewer') ? 'has ' : ''}${why}): a secret must be random, at least 32 bytes; make one with: ${COMMAND}`)
      t.notOk(err.message.includes(secret))
    }
    t.throws(() => createSession(1, { secret }), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION' }, 'the standalone API too')
  }
  const saved = process.env.SECRET_KEY
  t.teardown(() => { if (saved === undefined) delete process.env.SECRET_KEY; else process.env.SECRET_KEY = saved })
  process.env.SECRET_KEY = 'x'.repeat(64)
  t.match((await registerError({})).message, /^fastify-dbbasic-sessions: SECRET_KEY is too weak/)
  // The README's advice: 32 random bytes as hex, made many times, always passes.
  for (let i = 0; i < 2000; i++) t.equal(weakness(randomBytes(32).toString('hex')), undefined)
  t.equal(weakness(SECRET), undefined)
})

const secretRefusals: Array<[string, unknown, string]> = [
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

for (const [what, secret, message] of secretRefusals) {
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

// The environment, when the secret option is not given.
t.test('SECRET_KEY is the default secret, and there is no built-in one', async (t) => {
  const saved = process.env.SECRET_KEY
  t.teardown(() => { if (saved === undefined) delete process.env.SECRET_KEY; else process.env.SECRET_KEY = saved })

  delete process.env.SECRET_KEY
  let err = await registerError({})
  t.equal(err.code, 'FST_DBBASIC_SESSIONS_NO_SECRET')
  t.equal(err.message, `fastify-dbbasic-sessions: no secret: pass the secret option or set SECRET_KEY; make one with: ${COMMAND}`)
  process.env.SECRET_KEY = ''
  t.equal((await registerError({})).code, 'FST_DBBASIC_SESSIONS_NO_SECRET', 'an empty SECRET_KEY is no secret')

  process.env.SECRET_KEY = 'short-env-secret'
  err = await registerError({})
  t.equal(err.message, `fastify-dbbasic-sessions: SECRET_KEY must be at least 32 bytes; make one with: ${COMMAND}`)

  process.env.SECRET_KEY = SECRET
  const fromEnv = await buildApp({ secret: undefined })
  t.teardown(() => fromEnv.close())
  const token = (await fromEnv.inject({ method: 'POST', url: '/login?user=env' })).json().token
  const explicit = await buildApp({ secret: SECRET })
  t.teardown(() => explicit.close())
  t.equal((await explicit.inject({ url: '/whoami', headers: { cookie: `__Host-Http-session=${token}` } })).json().userId, 'env',
    'a token signed with SECRET_KEY verifies with the same secret given explicitly')
})

/** Exactly these variables set, the others unset. */
function environment (variables: Variables): void {
  for (const name of NAMES) {
    const value = Object.hasOwn(variables, name) ? variables[name] : undefined
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
}

// Tokens of the standalone API carry no login time: they count as made with this ttl.
const fromEnvironment = async (): ReturnType<typeof buildApp> => buildApp({ secret: undefined, ttl: 3600, externalTtl: 3600 })
const login = async (app: Awaited<ReturnType<typeof buildApp>>, user: string): Promise<string> =>
  (await app.inject({ method: 'POST', url: `/login?user=${user}` })).json().token

t.test('SECRET_KEYS: the first signs, the others verify and are re-signed, as the same list given as secret', async (t) => {
  for (const value of [`${NEW},${OLD}`, ` ${NEW} ,\t${OLD}\n`]) {
    environment({ SECRET_KEYS: value })
    const app = await fromEnvironment()
    t.teardown(() => app.close())
    t.equal(signerOf(await login(app, 'e'), ALL, now), 1, `signed with the first (${JSON.stringify(value.replace(/[a-z0-9-]{40,}/g, 'S'))})`)
    const seen = await visit(app, createSession('o', { secret: OLD, ttl: 3600, now }))
    t.equal(seen.session.userId, 'o')
    t.equal(signerOf(seen.cookie!.value, ALL, now), 1, 'an old cookie re-signed with the first')
    t.equal(signerOf(createSession('s', { now }), ALL, now), 1, 'the standalone API reads it too')
    t.equal(getSession(createSession('s', { secret: OLD, now }), { now }), 's')
  }
})

t.test('SECRET_KEYS_NEXT: next secrets, which verify and are never re-signed', async (t) => {
  environment({ SECRET_KEYS: OLD, SECRET_KEYS_NEXT: `${NEW}, ${N2}` })
  const app = await fromEnvironment()
  t.teardown(() => app.close())
  t.equal(signerOf(await login(app, 'e'), ALL, now), 0)
  for (const secret of [NEW, N2]) {
    const seen = await visit(app, createSession('n', { secret, ttl: 3600, now }))
    t.equal(seen.session.userId, 'n')
    t.equal(seen.setCookies, 0)
  }
  t.equal(getSession(createSession('s', { secret: N2, now }), { now }), 's', 'the standalone API')
})

t.test('step 2 of the recipe in the environment: a client alternating between the servers gets at most one Set-Cookie', async (t) => {
  environment({ SECRET_KEYS: OLD, SECRET_KEYS_NEXT: NEW })
  const before = await fromEnvironment()
  t.teardown(() => before.close())
  environment({ SECRET_KEYS: `${NEW},${OLD}` })
  const after = await fromEnvironment()
  t.teardown(() => after.close())
  for (const first of [0, 1]) {
    const walk = await alternate([before, after], first, 'w', await login(before, 'w'), 8, ALL, now)
    t.same(walk, { setCookies: 1, resigned: 1, lost: 0 }, `first request to server ${first}`)
  }
})

const variableRefusals: Array<[string, Variables, string]> = [
  ['an empty part', { SECRET_KEYS: `${NEW},,${OLD}` },
    'SECRET_KEYS[1] is empty: SECRET_KEYS is a comma-separated list of secrets, with no empty part and no comma at either end'],
  ['a trailing comma', { SECRET_KEYS: `${NEW},${OLD},` },
    'SECRET_KEYS[2] is empty: SECRET_KEYS is a comma-separated list of secrets, with no empty part and no comma at either end'],
  ['a leading comma ("$NEW,$OLD" with NEW unset)', { SECRET_KEYS: `,${OLD}` },
    'SECRET_KEYS[0] is empty: SECRET_KEYS is a comma-separated list of secrets, with no empty part and no comma at either end'],
  ['only spaces', { SECRET_KEYS: '  ' },
    'SECRET_KEYS[0] is empty: SECRET_KEYS is a comma-separated list of secrets, with no empty part and no comma at either end'],
  ['an empty next part', { SECRET_KEYS: OLD, SECRET_KEYS_NEXT: `${NEW},` },
    'SECRET_KEYS_NEXT[1] is empty: SECRET_KEYS_NEXT is a comma-separated list of secrets, with no empty part and no comma at either end'],
  ['a weak part', { SECRET_KEYS: `${NEW},${WEAK}` },
    `SECRET_KEYS[1] is too weak (it has fewer than 8 distinct characters): a secret must be random, at least 32 bytes; ${MAKE_ONE}`],
  ['a short part', { SECRET_KEYS: `${NEW}, ${SHORT}` }, `SECRET_KEYS[1] must be at least 32 bytes; ${MAKE_ONE}`],
  ['a weak next part', { SECRET_KEYS: NEW, SECRET_KEYS_NEXT: WEAK },
    `SECRET_KEYS_NEXT[0] is too weak (it has fewer than 8 distinct characters): a secret must be random, at least 32 bytes; ${MAKE_ONE}`],
  ['a secret twice', { SECRET_KEYS: `${NEW}, ${NEW}` },
    'SECRET_KEYS[1] is the same secret as SECRET_KEYS[0]: give each secret once, in one role (current, next or previous)'],
  ['a secret previous and next', { SECRET_KEYS: `${NEW},${OLD}`, SECRET_KEYS_NEXT: OLD },
    'SECRET_KEYS_NEXT[0] is the same secret as SECRET_KEYS[1]: give each secret once, in one role (current, next or previous)'],
  ['a list in SECRET_KEY', { SECRET_KEY: `${NEW},${OLD}` },
    'SECRET_KEY holds 2 comma-separated secrets, but it is one secret, used whole: give a list in SECRET_KEYS instead (comma-separated, the first signs)'],
  ['a list with spaces in SECRET_KEY', { SECRET_KEY: `${NEW}, ${OLD}, ${N2}` },
    'SECRET_KEY holds 3 comma-separated secrets, but it is one secret, used whole: give a list in SECRET_KEYS instead (comma-separated, the first signs)'],
  ['SECRET_KEY and SECRET_KEYS that disagree', { SECRET_KEY: OLD, SECRET_KEYS: `${NEW},${OLD}` },
    'SECRET_KEY and SECRET_KEYS are both set, and SECRET_KEY is not the first secret of SECRET_KEYS: set only SECRET_KEYS, or give SECRET_KEY the value of its first secret (for a Python service that reads SECRET_KEY)'],
  ['SECRET_KEYS_NEXT alone', { SECRET_KEYS_NEXT: NEW },
    'SECRET_KEYS_NEXT is set but SECRET_KEYS is not: put the signing secret first in SECRET_KEYS (SECRET_KEY may stay only with the same value)'],
  ['SECRET_KEYS_NEXT with SECRET_KEY', { SECRET_KEY: OLD, SECRET_KEYS_NEXT: NEW },
    'SECRET_KEYS_NEXT is set but SECRET_KEYS is not: put the signing secret first in SECRET_KEYS (SECRET_KEY may stay only with the same value)']
]

for (const [what, variables, message] of variableRefusals) {
  t.test(`refused at register and by the standalone API: ${what}`, async (t) => {
    environment(variables)
    const err = await registerError({ now })
    t.equal(err.code, 'FST_DBBASIC_SESSIONS_INVALID_OPTION')
    t.equal(err.message, `fastify-dbbasic-sessions: ${message}`)
    for (const s of [...ALL, SHORT, WEAK]) t.notOk(err.message.includes(s), 'no secret in the message')
    t.throws(() => createSession('u'), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION', message: err.message })
    t.throws(() => getSession('x'), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION', message: err.message })
  })
}

t.test('what is taken: SECRET_KEY equal to the first of SECRET_KEYS, an empty variable as unset, a comma in one secret', async (t) => {
  environment({ SECRET_KEY: NEW, SECRET_KEYS: `${NEW},${OLD}` })
  t.equal(getSession(createSession('a', { secret: OLD, now }), { now }), 'a', 'both set and agreeing: the list')
  environment({ SECRET_KEY: OLD, SECRET_KEYS: '', SECRET_KEYS_NEXT: '' })
  t.equal(signerOf(createSession('b', { now }), ALL, now), 0, 'empty SECRET_KEYS and SECRET_KEYS_NEXT: SECRET_KEY, as before')
  const withComma = `short,${NEW}`
  environment({ SECRET_KEY: withComma })
  const app = await fromEnvironment()
  t.teardown(() => app.close())
  t.equal(getSession(await login(app, 'c'), { secret: withComma, now }), 'c', 'a part under 32 bytes: not a list, the secret used whole')
})

t.test('the standalone API reads the variables again on each call', async (t) => {
  environment({ SECRET_KEYS: `${NEW},${OLD}` })
  const token = createSession('r', { now })
  environment({ SECRET_KEYS: OLD })
  t.equal(getSession(token, { now }), null, 'the new secret dropped')
  environment({ SECRET_KEYS: OLD, SECRET_KEYS_NEXT: NEW })
  t.equal(getSession(token, { now }), 'r', 'and back as next')
  t.equal(signerOf(createSession('r', { now }), ALL, now), 0)
})

t.test('the variables are own properties of process.env only: a polluted Object.prototype supplies none', async (t) => {
  const proto = Object.prototype as Record<string, unknown>
  t.teardown(() => { delete proto.SECRET_KEYS; delete proto.SECRET_KEYS_NEXT })
  proto.SECRET_KEYS = N2
  proto.SECRET_KEYS_NEXT = N2
  environment({ SECRET_KEY: NEW })
  const forged = createSession('admin', { secret: N2, now })
  const app = await fromEnvironment()
  t.teardown(() => app.close())
  t.same((await visit(app, forged)).session, NONE)
  t.equal(signerOf(await login(app, 'me'), ALL, now), 1, 'signed with SECRET_KEY')
  t.equal(getSession(forged, { now }), null, 'the standalone API')
})
