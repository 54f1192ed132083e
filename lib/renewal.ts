// onSend: what the session needs written once the route has set its headers: a renewal
// or a re-signing decided in onRequest, `Vary: Cookie`, `no-store` on a sign-in or
// sign-out, and first, whatever a sign-in or sign-out is still storing.
import type { FastifyReply, FastifyRequest, onSendHookHandler } from 'fastify'
import type { Context } from './context.js'
import { sharedCacheable, storable, varyOnCookie } from './caching.js'
import { serializeCookie, writeCookie } from './cookie.js'
import { publish, sessionChannel, sourceOf } from './diagnostics.js'
import { stateIfAny, type ReplyState, type SessionRequest } from './state.js'
import { makeToken } from './token.js'
import { warnPlainHttp } from './warnings.js'

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
  writeCookie(reply, state, header)
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
    if (ctx.resigns(keyIndex)) publish({ event: 're-signed', reason: 'older secret', userId, expiresAt, secretIndex: keyIndex, ...source })
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

function finish (ctx: Context, request: FastifyRequest, reply: FastifyReply, state: ReplyState | null | undefined): void {
  if (state != null) {
    // A login or logout response is never stored, whatever the route asked for.
    if (state.explicit) reply.header('cache-control', 'no-store')
    else if (state.pending !== null) renew(ctx, request, reply, state)
  }
  varyIfShared(ctx, request, reply)
}

function onSend (ctx: Context, request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: Error | null, payload?: unknown) => void): void {
  // Undefined on a reply Fastify did not decorate (its fallback 404 path).
  const state = stateIfAny(reply)
  const storing = state?.storing ?? null
  if (storing === null) {
    finish(ctx, request, reply, state)
    done(null, payload)
    return
  }
  (state as ReplyState).storing = null
  storing.then(() => {
    finish(ctx, request, reply, state)
    done(null, payload)
  }, (err: Error) => {
    // A route that answered with an error itself has seen the failure: its answer
    // stands. Otherwise the failure is the answer: nothing was signed in or out.
    if (reply.statusCode >= 400) {
      finish(ctx, request, reply, state)
      done(null, payload)
    } else {
      done(err)
    }
  })
}

export const makeOnSend = (ctx: Context): onSendHookHandler =>
  function writeSession (request, reply, payload, done) { onSend(ctx, request, reply, payload, done) }
