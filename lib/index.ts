// The plugin: decorators and hooks. No crypto here; see token.ts.
// onRequest checks the request's origin and reads the session; onSend writes what the
// session needs (renewal, re-signing) once the route has set its own headers.
import fp from 'fastify-plugin'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type * as Contract from '../types/index.js'
import { loadSerializer, pick, readCookies, serializeCookie, sharedCacheable, varyOnCookie, writeCookies } from './cookie.js'
import { crossOriginRefusal } from './csrf.js'
import { diagnosticsChannelName, publish, routeOf, sessionChannel } from './diagnostics.js'
import { CrossOriginError, InvalidOptionError, ReplySentError, UnauthorizedError } from './errors.js'
import { assess, loginTime, loginTimes, type Decision, type Reissue, type Refusal } from './lifecycle.js'
import { checkReplyOptions, clockSeconds, optionsSchema, resolvePluginOptions, shown } from './options.js'
import { makeToken, normalizeUserId } from './standalone.js'
import type { Verified } from './token.js'
import { makeVerifier } from './verifier.js'
import { warnPlainHttp } from './warnings.js'

type Reason = Contract.NoSessionReason
type Session = Contract.Session

/** A session read from the Cookie header, before `validate`. */
interface Found {
  token: Verified
  decision: Decision
  /** Read from the legacy cookie name. */
  legacy: boolean
  seconds: number
}

/** What this plugin does to one response; allocated only when there is something to do. */
interface ReplyState {
  /** A renewal or re-signing decided in onRequest, written in onSend. */
  pending: { userId: string, reissue: Reissue, keyIndex: number, seconds: number } | null
  /** The Set-Cookie headers this plugin wrote to the response, so a later call replaces exactly them. */
  written: string[] | null
  /** The route called createSession or destroySession. */
  explicit: boolean
  /** The request carried a cookie of the legacy name, to clear with ours. */
  legacy: boolean
}

const kState = Symbol('fastify-dbbasic-sessions.state')
type StatefulReply = FastifyReply & { [kState]: ReplyState | null }
const stateOf = (reply: FastifyReply): ReplyState => {
  const r = reply as StatefulReply
  return (r[kState] ??= { pending: null, written: null, explicit: false, legacy: false })
}

const NO_SESSION = 'fastify-dbbasic-sessions: no session'

/** The route's `config: { csrf: false }`, as an own property only. */
const optedOut = (request: FastifyRequest): boolean => {
  const config = request.routeOptions.config
  return Object.hasOwn(config, 'csrf') && config.csrf === false
}
const none = (): Session => ({ userId: null, issuedAt: null, expiresAt: null })
const sessionOf = (decision: Decision): Contract.ValidatedSession => ({ userId: decision.userId, issuedAt: decision.issuedAt, expiresAt: decision.expiresAt })

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as PromiseLike<unknown> | null)?.then === 'function'

const plugin: FastifyPluginAsync<Contract.FastifyDbbasicSessionsOptions> = async function (fastify, options) {
  const config = resolvePluginOptions(options)
  const { keys, cookieName, cookie, policy, validate, now, trustedOrigins, legacy, sessionName } = config
  if (sessionName === 'requireUserId') {
    throw new InvalidOptionError('sessionName "requireUserId" is the name of the request method this plugin adds; choose another, e.g. sessionName: \'auth\'')
  }
  if (fastify.hasRequestDecorator(sessionName)) {
    throw new InvalidOptionError(`sessionName "${sessionName}" is already a request property (Fastify's own or another plugin's: @fastify/secure-session and @fastify/session fill request.session); choose another, e.g. sessionName: 'auth'`)
  }
  const verify = makeVerifier(keys, policy.clockTolerance, config.cacheSize)
  await loadSerializer(fastify)
  const clearLegacy = legacy === undefined ? '' : serializeCookie(legacy.name, '', 0, cookie)

  fastify.decorateRequest(sessionName, null)
  fastify.decorateReply(kState, null)
  type SessionRequest = FastifyRequest & Record<string, Session | null>

  function noSession (request: FastifyRequest | null, reason: Reason): Session {
    ;(request?.log ?? fastify.log).debug({ reason }, NO_SESSION)
    if (sessionChannel.hasSubscribers) publish({ event: 'no-session', reason, route: routeOf(request), request })
    return none()
  }

  /** The session the Cookie header carries, checked up to (not including) `validate`. */
  function find (header: string | undefined): Found | Reason {
    if (header === undefined) return 'no cookie'
    let values = readCookies(header, cookieName)
    let fromLegacy = false
    if (values.length === 0 && legacy !== undefined) {
      values = readCookies(header, legacy.name)
      fromLegacy = true
    }
    if (values.length === 0) return 'no cookie'
    const seconds = clockSeconds(now)
    const token = pick(values, verify, seconds)
    if (typeof token === 'string') return token
    // Only sessions from before the upgrade: a legacy-name cookie can be planted.
    if (fromLegacy && loginTime(token, seconds, policy) >= (legacy as Contract.LegacyCookieOptions).issuedBefore) return 'legacy cookie issued after the upgrade'
    const decision: Decision | Refusal = assess(token, seconds, policy, fromLegacy)
    if (typeof decision === 'string') return decision
    return { token, decision, legacy: fromLegacy, seconds }
  }

  /** `validate`'s verdict: true, false, or an error for anything else (whose value only a debug line shows). */
  function verdictOf (verdict: unknown, request: FastifyRequest | null): boolean {
    if (verdict === true || verdict === false) return verdict
    ;(request?.log ?? fastify.log).debug({ got: shown(verdict) }, 'fastify-dbbasic-sessions: validate returned something other than a boolean')
    throw new InvalidOptionError('validate must return true or false (or a promise of one)')
  }

  function accept (request: FastifyRequest, reply: FastifyReply, found: Found): void {
    ;(request as SessionRequest)[sessionName] = sessionOf(found.decision)
    const { reissue } = found.decision
    if (reissue === null && !found.legacy) return
    const state = stateOf(reply)
    state.legacy = found.legacy
    if (reissue !== null) state.pending = { userId: found.decision.userId, reissue, keyIndex: found.token.keyIndex, seconds: found.seconds }
  }

  function settle (request: FastifyRequest, reply: FastifyReply, found: Found, verdict: unknown): void {
    if (verdictOf(verdict, request)) accept(request, reply, found)
    else (request as SessionRequest)[sessionName] = noSession(request, 'revoked')
  }

  fastify.addHook('onRequest', function readSession (request, reply, done) {
    if (trustedOrigins !== null) {
      const refusal = crossOriginRefusal(request.method, request.headers, trustedOrigins)
      if (refusal !== undefined && !optedOut(request)) {
        ;(request as SessionRequest)[sessionName] = none()
        request.log.info({ reason: refusal }, 'fastify-dbbasic-sessions: cross-origin request refused')
        if (sessionChannel.hasSubscribers) publish({ event: 'cross-origin-refused', reason: refusal, route: routeOf(request), request })
        done(new CrossOriginError())
        return
      }
    }
    const found = find(request.headers.cookie)
    if (typeof found === 'string') {
      ;(request as SessionRequest)[sessionName] = noSession(request, found)
      done()
      return
    }
    if (validate === undefined) {
      accept(request, reply, found)
      done()
      return
    }
    let verdict: unknown
    try {
      verdict = validate(sessionOf(found.decision), request)
      if (!isThenable(verdict)) settle(request, reply, found, verdict)
    } catch (err) {
      done(err as Error)
      return
    }
    if (isThenable(verdict)) Promise.resolve(verdict).then((v) => { settle(request, reply, found, v) }).then(() => { done() }, (err: Error) => { done(err) })
    else done()
  })

  /** Adds this response's session cookies, replacing any this plugin wrote before in it. */
  function write (reply: FastifyReply, state: ReplyState, headers: string[]): void {
    if (state.legacy) headers.push(clearLegacy)
    writeCookies(reply, state.written, headers)
    state.written = headers
  }

  function renew (request: FastifyRequest, reply: FastifyReply, state: ReplyState): void {
    const { userId, reissue, keyIndex, seconds } = state.pending as NonNullable<ReplyState['pending']>
    if (sharedCacheable(reply.getHeader('cache-control'), reply.getHeader('expires'))) {
      // A shared cache could hand this Set-Cookie to everyone: the next response that
      // no shared cache may store carries it instead.
      request.log.debug('fastify-dbbasic-sessions: renewal deferred: the response may be stored by a shared cache')
      if (sessionChannel.hasSubscribers) publish({ event: 'renewal-deferred', reason: 'shared cache', userId, route: routeOf(request), request })
      return
    }
    let header: string
    try {
      header = serializeCookie(cookieName, makeToken(userId, reissue.expires, keys, reissue), reissue.persistent === false ? undefined : reissue.expires - Math.floor(seconds), cookie)
    } catch (err) {
      // A user id near the size limit may not fit once iat is added: keep the
      // session the request carries rather than fail it.
      request.log.debug({ code: (err as { code?: string }).code }, 'fastify-dbbasic-sessions: could not re-issue the cookie')
      return
    }
    write(reply, state, [header])
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
    warnPlainHttp(request, cookie.secure)
    if (reissue.renewed) request.log.debug({ expiresAt: reissue.expires }, 'fastify-dbbasic-sessions: session renewed')
    if (keyIndex > 0) request.log.debug({ secretIndex: keyIndex }, 'fastify-dbbasic-sessions: re-signed with the newest secret')
    if (sessionChannel.hasSubscribers) {
      const route = routeOf(request)
      if (reissue.renewed) publish({ event: 'renewed', userId, expiresAt: reissue.expires, secretIndex: keyIndex, route, request })
      // Whatever else changed in the cookie besides its expiry; the first reason that applies.
      const reason = keyIndex > 0 ? 'older secret' : state.legacy ? 'cookie name' : reissue.pinned ? 'login time' : undefined
      if (reason !== undefined) publish({ event: 're-signed', reason, userId, expiresAt: reissue.expires, secretIndex: keyIndex, route, request })
    }
  }

  fastify.addHook('onSend', function writeSession (request, reply, payload, done) {
    const state = (reply as StatefulReply)[kState]
    if (state !== null) {
      // A login or logout response is never stored, whatever the route asked for.
      if (state.explicit) reply.header('cache-control', 'no-store')
      else if (state.pending !== null) renew(request, reply, state)
    }
    const session = (request as SessionRequest)[sessionName]
    if (session !== null && session.userId !== null && sharedCacheable(reply.getHeader('cache-control'), reply.getHeader('expires'))) {
      // The body may depend on who asked: a shared cache must key it by the cookie.
      varyOnCookie(reply)
    }
    done(null, payload)
  })

  function notSent (reply: FastifyReply, what: string): void {
    if (reply.sent || reply.raw.headersSent) {
      throw new ReplySentError(`${what} was called after the reply was sent, so no cookie can go out; call it before sending the response`)
    }
  }

  function setSession (request: FastifyRequest, session: Session): void {
    const current = (request as SessionRequest)[sessionName]
    if (current === null) (request as SessionRequest)[sessionName] = session
    else Object.assign(current, session)
  }

  fastify.decorateReply('createSession', function createSession (this: FastifyReply, userId: Contract.UserId, opts?: Contract.ReplyCreateSessionOptions) {
    notSent(this, 'createSession')
    const { ttl = config.ttl, persistent = true } = checkReplyOptions(opts)
    const id = normalizeUserId(userId)
    const seconds = clockSeconds(now)
    const issue = loginTimes(seconds, ttl, persistent, policy)
    const token = makeToken(id, issue.expires, keys, issue)
    const header = serializeCookie(cookieName, token, persistent ? issue.expires - Math.floor(seconds) : undefined, cookie)
    const state = stateOf(this)
    write(this, state, [header])
    state.explicit = true
    state.pending = null
    warnPlainHttp(this.request, cookie.secure)
    setSession(this.request, { userId: id, issuedAt: issue.iat ?? null, expiresAt: issue.expires })
    if (sessionChannel.hasSubscribers) publish({ event: 'created', userId: id, expiresAt: issue.expires, route: routeOf(this.request), request: this.request })
    return token
  })

  fastify.decorateReply('destroySession', function destroySession (this: FastifyReply) {
    notSent(this, 'destroySession')
    const state = stateOf(this)
    write(this, state, [serializeCookie(cookieName, '', 0, cookie)])
    state.explicit = true
    state.pending = null
    setSession(this.request, none())
    if (sessionChannel.hasSubscribers) publish({ event: 'destroyed', route: routeOf(this.request), request: this.request })
    return this
  })

  fastify.decorateRequest('requireUserId', function requireUserId (this: FastifyRequest): string {
    const userId = (this as SessionRequest)[sessionName]?.userId ?? null
    if (userId === null) throw new UnauthorizedError()
    return userId
  })

  fastify.decorate('requireSession', async function requireSession (request: FastifyRequest) {
    if (((request as SessionRequest)[sessionName]?.userId ?? null) === null) throw new UnauthorizedError()
  })

  fastify.decorate('readSession', async function readSession (cookieHeader: string | null | undefined): Promise<Session> {
    if (typeof cookieHeader !== 'string' && cookieHeader != null) {
      throw new TypeError(`fastify-dbbasic-sessions: readSession takes the Cookie header as a string (undefined or null when there is none); got ${typeof cookieHeader === 'object' ? 'an object' : `a ${typeof cookieHeader}`}`)
    }
    const found = find(cookieHeader ?? undefined)
    if (typeof found === 'string') return noSession(null, found)
    // No response carries a renewal from here: the session ends when the token does
    // (or earlier, at the absoluteTtl cap).
    const session = (): Contract.ValidatedSession => ({ ...sessionOf(found.decision), expiresAt: Math.min(found.decision.expiresAt, found.token.expires) })
    // validate gets a copy of its own, as in the hook: what it does to it changes nothing here.
    if (validate !== undefined && !verdictOf(await validate(session(), null), null)) return noSession(null, 'revoked')
    return session()
  })

  fastify.decorate('sessionSecurityScheme', Object.freeze({ type: 'apiKey' as const, in: 'cookie' as const, name: cookieName }))
}

export const fastifyDbbasicSessions: typeof Contract.fastifyDbbasicSessions = fp(plugin, {
  fastify: '5.x',
  name: 'fastify-dbbasic-sessions'
})
export default fastifyDbbasicSessions
export { createSession, getSession, destroySession } from './standalone.js'
export { safeRedirect } from './redirect.js'
export { CrossOriginError, InvalidOptionError, InvalidUserIdError, NoSecretError, ReplySentError, TooLargeError, UnauthorizedError } from './errors.js'
export { optionsSchema, diagnosticsChannelName }
