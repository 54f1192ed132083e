// What the request side and the reply side of one plugin instance share.
import type { FastifyBaseLogger } from 'fastify'
import type { Config } from './options.js'
import type { RevocationSync } from './revocation/sync.js'
import type { Verify } from './verifier.js'

export interface Context {
  config: Config
  verify: Verify
  /** null when revocation is off. */
  revocations: RevocationSync | null
  log: FastifyBaseLogger
  /** Whether a token verified by the key at this position is re-signed with the first. */
  resigns: (keyIndex: number) => boolean
  logins: LoginClock
}

/**
 * Login times in milliseconds for this process, ordered with its "sign out everywhere"
 * cut-offs: a login made after a cut-off is never before it, even within one
 * millisecond or under a clock a test holds still.
 */
export class LoginClock {
  #floor = 0

  /** The time of a login at `nowMs`: later than every earlier login. */
  login (nowMs: number): number {
    const ms = Math.max(Math.floor(nowMs), this.#floor)
    this.#floor = ms + 1
    return ms
  }

  /** A cut-off made elsewhere: logins from now on are not before it. */
  observe (cutoffMs: number): void {
    this.#floor = Math.max(this.#floor, cutoffMs)
  }

  /** The time of a cut-off at `nowMs`: after every login made so far. */
  cutoff (nowMs: number): number {
    const ms = Math.max(Math.floor(nowMs), this.#floor)
    this.#floor = ms
    return ms
  }
}
