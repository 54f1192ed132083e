// The reply side: sign in, sign out, sign the other sessions out, refresh a login. What
// must be stored first (ending the session a request carried) is awaited by the caller
// or, if the caller does not, by onSend (renewal.ts): either way the response carries
// the new cookie only once that is done, and a failure is the 503 instead.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type * as Contract from '../types/index.js'
import type { Context } from './context.js'
import { serializeCookie, writeCookie } from './cookie.js'
import { publish, sessionChannel, sourceOf } from './diagnostics.js'
import { InvalidOptionError, ReplySentError, UnauthorizedError } from './errors.js'
import { loginFields } from './lifecycle.js'
import { clockSeconds } from './clock.js'
import { checkReplyOptions } from './option-check.js'
import { newSessionId, revocationKey } from './session-id.js'
import { normalizeUserId } from './standalone.js'
import { none, stateOf, tokenOf, type SessionRequest } from './state.js'
import { makeToken, type Verified } from './token.js'
import { warnPlainHttp } from './warnings.js'

export interface ReplySide {
  createSession: (this: FastifyReply, userId: Contract.UserId, opts?: Contract.ReplyCreateSessionOptions) => Promise<Contract.SignedIn>
  destroySession: (this: FastifyReply) => Promise<void>
  revokeOtherSessions: (this: FastifyReply) => Promise<void>
  refreshLogin: (this: FastifyReply) => Contract.SignedIn
}

function notSent (reply: FastifyReply, what: string): void {
  if (reply.sent || reply.raw.headersSent) {
    throw new ReplySentError(`${what} was called after the reply was sent, so no cookie can go out; call it before sending the response`)
  }
}

function setSession (ctx: Context, request: FastifyRequest, session: Contract.Session): void {
  const { sessionName } = ctx.config
  const current = (request as SessionRequest)[sessionName]
  if (current == null) (request as SessionRequest)[sessionName] = session
  else Object.assign(current, session)
}

/**
 * `done` is what the response waits for in onSend. The caller gets it too, marked as
 * handled: a caller that does not await it leaves the failure to the response. (The
 * checks before it throw at once: a mistake in the call is the route's own error.)
 */
function pending<T> (reply: FastifyReply, done: Promise<T>): Promise<T> {
  const state = stateOf(reply)
  state.storing = state.storing === null ? done : Promise.all([state.storing, done])
  done.catch(() => {})
  return done
}

/** The session the request was accepted with, once: ending it or signing in over it uses it up. */
function takeToken (reply: FastifyReply): Verified | null {
  const token = tokenOf(reply)
  if (token !== null) stateOf(reply).token = null
  return token
}

/** Writes the cookie of a login (new, or refreshed with `sid`) and fills request.session with it. */
function logIn (ctx: Context, reply: FastifyReply, id: string, sid: string, ttl: number, persistent: boolean): Contract.SignedIn {
  const { cookieName, cookie, keys, policy, now } = ctx.config
  const seconds = clockSeconds(now)
  const issue = loginFields(seconds, ttl, persistent, policy, sid, ctx.revocations?.generation(id, seconds))
  const token = makeToken(id, issue.expires, keys, issue)
  const state = stateOf(reply)
  writeCookie(reply, state, serializeCookie(cookieName, token, persistent ? issue.expires - issue.iat : undefined, cookie))
  state.explicit = true
  state.pending = null
  warnPlainHttp(reply.request, cookie.secure)
  const session = { userId: id, issuedAt: issue.iat, expiresAt: issue.expires, sessionId: sid }
  setSession(ctx, reply.request, session)
  return { ...session, token }
}

function createSession (ctx: Context, reply: FastifyReply, userId: Contract.UserId, opts?: Contract.ReplyCreateSessionOptions): Promise<Contract.SignedIn> {
  notSent(reply, 'createSession')
  const { ttl = ctx.config.policy.ttl, persistent = true } = checkReplyOptions(opts)
  const id = normalizeUserId(userId)
  const presented = takeToken(reply)
  const signIn = (): Contract.SignedIn => {
    const signedIn = logIn(ctx, reply, id, newSessionId(), ttl, persistent)
    if (sessionChannel.hasSubscribers) publish({ event: 'created', userId: id, expiresAt: signedIn.expiresAt, ...sourceOf(reply.request) })
    return signedIn
  }
  if (presented === null || ctx.revocations === null) return Promise.resolve(signIn())
  stateOf(reply).explicit = true
  return pending(reply, ctx.revocations.endSession(presented, clockSeconds(ctx.config.now)).then(signIn))
}

function destroySession (ctx: Context, reply: FastifyReply): Promise<void> {
  const { cookieName, cookie, now } = ctx.config
  notSent(reply, 'destroySession')
  const state = stateOf(reply)
  state.explicit = true
  state.pending = null
  const presented = takeToken(reply)
  const signOut = (): void => {
    writeCookie(reply, state, serializeCookie(cookieName, '', 0, cookie))
    setSession(ctx, reply.request, none())
    if (sessionChannel.hasSubscribers) publish({ event: 'destroyed', ...sourceOf(reply.request) })
  }
  if (presented === null || ctx.revocations === null) return Promise.resolve(signOut())
  return pending(reply, ctx.revocations.endSession(presented, clockSeconds(now)).then(signOut))
}

/** The session the request was accepted with, or the 401. */
function current (reply: FastifyReply): Verified {
  const token = tokenOf(reply)
  if (token === null) throw new UnauthorizedError()
  return token
}

function revokeOtherSessions (ctx: Context, reply: FastifyReply): Promise<void> {
  if (ctx.revocations === null) throw new InvalidOptionError('revokeOtherSessions needs revocation, which is off (revocation: false)')
  const token = current(reply)
  return pending(reply, ctx.revocations.endUser(token.userId, clockSeconds(ctx.config.now), revocationKey(token)))
}

function refreshLogin (ctx: Context, reply: FastifyReply): Contract.SignedIn {
  notSent(reply, 'refreshLogin')
  const token = current(reply)
  // The same session id: the device stays the same device, and what revoked it still does.
  const signedIn = logIn(ctx, reply, token.userId, revocationKey(token), token.ttl ?? ctx.config.policy.ttl, token.persistent)
  if (sessionChannel.hasSubscribers) publish({ event: 'login-refreshed', userId: token.userId, expiresAt: signedIn.expiresAt, ...sourceOf(reply.request) })
  return signedIn
}

export function makeReplySide (ctx: Context): ReplySide {
  return {
    createSession (this: FastifyReply, userId, opts) { return createSession(ctx, this, userId, opts) },
    destroySession (this: FastifyReply) { return destroySession(ctx, this) },
    revokeOtherSessions (this: FastifyReply) { return revokeOtherSessions(ctx, this) },
    refreshLogin (this: FastifyReply) { return refreshLogin(ctx, this) }
  }
}
