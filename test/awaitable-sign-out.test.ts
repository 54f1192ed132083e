// `await reply.destroySession()` resolves once the revocation is stored, so a route can
// order its own clean-up after it, and never waits on its own response. Not awaited,
// the response waits for it all the same. The old chain `destroySession().send(x)` is
// a type error and, in JavaScript, an immediate TypeError: never a hang.
import t from 'tap'
import { memoryStore } from '../lib/index.js'
import type { Revocation, RevocationStore } from '../types/index.js'
import { NONE, buildApp, payloadOf, sessionCookie, visit } from './helpers.js'
import { within } from './servers/wait.js'

const cookie = (token: string): Record<string, string> => ({ cookie: `__Host-Http-session=${token}` })

/** A memory store whose writes can be held, then released or failed. */
function heldStore (): RevocationStore & { hold: () => void, release: () => void, fail: () => void, stored: () => Revocation[] } {
  const inner = memoryStore()
  const stored: Revocation[] = []
  let gate: { resolve: () => void, reject: (err: Error) => void } | null = null
  let holding = false
  return {
    hold: () => { holding = true },
    release: () => { holding = false; gate?.resolve() },
    fail: () => { holding = false; gate?.reject(new Error('the store went away')) },
    stored: () => stored,
    add: async (r) => {
      if (holding) await new Promise<void>((resolve, reject) => { gate = { resolve, reject } })
      stored.push(r)
      await inner.add(r)
    },
    since: async (cursor, now) => await inner.since(cursor, now)
  }
}

t.test('await reply.destroySession() resolves once the revocation is stored; the route then runs its own clean-up', async (t) => {
  const store = heldStore()
  const seen: string[] = []
  const app = await buildApp({ revocation: { store } }, undefined, (app) => {
    app.post('/sign-out', async (request, reply) => {
      const { sessionId } = request.session
      await reply.destroySession()
      seen.push(`stored ${store.stored().length}, session ${String(request.session.userId)}, forget ${String(sessionId)}`)
      return { ok: true }
    })
  })
  t.teardown(() => app.close())
  const token = (await app.inject({ method: 'POST', url: '/login?user=ann' })).json().token
  store.hold()
  const out = app.inject({ method: 'POST', url: '/sign-out', headers: cookie(token) })
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(seen, [], 'the route waits while the store does')
  store.release()
  const res = await within(out, 2000)
  t.equal(res.statusCode, 200)
  t.same(seen, [`stored 1, session null, forget ${String(payloadOf(token).sid)}`])
  t.equal(sessionCookie(res.headers, '__Host-Http-session')?.value, '', 'the cookie is cleared')
  t.same((await visit(app, token)).session, NONE)
})

t.test('never a hang: awaited with nothing to revoke, not awaited, revocation off', async (t) => {
  const app = await buildApp({}, undefined, (app) => {
    app.post('/unawaited', async (_request, reply) => {
      reply.destroySession().catch(() => {})
      return { ok: true }
    })
  })
  const off = await buildApp({ revocation: false })
  t.teardown(() => app.close())
  t.teardown(() => off.close())
  t.equal((await within(app.inject({ method: 'POST', url: '/logout' }), 2000)).statusCode, 200, 'no cookie: nothing to revoke')
  const token = (await app.inject({ method: 'POST', url: '/login?user=bo' })).json().token
  const res = await within(app.inject({ method: 'POST', url: '/unawaited', headers: cookie(token) }), 2000)
  t.equal(sessionCookie(res.headers, '__Host-Http-session')?.value, '', 'not awaited: the response still clears the cookie, once stored')
  t.same((await visit(app, token)).session, NONE)
  const kept = (await off.inject({ method: 'POST', url: '/login?user=bo' })).json().token
  t.equal((await within(off.inject({ method: 'POST', url: '/logout', headers: cookie(kept) }), 2000)).statusCode, 200, 'revocation off')
})

t.test('a failed sign-out: awaited, the route sees the 503 error; not awaited, the response is the 503; either way the cookie stays', async (t) => {
  const store = heldStore()
  const app = await buildApp({ revocation: { store } }, undefined, (app) => {
    app.post('/caught', async (request, reply) => {
      try {
        await reply.destroySession()
      } catch (err) {
        return reply.code(503).send({ code: (err as { code: string }).code, still: request.session.userId })
      }
      return { ok: true }
    })
    app.post('/unawaited', async (_request, reply) => {
      reply.destroySession().catch(() => {})
      return { ok: true }
    })
  })
  t.teardown(() => app.close())
  const token = (await app.inject({ method: 'POST', url: '/login?user=cy' })).json().token
  for (const url of ['/logout', '/unawaited', '/caught']) {
    store.hold()
    const out = app.inject({ method: 'POST', url, headers: cookie(token) })
    await new Promise((resolve) => setTimeout(resolve, 20))
    store.fail()
    const res = await within(out, 2000)
    t.equal(res.statusCode, 503, url)
    t.equal(res.headers['set-cookie'], undefined, `${url}: the cookie is kept`)
    if (url === '/caught') t.same(res.json(), { code: 'FST_DBBASIC_SESSIONS_REVOCATION_FAILED', still: 'cy' }, 'the route\'s own answer stands')
  }
  t.equal((await visit(app, token)).session.userId, 'cy', 'nothing was revoked')
})

t.test('the old chain destroySession().send(x) fails at once with a TypeError, never waits', async (t) => {
  const app = await buildApp({}, undefined, (app) => {
    app.post('/old-style', async (_request, reply) => (reply.destroySession() as unknown as { send: (x: unknown) => unknown }).send({ ok: true }))
  })
  t.teardown(() => app.close())
  const token = (await app.inject({ method: 'POST', url: '/login?user=di' })).json().token
  const res = await within(app.inject({ method: 'POST', url: '/old-style', headers: cookie(token) }), 2000)
  t.equal(res.statusCode, 500)
  t.match(res.json().message, /send is not a function/)
})
