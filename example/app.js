// @ts-check
// The demo app: accounts in a database (embedded SQLite, or PostgreSQL), sign in and
// register, a page showing the session's times and where the account is signed in,
// sign out here, on one other device or everywhere, and a JSON endpoint guarded by
// requireSession. server.js starts it; the tests build it the same way.
import Fastify from 'fastify'
import formbody from '@fastify/formbody'
import sessions from 'fastify-dbbasic-sessions'
import { setUpLimits } from './limits.js'
import { errorPage } from './pages.js'
import { accountRoutes } from './routes.js'
import { NOT_HERE } from './sign-out.js'
import { DEFAULTS } from './settings.js'
import { connectStorage } from './storage.js'

const HTML = 'text/html; charset=utf-8'

/**
 * @typedef {object} DemoOptions
 * @property {import('fastify-dbbasic-sessions').Secret} secret
 * @property {string} dataDir where the SQLite file lives (created if missing); unused with databaseUrl
 * @property {string} [databaseUrl] postgres:// : accounts, devices and revocations in PostgreSQL
 * @property {string} [redisUrl] redis:// : sign-in counts shared in Redis
 * @property {boolean | number | string} [trustProxy] Fastify's trustProxy: the proxies' addresses or a hop count
 * @property {number} [ttl] idle time in seconds
 * @property {number} [absoluteTtl] lifetime from sign-in in seconds; at least ttl
 * @property {number} [revocationStaleness] seconds a sign-out takes to reach every process
 * @property {number} [rateLimitMax] sign-in and register attempts per minute per address
 * @property {number} [accountRateLimitMax] wrong passwords per minute per account
 * @property {number} [busyWaitMs] how long a call waits for a locked SQLite file
 * @property {boolean} [secure] the cookie's Secure flag
 * @property {boolean | object} [logger]
 * @property {() => number} [now] milliseconds; the plugin's clock and the app's
 */

/** @param {DemoOptions} options */
export async function buildDemo (options) {
  const { secret, dataDir, databaseUrl, redisUrl, trustProxy = false, ttl = DEFAULTS.ttl, logger = false, now = Date.now } = options
  const settings = {
    ttl,
    absoluteTtl: options.absoluteTtl ?? Math.max(DEFAULTS.absoluteTtl, ttl),
    staleness: options.revocationStaleness ?? DEFAULTS.revocationStaleness,
    now
  }
  /** @type {import('fastify').FastifyHttpOptions<import('node:http').Server>} */
  // Fastify takes a hop count too, which its types leave out.
  const serverOptions = { logger, bodyLimit: 16 * 1024, trustProxy: /** @type {boolean | string} */ (trustProxy) }
  const app = Fastify(serverOptions)
  try {
    const { database, redis } = await connectStorage(app, { dataDir, databaseUrl, redisUrl, busyWaitMs: options.busyWaitMs ?? 2000 })
    setUpPages(app)
    // Only form posts are read: a JSON or any other body is refused before a handler runs.
    app.removeAllContentTypeParsers()
    await app.register(formbody)
    const limits = await setUpLimits(app, {
      redis,
      rateLimitMax: options.rateLimitMax ?? DEFAULTS.rateLimitMax,
      accountRateLimitMax: options.accountRateLimitMax ?? DEFAULTS.accountRateLimitMax
    })
    await app.register(sessions, {
      secret,
      ttl,
      absoluteTtl: settings.absoluteTtl,
      rolling: true,
      revocation: { store: database.revocations, staleness: settings.staleness },
      cookie: { secure: options.secure ?? true },
      now
    })
    await accountRoutes(app, database, limits, settings)
    await app.ready()
    return { app, database }
  } catch (err) {
    await app.close()
    throw err
  }
}

/** Headers on every page, and the pages for what is not found or went wrong. @param {import('fastify').FastifyInstance} app */
function setUpPages (app) {
  // First of all hooks, so that pages refused by the plugins' own hooks have them too.
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers({
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      'referrer-policy': 'same-origin',
      'x-content-type-options': 'nosniff'
    })
  })

  app.setNotFoundHandler(async (_request, reply) =>
    reply.code(404).type(HTML).send(errorPage('Not found', 'There is no such page.')))

  app.setErrorHandler(async (/** @type {import('fastify').FastifyError} */ error, request, reply) => {
    const status = error.statusCode ?? 500
    if (status === 503) {
      request.log.warn({ err: error }, 'demo: unavailable')
      reply.code(503).header('retry-after', '5')
      if (request.routeOptions.url === '/me') return reply.send({ statusCode: 503, error: 'Service Unavailable', message: 'The database is not answering; try again shortly.' })
      const message = error.code === 'FST_DBBASIC_SESSIONS_REVOCATION_FAILED'
        ? NOT_HERE
        : 'The database is not answering just now. Nothing was changed; please try again in a moment.'
      return reply.type(HTML).send(errorPage('Service unavailable', message))
    }
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
}
