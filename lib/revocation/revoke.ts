// fastify.revokeSessions and fastify.revokeSession: what a revocation covers and for
// how long, handed to the sync to store and enforce.
import type * as Contract from '../../types/index.js'
import type { Context } from '../context.js'
import { InvalidOptionError } from '../errors.js'
import { MAX_TTL, clockSeconds } from '../options.js'
import { normalizeUserId } from '../standalone.js'
import { isSessionId } from '../token.js'

export function makeRevokers (ctx: Context): Pick<import('fastify').FastifyInstance, 'revokeSessions' | 'revokeSession'> {
  const { policy, now, revocation } = ctx.config

  function sync (what: string): NonNullable<Context['revocations']> {
    if (ctx.revocations === null) throw new InvalidOptionError(`${what} needs the revocation option, e.g. revocation: { store: memoryStore() }`)
    return ctx.revocations
  }

  /** Past this, no session that a revocation made now can cover is still accepted anywhere. */
  function horizon (seconds: number): number {
    const lifetime = policy.absoluteTtl ?? MAX_TTL
    return Math.floor(seconds) + lifetime + policy.clockTolerance + (revocation as NonNullable<typeof revocation>).staleness
  }

  return {
    async revokeSessions (userId: Contract.UserId): Promise<void> {
      const revocations = sync('revokeSessions')
      const id = normalizeUserId(userId)
      const ms = clockSeconds(now) * 1000
      await revocations.add({ kind: 'user', id, after: ctx.logins.cutoff(ms), until: horizon(ms / 1000) })
    },
    async revokeSession (sessionId: string): Promise<void> {
      const revocations = sync('revokeSession')
      if (!isSessionId(sessionId)) {
        throw new TypeError('fastify-dbbasic-sessions: revokeSession takes a session id (request.session.sessionId): 16 to 64 base64url characters')
      }
      await revocations.add({ kind: 'session', id: sessionId, until: horizon(clockSeconds(now)) })
    }
  }
}
