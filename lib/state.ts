// What one request and its response hold for this plugin, shared by the request side
// (which reads the session) and the reply side (which writes cookies).
import type { FastifyReply, FastifyRequest } from 'fastify'
import type * as Contract from '../types/index.js'
import type { Decision, Reissue } from './lifecycle.js'
import type { Verified } from './token.js'

/** A session read from the Cookie header, before `validate`. */
export interface Found {
  token: Verified
  decision: Decision
  seconds: number
}

/** What this plugin does to one response; allocated only when there is something to do. */
export interface ReplyState {
  /** A renewal or re-signing decided in onRequest, written in onSend. */
  pending: { userId: string, reissue: Reissue, expiresAt: number, keyIndex: number, seconds: number } | null
  /** The Set-Cookie header this plugin wrote to the response, so a later call replaces exactly it. */
  written: string | null
  /** The route signed in or out (createSession, destroySession, refreshLogin). */
  explicit: boolean
  /** What a sign-in or sign-out is still storing: the response goes out once it is done. */
  storing: Promise<unknown> | null
}

const kState = Symbol('fastify-dbbasic-sessions.state')
/** The token of the session this request was accepted with (what signing out or in over it ends). */
const kToken = Symbol('fastify-dbbasic-sessions.token')

type StatefulReply = FastifyReply & { [kState]: ReplyState | null | undefined }
type TokenRequest = FastifyRequest & { [kToken]: Verified | null | undefined }

export { kState, kToken }

/** The reply's state, made on first use. */
export function stateOf (reply: FastifyReply): ReplyState {
  const r = reply as StatefulReply
  return (r[kState] ??= { pending: null, written: null, explicit: false, storing: null })
}

/** The reply's state if any; undefined too on a reply Fastify did not decorate (its fallback paths). */
export const stateIfAny = (reply: FastifyReply): ReplyState | null | undefined => (reply as StatefulReply)[kState]

export const tokenOf = (request: FastifyRequest): Verified | null => (request as TokenRequest)[kToken] ?? null
export function setToken (request: FastifyRequest, token: Verified | null): void {
  (request as TokenRequest)[kToken] = token
}

export type SessionRequest = FastifyRequest & Record<string, Contract.Session | null | undefined>

export const none = (): Contract.Session => ({ userId: null, issuedAt: null, expiresAt: null, sessionId: null })
