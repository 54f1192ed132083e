// @ts-check
// Registering and signing in. Each sign-in's session id is recorded with its time and
// browser, for "where you are signed in".
import { browserOf } from './db.js'
import { readCredentials } from './input.js'
import { nameKey } from './names.js'
import { errorPage, signedOutPage } from './pages.js'
import { dummyHash, hashPassword, verifyPassword } from './passwords.js'

const HTML = 'text/html; charset=utf-8'

/**
 * @param {import('fastify').FastifyInstance} app
 * @param {import('./db.js').DemoDatabase} database
 * @param {Awaited<ReturnType<typeof import('./limits.js').setUpLimits>>} limits
 * @param {import('./routes.js').Settings} settings
 */
export async function signInRoutes (app, database, limits, { absoluteTtl, now }) {
  const seconds = () => Math.floor(now() / 1000)
  const unknownUserHash = await dummyHash()

  /** Signs in as this account, and records the sign-in for "where you are signed in". */
  async function signIn (/** @type {import('fastify').FastifyRequest} */ request, /** @type {import('fastify').FastifyReply} */ reply, /** @type {number} */ id) {
    // A session this browser carried is ended first; if that cannot be stored, nothing
    // changes and the error is the 503 page.
    const { sessionId, issuedAt } = await reply.createSession(id)
    const device = { sessionId, signedInAt: issuedAt, browser: browserOf(request.headers['user-agent']) }
    // The session is made; a database that fails just now only leaves it off the list.
    await database.addDevice(id, device, seconds() - absoluteTtl).catch((err) => request.log.warn({ err }, 'demo: the sign-in was not added to the devices list'))
    return reply.redirect('/', 303)
  }

  app.post('/register', { config: limits.perAddress }, async (request, reply) => {
    const input = readCredentials(request.body, true)
    if ('error' in input) return reply.code(400).type(HTML).send(signedOutPage(input))
    const id = await database.addUser(input.name, nameKey(input.name), await hashPassword(input.password), seconds())
    if (id === null) {
      return reply.code(409).type(HTML).send(signedOutPage({
        error: `The name “${input.name}” is taken, or one that looks the same is. Sign in if it is yours, or register another name.`,
        name: input.name
      }))
    }
    return signIn(request, reply, id)
  })

  app.post('/login', { config: limits.perAddress }, async (request, reply) => {
    const input = readCredentials(request.body, false)
    if ('error' in input) return reply.code(400).type(HTML).send(signedOutPage(input))
    const wait = await limits.accountWait(request)
    if (wait > 0) {
      return reply.code(429).header('retry-after', String(wait)).type(HTML)
        .send(errorPage('Too many attempts', `Too many wrong passwords for this account: try again in ${wait} seconds.`))
    }
    const user = await database.userByKey(nameKey(input.name))
    // An unknown name costs the same scrypt as a wrong password.
    const matches = await verifyPassword(input.password, user?.password_hash ?? unknownUserHash)
    if (user === undefined || !matches) {
      await limits.wrongPassword(request)
      return reply.code(401).type(HTML).send(signedOutPage({ error: 'Wrong name or password.', name: input.name }))
    }
    return signIn(request, reply, user.id)
  })
}
