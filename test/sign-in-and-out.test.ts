// Signing in and out: reply.createSession sets one cookie holding the token, refuses a
// user id that is not one or would not fit a cookie, before any header; the cookie sent
// back signs the user in before the route runs; request.session is fresh on every request
// and follows a login or logout for the hooks after it; one session Set-Cookie per
// response, the last call winning, the app's own cookies kept, with or without
// @fastify/cookie; and a call after the reply was sent is a clear error. The lifetime of
// what is set: lifetime.test.ts; its name and attributes: cookie-options.test.ts.
import t from 'tap'
import fc from 'fast-check'
import Fastify from 'fastify'
import fastifyCookie from '@fastify/cookie'
import sessions, { createSession, getSession } from '../lib/index.js'
import { NONE, SECRET, T0, buildApp, fieldsOf, payloadOf, sessionCookie } from './helpers.js'

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300)

t.test('login sets one cookie holding the token byte for byte, with the default attributes', async (t) => {
  const app = await buildApp()
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/login?user=alice' })
  t.equal(res.statusCode, 200)
  const { token } = res.json()
  const cookie = sessionCookie(res.headers)
  t.equal(cookie?.value, token, 'not percent-encoded: "=" padding is sent as is')
  t.equal(getSession(token, { secret: SECRET, now: () => T0 }), 'alice', 'a token the standalone API (the reference\'s rule) reads')
  t.same(fieldsOf(token), { user_id: 'alice', expires: T0 / 1000 + 2592000, iat: T0 / 1000 }, 'the reference\'s fields, then the login time and a session id')
  t.same(cookie?.attributes, ['Max-Age=2592000', 'Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax'])
  t.equal(res.headers['cache-control'], 'no-store')
})

t.test('the cookie sent back signs the user in; the session is read before the route runs', async (t) => {
  const app = await buildApp()
  t.teardown(() => app.close())
  const { token } = (await app.inject({ method: 'POST', url: '/login?user=alice' })).json()
  const res = await app.inject({ url: '/whoami', headers: { cookie: `theme=dark; __Host-Http-session=${token}; lang=en` } })
  t.same(res.json(), { userId: 'alice', issuedAt: T0 / 1000, expiresAt: T0 / 1000 + 2592000, sessionId: payloadOf(token).sid })
  t.equal(res.headers['set-cookie'], undefined, 'reading a session sets no cookie')
  t.equal(res.headers['cache-control'], undefined, 'and leaves caching to the route')
  const anonymous = await app.inject({ url: '/whoami', headers: { cookie: 'theme=dark' } })
  t.same(anonymous.json(), NONE)
})

t.test('reply.createSession accepts integer ids and refuses other values with a TypeError', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(sessions, { secret: SECRET, now: () => T0 })
  const ids: unknown[] = [42, 9007199254740993n, '', 1.5, NaN, null, undefined, {}, ['a'], true]
  app.post<{ Body: { i: number } }>('/login', async (request, reply) => {
    try {
      reply.createSession(ids[request.body.i] as string)
      return { userId: request.session.userId }
    } catch (err) {
      return { type: (err as Error).constructor.name, isTypeError: err instanceof TypeError, code: (err as { code: string }).code, message: (err as Error).message }
    }
  })
  const answers = []
  for (let i = 0; i < ids.length; i++) answers.push((await app.inject({ method: 'POST', url: '/login', body: { i } })).json())
  t.same(answers[0], { userId: '42' })
  t.same(answers[1], { userId: '9007199254740993' })
  const expected = ['""', '1.5', 'NaN', 'null', 'undefined', 'an object', 'an array', 'true']
  for (let i = 2; i < ids.length; i++) {
    t.match(answers[i], {
      isTypeError: true,
      code: 'FST_DBBASIC_SESSIONS_INVALID_USER_ID',
      message: `fastify-dbbasic-sessions: userId must be a non-empty string or a safe integer; got ${expected[i - 2]}`
    })
  }
})

t.test('a login whose Set-Cookie header would pass 4096 bytes is refused before any header is set', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(sessions, { secret: SECRET })
  app.post<{ Querystring: { n: number } }>('/login', async (request, reply) => {
    try {
      return { token: reply.createSession('x'.repeat(Number(request.query.n))) }
    } catch (err) {
      return { code: (err as { code: string }).code, message: (err as Error).message, isRangeError: err instanceof RangeError }
    }
  })
  // 2890 characters make a token of about 4,030 characters: it fits a cookie value, not the whole header.
  const res = await app.inject({ method: 'POST', url: '/login?n=2890' })
  t.match(res.json(), {
    code: 'FST_DBBASIC_SESSIONS_TOO_LARGE',
    isRangeError: true,
    message: /^fastify-dbbasic-sessions: the session cookie would be 41\d\d bytes, over the 4096 a browser keeps; use a shorter user id$/
  })
  t.equal(res.headers['set-cookie'], undefined)
  t.equal(res.headers['cache-control'], undefined)
  const fits = await app.inject({ method: 'POST', url: '/login?n=2860' })
  t.ok(Buffer.byteLength(fits.headers['set-cookie'] as string) <= 4096)
})

t.test('size: reply.createSession refuses a user id whose Set-Cookie would pass 4096 bytes, before any header', async (t) => {
  const options = { secret: SECRET, now: () => T0 }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(sessions, options)
  app.post<{ Body: { id: string } }>('/login', async (request, reply) => {
    try {
      reply.createSession(request.body.id)
      return { ok: true }
    } catch (err) {
      return { ok: false, code: (err as { code: string }).code }
    }
  })
  const ids = fc.sample(fc.oneof(
    fc.string({ unit: 'grapheme-ascii', minLength: 2800, maxLength: 3100 }),
    fc.string({ unit: 'binary', minLength: 400, maxLength: 700 })
  ), { numRuns: RUNS, seed: 7 })
  let fits = 0
  let refused = 0
  for (const id of ids) {
    const res = await app.inject({ method: 'POST', url: '/login', payload: { id } })
    const header = res.headers['set-cookie'] as string | undefined
    if (res.json().ok === true) {
      fits++
      t.ok(header !== undefined && Buffer.byteLength(header) <= 4096, 'a cookie that fits is set')
      t.equal(getSession(header!.split(';')[0].slice('__Host-Http-session='.length), options), id)
    } else {
      refused++
      t.equal(res.json().code, 'FST_DBBASIC_SESSIONS_TOO_LARGE')
      t.equal(header, undefined, 'no Set-Cookie at all')
    }
  }
  t.ok(fits > 0 && refused > 0, `${fits} fitted, ${refused} refused`)
})

t.test('login and logout update request.session for the hooks that run after the route', async (t) => {
  const seen: Array<string | null> = []
  const app = await buildApp({}, undefined, (app) => app.addHook('onResponse', async (request) => { seen.push(request.session.userId) }))
  t.teardown(() => app.close())
  const { token } = (await app.inject({ method: 'POST', url: '/login?user=carol' })).json()
  await app.inject({ method: 'POST', url: '/logout', headers: { cookie: `__Host-Http-session=${token}` } })
  t.same(seen, ['carol', null])
})

t.test('request.session is a fresh object on every request', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(sessions, { secret: SECRET, now: () => T0 })
  const objects: object[] = []
  app.get('/', async (request) => {
    objects.push(request.session)
    const before = { ...request.session }
    ;(request.session as unknown as Record<string, unknown>).leak = 'x'
    return before
  })
  const token = createSession('dave', { secret: SECRET, now: () => T0 })
  t.same((await app.inject({ url: '/', headers: { cookie: `__Host-Http-session=${token}` } })).json(), { userId: 'dave', issuedAt: null, expiresAt: T0 / 1000 + 2592000, sessionId: null })
  t.same((await app.inject({ url: '/' })).json(), NONE, 'nothing carried over from the last request')
  t.not(objects[0], objects[1])
})

t.test('one Set-Cookie for the session per response, the last call winning; other cookies are kept', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(sessions, { secret: SECRET, now: () => T0 })
  app.post('/twice', async (_request, reply) => {
    reply.header('set-cookie', 'theme=dark')
    reply.createSession('first')
    const { token } = await reply.createSession('second')
    reply.header('set-cookie', 'lang=en')
    return { token }
  })
  app.post('/in-and-out', async (_request, reply) => {
    reply.createSession('someone')
    reply.destroySession()
    return reply.send({ userId: _request.session.userId })
  })
  const twice = await app.inject({ method: 'POST', url: '/twice' })
  t.equal(sessionCookie(twice.headers)?.value, twice.json().token)
  t.same((twice.headers['set-cookie'] as string[]).filter((c) => !c.startsWith('__Host-Http-session=')), ['theme=dark', 'lang=en'])
  const inOut = await app.inject({ method: 'POST', url: '/in-and-out' })
  t.equal(sessionCookie(inOut.headers)?.value, '', 'the clearing cookie replaced the login')
  t.same(inOut.json(), { userId: null })
})

for (const order of ['before', 'after', 'not at all'] as const) {
  t.test(`works with @fastify/cookie registered by the app ${order}`, async (t) => {
    const app = Fastify()
    t.teardown(() => app.close())
    if (order === 'before') await app.register(fastifyCookie)
    await app.register(sessions, { secret: SECRET, now: () => T0 })
    if (order === 'after') await app.register(fastifyCookie)
    app.post('/login', async (request, reply) => {
      if (order !== 'not at all') reply.setCookie('theme', 'dark')
      reply.createSession('frank')
      return { userId: request.session.userId, cookies: request.cookies ?? null }
    })
    const token = createSession('frank', { secret: SECRET, now: () => T0 })
    const res = await app.inject({ method: 'POST', url: '/login', headers: { cookie: `__Host-Http-session=${token}; x=1` } })
    t.equal(res.statusCode, 200)
    t.equal(getSession(sessionCookie(res.headers)?.value, { secret: SECRET, now: () => T0 }), 'frank')
    if (order === 'not at all') {
      t.same(res.json(), { userId: 'frank', cookies: null }, 'the plugin does not decorate the app with @fastify/cookie')
    } else {
      t.same(res.json(), { userId: 'frank', cookies: { '__Host-Http-session': token, x: '1' } })
      t.ok((res.headers['set-cookie'] as string[]).some((c) => c.startsWith('theme=dark')), "the app's own cookie is sent too")
    }
  })
}

t.test('a clock that returns no number is a bug reported as a 500', async (t) => {
  const app = await buildApp({ now: () => NaN })
  t.teardown(() => app.close())
  const res = await app.inject({ url: '/whoami', headers: { cookie: '__Host-Http-session=' + createSession('h', { secret: SECRET }) } })
  t.equal(res.statusCode, 500)
  t.equal(res.json().message, 'fastify-dbbasic-sessions: now must return a finite number of milliseconds; got NaN')
})

t.test('the plugin is registered under its name, for dependency checks', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(sessions, { secret: SECRET })
  t.ok(app.hasPlugin('fastify-dbbasic-sessions'))
  t.ok(app.hasRequestDecorator('session'))
  t.ok(app.hasReplyDecorator('createSession'))
  t.ok(app.hasReplyDecorator('destroySession'))
  t.ok(app.hasDecorator('requireSession'))
})

t.test('the plugin replaces only its own earlier Set-Cookie, never an app\'s cookie of the same name for another Domain or Path', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(sessions, { secret: SECRET, now: () => T0, cookieName: 'session', cookie: { secure: false } })
  const clearParent = 'session=; Domain=example.com; Path=/; Max-Age=0'
  app.post('/logout', async (_request, reply) => {
    // The only way to remove a cookie planted on the parent domain.
    reply.header('set-cookie', clearParent)
    reply.header('set-cookie', 'sessionx=keep')
    reply.createSession('someone')
    reply.destroySession()
    return 'ok'
  })
  const res = await app.inject({ method: 'POST', url: '/logout' })
  t.same(res.headers['set-cookie'], [clearParent, 'sessionx=keep', 'session=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax'])
})

t.test('createSession and destroySession after the reply was sent throw a clear error', async (t) => {
  const errors: Array<{ code?: string, message: string }> = []
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(sessions, { secret: SECRET, now: () => T0 })
  app.addHook('onResponse', async (request, reply) => {
    for (const call of [() => reply.createSession('late'), () => reply.destroySession()]) {
      try {
        call()
      } catch (err) {
        errors.push({ code: (err as { code?: string }).code, message: (err as Error).message })
      }
    }
    errors.push({ message: `session after: ${request.session.userId}` })
  })
  app.get('/', async () => 'ok')
  const res = await app.inject({ url: '/' })
  t.equal(res.headers['set-cookie'], undefined)
  t.same(errors, [
    { code: 'FST_DBBASIC_SESSIONS_REPLY_SENT', message: 'fastify-dbbasic-sessions: createSession was called after the reply was sent, so no cookie can go out; call it before sending the response' },
    { code: 'FST_DBBASIC_SESSIONS_REPLY_SENT', message: 'fastify-dbbasic-sessions: destroySession was called after the reply was sent, so no cookie can go out; call it before sending the response' },
    { message: 'session after: null' }
  ], 'request.session is left as it was')
})

t.test('a hook that runs before the plugin\'s own may still sign in or out: request.session is set then', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  // Added before register, so it runs before the plugin's onRequest hook.
  app.addHook('onRequest', async (request, reply) => {
    if (request.url === '/early-login') {
      reply.createSession('early')
      return reply.send({ session: (request as unknown as { session: unknown }).session })
    }
  })
  await app.register(sessions, { secret: SECRET, now: () => T0 })
  const res = await app.inject({ url: '/early-login' })
  const value = sessionCookie(res.headers)?.value as string
  t.same(res.json(), { session: { userId: 'early', issuedAt: T0 / 1000, expiresAt: T0 / 1000 + 2592000, sessionId: payloadOf(value).sid } })
  t.equal(getSession(value, { secret: SECRET, now: () => T0 }), 'early')
  t.equal(res.headers['cache-control'], 'no-store')
})
