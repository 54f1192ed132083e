// Verification for one plugin instance: the codec, plus a bounded cache of tokens
// that already verified, so a browser sending the same cookie on every request
// costs a comparison and an expiry check instead of an HMAC.
import { isExpired, verifyToken, type Failure, type Keys, type Verified } from './token.js'

export type Verify = (token: string, nowSeconds: number) => Verified | Failure

/**
 * The text the cache may hold, token and user id together, is at most this many
 * bytes per entry of `cacheSize` on average: long user ids make fewer entries,
 * not a bigger heap.
 */
export const CACHE_BYTES_PER_ENTRY = 256

// Where a token goes in the cache: a hash of its last characters, which for a
// token that verified are its HMAC. Reading 8 characters costs far less than the
// hash of the whole string a Map lookup would compute for every fresh cookie.
function fingerprint (token: string): number {
  let h = 0
  for (let i = token.length - 8; i < token.length; i++) h = (Math.imul(h, 31) + token.charCodeAt(i)) | 0
  return h
}

// A copy that does not keep the Cookie header the token was sliced from alive.
const copy = (token: string): string => (' ' + token).slice(1)

export function makeVerifier (keys: Keys, tolerance: number, cacheSize: number): Verify {
  if (cacheSize === 0) return (token, nowSeconds) => verifyToken(token, keys, nowSeconds, tolerance)
  // One slot per entry, chosen by fingerprint: a lookup is one comparison, an
  // insertion replaces what the slot held. A token is cached the second time in a
  // row it verifies at its slot (`seen` remembers the last fingerprint there), so
  // tokens seen once, the common case behind a balancer with many users, cost no
  // copy, and they cannot push out the tokens in use.
  const tokens: Array<string | undefined> = new Array(cacheSize).fill(undefined)
  const results: Array<Verified | undefined> = new Array(cacheSize).fill(undefined)
  const prints = new Int32Array(cacheSize)
  const seen = new Int32Array(cacheSize)
  const budget = cacheSize * CACHE_BYTES_PER_ENTRY
  let bytes = 0
  // User ids may need two bytes a character; tokens are ASCII.
  // A token without a sid also keeps its signature, and once revocation asked, its key.
  const textOf = (token: string, result: Verified): number => token.length + 2 * result.userId.length + (result.signature === null ? 0 : 64 + 22)
  const cost = (slot: number): number => tokens[slot] === undefined ? 0 : textOf(tokens[slot] as string, results[slot] as Verified)
  const clear = (slot: number): void => {
    bytes -= cost(slot)
    tokens[slot] = undefined
    results[slot] = undefined
  }

  return function verify (token, nowSeconds) {
    const print = fingerprint(token)
    const slot = (print >>> 0) % cacheSize
    if (prints[slot] === print && tokens[slot] === token) {
      const hit = results[slot] as Verified
      // A hit resets the slot's memory: a token that shares the slot is cached
      // only when seen twice with no use of this one in between.
      seen[slot] = print
      if (!isExpired(hit.expires, tolerance, nowSeconds)) return hit
      clear(slot)
      return 'expired'
    }
    const result = verifyToken(token, keys, nowSeconds, tolerance)
    if (typeof result === 'string') return result
    if (seen[slot] !== print) {
      seen[slot] = print
      return result
    }
    const added = textOf(token, result)
    if (bytes - cost(slot) + added <= budget) {
      clear(slot)
      tokens[slot] = copy(token)
      results[slot] = result
      prints[slot] = print
      bytes += added
    }
    return result
  }
}
