// The plugin: decorators and the onRequest hook. No crypto here; see token.ts.
import fp from 'fastify-plugin'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type * as Contract from '../types/index.js'
import { loadSerializer, readCookies, serializeCookie, writeCookie } from './cookie.js'
import { UnauthorizedError } from './errors.js'
import { checkReplyOptions, clockSeconds, optionsSchema, resolvePluginOptions, type Config } from './options.js'
import { makeToken, normalizeUserId } from './standalone.js'
import { verifyToken, type Failure, type Verified } from './token.js'

type Reason = Failure | 'no cookie' | 'conflicting cookies'

// The valid session among the cookies of our name. Two valid ones for different
// users mean one was planted (say by a sibling subdomain): trust neither.
function pick (values: string[], config: Config): Verified | Reason {
  if (values.length === 0) return 'no cookie'
  const seconds = clockSeconds(config.now)
  let chosen: Verified | undefined
  let failure: Failure | undefined
  for (const value of values) {
    const result = verifyToken(value, config.keys, seconds)
    if (typeof result === 'string') failure ??= result
    else if (chosen === undefined) chosen = result
    else if (chosen.userId !== result.userId) return 'conflicting cookies'
  }
  return chosen ?? (failure as Failure)
}

const plugin: FastifyPluginAsync<Contract.FastifyDbbasicSessionsOptions> = async function (fastify, options) {
  const config = resolvePluginOptions(options)
  const { keys, cookieName, cookie, now } = config
  await loadSerializer(fastify)

  fastify.decorateRequest('session', null, [])

  fastify.addHook('onRequest', function readSession (request, _reply, done) {
    const header = request.headers.cookie
    const found = header === undefined ? 'no cookie' : pick(readCookies(header, cookieName), config)
    if (typeof found === 'string') {
      request.log.debug({ reason: found }, 'fastify-dbbasic-sessions: no session')
      request.session = { userId: null }
    } else {
      request.session = { userId: found.userId }
    }
    done()
  })

  fastify.decorateReply('createSession', function createSession (this: FastifyReply, userId: Contract.UserId, opts?: Contract.ReplyCreateSessionOptions) {
    const ttl = checkReplyOptions(opts).ttl ?? config.ttl
    const id = normalizeUserId(userId)
    const token = makeToken(id, Math.floor(clockSeconds(now)) + ttl, keys)
    writeCookie(this, cookieName, serializeCookie(cookieName, token, ttl, cookie))
    this.request.session.userId = id
    return token
  })

  fastify.decorateReply('destroySession', function destroySession (this: FastifyReply) {
    writeCookie(this, cookieName, serializeCookie(cookieName, '', 0, cookie))
    this.request.session.userId = null
    return this
  })

  fastify.decorate('requireSession', async function requireSession (request: FastifyRequest) {
    if (request.session.userId === null) throw new UnauthorizedError()
  })
}

export const fastifyDbbasicSessions: typeof Contract.fastifyDbbasicSessions = fp(plugin, {
  fastify: '5.x',
  name: 'fastify-dbbasic-sessions'
})
export default fastifyDbbasicSessions
export { createSession, getSession, destroySession } from './standalone.js'
export { optionsSchema }
