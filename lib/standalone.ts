// The seed's three functions, for code outside a Fastify request.
import type * as Contract from '../types/index.js'
import { InvalidUserIdError, TooLargeError } from './errors.js'
import { DEFAULT_TTL, checkCreateOptions, checkGetOptions, clockSeconds, resolveKeys, shown } from './options.js'
import { MAX_TOKEN_LENGTH, encodeToken, verifyToken, type Extras, type Keys } from './token.js'

/** The user id as the token carries it: the reference writes str(user_id). */
export function normalizeUserId (userId: unknown): string {
  if (typeof userId === 'string' && userId.length > 0) return userId
  if ((typeof userId === 'number' && Number.isSafeInteger(userId)) || typeof userId === 'bigint') return String(userId)
  throw new InvalidUserIdError(`userId must be a non-empty string or a safe integer; got ${shown(userId)}`)
}

export function makeToken (userId: string, expires: number, keys: Keys, extras?: Extras): string {
  const token = encodeToken(userId, expires, keys[0], extras)
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new TooLargeError(`the token would be ${token.length} characters, over the ${MAX_TOKEN_LENGTH} a cookie holds; use a shorter user id`)
  }
  return token
}

// Keys are derived once per distinct secret, not on every call.
let lastSecret: Contract.Secret | undefined
let lastKeys: Keys | undefined
function keysFor (secret: Contract.Secret | undefined): Keys {
  const wanted = secret ?? process.env.SECRET_KEY
  if (lastKeys === undefined || wanted !== lastSecret) {
    lastKeys = resolveKeys(secret)
    lastSecret = wanted
  }
  return lastKeys
}

export const createSession: typeof Contract.createSession = (userId, options) => {
  const { secret, ttl = DEFAULT_TTL, now = Date.now } = checkCreateOptions(options)
  const id = normalizeUserId(userId)
  const keys = keysFor(secret)
  return makeToken(id, Math.floor(clockSeconds(now)) + ttl, keys)
}

export const getSession: typeof Contract.getSession = (token, options) => {
  const { secret, now = Date.now } = checkGetOptions(options)
  const result = verifyToken(token, keysFor(secret), clockSeconds(now))
  return typeof result === 'string' ? null : result.userId
}

export const destroySession: typeof Contract.destroySession = () => undefined
