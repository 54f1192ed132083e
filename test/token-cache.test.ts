// The cache of verified tokens (the cacheSize option; HTTP caches are http-caching.test.ts):
// bounded, only for tokens that verified, and never a shortcut past expiry, validate or rotation.
import t from 'tap'
import { createSession } from '../lib/index.js'
import { HmacKey } from '../lib/hmac.js'
import { CACHE_BYTES_PER_ENTRY, makeVerifier } from '../lib/verifier.js'
import { LogCapture, NONE, OTHER_SECRET, SECRET, T0, buildApp, clock, visit } from './helpers.js'

const S0 = T0 / 1000

class CountingKey extends HmacKey {
  macs = 0
  override hexDigest (message: string): string {
    this.macs++
    return super.hexDigest(message)
  }
}

const token = (user: string, secret = SECRET, ttl = 600): string => createSession(user, { secret, ttl, now: () => T0 })

/** How many of `tokens` the verifier answers without an HMAC. */
function served (key: CountingKey, verify: ReturnType<typeof makeVerifier>, tokens: string[]): number {
  const before = key.macs
  for (const one of tokens) verify(one, S0)
  return tokens.length - (key.macs - before)
}

t.test('a valid token is cached the second time it verifies; a forged one never', async (t) => {
  const key = new CountingKey(Buffer.from(SECRET))
  const verify = makeVerifier([key], 0, 100)
  const good = token('a')
  t.match(verify(good, S0), { userId: 'a' })
  t.match(verify(good, S0), { userId: 'a' })
  t.match(verify(good.slice(0), S0), { userId: 'a' })
  t.match(verify(good, S0), { userId: 'a' })
  t.equal(key.macs, 2, 'two HMACs for four verifications')
  const forged = token('b', OTHER_SECRET)
  for (let i = 0; i < 3; i++) t.equal(verify(forged, S0), 'bad signature')
  t.equal(key.macs, 5, 'a forged token is checked every time')
})

t.test('a cached token still expires on time, tolerance included', async (t) => {
  const key = new CountingKey(Buffer.from(SECRET))
  const verify = makeVerifier([key], 5, 100)
  const good = token('a', SECRET, 60)
  verify(good, S0)
  t.match(verify(good, S0), { userId: 'a' })
  t.match(verify(good, S0 + 64.9), { userId: 'a' }, 'inside the tolerance')
  t.equal(key.macs, 2, 'served from the cache')
  t.equal(verify(good, S0 + 65), 'expired')
  t.equal(verify(good, S0 + 65), 'expired', 'and stays expired')
  t.equal(key.macs, 3, 'the expired entry was dropped, the token checked afresh')
})

t.test('at most cacheSize tokens are served from the cache', async (t) => {
  const key = new CountingKey(Buffer.from(SECRET))
  const verify = makeVerifier([key], 0, 8)
  const many = Array.from({ length: 40 }, (_, i) => token(`user-${i}`))
  for (const one of many) served(key, verify, [one, one])
  const fromCache = served(key, verify, many)
  t.ok(fromCache > 0 && fromCache <= 8, `${fromCache} of 40 from the cache, each seen twice in a row before`)
  t.equal(served(key, verify, many), fromCache, 'the others passing in turn do not replace them')
  const one = makeVerifier([key], 0, 1)
  served(key, one, many.slice(0, 2))
  served(key, one, many.slice(0, 2))
  t.equal(served(key, one, many.slice(0, 2)), 0, 'cacheSize 1: two tokens take turns, neither stays')
  served(key, one, [many[0], many[0]])
  t.equal(served(key, one, [many[0]]), 1, 'one token stays')
})

t.test('tokens seen once do not push out the tokens in use', async (t) => {
  const key = new CountingKey(Buffer.from(SECRET))
  const verify = makeVerifier([key], 0, 16)
  const hot = [token('hot-1'), token('hot-2')]
  served(key, verify, hot)
  served(key, verify, hot)
  const passing = Array.from({ length: 500 }, (_, i) => token(`once-${i}`))
  t.equal(served(key, verify, passing), 0, '500 tokens, each seen once')
  t.equal(served(key, verify, hot), 2, 'the tokens in use are still cached')
})

t.test('the cache holds a bounded number of bytes, however long the user ids', async (t) => {
  const key = new CountingKey(Buffer.from(SECRET))
  const size = 100
  const verify = makeVerifier([key], 0, size)
  // A 2,800-character id makes a token of about 3,800 characters: each entry
  // counts about 9,400 bytes against the 100 × 256 the cache may hold.
  const long = Array.from({ length: 50 }, (_, i) => token(`${i}-`.padEnd(2800, 'x')))
  for (let round = 0; round < 3; round++) served(key, verify, long)
  const cachedLong = served(key, verify, long)
  t.ok(cachedLong <= Math.floor(size * CACHE_BYTES_PER_ENTRY / 9400), `${cachedLong} long-id tokens cached`)
  t.ok(cachedLong >= 1, 'long ids are still cached while they fit')
  const short = Array.from({ length: 20 }, (_, i) => token(`s${i}`))
  served(key, verify, short)
  served(key, verify, short)
  t.ok(served(key, verify, short) >= 15, 'short ids still find room')
})

t.test('cacheSize 0 turns the cache off', async (t) => {
  const key = new CountingKey(Buffer.from(SECRET))
  const verify = makeVerifier([key], 0, 0)
  const good = token('a')
  verify(good, S0); verify(good, S0)
  t.equal(key.macs, 2)
})

t.test('through the plugin: validate and rotation still run on a cache hit', async (t) => {
  const allowed = new Set(['x'])
  const time = clock()
  const logs = new LogCapture()
  const app = await buildApp({ secret: [SECRET, OTHER_SECRET], validate: (s) => allowed.has(s.userId), now: time.now }, logs)
  t.teardown(() => app.close())
  const old = token('x', OTHER_SECRET)
  const first = await visit(app, old)
  const second = await visit(app, old)
  t.equal(first.session.userId, 'x')
  t.equal(second.session.userId, 'x')
  t.ok(first.cookie !== undefined && second.cookie !== undefined, 'the old-secret token is re-signed on every request, cached or not')
  allowed.delete('x')
  t.same((await visit(app, old)).session, NONE, 'revoked, though cached')
  time.advance(600)
  allowed.add('x')
  t.same((await visit(app, old)).session, NONE, 'expired, though cached')
})

t.test('each plugin instance has its own cache', async (t) => {
  const a = await buildApp({ secret: SECRET })
  const b = await buildApp({ secret: OTHER_SECRET })
  t.teardown(() => Promise.all([a.close(), b.close()]))
  const good = token('only-a')
  t.equal((await visit(a, good)).session.userId, 'only-a')
  t.same((await visit(b, good)).session, NONE, 'a token A has cached means nothing to B')
})
