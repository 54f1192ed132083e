// Secrets from the environment, without the secret option: SECRET_KEYS (comma-separated,
// the first signs, the others are previous), SECRET_KEYS_NEXT (next secrets), or
// SECRET_KEY (one secret, used whole, as dbbasic-sessions reads it).
import t from 'tap'
import { createSession, getSession } from '../lib/index.js'
import { NONE, T0, buildApp, registerError, visit } from './helpers.js'
import { alternate, signerOf } from './mixed-fleet.js'

const OLD = 'old-secret-0123456789abcdef0123456789abcdef'
const NEW = 'new-secret-0123456789abcdef0123456789abcdef'
const N2 = 'n2-secret-0123456789abcdef0123456789abcdefg'
const ALL = [OLD, NEW, N2]
const SHORT = 'short-secret-xyz'
const WEAK = 'ab'.repeat(20)
const MAKE_ONE = 'make one with: node -e "console.log(crypto.randomBytes(32).toString(\'hex\'))"'
const now = (): number => T0

type Variables = Partial<Record<'SECRET_KEY' | 'SECRET_KEYS' | 'SECRET_KEYS_NEXT', string>>
const NAMES = ['SECRET_KEY', 'SECRET_KEYS', 'SECRET_KEYS_NEXT'] as const
const saved = NAMES.map((name) => process.env[name])
t.teardown(() => NAMES.forEach((name, i) => { if (saved[i] === undefined) delete process.env[name]; else process.env[name] = saved[i] }))

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

const refusals: Array<[string, Variables, string]> = [
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

for (const [what, variables, message] of refusals) {
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
