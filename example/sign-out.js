// @ts-check
// Signing out, through the plugin's revocation: here (destroySession ends this
// session on the server too), on one other device (revokeSession) and everywhere
// (revokeSessions). A sign-out that cannot be recorded is never shown as done: the
// page says so and this browser stays signed in.
import { ACCOUNT_ID, DatabaseUnavailable } from './db.js'
import { errorPage } from './pages.js'

const HTML = 'text/html; charset=utf-8'
const SESSION_ID = /^[A-Za-z0-9_-]{16,64}$/
const REVOCATION_FAILED = 'FST_DBBASIC_SESSIONS_REVOCATION_FAILED'
export const NOT_HERE = 'You were not signed out: the sign-out could not be recorded on the server just now. This browser is still signed in; please try again in a moment.'

/** @typedef {(request: import('fastify').FastifyRequest, message?: { notice?: string, error?: string }) => Promise<string | undefined>} Home */

/** @param {unknown} err */
const unrecorded = (err) => /** @type {{ code?: string }} */ (err).code === REVOCATION_FAILED

/**
 * @param {import('fastify').FastifyInstance} app
 * @param {import('./db.js').DemoDatabase} database
 * @param {Home} home the signed-in page
 */
export async function signOutRoutes (app, database, home) {
  /** The signed-in page with what went wrong, 503: this browser is still signed in. */
  async function notDone (/** @type {import('fastify').FastifyRequest} */ request, /** @type {import('fastify').FastifyReply} */ reply, /** @type {string} */ error) {
    const page = await home(request, { error }).catch(() => undefined)
    return reply.code(503).header('retry-after', '5').type(HTML).send(page ?? errorPage('Service unavailable', error))
  }

  /** @param {import('fastify').FastifyRequest} request */
  const accountId = (request) => {
    const { userId } = request.session
    return userId !== null && ACCOUNT_ID.test(userId) ? Number(userId) : undefined
  }

  app.post('/logout', async (request, reply) => {
    const id = accountId(request)
    const { sessionId } = request.session
    // Off the list first: a database that cannot do that cannot store the sign-out either.
    if (id !== undefined && sessionId !== null) {
      try {
        await database.removeDevice(id, sessionId)
      } catch (err) {
        if (!(err instanceof DatabaseUnavailable)) throw err
        return notDone(request, reply, NOT_HERE)
      }
    }
    return reply.destroySession().redirect('/', 303)
  })

  app.post('/logout-everywhere', async (request, reply) => {
    const { userId } = request.session
    if (userId === null) return reply.destroySession().redirect('/', 303)
    try {
      await app.revokeSessions(userId)
    } catch (err) {
      if (!unrecorded(err)) throw err
      return notDone(request, reply, 'The other browsers were not signed out: the sign-out could not be recorded just now. You are still signed in here; please try again in a moment.')
    }
    const id = accountId(request)
    if (id !== undefined) await database.removeDevice(id, null).catch((err) => request.log.warn({ err }, 'demo: the devices list was not cleared'))
    request.log.info({ userId }, 'demo: signed out everywhere')
    return reply.destroySession().redirect('/?signed-out=everywhere', 303)
  })

  app.post('/devices/sign-out', async (request, reply) => {
    const id = accountId(request)
    const target = /** @type {Record<string, unknown>} */ (request.body ?? {}).session
    if (id === undefined) return reply.redirect('/', 303)
    if (typeof target !== 'string' || !SESSION_ID.test(target) || target === request.session.sessionId || !(await database.hasDevice(id, target))) {
      const error = 'That is not another of your sign-ins, or it has ended already.'
      return reply.code(400).type(HTML).send(await home(request, { error }) ?? errorPage('Bad request', error))
    }
    try {
      await app.revokeSession(target)
    } catch (err) {
      if (!unrecorded(err)) throw err
      return notDone(request, reply, 'That browser was not signed out: the sign-out could not be recorded just now. Please try again in a moment.')
    }
    await database.removeDevice(id, target).catch((err) => {
      if (!(err instanceof DatabaseUnavailable)) throw err
      request.log.warn({ err }, 'demo: the signed-out device stays on the list')
    })
    return reply.redirect('/?signed-out=device', 303)
  })
}
