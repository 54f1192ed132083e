import createError from '@fastify/error'
import type * as Contract from '../types/index.js'

const PREFIX = 'fastify-dbbasic-sessions: %s'

/** A short, safe description of a wrong value for an error message. Never used for secrets. */
export function shown (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value)
  if (Array.isArray(value)) return 'an array'
  return (typeof value === 'object' ? 'an ' : 'a ') + typeof value
}

/** A plugin option (or a standalone API option) breaks its rule. Thrown at register/ready. */
export const InvalidOptionError: typeof Contract.InvalidOptionError = createError('FST_DBBASIC_SESSIONS_INVALID_OPTION', PREFIX, 500, TypeError)

/** No secret was given and SECRET_KEY is not set. */
export const NoSecretError: typeof Contract.NoSecretError = createError('FST_DBBASIC_SESSIONS_NO_SECRET', PREFIX, 500)

/** createSession was given a user id that is not a non-empty string or a safe integer. */
export const InvalidUserIdError: typeof Contract.InvalidUserIdError = createError('FST_DBBASIC_SESSIONS_INVALID_USER_ID', PREFIX, 500, TypeError)

/** The token, or the Set-Cookie header carrying it, would not fit in a cookie. */
export const TooLargeError: typeof Contract.TooLargeError = createError('FST_DBBASIC_SESSIONS_TOO_LARGE', PREFIX, 500, RangeError)

/** Sent by requireSession; the message reaches clients, so it names no library. */
export const UnauthorizedError: typeof Contract.UnauthorizedError = createError('FST_DBBASIC_SESSIONS_UNAUTHORIZED', 'No valid session', 401)

/** Sent for an unsafe cross-origin request; the message reaches clients, so it names no library. */
export const CrossOriginError: typeof Contract.CrossOriginError = createError('FST_DBBASIC_SESSIONS_CROSS_ORIGIN', 'Cross-origin request refused', 403)

/** A route guarded by requireRecentLogin got a session whose login is older than it allows; the message reaches clients. */
export const ReauthenticationRequiredError: typeof Contract.ReauthenticationRequiredError = createError('FST_DBBASIC_SESSIONS_REAUTHENTICATION_REQUIRED', 'Please sign in again to continue', 401)

/** createSession, destroySession or refreshLogin was called once the response had gone out: no cookie could follow. */
export const ReplySentError: typeof Contract.ReplySentError = createError('FST_DBBASIC_SESSIONS_REPLY_SENT', PREFIX, 500)

/**
 * A revocation could not be stored, so the session was not ended on the server (nor,
 * from destroySession, in this browser). The message reaches clients, so it names no library.
 */
export const RevocationFailedError: typeof Contract.RevocationFailedError = createError('FST_DBBASIC_SESSIONS_REVOCATION_FAILED', 'The sign-out could not be completed; please try again', 503)
