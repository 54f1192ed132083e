// Verification for one plugin instance: the codec, plus a bounded cache of tokens
// that already verified, so a browser sending the same cookie on every request
// costs a map lookup and an expiry check instead of an HMAC.
import { verifyToken, type Failure, type Keys, type Verified } from './token.js'

export type Verify = (token: string, nowSeconds: number) => Verified | Failure

export function makeVerifier (keys: Keys, tolerance: number, cacheSize: number): Verify {
  if (cacheSize === 0) return (token, nowSeconds) => verifyToken(token, keys, nowSeconds, tolerance)
  // Only tokens whose signature verified are stored; insertion order evicts the oldest.
  const cache = new Map<string, Verified>()
  return function verify (token, nowSeconds) {
    const hit = cache.get(token)
    if (hit !== undefined) {
      if (hit.expires + tolerance > nowSeconds) return hit
      cache.delete(token)
      return 'expired'
    }
    const result = verifyToken(token, keys, nowSeconds, tolerance)
    if (typeof result !== 'string') {
      if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string)
      // A copy: the token is a slice of the Cookie header, which it would keep alive.
      cache.set(Buffer.from(token, 'latin1').toString('latin1'), Object.freeze(result))
    }
    return result
  }
}
