// A guard for sensitive routes (ASVS 7.5): the session's login must be recent. The
// login time is the token's iat, which only a sign-in (or refreshLogin) sets: renewals
// keep it. A token without one (Python, the standalone API) cannot show it is recent.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Context } from './context.js'
import { clockSeconds } from './clock.js'
import { InvalidOptionError, ReauthenticationRequiredError, UnauthorizedError, shown } from './errors.js'
import { MAX_TTL } from './lifecycle.js'
import type { SessionRequest } from './state.js'

export function makeRecentLoginGuard (ctx: Context): FastifyInstance['requireRecentLogin'] {
  const { sessionName, now } = ctx.config
  return (maxAgeSeconds) => {
    if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 1 || maxAgeSeconds > MAX_TTL) {
      throw new InvalidOptionError(`requireRecentLogin(maxAgeSeconds) takes an integer number of seconds from 1 to ${MAX_TTL}; got ${shown(maxAgeSeconds)}`)
    }
    return async function requireRecentLogin (request: FastifyRequest) {
      const session = (request as SessionRequest)[sessionName]
      if (session == null || session.userId === null) throw new UnauthorizedError()
      if (session.issuedAt === null || clockSeconds(now) - session.issuedAt > maxAgeSeconds) throw new ReauthenticationRequiredError()
    }
  }
}
