import type * as Contract from '../../types/index.js'
import type { Context } from '../context.js'
import { InvalidOptionError } from '../errors.js'
import { clockSeconds } from '../options.js'
import { isSessionId } from '../session-id.js'
import { normalizeUserId } from '../standalone.js'

export function makeRevokers (ctx: Context): Pick<import('fastify').FastifyInstance, 'revokeSessions' | 'revokeSession'> {
  const { now } = ctx.config

  function revocations (what: string): NonNullable<Context['revocations']> {
    if (ctx.revocations === null) throw new InvalidOptionError(`${what} needs revocation, which is off (revocation: false)`)
    return ctx.revocations
  }

  return {
    async revokeSessions (userId: Contract.UserId): Promise<void> {
      const to = revocations('revokeSessions')
      await to.endUser(normalizeUserId(userId), clockSeconds(now), undefined)
    },
    async revokeSession (sessionId: string): Promise<void> {
      const to = revocations('revokeSession')
      if (!isSessionId(sessionId)) {
        throw new TypeError('fastify-dbbasic-sessions: revokeSession takes a session id (request.session.sessionId): 16 to 64 base64url characters')
      }
      await to.endSessionById(sessionId, clockSeconds(now))
    }
  }
}
