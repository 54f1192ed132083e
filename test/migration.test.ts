// docs/migration.md's bridges and its flash cookie, loaded from the page as written and
// run with the old plugin installed beside this one. Each old cookie is made as the
// switch meets it: by signing in through an app that has only the old plugin, with the
// same key or secret (and, for @fastify/session, the same store).
import { randomBytes } from 'node:crypto'
import t from 'tap'
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest, type LightMyRequestResponse } from 'fastify'
import fastifyCookie, { Signer } from '@fastify/cookie'
import sessions from '../lib/index.js'
import { loadRecipe } from './docs.js'
import { SECRET, sessionCookie } from './helpers.js'

// Loaded by a name the compiler does not follow: their declarations of request.session
// would replace ours in this whole test program (see coexistence.test.ts).
const load = async (name: string): Promise<any> => await import(name)
const fastifySecureSession: FastifyPluginAsync<any> = (await load('@fastify/secure-session')).default
interface Store {
  get: (id: string, done: (err: unknown, session?: unknown) => void) => void
  set: (id: string, session: unknown, done: (err?: unknown) => void) => void
  destroy: (id: string, done: (err?: unknown) => void) => void
}
const fastifySession: FastifyPluginAsync<any> & { MemoryStore: new () => Store } = (await load('@fastify/session')).default

// The old plugins' session objects, as the old apps use them.
interface OldSession { get: (key: string) => unknown, set: (key: string, value: unknown) => void, regenerate: () => Promise<void> }
const old = (request: FastifyRequest): OldSession => request.session as unknown as OldSession

const SESSION_KEY = randomBytes(32)
const SESSION_SECRET = randomBytes(32).toString('hex')
// What the recipes read, as a deployed app's environment gives it.
process.env.SECRET_KEY = SECRET
process.env.SESSION_KEY = SESSION_KEY.toString('hex')
process.env.SESSION_SECRET = SESSION_SECRET

// The old plugins' registrations, the same as the recipes keep them.
const SECURE_COOKIE = { path: '/', httpOnly: true, secure: true, sameSite: 'lax' }
const STORE_COOKIE = { path: '/', httpOnly: true, secure: true, sameSite: 'lax', maxAge: 7 * 24 * 60 * 60 * 1000 }
// @fastify/session sets its Secure cookie only on https: the apps are behind a TLS proxy.
const HTTPS = { 'x-forwarded-proto': 'https' }

const OUR_COOKIE = '__Host-Http-session'

interface SetCookie { value: string, attributes: string[] }
function setCookies (res: LightMyRequestResponse): Map<string, SetCookie> {
  const all = res.headers['set-cookie']
  const found = new Map<string, SetCookie>()
  for (const header of all === undefined ? [] : Array.isArray(all) ? all : [all]) {
    const [pair = '', ...attributes] = header.split('; ')
    const name = pair.slice(0, pair.indexOf('='))
    if (found.has(name)) throw new Error(`two Set-Cookie headers for ${name}`)
    found.set(name, { value: pair.slice(name.length + 1), attributes })
  }
  return found
}

/** The response tells the browser to drop the cookie `name`. */
function clears (res: LightMyRequestResponse, name: string): boolean {
  const c = setCookies(res).get(name)
  return c !== undefined && c.value === '' && c.attributes.some((a) => /^max-age=0$/i.test(a))
}

/** A browser's cookie jar: what it sends, and what each response sets or clears. */
class Browser {
  jar = new Map<string, string>()
  constructor (readonly headers: Record<string, string> = {}) {}

  get cookie (): string { return [...this.jar].map(([n, v]) => `${n}=${v}`).join('; ') }

  async send (app: FastifyInstance, method: 'GET' | 'POST', url: string): Promise<LightMyRequestResponse> {
    const res = await app.inject({ method, url, headers: { ...this.headers, ...(this.jar.size > 0 ? { cookie: this.cookie } : {}) } })
    for (const [name, { value, attributes }] of setCookies(res)) {
      if (value === '' || attributes.some((a) => /^max-age=0$/i.test(a))) this.jar.delete(name)
      else this.jar.set(name, value)
    }
    return res
  }

  /** A copy of one cookie, as someone who took it would send it. */
  copy (name: string): string {
    const value = this.jar.get(name)
    if (value === undefined) throw new Error(`no ${name} cookie`)
    return `${name}=${value}`
  }
}

/** The routes of the migrated app: everything goes through this plugin, as request.auth. */
function routes (app: FastifyInstance): void {
  app.get('/account', { preHandler: app.requireSession }, async (request) => ({ userId: request.requireUserId(), sessionId: request.auth.sessionId }))
  app.post<{ Querystring: { user: string } }>('/login', async (request, reply) => {
    await reply.createSession(request.query.user)
    return { ok: true }
  })
  app.post('/logout', async (_request, reply) => {
    await reply.destroySession()
    return { ok: true }
  })
}

/** A request with only this Cookie header; the route's status and what it set. */
async function replay (app: FastifyInstance, cookie: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return await app.inject({ url: '/account', headers: { ...headers, cookie } })
}

t.test('from @fastify/secure-session', async (t) => {
  /** The app before the migration: only the old plugin, its sign-in storing the user id. */
  async function before (key = SESSION_KEY): Promise<FastifyInstance> {
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(fastifySecureSession, { key, cookie: SECURE_COOKIE })
    app.post<{ Querystring: { user: string, numeric?: string } }>('/login', async (request) => {
      old(request).set('userId', request.query.numeric === undefined ? request.query.user : Number(request.query.user))
      return { ok: true }
    })
    app.post('/cart', async (request) => { old(request).set('cart', ['apple']); return { ok: true } })
    app.get('/whoami', async (request) => ({ userId: old(request).get('userId') ?? null }))
    return app
  }
  async function bridged (): Promise<FastifyInstance> {
    const app = Fastify()
    t.teardown(() => app.close())
    await loadRecipe('docs/migration.md', 'secure-session-bridge', { app })
    routes(app)
    return app
  }
  async function signedInBefore (user: string, query = ''): Promise<Browser> {
    const browser = new Browser()
    const app = await before()
    t.equal((await browser.send(app, 'POST', `/login?user=${user}${query}`)).statusCode, 200)
    t.ok(browser.jar.has('session'), 'the old plugin set its cookie')
    t.same((await browser.send(app, 'GET', '/whoami')).json(), { userId: query === '' ? user : Number(user) }, 'the old app reads it')
    return browser
  }

  t.test('an old session becomes one of ours on its first request, and the old cookie is cleared', async (t) => {
    const browser = await signedInBefore('alice')
    const app = await bridged()
    const first = await browser.send(app, 'GET', '/account')
    t.equal(first.statusCode, 200, 'the route of that request already sees the user')
    t.equal(first.json().userId, 'alice')
    const ours = sessionCookie(first.headers)
    t.ok(ours !== undefined && ours.value !== '', 'our cookie is set')
    t.notOk(ours?.attributes.some((a) => a.startsWith('Max-Age=')), 'a browser-session cookie, as the old one was')
    t.ok(clears(first, 'session'), 'the old cookie is cleared in the same response')
    t.same([...browser.jar.keys()], [OUR_COOKIE])

    const next = await browser.send(app, 'GET', '/account')
    t.same(next.json(), first.json(), 'our cookie alone: the same user and session')
    t.equal(next.headers['set-cookie'], undefined, 'nothing more to set')
  })

  t.test('a numeric user id in the old session is the same user, as a string', async (t) => {
    const browser = await signedInBefore('42', '&numeric=1')
    const res = await browser.send(await bridged(), 'GET', '/account')
    t.equal(res.json().userId, '42')
  })

  t.test('forged, tampered, other-key and expired old cookies give no session', async (t) => {
    const app = await bridged()
    const good = (await signedInBefore('alice')).copy('session')
    const [cipher = '', nonce = ''] = decodeURIComponent(good.slice('session='.length)).split(';')
    const flipped = `${cipher.slice(0, 10)}${cipher[10] === 'A' ? 'B' : 'A'}${cipher.slice(11)}`
    const otherKey = new Browser()
    await otherKey.send(await before(randomBytes(32)), 'POST', '/login?user=alice')
    const cases = {
      garbage: 'session=garbage',
      tampered: `session=${encodeURIComponent(`${flipped};${nonce}`)}`,
      'made with another key': otherKey.copy('session'),
      empty: 'session='
    }
    for (const [what, cookie] of Object.entries(cases)) {
      const res = await replay(app, cookie)
      t.equal(res.statusCode, 401, what)
      t.equal(res.headers['set-cookie'], undefined, `${what}: no cookie set or cleared`)
    }
    // The old plugin's expiry (one day, from the session's last write) is its own check.
    const realNow = Date.now
    t.teardown(() => { Date.now = realNow })
    Date.now = () => realNow() + 86402 * 1000
    t.equal((await replay(app, good)).statusCode, 401, 'past the old expiry')
    Date.now = realNow
    t.equal((await replay(app, good)).statusCode, 200, 'control: the same cookie within its expiry')
  })

  t.test('a request with both keeps ours and clears the old one, which cannot bring a session back', async (t) => {
    const browser = await signedInBefore('alice')
    const app = await bridged()
    const bob = new Browser()
    await bob.send(app, 'POST', '/login?user=bob')
    browser.jar.set(OUR_COOKIE, bob.jar.get(OUR_COOKIE) ?? '')
    const res = await browser.send(app, 'GET', '/account')
    t.equal(res.json().userId, 'bob', 'ours wins')
    t.equal(sessionCookie(res.headers), undefined, 'ours is not replaced')
    t.ok(clears(res, 'session'), 'the old cookie is cleared')
    await browser.send(app, 'POST', '/logout')
    t.equal(browser.jar.size, 0)
    t.equal((await browser.send(app, 'GET', '/account')).statusCode, 401, 'signed out')
  })

  t.test('a sign-out through ours stays a sign-out; a copy of the old cookie taken before can sign in again until the old expiry, as documented', async (t) => {
    const browser = await signedInBefore('alice')
    const stolen = browser.copy('session')
    const app = await bridged()
    const bridgedId: string = (await browser.send(app, 'GET', '/account')).json().sessionId
    const ourCopy = browser.copy(OUR_COOKIE)
    const out = await browser.send(app, 'POST', '/logout')
    t.ok(clears(out, OUR_COOKIE))
    t.equal(browser.jar.size, 0, 'the browser holds no cookie of either plugin')
    t.equal((await browser.send(app, 'GET', '/account')).statusCode, 401, 'signed out')
    t.equal((await replay(app, ourCopy)).statusCode, 401, 'a copy of our cookie is revoked')
    // The limit docs/migration.md states: nothing on the server marks an old session as used.
    const again = await replay(app, stolen)
    t.equal(again.statusCode, 200)
    t.equal(again.json().userId, 'alice', 'the copy of the old cookie signs in again')
    t.not(again.json().sessionId, bridgedId, 'as a new session')
    t.ok(sessionCookie(again.headers) !== undefined && clears(again, 'session'), 'bridged again: our cookie, the old one cleared')
  })

  t.test('an old session without a user id is left alone', async (t) => {
    const browser = new Browser()
    await browser.send(await before(), 'POST', '/cart')
    t.ok(browser.jar.has('session'))
    const res = await browser.send(await bridged(), 'GET', '/account')
    t.equal(res.statusCode, 401)
    t.equal(res.headers['set-cookie'], undefined, 'neither set nor cleared')
  })
})

t.test('from @fastify/session', async (t) => {
  /** A store in this process, shared by the old app and the bridged one as Redis would be; destroy may fail. */
  function sharedStore (): Store & { failing: boolean, has: (id: string) => Promise<boolean> } {
    const memory = new fastifySession.MemoryStore()
    const store = {
      failing: false,
      get: memory.get.bind(memory),
      set: memory.set.bind(memory),
      destroy: (id: string, done: (err?: unknown) => void) => { if (store.failing) done(new Error('store down')); else memory.destroy(id, done) },
      has: async (id: string) => await new Promise<boolean>((resolve) => { memory.get(id, (_err, s) => { resolve(s != null) }) })
    }
    return store
  }
  const options = (store: Store, secret = SESSION_SECRET): Record<string, unknown> => ({ secret, store, cookieName: 'sessionId', cookie: { ...STORE_COOKIE } })

  /** The app before the migration: only the old plugin, with its defaults (saveUninitialized, rolling). */
  async function before (store: Store, secret?: string): Promise<FastifyInstance> {
    const app = Fastify({ trustProxy: true })
    t.teardown(() => app.close())
    await app.register(fastifyCookie)
    await app.register(fastifySession, options(store, secret))
    app.post<{ Querystring: { user: string } }>('/login', async (request) => {
      await old(request).regenerate()
      old(request).set('userId', request.query.user)
      return { ok: true }
    })
    app.get('/whoami', async (request) => ({ userId: old(request).get('userId') ?? null }))
    return app
  }
  async function bridged (store: Store): Promise<FastifyInstance> {
    const app = Fastify({ trustProxy: true })
    t.teardown(() => app.close())
    await loadRecipe('docs/migration.md', 'session-bridge', { app, sessionStore: store })
    routes(app)
    return app
  }
  async function signedInBefore (store: Store, user: string): Promise<Browser & { oldId: string }> {
    const browser = new Browser(HTTPS)
    const app = await before(store)
    t.equal((await browser.send(app, 'POST', `/login?user=${user}`)).statusCode, 200)
    t.same((await browser.send(app, 'GET', '/whoami')).json(), { userId: user }, 'the old app reads its cookie')
    const signed = decodeURIComponent(browser.jar.get('sessionId') ?? '')
    return Object.assign(browser, { oldId: signed.slice(0, signed.lastIndexOf('.')) })
  }

  t.test('an old session becomes one of ours on its first request; the old one is ended in the store and its cookie cleared', async (t) => {
    const store = sharedStore()
    const browser = await signedInBefore(store, 'alice')
    t.ok(await store.has(browser.oldId))
    const app = await bridged(store)
    const first = await browser.send(app, 'GET', '/account')
    t.equal(first.statusCode, 200, 'the route of that request already sees the user')
    t.equal(first.json().userId, 'alice')
    t.ok(sessionCookie(first.headers)?.attributes.includes('Max-Age=604800'), 'our cookie, for the old maxAge of 7 days')
    t.ok(clears(first, 'sessionId'), 'the old cookie is cleared in the same response')
    t.notOk(await store.has(browser.oldId), 'the old session is gone from the store')
    t.same([...browser.jar.keys()], [OUR_COOKIE])

    const next = await browser.send(app, 'GET', '/account')
    t.same(next.json(), first.json(), 'our cookie alone: the same user and session')
    t.equal(next.headers['set-cookie'], undefined, 'nothing more to set: no new empty old session either')
  })

  t.test('forged, tampered, other-secret, unknown and expired old cookies give no session', async (t) => {
    const store = sharedStore()
    const app = await bridged(store)
    const good = (await signedInBefore(store, 'alice')).copy('sessionId')
    const otherSecret = new Browser(HTTPS)
    await otherSecret.send(await before(store, randomBytes(32).toString('hex')), 'POST', '/login?user=alice')
    const cases = {
      garbage: 'sessionId=garbage',
      tampered: `${good.slice(0, 15)}${good[15] === 'a' ? 'b' : 'a'}${good.slice(16)}`,
      'signed with another secret, for a session in the store': otherSecret.copy('sessionId'),
      'signed with the secret, for a session the store does not have': `sessionId=${encodeURIComponent(new Signer(SESSION_SECRET).sign('no-such-session'))}`
    }
    for (const [what, cookie] of Object.entries(cases)) {
      const res = await replay(app, cookie, HTTPS)
      t.equal(res.statusCode, 401, what)
      t.equal(sessionCookie(res.headers), undefined, `${what}: no cookie of ours`)
    }
    // The old plugin's expiry (maxAge after the session's last save) is its own check.
    const other = await signedInBefore(store, 'alice')
    t.ok(await store.has(other.oldId))
    const realNow = Date.now
    t.teardown(() => { Date.now = realNow })
    Date.now = () => realNow() + STORE_COOKIE.maxAge + 1000
    const expired = await replay(app, other.copy('sessionId'), HTTPS)
    Date.now = realNow
    t.equal(expired.statusCode, 401, 'past the old maxAge')
    t.equal(sessionCookie(expired.headers), undefined)
    // A genuine cookie (which the bridge then uses up) is what the cases above were not.
    t.equal((await replay(app, good, HTTPS)).statusCode, 200, 'control: the genuine cookie')
  })

  t.test('a request with both keeps ours and ends the old one, which cannot bring a session back', async (t) => {
    const store = sharedStore()
    const browser = await signedInBefore(store, 'alice')
    const app = await bridged(store)
    const bob = new Browser(HTTPS)
    await bob.send(app, 'POST', '/login?user=bob')
    browser.jar.set(OUR_COOKIE, bob.jar.get(OUR_COOKIE) ?? '')
    const stolen = browser.copy('sessionId')
    const res = await browser.send(app, 'GET', '/account')
    t.equal(res.json().userId, 'bob', 'ours wins')
    t.equal(sessionCookie(res.headers), undefined, 'ours is not replaced')
    t.ok(clears(res, 'sessionId'), 'the old cookie is cleared')
    t.notOk(await store.has(browser.oldId), 'and the old session ended')
    await browser.send(app, 'POST', '/logout')
    t.equal((await browser.send(app, 'GET', '/account')).statusCode, 401, 'signed out')
    t.equal((await replay(app, stolen, HTTPS)).statusCode, 401, 'a copy of the old cookie is nothing now')
  })

  t.test('a sign-out through ours stays a sign-out, and a copy of the old cookie taken before is honoured once only', async (t) => {
    const store = sharedStore()
    const browser = await signedInBefore(store, 'alice')
    const stolen = browser.copy('sessionId')
    const app = await bridged(store)
    await browser.send(app, 'GET', '/account')
    const ourCopy = browser.copy(OUR_COOKIE)
    const out = await browser.send(app, 'POST', '/logout')
    t.ok(clears(out, OUR_COOKIE))
    t.equal(browser.jar.size, 0, 'the browser holds no cookie of either plugin')
    t.equal((await browser.send(app, 'GET', '/account')).statusCode, 401, 'signed out')
    t.equal((await replay(app, ourCopy, HTTPS)).statusCode, 401, 'a copy of our cookie is revoked')
    const again = await replay(app, stolen, HTTPS)
    t.equal(again.statusCode, 401, 'the copy of the old cookie names a session the store no longer has')
    t.equal(sessionCookie(again.headers), undefined)
  })

  t.test('when the store cannot end the old session, the request fails and the old session stays for a later one', async (t) => {
    const store = sharedStore()
    const browser = await signedInBefore(store, 'alice')
    const app = await bridged(store)
    store.failing = true
    const failed = await browser.send(app, 'GET', '/account')
    t.equal(failed.statusCode, 500)
    t.equal(sessionCookie(failed.headers), undefined, 'no session of ours')
    t.ok(browser.jar.has('sessionId'), 'the old cookie is kept')
    t.ok(await store.has(browser.oldId), 'and so is the old session')
    store.failing = false
    const later = await browser.send(app, 'GET', '/account')
    t.equal(later.json().userId, 'alice')
    t.same([...browser.jar.keys()], [OUR_COOKIE])
  })
})

t.test('the flash cookie', async (t) => {
  async function build (): Promise<FastifyInstance> {
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(sessions, { secret: SECRET })
    const { setFlash, takeFlash } = await loadRecipe('docs/migration.md', 'flash-cookie', { app }) as {
      setFlash: (reply: FastifyReply, message: string) => void
      takeFlash: (request: FastifyRequest, reply: FastifyReply) => string | null
    }
    app.post('/save', async (_request, reply) => { setFlash(reply, 'saved'); return await reply.redirect('/', 303) })
    app.get('/', async (request, reply) => ({ flash: takeFlash(request, reply) }))
    return app
  }

  t.test('a message set before a redirect is shown once on the next page', async (t) => {
    const secret = randomBytes(32).toString('hex')
    process.env.FLASH_SECRET = secret
    t.teardown(() => { delete process.env.FLASH_SECRET })
    const app = await build()
    const browser = new Browser()
    const saved = await browser.send(app, 'POST', '/save')
    t.equal(saved.statusCode, 303)
    const set = setCookies(saved).get('flash')
    t.same(new Signer(secret).unsign(decodeURIComponent(set?.value ?? '')), { valid: true, renew: false, value: 'saved' }, 'signed with its secret')
    t.ok(set?.attributes.includes('Max-Age=60'), 'for one minute')
    const shown = await browser.send(app, 'GET', '/')
    t.same(shown.json(), { flash: 'saved' })
    t.ok(clears(shown, 'flash'), 'and cleared')
    t.same((await browser.send(app, 'GET', '/')).json(), { flash: null }, 'once')
    for (const forged of ['flash=hacked', 'flash=hacked.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', `flash=${set?.value.replace(/^saved/, 'other') ?? ''}`]) {
      t.same((await app.inject({ url: '/', headers: { cookie: forged } })).json(), { flash: null }, forged)
    }
  })

  t.test('without its secret the recipe refuses to start', async (t) => {
    delete process.env.FLASH_SECRET
    await t.rejects(build(), { message: 'FLASH_SECRET: 32 characters or more' })
    process.env.FLASH_SECRET = 'too short'
    t.teardown(() => { delete process.env.FLASH_SECRET })
    await t.rejects(build(), { message: 'FLASH_SECRET: 32 characters or more' })
  })
})
