// What a verified token means for this request: still a session or not, and
// whether the cookie must be re-issued (rolling renewal, secret rotation).
// Pure: no Fastify, no clock of its own.
import { isExpired, type Verified } from './token.js'

export interface Policy {
  ttl: number
  absoluteTtl: number | undefined
  rolling: boolean
  clockTolerance: number
  /** Tokens carry `iat` (any of rolling, absoluteTtl, validate is set). */
  withIat: boolean
}

export interface Reissue {
  expires: number
  iat: number | undefined
  /** The expiry moved later (rolling); otherwise only the signing secret changed. */
  renewed: boolean
}

export interface Decision {
  userId: string
  /** The login time the token carries, or null when it carries none. */
  issuedAt: number | null
  /** When the session ends, after any cap or renewal. */
  expiresAt: number
  reissue: Reissue | null
}

export type Refusal = 'issued in the future' | 'absolute lifetime over'

/** The expiry and iat of a new login at `nowSeconds`. */
export function loginTimes (nowSeconds: number, ttl: number, policy: Policy): Omit<Reissue, 'renewed'> {
  const iat = Math.floor(nowSeconds)
  const lifetime = policy.absoluteTtl === undefined ? ttl : Math.min(ttl, policy.absoluteTtl)
  return { expires: iat + lifetime, iat: policy.withIat ? iat : undefined }
}

export function assess (token: Verified, nowSeconds: number, policy: Policy): Decision | Refusal {
  if (token.iat !== null && token.iat > nowSeconds + policy.clockTolerance) return 'issued in the future'
  // A token without iat (made by Python, or before iat was turned on) counts as
  // issued one ttl before it expires.
  const iat = token.iat ?? token.expires - policy.ttl
  let expires = token.expires
  if (policy.absoluteTtl !== undefined) {
    const end = iat + policy.absoluteTtl
    if (isExpired(end, policy.clockTolerance, nowSeconds)) return 'absolute lifetime over'
    expires = Math.min(expires, end)
  }
  let renewed = false
  if (policy.rolling && expires - nowSeconds < policy.ttl / 2) {
    const next = Math.floor(nowSeconds) + policy.ttl
    const capped = policy.absoluteTtl === undefined ? next : Math.min(next, iat + policy.absoluteTtl)
    if (capped > expires) {
      expires = capped
      renewed = true
    }
  }
  // Inside the clock tolerance a token may be past its expiry: re-issuing it
  // would only send a cookie that is already gone.
  const reissue = (renewed || token.keyIndex > 0) && expires > nowSeconds ? { expires, iat: policy.withIat ? iat : undefined, renewed } : null
  return { userId: token.userId, issuedAt: token.iat, expiresAt: expires, reissue }
}
