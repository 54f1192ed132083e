// The standalone API, createSession, getSession and destroySession, for code outside
// Fastify: the plugin's tokens and secrets (SECRET_KEY by default, a list edited in place
// taking effect), options checked like the plugin's, user ids refused with a TypeError or
// a RangeError, and a verdict for every token, never an exception.
import t from 'tap'
import { createSession, destroySession, getSession } from '../lib/index.js'
import { OTHER_SECRET, SECRET, T0 } from './helpers.js'

const at = (ms: number) => () => ms
function thrown (fn: () => unknown): Error & { code?: string } {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  throw new Error('did not throw')
}
const payloadOf = (token: string): unknown => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString())

t.test('createSession and getSession round-trip, with a 30-day default ttl', async (t) => {
  const token = createSession('alice', { secret: SECRET, now: at(T0) })
  t.same(payloadOf(token), { user_id: 'alice', expires: T0 / 1000 + 2592000 })
  t.equal(getSession(token, { secret: SECRET, now: at(T0) }), 'alice')
  t.equal(getSession(token, { secret: SECRET, now: at(T0 + 2592000_000) }), null)
})

t.test('without `now`, the real clock is used on both sides', async (t) => {
  const token = createSession('now-user', { secret: SECRET, ttl: 3600 })
  t.equal(getSession(token, { secret: SECRET }), 'now-user')
  const expires = (payloadOf(token) as { expires: number }).expires
  t.ok(Math.abs(expires - (Date.now() / 1000 + 3600)) < 5, 'expires is about an hour from now')
})

t.test('user ids: strings as they are, integers in decimal, anything else a TypeError', async (t) => {
  t.equal(getSession(createSession(42, { secret: SECRET }), { secret: SECRET }), '42')
  t.equal(getSession(createSession(-7, { secret: SECRET }), { secret: SECRET }), '-7')
  t.equal(getSession(createSession(2n ** 70n, { secret: SECRET }), { secret: SECRET }), '1180591620717411303424')
  for (const bad of ['', 1.5, 2 ** 53, NaN, Infinity, null, undefined, {}, [], true, Symbol('x')]) {
    const err = thrown(() => createSession(bad as string, { secret: SECRET }))
    t.ok(err instanceof TypeError, 'a TypeError')
    t.equal(err.code, 'FST_DBBASIC_SESSIONS_INVALID_USER_ID')
  }
})

t.test('a user id too long for a cookie is refused with a RangeError', async (t) => {
  const err = thrown(() => createSession('x'.repeat(3100), { secret: SECRET }))
  t.ok(err instanceof RangeError, 'a RangeError')
  t.equal(err.code, 'FST_DBBASIC_SESSIONS_TOO_LARGE')
  t.match(err.message, /^fastify-dbbasic-sessions: the token would be 4\d{3} characters, over the 4096 a cookie holds/)
  t.equal(getSession(createSession('x'.repeat(2900), { secret: SECRET }), { secret: SECRET }), 'x'.repeat(2900))
})

t.test('a list of secrets: the first signs, every one verifies', async (t) => {
  const token = createSession('r', { secret: [OTHER_SECRET, SECRET] })
  t.equal(getSession(token, { secret: OTHER_SECRET }), 'r')
  t.equal(getSession(token, { secret: SECRET }), null)
  t.equal(getSession(createSession('s', { secret: SECRET }), { secret: [OTHER_SECRET, SECRET] }), 's')
})

t.test('getSession never throws for a token, whatever it is', async (t) => {
  const values: unknown[] = [undefined, null, 0, -1, 1n, true, {}, [], new Date(), Symbol('x'), () => 1, 'x'.repeat(1e6), '\u0000', '.']
  for (const value of values) t.equal(getSession(value as string, { secret: SECRET }), null)
})

t.test('SECRET_KEY is the default secret; without one, or with a short one, a clear error', async (t) => {
  const saved = process.env.SECRET_KEY
  t.teardown(() => { if (saved === undefined) delete process.env.SECRET_KEY; else process.env.SECRET_KEY = saved })
  delete process.env.SECRET_KEY
  const how = 'make one with: node -e "console.log(crypto.randomBytes(32).toString(\'hex\'))"'
  t.throws(() => createSession('a'), { code: 'FST_DBBASIC_SESSIONS_NO_SECRET', message: `fastify-dbbasic-sessions: no secret: pass the secret option or set SECRET_KEY; ${how}` })
  t.throws(() => getSession('a.b'), { code: 'FST_DBBASIC_SESSIONS_NO_SECRET' })
  process.env.SECRET_KEY = 'too-short'
  t.throws(() => createSession('a'), { message: `fastify-dbbasic-sessions: SECRET_KEY must be at least 32 bytes; ${how}` })
  process.env.SECRET_KEY = SECRET
  const token = createSession('env-user')
  t.equal(getSession(token, { secret: SECRET }), 'env-user', 'signed with SECRET_KEY')
  t.equal(getSession(token), 'env-user')
  process.env.SECRET_KEY = OTHER_SECRET
  t.equal(getSession(token), null, 'a changed SECRET_KEY is read again, not cached')
})

t.test('options are checked like the plugin\'s', async (t) => {
  t.throws(() => createSession('a', { secret: SECRET, ttl: 0 }), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION', message: /ttl must be an integer number of seconds from 1 to 34560000/ })
  t.throws(() => createSession('a', { secret: 'short' }), { message: /secret must be a string of at least 32 bytes/ })
  t.throws(() => createSession('a', { secret: SECRET, cookieName: 'x' } as object), { message: 'fastify-dbbasic-sessions: unknown option "cookieName"; the options are secret, ttl, now' })
  t.throws(() => getSession('a', { secret: SECRET, ttl: 5 } as object), { message: 'fastify-dbbasic-sessions: unknown option "ttl"; the options are secret, now' })
  t.throws(() => getSession('a', 'secret' as unknown as object), { message: 'fastify-dbbasic-sessions: options must be an object; got "secret"' })
  t.throws(() => getSession('a', { secret: SECRET, now: () => Number('x') }), { message: 'fastify-dbbasic-sessions: now must return a finite number of milliseconds; got NaN' })
})

t.test('destroySession has nothing to do server-side', async (t) => {
  t.equal(destroySession(createSession('a', { secret: SECRET })), undefined)
  t.equal(destroySession(), undefined)
})

t.test('a list of secrets edited in place takes effect on the next call', async (t) => {
  const NEW = 'rotated-secret-0123456789abcdef0123456789abcd'
  const secrets = [SECRET, OTHER_SECRET]
  const before = createSession('u', { secret: secrets })
  t.equal(getSession(before, { secret: secrets }), 'u')
  secrets.splice(0, 1, NEW)
  t.equal(getSession(before, { secret: secrets }), null, 'the removed secret no longer verifies')
  const after = createSession('u', { secret: secrets })
  t.equal(getSession(after, { secret: NEW }), 'u', 'the new first secret signs')
  t.equal(getSession(createSession('v', { secret: OTHER_SECRET }), { secret: secrets }), 'v', 'the kept secret still verifies')
  secrets.push(SECRET)
  t.equal(getSession(before, { secret: secrets }), 'u', 'a secret pushed onto the list verifies')
  secrets.length = 1
  t.equal(getSession(before, { secret: secrets }), null, 'and stops when the list is cut short')
})

t.test('a string secret, a list holding it, and SECRET_KEY holding it are the same keys', async (t) => {
  const saved = process.env.SECRET_KEY
  t.teardown(() => { if (saved === undefined) delete process.env.SECRET_KEY; else process.env.SECRET_KEY = saved })
  const token = createSession('same', { secret: [SECRET] })
  t.equal(getSession(token, { secret: SECRET }), 'same')
  process.env.SECRET_KEY = SECRET
  t.equal(getSession(token), 'same')
  process.env.SECRET_KEY = OTHER_SECRET
  t.equal(getSession(token), null, 'SECRET_KEY changed between two calls')
  t.equal(getSession(createSession('env'), { secret: SECRET }), null, 'signed with the new SECRET_KEY, not the old...')
  t.equal(getSession(createSession('env'), { secret: OTHER_SECRET }), 'env', '...which verifies it')
  delete process.env.SECRET_KEY
  t.throws(() => getSession(token), { code: 'FST_DBBASIC_SESSIONS_NO_SECRET' }, 'SECRET_KEY removed: no keys kept from before')
})

t.test('options are read once each, as own enumerable properties, and checked in full unless seen before', async (t) => {
  const saved = process.env.SECRET_KEY
  t.teardown(() => { if (saved === undefined) delete process.env.SECRET_KEY; else process.env.SECRET_KEY = saved })
  delete process.env.SECRET_KEY
  const reads: Record<string, number> = {}
  const counted = (values: Record<string, unknown>): object => {
    const out = {}
    for (const [name, value] of Object.entries(values)) {
      Object.defineProperty(out, name, { enumerable: true, get: () => { reads[name] = (reads[name] ?? 0) + 1; return value } })
    }
    return out
  }
  const fresh = 'fresh-secret-0123456789abcdef0123456789abcdef'
  const token = createSession('once', counted({ secret: fresh, ttl: 60, now: at(T0) }))
  t.same(reads, { secret: 1, ttl: 1, now: 1 }, 'a secret never seen: each option read once')
  t.equal(getSession(token, counted({ secret: fresh, now: at(T0) })), 'once')
  t.same(reads, { secret: 2, ttl: 1, now: 2 }, 'the same secret again: each read once')

  const inherited = Object.assign(Object.create({ secret: OTHER_SECRET, ttl: 0, cookieName: 'x' }), { secret: fresh, now: at(T0) })
  t.equal(getSession(createSession('own', inherited), { secret: fresh, now: at(T0) }), 'own', 'inherited options are ignored')
  t.throws(() => getSession(token, Object.create({ secret: fresh })), { code: 'FST_DBBASIC_SESSIONS_NO_SECRET' }, 'an inherited secret is no secret')
  const hidden = Object.defineProperty({}, 'secret', { value: fresh, enumerable: false })
  t.throws(() => getSession(token, hidden), { code: 'FST_DBBASIC_SESSIONS_NO_SECRET' }, 'nor is a non-enumerable one')

  t.throws(() => getSession(token, { secret: fresh, now: 5 as unknown as () => number }), { message: /now must be a function/ }, 'a secret seen before does not skip the other checks')
  t.throws(() => createSession('a', { secret: fresh, ttl: 1.5 }), { message: /ttl must be an integer/ })
  t.throws(() => createSession('a', { secret: fresh, ttl: 34560001 }), { message: /ttl must be an integer/ })
  t.throws(() => getSession(token, { secret: [] }), { message: /secret must be/ }, 'an empty list is refused, also as the first call')
  t.throws(() => getSession(token, { secret: [fresh, 'short'] }), { message: /secret\[1\] must be a string of at least 32 bytes/ })
  t.throws(() => getSession(token, { secret: fresh, extra: 1 } as object), { message: /unknown option "extra"/ })
  t.equal(getSession(token, { secret: [fresh], now: undefined }), null, 'now: undefined is the real clock, where the token has expired')
})

t.test('an empty options object is no options', async (t) => {
  const saved = process.env.SECRET_KEY
  t.teardown(() => { if (saved === undefined) delete process.env.SECRET_KEY; else process.env.SECRET_KEY = saved })
  process.env.SECRET_KEY = OTHER_SECRET
  t.equal(getSession(createSession('e', { secret: SECRET }), {}), null, 'SECRET_KEY verifies, not the last secret used')
  t.equal(getSession(createSession('e', {})), 'e')
})

t.test('createSession reports the options\' error, then the user id\'s, then the secret\'s', async (t) => {
  const saved = process.env.SECRET_KEY
  t.teardown(() => { if (saved === undefined) delete process.env.SECRET_KEY; else process.env.SECRET_KEY = saved })
  delete process.env.SECRET_KEY
  t.throws(() => createSession('', { ttl: 0 }), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION' })
  t.throws(() => createSession(''), { code: 'FST_DBBASIC_SESSIONS_INVALID_USER_ID' })
  t.throws(() => createSession('', { ttl: 60 }), { code: 'FST_DBBASIC_SESSIONS_INVALID_USER_ID' })
  t.throws(() => createSession('', { secret: 'fresh-0123456789abcdef0123456789abcdefghij', ttl: 60 }), { code: 'FST_DBBASIC_SESSIONS_INVALID_USER_ID' })
  t.throws(() => createSession('a'), { code: 'FST_DBBASIC_SESSIONS_NO_SECRET' })
})
