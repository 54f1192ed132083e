// @ts-check
// The demo app: accounts in SQLite, sign in and register, a page showing the
// session's times, sign out here or everywhere, and a JSON endpoint guarded by
// requireSession. server.js starts it; the tests build it the same way.
import { setTimeout as delay } from 'node:timers/promises'
import Fastify from 'fastify'
import formbody from '@fastify/formbody'
import rateLimit from '@fastify/rate-limit'
import sessions from 'fastify-dbbasic-sessions'
import { openDatabase } from './db.js'
import { readCredentials } from './input.js'
import { aboutPage, errorPage, signedInPage, signedOutPage } from './pages.js'
import { dummyHash, hashPassword, verifyPassword } from './passwords.js'
import { makeRevocation } from './revocation.js'
import { DEFAULTS } from './settings.js'

const HTML = 'text/html; charset=utf-8'
/** The longest a login waits for the clock to pass the account's cut-off. */
const MAX_CUTOFF_WAIT_MS = 2000

/**
 * @typedef {object} DemoOptions
 * @property {string | string[]} secret
 * @property {string} dataDir where the SQLite file lives (created if missing)
 * @property {number} [ttl] idle time in seconds
 * @property {number} [absoluteTtl] lifetime from sign-in in seconds; at least ttl
 * @property {number} [revocationCacheSeconds] how long a read cut-off is reused
 * @property {number} [rateLimitMax] sign-in and register attempts per minute per address
 * @property {boolean} [secure] the cookie's Secure flag
 * @property {boolean | object} [logger]
 * @property {() => number} [now] milliseconds; the plugin's clock and the app's
 * @property {(ms: number) => Promise<unknown>} [pause] how a login waits out a cut-off's second
 */

/** @param {DemoOptions} options */
export async function buildDemo (options) {
  const {
    secret,
    dataDir,
    ttl = DEFAULTS.ttl,
    absoluteTtl = Math.max(DEFAULTS.absoluteTtl, ttl),
    revocationCacheSeconds = DEFAULTS.revocationCacheSeconds,
    rateLimitMax = DEFAULTS.rateLimitMax,
    secure = true,
    logger = false,
    now = Date.now,
    pause = delay
  } = options
  const database = openDatabase(dataDir)
  const app = Fastify({ logger, bodyLimit: 16 * 1024 })
  app.addHook('onClose', async () => { database.close() })
  try {
    await setUp(app, database, { secret, ttl, absoluteTtl, revocationCacheSeconds, rateLimitMax, secure, now, pause })
  } catch (err) {
    await app.close()
    throw err
  }
  return { app, database }
}

/**
 * @param {import('fastify').FastifyInstance} app
 * @param {import('./db.js').DemoDatabase} database
 * @param {Required<Omit<DemoOptions, 'dataDir' | 'logger'>>} settings
 */
async function setUp (app, database, { secret, ttl, absoluteTtl, revocationCacheSeconds, rateLimitMax, secure, now, pause }) {
  const seconds = () => Math.floor(now() / 1000)
  const revocation = makeRevocation({
    cutoffOf: (id) => database.userById(id)?.sessions_valid_after,
    now,
    cacheSeconds: revocationCacheSeconds
  })
  const unknownUserHash = await dummyHash()

  // First of all hooks, so that pages refused by the plugins' own hooks have them too.
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers({
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      'referrer-policy': 'same-origin',
      'x-content-type-options': 'nosniff'
    })
  })

  // Only form posts are read: a JSON or any other body is refused before a handler runs.
  app.removeAllContentTypeParsers()
  await app.register(formbody)
  await app.register(rateLimit, { global: false })
  await app.register(sessions, {
    secret,
    ttl,
    absoluteTtl,
    rolling: true,
    validate: revocation.validate,
    cookie: { secure },
    now
  })

  app.setNotFoundHandler(async (_request, reply) =>
    reply.code(404).type(HTML).send(errorPage('Not found', 'There is no such page.')))

  app.setErrorHandler(async (/** @type {import('fastify').FastifyError} */ error, request, reply) => {
    const status = error.statusCode ?? 500
    if (status >= 500) {
      request.log.error(error)
      return reply.code(500).type(HTML).send(errorPage('Error', 'Something went wrong on the server.'))
    }
    // A JSON route answers errors in JSON, as the plugin makes them.
    if (request.routeOptions.url === '/me') return reply.send(error)
    if (status === 429) {
      return reply.code(429).type(HTML).send(errorPage('Too many attempts', `Too many attempts from your address: try again in ${reply.getHeader('retry-after') ?? 60} seconds.`))
    }
    if (error.code === 'FST_DBBASIC_SESSIONS_CROSS_ORIGIN') {
      return reply.code(403).type(HTML).send(errorPage('Refused', 'This form was sent from another site, so it was refused.'))
    }
    // Bodies that are not a form, too large, or malformed: the person's mistake.
    return reply.code(400).type(HTML).send(errorPage('Bad request', 'The form could not be read. Please use the forms on the demo page.'))
  })

  const limited = { rateLimit: { max: rateLimitMax, timeWindow: 60_000 } }

  app.get('/', async (request, reply) => {
    reply.type(HTML)
    const { userId, issuedAt, expiresAt } = request.session
    const user = userId === null ? undefined : database.userById(Number(userId))
    if (userId === null || issuedAt === null || expiresAt === null || user === undefined) {
      const query = /** @type {Record<string, unknown>} */ (request.query)
      const notice = query['signed-out'] === 'everywhere' ? 'Signed out everywhere: every browser signed in to that account is signed out at its next request.' : ''
      return signedOutPage({ notice })
    }
    return signedInPage({
      name: user.name,
      userId,
      issuedAt,
      expiresAt,
      absoluteEnd: issuedAt + absoluteTtl,
      ttl,
      revocationSeconds: revocationCacheSeconds
    })
  })

  app.post('/register', { config: limited }, async (request, reply) => {
    const input = readCredentials(request.body, true)
    if ('error' in input) return reply.code(400).type(HTML).send(signedOutPage(input))
    const id = database.addUser(input.name, await hashPassword(input.password), seconds())
    if (id === null) {
      return reply.code(409).type(HTML).send(signedOutPage({
        error: `The name “${input.name}” is taken. Sign in if it is yours, or register another name.`,
        name: input.name
      }))
    }
    reply.createSession(id)
    return reply.redirect('/', 303)
  })

  app.post('/login', { config: limited }, async (request, reply) => {
    const input = readCredentials(request.body, false)
    if ('error' in input) return reply.code(400).type(HTML).send(signedOutPage(input))
    const user = database.userByName(input.name)
    // An unknown name costs the same scrypt as a wrong password.
    const matches = await verifyPassword(input.password, user?.password_hash ?? unknownUserHash)
    if (user === undefined || !matches) {
      return reply.code(401).type(HTML).send(signedOutPage({ error: 'Wrong name or password.', name: input.name }))
    }
    revocation.remember(String(user.id), user.sessions_valid_after)
    // Token times are whole seconds and a session issued in the cut-off's second is
    // refused, so signing in again right after "sign out everywhere" waits for the
    // next second (at most one, unless clocks of two machines disagree).
    const wait = (user.sessions_valid_after + 1) * 1000 - now()
    if (wait > 0) await pause(Math.min(wait, MAX_CUTOFF_WAIT_MS))
    reply.createSession(user.id)
    return reply.redirect('/', 303)
  })

  app.post('/logout', async (_request, reply) => reply.destroySession().redirect('/', 303))

  app.post('/logout-everywhere', async (request, reply) => {
    const { userId } = request.session
    reply.destroySession()
    if (userId === null) return reply.redirect('/', 303)
    const cutoff = seconds()
    database.setSessionsValidAfter(Number(userId), cutoff)
    revocation.remember(userId, database.userById(Number(userId))?.sessions_valid_after)
    request.log.info({ userId, cutoff }, 'demo: signed out everywhere')
    return reply.redirect('/?signed-out=everywhere', 303)
  })

  // Public caching (the fleet test puts nginx's proxy_cache in front of it).
  app.get('/about', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=60').type(HTML)
    return aboutPage()
  })

  app.get('/me', { preHandler: app.requireSession }, async (request) => {
    const userId = /** @type {string} */ (request.session.userId)
    return { userId, name: database.userById(Number(userId))?.name }
  })
}
