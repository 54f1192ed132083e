// The reply side: sign in, sign out, and in onSend whatever the session needs written
// (a renewal, a re-signing, a revocation to store) once the route has set its headers.
import type { FastifyReply, FastifyRequest, onSendHookHandler } from 'fastify'
import type * as Contract from '../types/index.js'
import type { Context } from './context.js'
import { sharedCacheable, storable, varyOnCookie } from './caching.js'
import { serializeCookie, writeCookie } from './cookie.js'
import { publish, sessionChannel, sourceOf } from './diagnostics.js'
import { ReplySentError } from './errors.js'
import { loginTimes } from './lifecycle.js'
import { checkReplyOptions, clockSeconds } from './options.js'
import { normalizeUserId } from './standalone.js'
import { none, setToken, stateIfAny, stateOf, tokenOf, type ReplyState, type SessionRequest } from './state.js'
import { newSessionId } from './session-id.js'
import { makeToken } from './token.js'
import { warnPlainHttp } from './warnings.js'

export interface ReplySide {
  onSend: onSendHookHandler
  createSession: (this: FastifyReply, userId: Contract.UserId, opts?: Contract.ReplyCreateSessionOptions) => string
  destroySession: (this: FastifyReply) => FastifyReply
}

/** Sets this response's session cookie, replacing any this plugin wrote before in it. */
function write (reply: FastifyReply, state: ReplyState, header: string | null): void {
  writeCookie(reply, state.written, header)
  state.written = header
}

function renew (ctx: Context, request: FastifyRequest, reply: FastifyReply, state: ReplyState): void {
  const { cookieName, cookie, signers } = ctx.config
  const { userId, reissue, expiresAt, keyIndex, seconds } = state.pending as NonNullable<ReplyState['pending']>
  if (sharedCacheable(reply)) {
    // A shared cache could hand this Set-Cookie to everyone: the next response that
    // no shared cache may store carries it instead.
    request.log.debug('fastify-dbbasic-sessions: renewal deferred: the response may be stored by a shared cache')
    if (sessionChannel.hasSubscribers) publish({ event: 'renewal-deferred', reason: 'shared cache', userId, ...sourceOf(request) })
    return
  }
  let header: string
  try {
    header = serializeCookie(cookieName, makeToken(userId, reissue.expires, signers[keyIndex], reissue), reissue.persistent === false ? undefined : expiresAt - Math.floor(seconds), cookie)
  } catch (err) {
    // A user id near the size limit may not fit once the extra fields are added:
    // keep the session the request carries rather than fail it.
    request.log.debug({ code: (err as { code?: string }).code }, 'fastify-dbbasic-sessions: could not re-issue the cookie')
    return
  }
  write(reply, state, header)
  if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
  warnPlainHttp(request, cookie.secure)
  logRenewal(ctx, request, state)
}

/** What a renewal or re-signing says: debug lines, and the events when someone listens. */
function logRenewal (ctx: Context, request: FastifyRequest, state: ReplyState): void {
  const { userId, reissue, expiresAt, keyIndex } = state.pending as NonNullable<ReplyState['pending']>
  if (reissue.extended) request.log.debug({ expiresAt }, 'fastify-dbbasic-sessions: session renewed')
  if (ctx.resigns(keyIndex)) request.log.debug({ secretIndex: keyIndex }, 'fastify-dbbasic-sessions: re-signed with the newest secret')
  if (sessionChannel.hasSubscribers) {
    const source = sourceOf(request)
    if (reissue.extended) publish({ event: 'renewed', userId, expiresAt, secretIndex: keyIndex, ...source })
    // Whatever else changed in the cookie besides its expiry; the first reason that applies.
    if (ctx.resigns(keyIndex)) publish({ event: 're-signed', reason: 'older secret', userId, expiresAt, secretIndex: keyIndex, ...source })
  }
}

/** Stores destroySession's revocation; if it cannot be, the cookie stays and the error is the response. */
async function storeRevocation (ctx: Context, reply: FastifyReply, state: ReplyState, revoke: NonNullable<ReplyState['revoke']>): Promise<void> {
  try {
    await (ctx.revocations as NonNullable<Context['revocations']>).endSession(revoke.token, revoke.seconds)
  } catch (err) {
    write(reply, state, null)
    throw err
  }
}

/**
 * The body may depend on who asked: any cache that may keep it (a CDN, the browser's
 * own, for its back button after a sign-out) must key it by the cookie.
 */
function varyIfShared (ctx: Context, request: FastifyRequest, reply: FastifyReply): void {
  const session = (request as SessionRequest)[ctx.config.sessionName]
  if (session != null && session.userId !== null && storable(reply)) varyOnCookie(reply)
}

function onSend (ctx: Context, request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: Error | null, payload?: unknown) => void): void {
  // Undefined on a reply Fastify did not decorate (its fallback 404 path).
  const state = stateIfAny(reply)
  if (state != null) {
    // A login or logout response is never stored, whatever the route asked for.
    if (state.explicit) reply.header('cache-control', 'no-store')
    else if (state.pending !== null) renew(ctx, request, reply, state)
    if (state.revoke !== null) {
      const revocation = state.revoke
      state.revoke = null
      storeRevocation(ctx, reply, state, revocation).then(() => {
        varyIfShared(ctx, request, reply)
        done(null, payload)
      }, done)
      return
    }
  }
  varyIfShared(ctx, request, reply)
  done(null, payload)
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

function createSession (ctx: Context, reply: FastifyReply, userId: Contract.UserId, opts?: Contract.ReplyCreateSessionOptions): string {
  const { cookieName, cookie, keys, policy, now } = ctx.config
  notSent(reply, 'createSession')
  const { ttl = policy.ttl, persistent = true } = checkReplyOptions(opts)
  const id = normalizeUserId(userId)
  const seconds = clockSeconds(now)
  const sessionId = newSessionId()
  const issue = loginTimes(seconds, ttl, persistent, policy, sessionId, ctx.revocations?.generation(id, seconds))
  const token = makeToken(id, issue.expires, keys, issue)
  const header = serializeCookie(cookieName, token, persistent ? issue.expires - issue.iat : undefined, cookie)
  const state = stateOf(reply)
  write(reply, state, header)
  state.explicit = true
  state.pending = null
  warnPlainHttp(reply.request, cookie.secure)
  setSession(ctx, reply.request, { userId: id, issuedAt: issue.iat, expiresAt: issue.expires, sessionId })
  if (sessionChannel.hasSubscribers) publish({ event: 'created', userId: id, expiresAt: issue.expires, ...sourceOf(reply.request) })
  return token
}

function destroySession (ctx: Context, reply: FastifyReply): FastifyReply {
  const { cookieName, cookie, now } = ctx.config
  notSent(reply, 'destroySession')
  const state = stateOf(reply)
  write(reply, state, serializeCookie(cookieName, '', 0, cookie))
  state.explicit = true
  state.pending = null
  const token = tokenOf(reply.request)
  if (ctx.revocations !== null && token !== null) {
    state.revoke = { token, seconds: clockSeconds(now) }
    setToken(reply.request, null)
  }
  setSession(ctx, reply.request, none())
  if (sessionChannel.hasSubscribers) publish({ event: 'destroyed', ...sourceOf(reply.request) })
  return reply
}

export function makeReplySide (ctx: Context): ReplySide {
  return {
    onSend: function writeSession (request, reply, payload, done) { onSend(ctx, request, reply, payload, done) },
    createSession (this: FastifyReply, userId: Contract.UserId, opts?: Contract.ReplyCreateSessionOptions): string { return createSession(ctx, this, userId, opts) },
    destroySession (this: FastifyReply): FastifyReply { return destroySession(ctx, this) }
  }
}
