// Options are checked when the plugin is registered: each rule with a message that names
// the option and what it got, unknown names with the nearest known one, undefined as the
// default, the exported schema, and own properties only. The secret option and the
// secrets from the environment: secrets.test.ts; each option's one declaration, its
// JSDoc and the README's table: option-list.test.ts.
import t from 'tap'
import Fastify from 'fastify'
import sessions, { createSession, getSession, optionsSchema } from '../lib/index.js'
import type { FastifyDbbasicSessionsOptions } from '../types/index.js'
import { NONE, SECRET, T0, buildApp, sessionCookie } from './helpers.js'

async function registerError (options: unknown): Promise<Error & { code?: string }> {
  const app = Fastify()
  app.register(sessions, options as FastifyDbbasicSessionsOptions)
  try {
    await app.ready()
  } catch (err) {
    return err as Error
  } finally {
    await app.close()
  }
  throw new Error('register did not reject')
}

const refused: Array<[string, Record<string, unknown>, string]> = [
  ['a typo in a name', { ttL: 60 }, 'unknown option "ttL" (did you mean "ttl"?); the options are secret, ttl, cookieName, cookie, rolling, absoluteTtl, clockTolerance, validate, cacheSize, now, csrf, sessionName, externalTtl, revocation'],
  ['an unknown name', { store: 'redis' }, 'unknown option "store"; the options are secret, ttl, cookieName, cookie, rolling, absoluteTtl, clockTolerance, validate, cacheSize, now, csrf, sessionName, externalTtl, revocation'],
  ['a typo in a cookie attribute', { cookie: { SameSite: 'lax' } }, 'unknown option "cookie.SameSite" (did you mean "cookie.sameSite"?)'],
  ['a cookie attribute the plugin owns', { cookie: { maxAge: 60 } }, 'unknown option "cookie.maxAge"; the options are cookie.path, cookie.domain, cookie.secure, cookie.httpOnly, cookie.sameSite'],
  ['ttl of zero', { ttl: 0 }, 'ttl must be an integer number of seconds from 1 to 34560000 (400 days); got 0'],
  ['ttl over 400 days', { ttl: 34560001 }, 'ttl must be an integer number of seconds from 1 to 34560000 (400 days); got 34560001'],
  ['a fractional ttl', { ttl: 1.5 }, 'got 1.5'],
  ['ttl as a string', { ttl: '3600' }, 'ttl must be an integer number of seconds from 1 to 34560000 (400 days); got "3600"'],
  ['ttl of Infinity', { ttl: Infinity }, 'got Infinity'],
  ['ttl of NaN', { ttl: NaN }, 'got NaN'],
  ['an empty cookie name', { cookieName: '' }, 'cookieName must be a cookie name'],
  ['a cookie name with a space', { cookieName: 'my session' }, 'cookieName must be a cookie name: letters, digits and !#$%&\'*+-.^_`|~ only; got "my session"'],
  ['a cookie name with "="', { cookieName: 'a=b' }, 'cookieName must be a cookie name'],
  ['a long wrong value, shown cut short', { cookieName: 'x'.repeat(60) + ' ' }, `got "${'x'.repeat(40)}…"`],
  ['a relative path', { cookie: { path: 'app' } }, 'cookie.path must be a path that starts with "/" and has no ";" or control characters; got "app"'],
  ['a path with ";"', { cookie: { path: '/a;b' } }, 'cookie.path must be'],
  ['a domain with a space', { cookie: { domain: 'example .com' } }, 'cookie.domain must be a domain name: letters, digits, "-" and "."; got "example .com"'],
  ['secure as a string', { cookie: { secure: 'yes' } }, 'cookie.secure must be true or false; got "yes"'],
  ['httpOnly as a number', { cookie: { httpOnly: 1 } }, 'cookie.httpOnly must be true or false; got 1'],
  ['sameSite in the wrong case', { cookie: { sameSite: 'Lax' } }, 'cookie.sameSite must be "lax", "strict" or "none"; got "Lax"'],
  ['cookie as a string', { cookie: 'secure' }, 'cookie must be an object; got "secure"'],
  ['now as a number', { now: 5 }, 'now must be a function returning milliseconds since the epoch; got 5'],
  ['now as an object', { now: { ms: 1 } }, 'now must be a function returning milliseconds since the epoch; got an object'],
  ['rolling as a string', { rolling: 'yes' }, 'rolling must be true or false; got "yes"'],
  ['absoluteTtl below ttl', { ttl: 3600, absoluteTtl: 1800 }, 'absoluteTtl must be at least ttl (3600); got 1800'],
  ['absoluteTtl below the default ttl', { absoluteTtl: 86400 }, 'absoluteTtl must be at least ttl (2592000); got 86400'],
  ['absoluteTtl over 400 days', { absoluteTtl: 34560001 }, 'absoluteTtl must be an integer number of seconds from 1 to 34560000 (400 days); got 34560001'],
  ['a fractional absoluteTtl', { absoluteTtl: 3600.5 }, 'absoluteTtl must be an integer number of seconds'],
  ['clockTolerance over 300', { clockTolerance: 301 }, 'clockTolerance must be an integer number of seconds from 0 to 300; got 301'],
  ['a negative clockTolerance', { clockTolerance: -1 }, 'clockTolerance must be an integer number of seconds from 0 to 300; got -1'],
  ['validate as a boolean', { validate: true }, 'validate must be a function (session, request) returning a boolean or a promise of one; got true'],
  ['a negative cacheSize', { cacheSize: -1 }, 'cacheSize must be an integer number of tokens from 0 (no cache) to 1000000; got -1'],
  ['a cacheSize over a million', { cacheSize: 1000001 }, 'cacheSize must be an integer number of tokens from 0 (no cache) to 1000000; got 1000001'],
  ['SameSite=None without Secure', { cookie: { sameSite: 'none', secure: false } }, 'cookie.sameSite "none" requires cookie.secure: true'],
  ['__Host- without Secure', { cookieName: '__Host-session', cookie: { secure: false } }, 'cookieName "__Host-session" requires cookie.secure: true, cookie.path "/" and no cookie.domain (browsers drop a __Host- cookie otherwise, so signing in would do nothing)'],
  ['__Host- with a domain', { cookieName: '__Host-session', cookie: { domain: 'example.com' } }, 'cookieName "__Host-session" requires cookie.secure: true, cookie.path "/" and no cookie.domain'],
  ['__Host- with another path', { cookieName: '__Host-session', cookie: { path: '/app' } }, 'requires cookie.secure: true, cookie.path "/" and no cookie.domain'],
  ['__Host-Http- readable by scripts', { cookieName: '__Host-Http-session', cookie: { httpOnly: false } }, 'cookieName "__Host-Http-session" requires cookie.secure: true, cookie.httpOnly: true, cookie.path "/" and no cookie.domain (browsers drop a __Host-Http- cookie otherwise'],
  ['__Host-Http- with a domain', { cookieName: '__Host-Http-session', cookie: { domain: 'example.com' } }, 'cookieName "__Host-Http-session" requires cookie.secure: true, cookie.httpOnly: true, cookie.path "/" and no cookie.domain'],
  ['__Http- without Secure', { cookieName: '__Http-session', cookie: { secure: false } }, 'cookieName "__Http-session" requires cookie.secure: true and cookie.httpOnly: true (browsers drop a __Http- cookie otherwise'],
  ['__Http- readable by scripts', { cookieName: '__Http-sid', cookie: { httpOnly: false, domain: 'example.com' } }, 'cookieName "__Http-sid" requires cookie.secure: true and cookie.httpOnly: true'],
  ['__http- in lower case', { cookieName: '__http-s', cookie: { httpOnly: false } }, 'cookieName "__http-s" requires cookie.secure: true and cookie.httpOnly: true (browsers drop a __http- cookie otherwise'],
  ['__host- in lower case, as browsers match it', { cookieName: '__host-s', cookie: { secure: false } }, 'requires cookie.secure: true'],
  ['__Secure- without Secure', { cookieName: '__Secure-s', cookie: { secure: false } }, 'cookieName "__Secure-s" requires cookie.secure: true']
]

for (const [what, options, message] of refused) {
  t.test(`register rejects ${what}`, async (t) => {
    const err = await registerError({ secret: SECRET, ...options })
    t.equal(err.code, 'FST_DBBASIC_SESSIONS_INVALID_OPTION')
    t.ok(err.message.startsWith('fastify-dbbasic-sessions: '), 'the message is prefixed')
    t.ok(err.message.includes(message), err.message)
    t.notOk(err.message.includes(SECRET), 'the secret is not in the message')
  })
}

t.test('options that are not an object are refused', async (t) => {
  const err = await registerError(['secret'])
  t.equal(err.message, 'fastify-dbbasic-sessions: options must be an object; got an array')
})

t.test('options given as undefined take their defaults', async (t) => {
  const app = await buildApp({ ttl: undefined, cookieName: undefined, cookie: { path: undefined, sameSite: undefined } })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/login?user=a' })
  t.same(sessionCookie(res.headers)?.attributes, ['Max-Age=2592000', 'Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax'])
})

t.test('the schema is exported, and refuses unknown options itself', async (t) => {
  t.equal(optionsSchema.type, 'object')
  t.equal(optionsSchema.additionalProperties, false)
  t.same(Object.keys(optionsSchema.properties), ['secret', 'ttl', 'cookieName', 'cookie', 'rolling', 'absoluteTtl', 'clockTolerance', 'validate', 'cacheSize', 'now', 'csrf', 'sessionName', 'externalTtl', 'revocation'])
  t.same(optionsSchema.properties.ttl, { type: 'integer', minimum: 1, maximum: 34560000 })
})

t.test('options are read as own properties only: a polluted Object.prototype supplies none', async (t) => {
  const proto = Object.prototype as Record<string, unknown>
  const attacker = 'attacker-chosen-secret-0123456789abcdefghij'
  const forged = createSession('admin', { secret: attacker, now: () => T0 })
  const saved = process.env.SECRET_KEY
  process.env.SECRET_KEY = SECRET
  t.teardown(() => {
    for (const key of ['secret', 'SECRET_KEY', 'cookie', 'secure', 'csrf', 'cookieName', 'ttl']) delete proto[key]
    if (saved === undefined) delete process.env.SECRET_KEY; else process.env.SECRET_KEY = saved
  })
  proto.secret = attacker
  proto.SECRET_KEY = attacker
  proto.ttl = 1
  proto.csrf = false
  proto.cookieName = 'planted'
  proto.secure = false

  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(sessions, { now: () => T0 })
  app.post('/login', async (_request, reply) => ({ token: (await reply.createSession('me')).token }))
  app.get('/whoami', async (request) => request.session)
  t.same((await app.inject({ url: '/whoami', headers: { cookie: `__Host-Http-session=${forged}` } })).json(), NONE, 'the plugin ignores an inherited secret')
  const login = await app.inject({ method: 'POST', url: '/login' })
  t.match(login.headers['set-cookie'], /^__Host-Http-session=[^;]+; Max-Age=2592000; Path=\/; HttpOnly; Secure; SameSite=Lax$/, 'no inherited ttl, name or cookie attribute')
  t.equal(getSession(login.json().token, { secret: SECRET, now: () => T0 }), 'me', 'signed with SECRET_KEY')
  t.equal((await app.inject({ method: 'POST', url: '/login', headers: { 'sec-fetch-site': 'cross-site' } })).statusCode, 403, 'no inherited csrf: false')

  t.equal(getSession(forged, { now: () => T0 }), null, 'the standalone API ignores it too')
  t.equal(getSession(createSession('me', { now: () => T0 }), { secret: SECRET, now: () => T0 }), 'me')
  proto.cookie = { secure: false }
  const withCookie = await buildApp({ cookie: { path: '/' } })
  t.teardown(() => withCookie.close())
  t.match((await withCookie.inject({ method: 'POST', url: '/login?user=a' })).headers['set-cookie'], /; Secure;/, 'nor inside cookie')

  delete process.env.SECRET_KEY
  t.equal((await registerError({})).code, 'FST_DBBASIC_SESSIONS_NO_SECRET', 'an inherited SECRET_KEY is no secret')
  t.throws(() => getSession('x'), { code: 'FST_DBBASIC_SESSIONS_NO_SECRET' })
})
