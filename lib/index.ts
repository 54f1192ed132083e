// The plugin's wiring: options, decorators and hooks. No crypto here (see token.ts);
// the request side is request.ts, the reply side reply.ts, revocations revocation/.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import type * as Contract from '../types/index.js'
import type { Context } from './context.js'
import { loadSerializer } from './cookie.js'
import { diagnosticsChannelName } from './diagnostics.js'
import { InvalidOptionError, UnauthorizedError } from './errors.js'
import { optionsSchema } from './option-check.js'
import { resolvePluginOptions } from './options.js'
import { makeReplySide } from './reply.js'
import { makeOnSend } from './renewal.js'
import { makeRequestSide } from './request.js'
import { makeRecentLoginGuard } from './recent-login.js'
import { makeRevokers } from './revocation/revoke.js'
import { Revocations } from './revocation/revocations.js'
import { kState, type SessionRequest } from './state.js'
import { holdTickShapes } from './ticks.js'
import { makeVerifier } from './verifier.js'

// As early as the app imports us: see ticks.ts.
holdTickShapes()

function checkSessionName (fastify: FastifyInstance, sessionName: string): void {
  if (sessionName === 'requireUserId') {
    throw new InvalidOptionError('sessionName "requireUserId" is the name of the request method this plugin adds; choose another, e.g. sessionName: \'auth\'')
  }
  if (fastify.hasRequestDecorator(sessionName)) {
    throw new InvalidOptionError(`sessionName "${sessionName}" is already a request property (Fastify's own or another plugin's: @fastify/secure-session and @fastify/session fill request.session); choose another, e.g. sessionName: 'auth'`)
  }
}

const plugin: FastifyPluginAsync<Contract.FastifyDbbasicSessionsOptions> = async function (fastify, options) {
  const config = resolvePluginOptions(options)
  const { sessionName, cookieName } = config
  checkSessionName(fastify, sessionName)
  if (!config.cookie.httpOnly) {
    fastify.log.warn(`fastify-dbbasic-sessions: cookie.httpOnly is false, so page scripts can read the session cookie "${cookieName}": a script injected into any page of the site could take the session. Keep it true unless a script must read it`)
  }
  await loadSerializer(fastify)
  const revocations = config.revocation === null ? null : new Revocations(config.revocation, config.policy, config.now, fastify.log)
  const ctx: Context = {
    config,
    verify: makeVerifier(config.keys, config.policy.clockTolerance, config.cacheSize),
    revocations,
    log: fastify.log,
    resigns: (keyIndex) => config.resign[keyIndex]
  }
  if (revocations !== null) {
    fastify.addHook('onClose', async () => { await revocations.stop() })
    await revocations.start(fastify.initialConfig.pluginTimeout as number)
  }
  const request = makeRequestSide(ctx)
  const reply = makeReplySide(ctx)

  fastify.decorateRequest(sessionName, null)
  fastify.decorateReply(kState, null)
  fastify.addHook('onRequest', request.onRequest)
  fastify.addHook('onSend', makeOnSend(ctx))
  fastify.decorateReply('createSession', reply.createSession)
  fastify.decorateReply('destroySession', reply.destroySession)
  fastify.decorateReply('revokeOtherSessions', reply.revokeOtherSessions)
  fastify.decorateReply('refreshLogin', reply.refreshLogin)

  const userIdOf = (req: import('fastify').FastifyRequest): string | null => (req as SessionRequest)[sessionName]?.userId ?? null
  fastify.decorateRequest('requireUserId', function requireUserId (this: import('fastify').FastifyRequest): string {
    const userId = userIdOf(this)
    if (userId === null) throw new UnauthorizedError()
    return userId
  })
  fastify.decorate('requireSession', async function requireSession (req: import('fastify').FastifyRequest) {
    if (userIdOf(req) === null) throw new UnauthorizedError()
  })
  fastify.decorate('requireRecentLogin', makeRecentLoginGuard(ctx))
  fastify.decorate('readSession', request.readSession)
  const revokers = makeRevokers(ctx)
  fastify.decorate('revokeAllSessions', revokers.revokeAllSessions)
  fastify.decorate('revokeSessionById', revokers.revokeSessionById)
  fastify.decorate('sessionSecurityScheme', Object.freeze({ type: 'apiKey' as const, in: 'cookie' as const, name: cookieName }))
}

export const fastifyDbbasicSessions: typeof Contract.fastifyDbbasicSessions = fp(plugin, {
  fastify: '5.x',
  name: 'fastify-dbbasic-sessions'
})
export default fastifyDbbasicSessions
export { createSession, getSession, destroySession } from './standalone.js'
export { memoryStore } from './revocation/memory.js'
export { safeRedirect } from './redirect.js'
export { CrossOriginError, InvalidOptionError, InvalidUserIdError, NoSecretError, ReauthenticationRequiredError, ReplySentError, RevocationFailedError, TooLargeError, UnauthorizedError } from './errors.js'
export { optionsSchema, diagnosticsChannelName }
export { postgresStore } from './revocation/postgres.js'
export { redisStore } from './revocation/redis.js'
