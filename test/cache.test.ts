// The cache of verified tokens: bounded, only for tokens that verified, and never
// a shortcut past expiry, validate or rotation.
import t from 'tap'
import { createSession } from '../lib/index.js'
import { HmacKey } from '../lib/hmac.js'
import { makeVerifier } from '../lib/verifier.js'
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

t.test('a repeated valid token is verified once; a forged one every time', async (t) => {
  const key = new CountingKey(Buffer.from(SECRET))
  const verify = makeVerifier([key], 0, 100)
  const good = token('a')
  t.match(verify(good, S0), { userId: 'a' })
  t.match(verify(good, S0), { userId: 'a' })
  t.match(verify(good.slice(0), S0), { userId: 'a' })
  t.equal(key.macs, 1, 'one HMAC for three verifications')
  const forged = token('b', OTHER_SECRET)
  t.equal(verify(forged, S0), 'bad signature')
  t.equal(verify(forged, S0), 'bad signature')
  t.equal(key.macs, 3, 'a forged token is never cached')
})

t.test('a cached token still expires on time, tolerance included', async (t) => {
  const key = new CountingKey(Buffer.from(SECRET))
  const verify = makeVerifier([key], 5, 100)
  const good = token('a', SECRET, 60)
  t.match(verify(good, S0), { userId: 'a' })
  t.match(verify(good, S0 + 64.9), { userId: 'a' }, 'inside the tolerance')
  t.equal(verify(good, S0 + 65), 'expired')
  t.equal(verify(good, S0 + 65), 'expired', 'and stays expired')
  t.equal(key.macs, 2, 'the expired entry was dropped, the token checked afresh')
})

t.test('the cache holds at most cacheSize tokens, dropping the oldest', async (t) => {
  const key = new CountingKey(Buffer.from(SECRET))
  const verify = makeVerifier([key], 0, 2)
  const [a, b, c] = ['a', 'b', 'c'].map((u) => token(u))
  verify(a, S0); verify(b, S0); verify(c, S0)
  t.equal(key.macs, 3)
  verify(b, S0); verify(c, S0)
  t.equal(key.macs, 3, 'b and c are still cached')
  verify(a, S0)
  t.equal(key.macs, 4, 'a was dropped when c came in')
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
