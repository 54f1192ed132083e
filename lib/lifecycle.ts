// What a verified token means for this request: still a session or not, and
// whether the cookie must be re-issued (rolling renewal, secret rotation, pinning
// the login time of a token that carries none). Pure: no Fastify, no clock of its own.
import { isExpired, type Extras, type Verified } from './token.js'

export interface Policy {
  ttl: number
  absoluteTtl: number | undefined
  rolling: boolean
  clockTolerance: number
  /** Tokens carry `iat` (any of rolling, absoluteTtl, validate is set). */
  withIat: boolean
  /** Per key (by keyIndex): a token it verified is re-signed with the current secret. */
  resign: readonly boolean[]
}

/** A token to write: its expiry and the fields it carries besides the user id. */
export interface Issue extends Extras {
  expires: number
}

export interface Reissue extends Issue {
  /** The expiry moved later (rolling); otherwise only the signature or iat changed. */
  renewed: boolean
  /** The assumed login time is written in (a token without iat, under absoluteTtl). */
  pinned: boolean
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

/** The fields of a token for a login at `nowSeconds`, with this login's ttl and persistence. */
export function loginTimes (nowSeconds: number, ttl: number, persistent: boolean, policy: Policy): Issue {
  const iat = Math.floor(nowSeconds)
  const lifetime = policy.absoluteTtl === undefined ? ttl : Math.min(ttl, policy.absoluteTtl)
  return {
    expires: iat + lifetime,
    iat: policy.withIat ? iat : undefined,
    // Renewals need the login's own ttl; without rolling nothing reads it.
    ttl: policy.rolling && ttl !== policy.ttl ? ttl : undefined,
    persistent: persistent ? undefined : false
  }
}

/**
 * The login time of a token. One without `iat` (made by Python, by the standalone API,
 * or before iat was turned on) counts as issued one ttl before it expires, but never
 * later than now: a longer-lived token would otherwise get a login time in the future.
 */
export function loginTime (token: Verified, nowSeconds: number, policy: Policy): number {
  return token.iat ?? Math.min(token.expires - (token.ttl ?? policy.ttl), Math.floor(nowSeconds))
}

/** `reissue` forces a re-issue (a legacy-name cookie moving to the current name). */
export function assess (token: Verified, nowSeconds: number, policy: Policy, reissue = false): Decision | Refusal {
  if (token.iat !== null && token.iat > nowSeconds + policy.clockTolerance) return 'issued in the future'
  const iat = loginTime(token, nowSeconds, policy)
  const ttl = token.ttl ?? policy.ttl
  let expires = token.expires
  if (policy.absoluteTtl !== undefined) {
    const end = iat + policy.absoluteTtl
    if (isExpired(end, policy.clockTolerance, nowSeconds)) return 'absolute lifetime over'
    expires = Math.min(expires, end)
  }
  // A token past its own end, accepted only inside the clock tolerance, is never
  // renewed or re-issued: that would turn the tolerance into more lifetime.
  const lapsed = isExpired(expires, 0, nowSeconds)
  let renewed = false
  if (!lapsed && policy.rolling && expires - nowSeconds < ttl / 2) {
    const next = Math.floor(nowSeconds) + ttl
    const capped = policy.absoluteTtl === undefined ? next : Math.min(next, iat + policy.absoluteTtl)
    if (capped > expires) {
      expires = capped
      renewed = true
    }
  }
  // Under absoluteTtl a token without iat gets the login time assumed above written
  // into it, so the cap counts from here on instead of being assumed afresh each time.
  const pin = token.iat === null && policy.absoluteTtl !== undefined
  const next = !lapsed && (reissue || renewed || pin || policy.resign[token.keyIndex])
    ? {
        expires,
        iat: policy.withIat ? iat : undefined,
        ttl: token.ttl ?? undefined,
        persistent: token.persistent ? undefined : false as const,
        renewed,
        pinned: pin
      }
    : null
  return { userId: token.userId, issuedAt: token.iat, expiresAt: expires, reissue: next }
}
