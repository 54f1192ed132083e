// What a verified token means for this request: still a session or not, and whether
// the cookie must be re-issued (rolling renewal, secret rotation). The lifetime rules
// apply when reading, to every token, from what the token carries and the options in
// force: never from the time it happens to be read at. Pure: no Fastify, no clock.
//
// One word for each time, in Unix seconds (the wire's names in brackets):
//   login       when the user signed in, or refreshLogin ran [iat; request.session.issuedAt]
//   expiry      when the session ends if nothing renews it [expires; expiresAt]
//   renewal     when a rolling renewal last wrote the token [renewed]
//   last write  the renewal, else the login
//   keep-until  until when a revocation must be kept [until]
// A lifetime is a length (ttl, absoluteTtl, externalTtl), never a time. A generation
// [gen] orders a login after a sign-out everywhere; it is not a time to compare.
import { revocationKey } from './session-id.js'
import { isExpired, type Extras, type Verified } from './token.js'

/** 400 days: browsers cap a cookie's lifetime there, so no session this plugin writes lives longer. */
export const MAX_TTL = 34560000

export interface Policy {
  ttl: number
  absoluteTtl: number | undefined
  rolling: boolean
  /**
   * The most two clocks may disagree by, in seconds (the servers', and Python's): the
   * grace after an expiry, and the margin every rule comparing two machines' times keeps.
   */
  clockTolerance: number
  /** The longest ttl that tokens without `iat` (Python, the standalone API) are made with. */
  externalTtl: number
}

/** A token to write: its expiry and the fields it carries besides the user id. */
export interface Issue extends Extras {
  expires: number
}

export interface Reissue extends Issue {
  /** The expiry moved later (rolling); otherwise only the signature or the name changed. */
  extended: boolean
}

export interface Decision {
  userId: string
  /** The login time the token carries, or null when it carries none. */
  issuedAt: number | null
  /** The expiry, every cap of the options in force applied. */
  expiry: number
  /** The expiry after this request (a renewal moves it later). */
  expiresAt: number
  reissue: Reissue | null
}

export type Refusal = 'issued in the future' | 'expiry too far' | 'absolute lifetime over' | 'expired'

/**
 * The fields of a token for a login at `nowSeconds`, with this login's ttl and
 * persistence, and `gen`, the user's latest sign-out everywhere known here.
 */
export function loginFields (nowSeconds: number, ttl: number, persistent: boolean, policy: Policy, sid: string, gen: number | undefined): Issue & { iat: number } {
  const iat = Math.floor(nowSeconds)
  const lifetime = policy.absoluteTtl === undefined ? ttl : Math.min(ttl, policy.absoluteTtl)
  return {
    expires: iat + lifetime,
    iat,
    sid,
    gen,
    // A login's own ttl is kept: the plugin's ttl may change, the login's choice does not.
    ttl: ttl !== policy.ttl ? ttl : undefined,
    persistent: persistent ? undefined : false
  }
}

/**
 * The login time of a token (Unix seconds): its `iat`, or for a token without one
 * (made by Python or the standalone API) `externalTtl` before it expires. It depends
 * on the token alone, so a replayed copy never gets more lifetime than the original.
 * For a token without `iat` it is the latest its real login can be: such a token
 * expiring more than `externalTtl` from now is refused (see `future`), so none was
 * made with a longer ttl.
 */
export function loginOf (token: Verified, policy: Policy): number {
  return token.iat ?? token.expires - policy.externalTtl
}

/** The token's last write: its renewal, else its login. */
const lastWriteOf = (token: Verified, policy: Policy): number => token.renewed ?? loginOf(token, policy)

/** The idle or fixed lifetime that applies to this token now: its login's own, else the plugin's. */
const lifetimeOf = (token: Verified, policy: Policy): number => token.ttl ?? policy.ttl

/**
 * The expiry, every rule of the options in force applied: the token's own, its last
 * write plus the lifetime now in force (so lowering `ttl` shortens sessions already
 * issued), and its login plus `absoluteTtl`.
 */
export function expiryOf (token: Verified, policy: Policy): number {
  const expiry = Math.min(token.expires, lastWriteOf(token, policy) + lifetimeOf(token, policy))
  return policy.absoluteTtl === undefined ? expiry : Math.min(expiry, loginOf(token, policy) + policy.absoluteTtl)
}

/**
 * The keep-until of a revocation of this token's session: the latest any copy of it,
 * renewed anywhere up to now, can still be accepted.
 */
export function keepUntil (token: Verified, nowSeconds: number, policy: Policy): number {
  const renewals = policy.rolling ? Math.floor(nowSeconds) + renewalLifetime(token, policy) : 0
  let until = Math.max(expiryOf(token, policy), renewals)
  if (policy.absoluteTtl !== undefined) until = Math.min(until, loginOf(token, policy) + policy.absoluteTtl)
  return until + policy.clockTolerance
}

/** A renewal never stretches a session past the lifetime it was issued with. */
function renewalLifetime (token: Verified, policy: Policy): number {
  const issued = token.expires - lastWriteOf(token, policy)
  return Math.max(1, Math.min(lifetimeOf(token, policy), issued))
}

/**
 * Whether the token says it was written after now (beyond the clock tolerance): its
 * `iat` or `renewed`, or for a token without `iat` the login it counts as, which a
 * ttl longer than `externalTtl` would put in the future.
 */
function future (token: Verified, nowSeconds: number, policy: Policy): boolean {
  const latest = nowSeconds + policy.clockTolerance
  return loginOf(token, policy) > latest || (token.renewed !== null && token.renewed > latest)
}

/**
 * `resign` says the key that verified the token is one to re-sign away from.
 */
export function assess (token: Verified, nowSeconds: number, policy: Policy, resign: boolean): Decision | Refusal {
  // Nothing this plugin writes expires later; Python can (a 100-year ttl), and such an
  // expiry would not fit the revocation table's 32-bit times.
  if (token.expires > nowSeconds + MAX_TTL + policy.clockTolerance) return 'expiry too far'
  if (future(token, nowSeconds, policy)) return 'issued in the future'
  const login = loginOf(token, policy)
  if (policy.absoluteTtl !== undefined && isExpired(login + policy.absoluteTtl, policy.clockTolerance, nowSeconds)) return 'absolute lifetime over'
  const expiry = expiryOf(token, policy)
  if (isExpired(expiry, policy.clockTolerance, nowSeconds)) return 'expired'
  // A token past its expiry, accepted only inside the clock tolerance, is never
  // renewed or re-issued: that would turn the tolerance into more lifetime.
  const lapsed = isExpired(expiry, 0, nowSeconds)
  let expires = expiry
  let renewedAt: number | undefined
  const lifetime = policy.rolling ? renewalLifetime(token, policy) : 0
  if (!lapsed && policy.rolling && expiry - nowSeconds < lifetime / 2) {
    const next = Math.floor(nowSeconds) + lifetime
    const capped = policy.absoluteTtl === undefined ? next : Math.min(next, login + policy.absoluteTtl)
    if (capped > expiry) {
      expires = capped
      renewedAt = Math.floor(nowSeconds)
    }
  }
  const next: Reissue | null = !lapsed && (renewedAt !== undefined || resign)
    ? {
        expires: renewedAt === undefined ? token.expires : expires,
        // A login up to clockTolerance ahead (another server's clock) is written as now:
        // earlier is the safe side for every rule that reads it.
        iat: Math.min(login, Math.floor(nowSeconds)),
        // A token without a sid gets the key its copies already have, so revoking the
        // re-issued session also refuses the copies made before.
        sid: revocationKey(token),
        gen: token.gen ?? undefined,
        renewed: renewedAt ?? token.renewed ?? undefined,
        ttl: token.ttl ?? undefined,
        persistent: token.persistent ? undefined : false as const,
        extended: renewedAt !== undefined
      }
    : null
  return { userId: token.userId, issuedAt: token.iat, expiry, expiresAt: expires, reissue: next }
}
