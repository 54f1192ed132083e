// The request side: find the session cookie, verify it, apply the lifetime rules and
// the revocations, ask `validate`, and fill request.session.
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import type * as Contract from '../types/index.js'
import type { Context } from './context.js'
import { pick, readCookies } from './cookie.js'
import { crossOriginRefusal } from './csrf.js'
import { publish, sessionChannel, sourceOf } from './diagnostics.js'
import { CrossOriginError, InvalidOptionError, shown } from './errors.js'
import { assess, type Decision } from './lifecycle.js'
import { clockSeconds } from './clock.js'
import { acceptedWith, none, type Found, type SessionRequest } from './state.js'
import type { Verified } from './token.js'

type Reason = Contract.NoSessionReason

const NO_SESSION = 'fastify-dbbasic-sessions: no session'

/** The route's `config: { csrf: false }`, as an own property only. */
const optedOut = (request: FastifyRequest): boolean => {
  const config = request.routeOptions.config
  return Object.hasOwn(config, 'csrf') && config.csrf === false
}

const sessionOf = (decision: Decision, token: Verified, expiresAt: number): Contract.ValidatedSession =>
  ({ userId: decision.userId, issuedAt: decision.issuedAt, expiresAt, sessionId: token.sid })

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as PromiseLike<unknown> | null)?.then === 'function'

function noSession (ctx: Context, request: FastifyRequest | null, reason: Reason): void {
  // Anonymous requests (health checks, assets) are most of them: only a cookie that failed is worth a debug line.
  const log = request?.log ?? ctx.log
  if (reason === 'no cookie') log.trace({ reason }, NO_SESSION)
  else log.debug({ reason }, NO_SESSION)
  if (sessionChannel.hasSubscribers) publish({ event: 'no-session', reason, ...(request === null ? { route: undefined, requestId: null, method: null } : sourceOf(request)) })
}

/** The session the Cookie header carries, checked up to (not including) `validate`. */
function find (ctx: Context, header: string | undefined, reply: FastifyReply | null): Found | Reason {
  const { cookieName, now, policy } = ctx.config
  if (header === undefined) return 'no cookie'
  const values = readCookies(header, cookieName)
  if (values.length === 0) return 'no cookie'
  const seconds = clockSeconds(now)
  const token = pick(values, ctx.verify, seconds)
  if (typeof token === 'string') return token
  const decision = assess(token, seconds, policy, ctx.resigns(token.keyIndex))
  if (typeof decision === 'string') return decision
  const gone = ctx.revocations?.refusal(token, seconds)
  // Refused for want of the store, not for anything the token is: a sign-out must still end it.
  if (gone === 'revocations unavailable' && reply !== null) acceptedWith(reply, token)
  if (gone !== undefined) return gone
  return { token, decision, seconds }
}

/** `validate`'s verdict: true, false, or an error for anything else (whose value only a debug line shows). */
function verdictOf (ctx: Context, verdict: unknown, request: FastifyRequest | null): boolean {
  if (verdict === true || verdict === false) return verdict
  ;(request?.log ?? ctx.log).debug({ got: shown(verdict) }, 'fastify-dbbasic-sessions: validate returned something other than a boolean')
  throw new InvalidOptionError('validate must return true or false (or a promise of one)')
}

function accept (ctx: Context, request: FastifyRequest, reply: FastifyReply, found: Found): void {
  const { sessionName } = ctx.config
  const { decision, token } = found
  ;(request as SessionRequest)[sessionName] = sessionOf(decision, token, decision.expiresAt)
  const state = acceptedWith(reply, token)
  const { reissue } = decision
  if (reissue !== null) state.pending = { userId: decision.userId, reissue, expiresAt: decision.expiresAt, keyIndex: token.keyIndex, seconds: found.seconds }
}

function settle (ctx: Context, request: FastifyRequest, reply: FastifyReply, found: Found, verdict: unknown): void {
  if (verdictOf(ctx, verdict, request)) accept(ctx, request, reply, found)
  else noSession(ctx, request, 'revoked')
}

function refuseCrossOrigin (ctx: Context, request: FastifyRequest): Error | undefined {
  const { trustedOrigins } = ctx.config
  if (trustedOrigins === null) return undefined
  const refusal = crossOriginRefusal(request.method, request.headers, trustedOrigins)
  if (refusal === undefined || optedOut(request)) return undefined
  request.log.info({ reason: refusal }, 'fastify-dbbasic-sessions: cross-origin request refused')
  if (sessionChannel.hasSubscribers) publish({ event: 'cross-origin-refused', reason: refusal, ...sourceOf(request) })
  return new CrossOriginError()
}

// request.session is set once: the session, or an empty one (also while validate runs,
// and when anything fails).
function onRequest (ctx: Context, request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
  const { sessionName, validate } = ctx.config
  const refused = refuseCrossOrigin(ctx, request)
  const found = refused === undefined ? find(ctx, request.headers.cookie, reply) : 'no cookie'
  if (typeof found !== 'string' && validate === undefined) {
    accept(ctx, request, reply, found)
    done()
    return
  }
  ;(request as SessionRequest)[sessionName] = none()
  if (refused !== undefined) {
    done(refused)
    return
  }
  if (typeof found === 'string') {
    noSession(ctx, request, found)
    done()
    return
  }
  let verdict: unknown
  try {
    verdict = (validate as NonNullable<typeof validate>)(sessionOf(found.decision, found.token, found.decision.expiresAt), request)
    if (!isThenable(verdict)) settle(ctx, request, reply, found, verdict)
  } catch (err) {
    done(err as Error)
    return
  }
  if (isThenable(verdict)) Promise.resolve(verdict).then((v) => { settle(ctx, request, reply, found, v) }).then(() => { done() }, (err: Error) => { done(err) })
  else done()
}

async function readSession (ctx: Context, cookieHeader: unknown): Promise<Contract.Session> {
  const { validate } = ctx.config
  if (typeof cookieHeader !== 'string' && cookieHeader != null) {
    throw new TypeError(`fastify-dbbasic-sessions: readSession takes the Cookie header as a string (undefined or null when there is none); got ${typeof cookieHeader === 'object' ? 'an object' : `a ${typeof cookieHeader}`}`)
  }
  const found = find(ctx, cookieHeader ?? undefined, null)
  if (typeof found === 'string') {
    noSession(ctx, null, found)
    return none()
  }
  // No response carries a renewal from here: the session ends when the token does.
  const session = (): Contract.ValidatedSession => sessionOf(found.decision, found.token, found.decision.expiry)
  // validate gets a copy of its own, as in the hook: what it does to it changes nothing here.
  if (validate !== undefined && !verdictOf(ctx, await validate(session(), null), null)) {
    noSession(ctx, null, 'revoked')
    return none()
  }
  return session()
}

export function makeRequestSide (ctx: Context): { onRequest: onRequestHookHandler, readSession: (header: unknown) => Promise<Contract.Session> } {
  return {
    onRequest: function readSessionHook (request, reply, done) { onRequest(ctx, request, reply, done) },
    readSession: async (header) => await readSession(ctx, header)
  }
}
