// The plugin: decorators and the onRequest hook. No crypto here; see token.ts.
import fp from 'fastify-plugin'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type * as Contract from '../types/index.js'
import { loadSerializer, readCookies, serializeCookie, writeCookie } from './cookie.js'
import { InvalidOptionError, UnauthorizedError } from './errors.js'
import { assess, loginTimes, type Decision, type Refusal } from './lifecycle.js'
import { checkReplyOptions, clockSeconds, optionsSchema, resolvePluginOptions, shown } from './options.js'
import { makeToken, normalizeUserId } from './standalone.js'
import type { Failure, Verified } from './token.js'
import { makeVerifier, type Verify } from './verifier.js'

type Reason = Failure | Refusal | 'no cookie' | 'conflicting cookies' | 'revoked'

// The valid session among the cookies of our name. Two valid ones for different
// users mean one was planted (say by a sibling subdomain): trust neither.
function pick (values: string[], verify: Verify, seconds: number): Verified | Reason {
  let chosen: Verified | undefined
  let failure: Failure | undefined
  for (const value of values) {
    const result = verify(value, seconds)
    if (typeof result === 'string') failure ??= result
    else if (chosen === undefined) chosen = result
    else if (chosen.userId !== result.userId) return 'conflicting cookies'
  }
  return chosen ?? (failure as Failure)
}

const NO_SESSION = 'fastify-dbbasic-sessions: no session'

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as PromiseLike<unknown> | null)?.then === 'function'

const plugin: FastifyPluginAsync<Contract.FastifyDbbasicSessionsOptions> = async function (fastify, options) {
  const config = resolvePluginOptions(options)
  const { keys, cookieName, cookie, policy, validate, now } = config
  const verify = makeVerifier(keys, policy.clockTolerance, config.cacheSize)
  await loadSerializer(fastify)

  fastify.decorateRequest('session', null, [])

  function noSession (request: FastifyRequest, reason: Reason): void {
    request.log.debug({ reason }, NO_SESSION)
    request.session = { userId: null, issuedAt: null, expiresAt: null }
  }

  function setCookie (reply: FastifyReply, userId: string, expires: number, iat: number | undefined, seconds: number): string {
    const token = makeToken(userId, expires, keys, iat)
    writeCookie(reply, cookieName, serializeCookie(cookieName, token, expires - Math.floor(seconds), cookie))
    return token
  }

  function accept (request: FastifyRequest, reply: FastifyReply, decision: Decision, token: Verified, seconds: number): void {
    request.session = { userId: decision.userId, issuedAt: decision.issuedAt, expiresAt: decision.expiresAt }
    const { reissue } = decision
    if (reissue === null) return
    try {
      setCookie(reply, decision.userId, reissue.expires, reissue.iat, seconds)
    } catch (err) {
      // A user id near the size limit may not fit once iat is added: keep the
      // session the request carries rather than fail it.
      request.log.debug({ code: (err as { code?: string }).code }, 'fastify-dbbasic-sessions: could not re-issue the cookie')
      return
    }
    if (reissue.renewed) request.log.debug({ expiresAt: reissue.expires }, 'fastify-dbbasic-sessions: session renewed')
    if (token.keyIndex > 0) request.log.debug({ secretIndex: token.keyIndex }, 'fastify-dbbasic-sessions: re-signed with the newest secret')
  }

  fastify.addHook('onRequest', function readSession (request, reply, done) {
    const header = request.headers.cookie
    const values = header === undefined ? [] : readCookies(header, cookieName)
    if (values.length === 0) {
      noSession(request, 'no cookie')
      done()
      return
    }
    const seconds = clockSeconds(now)
    const token = pick(values, verify, seconds)
    const decision = typeof token === 'string' ? token : assess(token, seconds, policy)
    if (typeof decision === 'string') {
      noSession(request, decision)
      done()
      return
    }
    const verified = token as Verified
    if (validate === undefined) {
      accept(request, reply, decision, verified, seconds)
      done()
      return
    }
    const settle = (verdict: unknown): void => {
      if (verdict === true) accept(request, reply, decision, verified, seconds)
      else if (verdict === false) noSession(request, 'revoked')
      else throw new InvalidOptionError(`validate must return true or false (or a promise of one); got ${shown(verdict)}`)
    }
    let verdict: unknown
    try {
      verdict = validate({ userId: decision.userId, issuedAt: decision.issuedAt, expiresAt: decision.expiresAt }, request)
      if (!isThenable(verdict)) settle(verdict)
    } catch (err) {
      done(err as Error)
      return
    }
    if (isThenable(verdict)) Promise.resolve(verdict).then(settle).then(() => { done() }, (err: Error) => { done(err) })
    else done()
  })

  fastify.decorateReply('createSession', function createSession (this: FastifyReply, userId: Contract.UserId, opts?: Contract.ReplyCreateSessionOptions) {
    const ttl = checkReplyOptions(opts).ttl ?? config.ttl
    const id = normalizeUserId(userId)
    const seconds = clockSeconds(now)
    const { expires, iat } = loginTimes(seconds, ttl, policy)
    const token = setCookie(this, id, expires, iat, seconds)
    Object.assign(this.request.session, { userId: id, issuedAt: iat ?? null, expiresAt: expires })
    return token
  })

  fastify.decorateReply('destroySession', function destroySession (this: FastifyReply) {
    writeCookie(this, cookieName, serializeCookie(cookieName, '', 0, cookie))
    Object.assign(this.request.session, { userId: null, issuedAt: null, expiresAt: null })
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
