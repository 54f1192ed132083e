// @ts-check
// Signing out, through the plugin's revocation: here (destroySession ends this
// session on the server too), on one other device (revokeSessionById), on every other
// one (revokeOtherSessions) and everywhere (revokeAllSessions). A sign-out that cannot
// be recorded is never shown as done: the page says so and this browser stays signed in.
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

  /** Runs a sign-out; one that could not be stored is the 503 page, this browser still signed in. */
  async function recorded (/** @type {import('fastify').FastifyRequest} */ request, /** @type {import('fastify').FastifyReply} */ reply, /** @type {() => Promise<void>} */ signOut, /** @type {string} */ error) {
    try {
      await signOut()
      return true
    } catch (err) {
      if (!unrecorded(err)) throw err
      await notDone(request, reply, error)
      return false
    }
  }

  /** The device list follows the sign-outs, never leads them: a row goes once its session has ended. */
  async function forget (/** @type {import('fastify').FastifyRequest} */ request, /** @type {number | undefined} */ id, /** @type {string | null} */ sessionId, /** @type {string | null} */ keep = null) {
    if (id === undefined) return
    await database.removeDevice(id, sessionId, keep).catch((err) => {
      if (!(err instanceof DatabaseUnavailable)) throw err
      request.log.warn({ err }, 'demo: a signed-out session stays on the devices list')
    })
  }

  app.post('/logout', async (request, reply) => {
    const id = accountId(request)
    const { sessionId } = request.session
    if (!(await recorded(request, reply, async () => { await reply.destroySession() }, NOT_HERE))) return reply
    if (sessionId !== null) await forget(request, id, sessionId)
    return reply.redirect('/', 303)
  })

  app.post('/logout-others', async (request, reply) => {
    const id = accountId(request)
    const { sessionId } = request.session
    if (id === undefined) return reply.redirect('/', 303)
    const error = 'The other browsers were not signed out: the sign-out could not be recorded just now. Please try again in a moment.'
    if (!(await recorded(request, reply, async () => { await reply.revokeOtherSessions() }, error))) return reply
    await forget(request, id, null, sessionId)
    return reply.redirect('/?signed-out=others', 303)
  })

  app.post('/logout-everywhere', async (request, reply) => {
    const id = accountId(request)
    const { userId } = request.session
    const error = 'The other browsers were not signed out: the sign-out could not be recorded just now. You are still signed in here; please try again in a moment.'
    if (userId !== null && !(await recorded(request, reply, async () => { await app.revokeAllSessions(userId) }, error))) return reply
    if (!(await recorded(request, reply, async () => { await reply.destroySession() }, NOT_HERE))) return reply
    await forget(request, id, null)
    if (userId !== null) request.log.info({ userId }, 'demo: signed out everywhere')
    return reply.redirect(userId === null ? '/' : '/?signed-out=everywhere', 303)
  })

  app.post('/devices/sign-out', async (request, reply) => {
    const id = accountId(request)
    const target = /** @type {Record<string, unknown>} */ (request.body ?? {}).session
    if (id === undefined) return reply.redirect('/', 303)
    // Only a session on this account's own list, and not this one (that is "Sign out").
    if (typeof target !== 'string' || !SESSION_ID.test(target) || target === request.session.sessionId || !(await database.hasDevice(id, target))) {
      const error = 'That is not another of your sign-ins, or it has ended already.'
      return reply.code(400).type(HTML).send(await home(request, { error }) ?? errorPage('Bad request', error))
    }
    const error = 'That browser was not signed out: the sign-out could not be recorded just now. Please try again in a moment.'
    if (!(await recorded(request, reply, async () => { await app.revokeSessionById(target) }, error))) return reply
    await forget(request, id, target)
    return reply.redirect('/?signed-out=device', 303)
  })
}
