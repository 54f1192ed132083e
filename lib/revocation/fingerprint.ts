// A 64-bit fingerprint of a session's revocation key, as two 32-bit halves. The keys are
// random (a sid, or a hash of a signature), so two multiplicative string hashes with
// different seeds spread them well; a false match needs both halves to agree
// (about one in 2^64 per pair).
export function fingerprintHigh (key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  return h >>> 0
}

export function fingerprintLow (key: string): number {
  let h = 0x9747b28c
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x5bd1e995) ^ (h >>> 15)
  return h >>> 0
}
