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

/**
 * What this plugin holds for one request and its response: made when a session is
 * accepted or the route signs in or out, on the reply (so that Fastify's request and
 * reply constructors each set one decorated key, and stay monomorphic).
 */
export interface ReplyState {
  /** The token of the session the request was accepted with: what signing out or in over it ends. */
  token: Verified | null
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

type StatefulReply = FastifyReply & { [kState]: ReplyState | null | undefined }

export { kState }

const fresh = (token: Verified | null): ReplyState => ({ token, pending: null, written: null, explicit: false, storing: null })

/** The reply's state, made on first use. */
export function stateOf (reply: FastifyReply): ReplyState {
  const r = reply as StatefulReply
  return (r[kState] ??= fresh(null))
}

/** The state of a request accepted with `token` (onRequest, before anything else made one). */
export const acceptedWith = (reply: FastifyReply, token: Verified): ReplyState => ((reply as StatefulReply)[kState] = fresh(token))

/** The reply's state if any; undefined too on a reply Fastify did not decorate (its fallback paths). */
export const stateIfAny = (reply: FastifyReply): ReplyState | null | undefined => (reply as StatefulReply)[kState]

/** The session the request was accepted with, if any. */
export const tokenOf = (reply: FastifyReply): Verified | null => (reply as StatefulReply)[kState]?.token ?? null

export type SessionRequest = FastifyRequest & Record<string, Contract.Session | null | undefined>

export const none = (): Contract.Session => ({ userId: null, issuedAt: null, expiresAt: null, sessionId: null })
