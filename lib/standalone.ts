// The seed's three functions, for code outside a Fastify request.
import type * as Contract from '../types/index.js'
import { InvalidUserIdError, shown } from './errors.js'
import type { CreateSessionOptions, GetSessionOptions } from '../types/index.js'
import { MAX_TTL } from './lifecycle.js'
import { clockSeconds } from './clock.js'
import { checkCreateOptions, checkGetOptions } from './option-check.js'
import { defaultOf, standaloneOptions } from './option-list.js'
import { resolveSecrets, sameSecrets, secretsKey } from './secrets.js'
import { makeToken, verifyToken, type Keys } from './token.js'

const DEFAULT_TTL = defaultOf<number>(standaloneOptions.ttl)

/** The user id as the token carries it: the reference writes str(user_id). */
export function normalizeUserId (userId: unknown): string {
  if (typeof userId === 'string' && userId.length > 0) return userId
  if ((typeof userId === 'number' && Number.isSafeInteger(userId)) || typeof userId === 'bigint') return String(userId)
  throw new InvalidUserIdError(`userId must be a non-empty string or a safe integer; got ${shown(userId)}`)
}

// Keys are derived once per distinct secret. It is compared by content, with a
// copy kept here: an array edited in place (an incident rotation with splice) or a
// changed SECRET_KEY (SECRET_KEYS, SECRET_KEYS_NEXT) takes effect on the next call.
// Never equal to a caller's secret: the first call derives keys.
const UNSET = Symbol('no secret yet')
let lastSecrets: readonly unknown[] = [UNSET]
let lastKeys: Keys = []
function keysFor (secret: Contract.Secret | undefined): Keys {
  if (sameSecrets(secret, lastSecrets)) return lastKeys
  const keys = resolveSecrets(secret).keys
  lastSecrets = secretsKey(secret) as readonly unknown[]
  lastKeys = keys
  return keys
}

interface Given { secret: unknown, ttl: unknown, now: unknown }
const NOTHING_GIVEN: Given = Object.freeze({ secret: undefined, ttl: undefined, now: undefined })

/**
 * The options as the full check reads them (own enumerable properties, each read
 * once), or undefined when they hold another name or an inherited one: then the
 * full check runs on the caller's object and says what is wrong.
 */
function given (options: unknown, withTtl: boolean): Given | undefined {
  if (options === undefined) return NOTHING_GIVEN
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return undefined
  let secret = false
  let ttl = false
  let now = false
  for (const key in options) {
    if (!Object.hasOwn(options, key)) return undefined
    if (key === 'secret') secret = true
    else if (key === 'now') now = true
    else if (key === 'ttl' && withTtl) ttl = true
    else return undefined
  }
  const o = options as Record<string, unknown>
  return { secret: secret ? o.secret : undefined, ttl: ttl ? o.ttl : undefined, now: now ? o.now : undefined }
}

// Values the full check has already passed: the schema's check and the secrets'
// strength depend on content only, so a secret list equal to the last one that
// passed needs neither again. The common call, the same secret every time, costs
// a few comparisons instead of the schema.
function passed (options: Given): boolean {
  if (options.now !== undefined && typeof options.now !== 'function') return false
  if (options.ttl !== undefined && !(Number.isInteger(options.ttl) && (options.ttl as number) >= 1 && (options.ttl as number) <= MAX_TTL)) return false
  return options.secret === undefined || sameSecrets(options.secret, lastSecrets)
}

/** The given options without the undefined ones, as the full check takes them. */
function asGiven (options: Given): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (options.secret !== undefined) out.secret = options.secret
  if (options.ttl !== undefined) out.ttl = options.ttl
  if (options.now !== undefined) out.now = options.now
  return out
}

/** Keys for options that passed (see `passed`): the last ones when a secret was given. */
const passedKeys = (options: Given): Keys => options.secret === undefined ? keysFor(undefined) : lastKeys

export const createSession: typeof Contract.createSession = (userId, options) => {
  const quick = given(options, true)
  // In this order whichever way: the options' errors, the user id's, the secret's.
  let id: string
  let keys: Keys
  let ttl: number
  let now: () => number
  if (quick !== undefined && passed(quick)) {
    id = normalizeUserId(userId)
    keys = passedKeys(quick)
    ttl = (quick.ttl as number | undefined) ?? DEFAULT_TTL
    now = (quick.now as (() => number) | undefined) ?? Date.now
  } else {
    const checked = checkCreateOptions((quick === undefined ? options : asGiven(quick)) as CreateSessionOptions)
    id = normalizeUserId(userId)
    keys = keysFor(checked.secret)
    ttl = checked.ttl ?? DEFAULT_TTL
    now = checked.now ?? Date.now
  }
  return makeToken(id, Math.floor(clockSeconds(now)) + ttl, keys)
}

export const getSession: typeof Contract.getSession = (token, options) => {
  const quick = given(options, false)
  let keys: Keys
  let now: () => number
  if (quick !== undefined && passed(quick)) {
    keys = passedKeys(quick)
    now = (quick.now as (() => number) | undefined) ?? Date.now
  } else {
    const checked = checkGetOptions((quick === undefined ? options : asGiven(quick)) as GetSessionOptions)
    keys = keysFor(checked.secret)
    now = checked.now ?? Date.now
  }
  const result = verifyToken(token, keys, clockSeconds(now))
  return typeof result === 'string' ? null : result.userId
}

export const destroySession: typeof Contract.destroySession = () => undefined
