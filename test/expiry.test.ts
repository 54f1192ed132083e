// Time comes from the `now` option: no test sleeps.
import t, { type Test } from 'tap'
import { LogCapture, T0, buildApp, clock } from './helpers.js'

async function loginThenAsk (t: Test, ttl: number | undefined, ...offsets: number[]): Promise<Array<string | null>> {
  const time = clock()
  const app = await buildApp(ttl === undefined ? { now: time.now } : { ttl, now: time.now })
  t.teardown(() => app.close())
  const { token } = (await app.inject({ method: 'POST', url: '/login?user=zoe' })).json()
  const answers = []
  for (const seconds of offsets) {
    time.set(T0 + seconds * 1000)
    answers.push((await app.inject({ url: '/whoami', headers: { cookie: `__Host-Http-session=${token}` } })).json().userId)
  }
  return answers
}

t.test('a session is valid one second before its expiry and expired exactly at it', async (t) => {
  t.same(await loginThenAsk(t, 3600, 0, 3599, 3599.999, 3600, 3601, 86400), ['zoe', 'zoe', 'zoe', null, null, null])
})

t.test('the default ttl is 30 days', async (t) => {
  t.same(await loginThenAsk(t, undefined, 2591999, 2592000), ['zoe', null])
})

t.test('the shortest ttl, one second', async (t) => {
  t.same(await loginThenAsk(t, 1, 0, 0.999, 1), ['zoe', 'zoe', null])
})

t.test('a login in the middle of a second counts from the whole second, as the reference does', async (t) => {
  const time = clock(T0 + 900)
  const app = await buildApp({ ttl: 10, now: time.now })
  t.teardown(() => app.close())
  const { token } = (await app.inject({ method: 'POST', url: '/login?user=y' })).json()
  t.equal(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).expires, T0 / 1000 + 10)
})

t.test('an expired cookie is logged at debug with reason "expired"', async (t) => {
  const time = clock()
  const logs = new LogCapture()
  const app = await buildApp({ ttl: 60, now: time.now }, logs)
  t.teardown(() => app.close())
  const { token } = (await app.inject({ method: 'POST', url: '/login?user=x' })).json()
  time.advance(60)
  const res = await app.inject({ url: '/private', headers: { cookie: `__Host-Http-session=${token}` } })
  t.equal(res.statusCode, 401)
  t.same(logs.records.filter((r) => r.reason !== undefined).map((r) => [r.level, r.reason]), [[10, 'no cookie'], [20, 'expired']])
})
