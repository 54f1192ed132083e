import type * as Contract from '../../types/index.js'
import type { Context } from '../context.js'
import { InvalidOptionError } from '../errors.js'
import { clockSeconds } from '../clock.js'
import { isSessionId } from '../session-id.js'
import { normalizeUserId } from '../standalone.js'

// The instance's revokers: a user's sessions, or one session by its id. The names differ
// by more than a letter on purpose: a user id given to the one that takes a session id
// would revoke nothing, silently.
export function makeRevokers (ctx: Context): Pick<import('fastify').FastifyInstance, 'revokeAllSessions' | 'revokeSessionById'> {
  const { now } = ctx.config

  function revocations (what: string): NonNullable<Context['revocations']> {
    if (ctx.revocations === null) throw new InvalidOptionError(`${what} needs revocation, which is off (revocation: false)`)
    return ctx.revocations
  }

  return {
    async revokeAllSessions (userId: Contract.UserId): Promise<void> {
      const to = revocations('revokeAllSessions')
      await to.endUser(normalizeUserId(userId), clockSeconds(now), undefined)
    },
    async revokeSessionById (sessionId: string): Promise<void> {
      const to = revocations('revokeSessionById')
      if (!isSessionId(sessionId)) {
        throw new TypeError('fastify-dbbasic-sessions: revokeSessionById takes a session id (request.session.sessionId): 16 to 64 base64url characters; to sign a user out everywhere, use revokeAllSessions(userId)')
      }
      await to.endSessionById(sessionId, clockSeconds(now))
    }
  }
}
