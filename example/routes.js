// @ts-check
// The demo's pages: home (signed in or out), /about and /me. Signing in and
// registering are in sign-in.js, signing out in sign-out.js.
import { ACCOUNT_ID, DatabaseUnavailable } from './db.js'
import { aboutPage, signedInPage, signedOutPage } from './pages.js'
import { signInRoutes } from './sign-in.js'
import { signOutRoutes } from './sign-out.js'

const HTML = 'text/html; charset=utf-8'
const NAMES_KEPT = 10_000

/**
 * @typedef {object} Settings
 * @property {number} ttl
 * @property {number} absoluteTtl
 * @property {number} staleness
 * @property {() => number} now
 */

/**
 * The account a session names. Names never change, so the names already read are
 * kept: signed-in people keep browsing while the database is down.
 * @param {import('./db.js').DemoDatabase} database
 */
function accounts (database) {
  /** @type {Map<number, string>} */
  const names = new Map()
  /** @param {string | null} userId @returns {Promise<{ id: number, name: string } | undefined>} */
  return async (userId) => {
    if (userId === null || !ACCOUNT_ID.test(userId)) return undefined
    const id = Number(userId)
    try {
      const user = await database.userById(id)
      if (user !== undefined && !names.has(id)) {
        if (names.size >= NAMES_KEPT) names.delete(/** @type {number} */ (names.keys().next().value))
        names.set(id, user.name)
      }
      return user
    } catch (err) {
      const name = names.get(id)
      if (err instanceof DatabaseUnavailable && name !== undefined) return { id, name }
      throw err
    }
  }
}

/**
 * @param {import('fastify').FastifyInstance} app
 * @param {import('./db.js').DemoDatabase} database
 * @param {Awaited<ReturnType<typeof import('./limits.js').setUpLimits>>} limits
 * @param {Settings} settings
 */
export async function accountRoutes (app, database, limits, settings) {
  const { ttl, absoluteTtl, staleness, now } = settings
  const seconds = () => Math.floor(now() / 1000)
  const accountOf = accounts(database)

  /** The signed-in page, or undefined when the request has no session of a known account. */
  async function home (/** @type {import('fastify').FastifyRequest} */ request, { notice = '', error = '' } = {}) {
    const { userId, issuedAt, expiresAt, sessionId } = request.session
    const user = await accountOf(userId)
    if (user === undefined || userId === null || issuedAt === null || expiresAt === null) return undefined
    const devices = await database.devicesOf(user.id, seconds() - absoluteTtl).catch((err) => {
      if (err instanceof DatabaseUnavailable) return null
      throw err
    })
    return signedInPage({ name: user.name, userId, issuedAt, expiresAt, absoluteEnd: issuedAt + absoluteTtl, ttl, staleness, devices, sessionId, notice, error })
  }

  app.get('/', async (request, reply) => {
    reply.type(HTML)
    const done = /** @type {Record<string, unknown>} */ (request.query)['signed-out']
    const notices = { device: 'That browser is signed out.', others: `Every other browser signed in as you is signed out, on every server within ${staleness} s; this one stays signed in.` }
    const page = await home(request, { notice: done === 'device' || done === 'others' ? notices[done] : '' })
    if (page !== undefined) return page
    return signedOutPage({ notice: done === 'everywhere' ? `Signed out everywhere: every browser signed in to that account is signed out, on every server within ${staleness} s.` : '' })
  })

  await signInRoutes(app, database, limits, settings)
  await signOutRoutes(app, database, home)

  // Public caching (the fleet test puts nginx's proxy_cache in front of it).
  app.get('/about', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=60').type(HTML)
    return aboutPage()
  })

  app.get('/me', { preHandler: app.requireSession }, async (request, reply) => {
    const userId = /** @type {string} */ (request.session.userId)
    const user = await accountOf(userId)
    // A session for an account that does not exist (any more) is no session: requireSession's answer.
    if (user === undefined) return reply.code(401).send({ statusCode: 401, code: 'FST_DBBASIC_SESSIONS_UNAUTHORIZED', error: 'Unauthorized', message: 'No valid session' })
    return { userId, name: user.name }
  })
}
