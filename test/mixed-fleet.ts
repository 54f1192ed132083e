// Shared by the rotation tests; not a test itself: a client alternating between the
// servers of a fleet caught mid-deploy, holding the cookie its browser would hold.
import type { FastifyInstance } from 'fastify'
import { getSession } from '../lib/index.js'
import { visit } from './helpers.js'

export interface Walk {
  /** Responses that carried a Set-Cookie. */
  setCookies: number
  /** Times the secret that signs the client's cookie changed. */
  resigned: number
  /** Requests that carried the cookie but got no session, or another user's. */
  lost: number
}

/** Which of `secrets` signed `token` (by position), or -1. */
export function signerOf (token: string, secrets: readonly string[], now: () => number): number {
  return secrets.findIndex((secret) => getSession(token, { secret, now }) !== null)
}

/**
 * `requests` visits by the holder of `token` (a session of `user`), to apps[first],
 * then the other, in turn; `between` runs before each visit (a clock moving on).
 */
export async function alternate (
  apps: readonly FastifyInstance[], first: number, user: string, token: string, requests: number,
  secrets: readonly string[], now: () => number, between: () => void = () => {}
): Promise<Walk> {
  const walk: Walk = { setCookies: 0, resigned: 0, lost: 0 }
  let cookie = token
  let signer = signerOf(cookie, secrets, now)
  for (let i = 0; i < requests; i++) {
    between()
    const seen = await visit(apps[(first + i) % apps.length], cookie)
    if (seen.session.userId !== user) walk.lost++
    if (seen.setCookies > 0) walk.setCookies++
    if (seen.cookie === undefined) continue
    cookie = seen.cookie.value
    const next = signerOf(cookie, secrets, now)
    if (next !== signer) walk.resigned++
    signer = next
  }
  return walk
}
