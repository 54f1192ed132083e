// What a session is known by: the id a token carries, or for a token without one (made by
// Python or the standalone API) an id derived from its signature, which every copy of
// that token shares. Revocations and the device list go by it. No Fastify.
import { hash, randomBytes } from 'node:crypto'
import type { Verified } from './token.js'

/** Characters a session id may hold: base64url, so it is written into JSON as it is. */
const SID = /^[A-Za-z0-9_-]{16,64}$/
/** Whether `value` has the form of a session id a token may carry. */
export const isSessionId = (value: unknown): value is string => typeof value === 'string' && SID.test(value)

/**
 * A new session id: 144 random bits in base64url (24 characters). Nothing in it tells
 * time: ordering against a "sign out everywhere" is the token's `gen`, not its id.
 */
export const newSessionId = (): string => randomBytes(18).toString('base64url')

/** What revocations know a verified token's session by; computed once per token. */
export function revocationKey (token: Verified): string {
  return (token.key ??= derivedKey(token.signature as string))
}

/** The key of a token without a sid: every copy shares it, and it does not give the token away. */
function derivedKey (signature: string): string {
  return hash('sha256', signature, 'base64url').slice(0, 22)
}
