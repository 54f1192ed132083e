// The reference implementation's own output: every token we make must match it
// byte for byte, and every verdict must match what a correct verifier returns.
import t from 'tap'
import { createSession, getSession } from '../lib/index.js'
import { buildApp, vectors } from './helpers.js'

t.test('the fixture is the shared vector file, whole', async (t) => {
  t.equal(vectors.create.length, 42)
  t.equal(vectors.verify.length, 199)
})

t.test('createSession makes the reference token for every create vector', async (t) => {
  for (const v of vectors.create) {
    const token = createSession(v.user_id, { secret: v.secret, ttl: v.ttl, now: () => v.now * 1000 })
    t.equal(token, v.token, `${JSON.stringify(v.user_id).slice(0, 30)} ttl=${v.ttl}`)
  }
})

t.test('getSession returns the expected verdict for every verify vector, without throwing', async (t) => {
  for (const v of vectors.verify) {
    t.equal(getSession(v.token, { secret: v.secret, now: () => v.now * 1000 }), v.expect, v.case)
  }
})

// A cookie value cannot hold spaces, quotes, commas, semicolons or backslashes,
// and a header is trimmed around each pair: those vectors are about the codec, not the header.
const COOKIE_OCTETS = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/

t.test('the plugin gives the same verdict for every vector sent as a cookie', async (t) => {
  const bySecret = new Map<string, typeof vectors.verify>()
  for (const v of vectors.verify) {
    if (!COOKIE_OCTETS.test(v.token) || v.token === '') continue
    bySecret.set(v.secret, [...(bySecret.get(v.secret) ?? []), v])
  }
  let sent = 0
  for (const [secret, cases] of bySecret) {
    let now = 0
    const app = await buildApp({ secret, now: () => now })
    t.teardown(() => app.close())
    for (const v of cases) {
      now = v.now * 1000
      const res = await app.inject({ url: '/whoami', headers: { cookie: `__Host-Http-session=${v.token}` } })
      t.equal(res.statusCode, 200)
      t.equal(res.json().userId, v.expect, v.case)
      sent++
    }
  }
  t.ok(sent >= 190, `${sent} vectors went through the plugin`)
})
