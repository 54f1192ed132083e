// Verification for one plugin instance: the codec, plus a bounded cache of tokens
// that already verified, so a browser sending the same cookie on every request
// costs a map lookup and an expiry check instead of an HMAC.
import { isExpired, verifyToken, type Failure, type Keys, type Verified } from './token.js'

export type Verify = (token: string, nowSeconds: number) => Verified | Failure

export function makeVerifier (keys: Keys, tolerance: number, cacheSize: number): Verify {
  if (cacheSize === 0) return (token, nowSeconds) => verifyToken(token, keys, nowSeconds, tolerance)
  // Two generations of half the size each: when the young one fills up it becomes
  // the old one and the old one is dropped whole. A hit in the old generation moves
  // the token back to the young one, so tokens in use stay. Evicting one entry at a
  // time from a Map's front costs more than the HMAC it saves (V8 walks the holes).
  const half = Math.ceil(cacheSize / 2)
  let young = new Map<string, Verified>()
  let old = new Map<string, Verified>()
  const remember = (token: string, verified: Verified): void => {
    if (young.size >= half) {
      old = young
      young = new Map()
    }
    young.set(token, verified)
  }
  return function verify (token, nowSeconds) {
    let hit = young.get(token)
    if (hit === undefined) {
      hit = old.get(token)
      if (hit !== undefined) {
        old.delete(token)
        remember(token, hit)
      }
    }
    if (hit !== undefined) {
      if (!isExpired(hit.expires, tolerance, nowSeconds)) return hit
      young.delete(token)
      return 'expired'
    }
    const result = verifyToken(token, keys, nowSeconds, tolerance)
    // Only tokens whose signature verified are stored, as a copy: the token is a
    // slice of the Cookie header, which it would otherwise keep alive.
    if (typeof result !== 'string') remember(Buffer.from(token, 'latin1').toString('latin1'), result)
    return result
  }
}
