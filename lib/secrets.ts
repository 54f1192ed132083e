// The secrets, from the option or the environment, as keys in verification order:
// the current one (signs), then the next ones, then the previous ones; and per key,
// what a re-issue of a token it verified is signed with. No Fastify.
import type { Secret, SecretRoles } from '../types/index.js'
import { InvalidOptionError, NoSecretError } from './errors.js'
import { toKeys, type Keys } from './token.js'

export const MIN_SECRET_BYTES = 32
/** Fewer distinct characters than this in a secret is a pattern, not randomness. */
const MIN_DISTINCT = 8
export const MAKE_ONE = 'make one with: node -e "console.log(crypto.randomBytes(32).toString(\'hex\'))"'

export interface Secrets {
  keys: Keys
  /** Per key: a token it verified is re-signed with the current secret (a previous one, or any but the first of a list). */
  resign: readonly boolean[]
  /**
   * Per key: the keys whose first signs a re-issue (renewal) of a token it verified.
   * A next secret keeps its own tokens, so a server not yet on the new secret never
   * turns a cookie back to the old one.
   */
  signers: readonly Keys[]
}

type Role = 'current' | 'next' | 'previous'
/** One secret as given, with the name an error message uses for it (never its value). */
interface Named { name: string, value: string, role: Role }

/** Why a secret is too easy to guess, or undefined when it is not obviously weak. */
export function weakness (secret: string): string | undefined {
  if (new Set(secret).size < MIN_DISTINCT) return `it has fewer than ${MIN_DISTINCT} distinct characters`
  // The shortest period (KMP failure function): a secret that repeats a pattern of at
  // most half its length holds no more than that pattern does.
  const fail = new Array<number>(secret.length).fill(0)
  for (let i = 1, k = 0; i < secret.length; i++) {
    while (k > 0 && secret[i] !== secret[k]) k = fail[k - 1]
    if (secret[i] === secret[k]) k++
    fail[i] = k
  }
  const period = secret.length - fail[secret.length - 1]
  if (period * 2 <= secret.length) return 'it repeats a shorter pattern'
  return undefined
}

function checkStrength ({ name, value }: Named): void {
  if (Buffer.byteLength(value, 'utf8') < MIN_SECRET_BYTES) {
    throw new InvalidOptionError(`${name} must be at least ${MIN_SECRET_BYTES} bytes; ${MAKE_ONE}`)
  }
  const why = weakness(value)
  if (why !== undefined) {
    throw new InvalidOptionError(`${name} is too weak (${why}): a secret must be random, at least ${MIN_SECRET_BYTES} bytes; ${MAKE_ONE}`)
  }
}

/** Keys from named secrets, each checked, none twice (compared as the bytes they are used as). */
function build (named: Named[]): Secrets {
  named.forEach(checkStrength)
  const bytes = named.map((n) => Buffer.from(n.value, 'utf8'))
  for (let i = 1; i < named.length; i++) {
    const j = bytes.findIndex((b, k) => k < i && b.equals(bytes[i]))
    if (j !== -1) {
      throw new InvalidOptionError(`${named[i].name} is the same secret as ${named[j].name}: give each secret once, in one role (current, next or previous)`)
    }
  }
  const order: Role[] = ['current', 'next', 'previous']
  const sorted = order.flatMap((role) => named.filter((n) => n.role === role))
  const keys = toKeys(sorted.map((n) => n.value))
  return {
    keys,
    resign: sorted.map((n) => n.role === 'previous'),
    signers: sorted.map((n, i) => n.role === 'next' ? [keys[i]] : keys)
  }
}

const list = (value: unknown): readonly string[] => (value ?? []) as readonly string[]

/** The option, already checked by the schema (a role object as an own-property copy). */
function fromOption (secret: Secret): Named[] {
  if (typeof secret === 'string') return [{ name: 'secret', value: secret, role: 'current' }]
  if (Array.isArray(secret)) {
    return secret.map((value: string, i) => ({ name: `secret[${i}]`, value, role: i === 0 ? 'current' : 'previous' }))
  }
  const roles = secret as SecretRoles
  return [
    { name: 'secret.current', value: roles.current, role: 'current' },
    ...list(roles.next).map((value, i): Named => ({ name: `secret.next[${i}]`, value, role: 'next' })),
    ...list(roles.previous).map((value, i): Named => ({ name: `secret.previous[${i}]`, value, role: 'previous' }))
  ]
}

const VARIABLES = ['SECRET_KEY', 'SECRET_KEYS', 'SECRET_KEYS_NEXT'] as const
type Variable = typeof VARIABLES[number]

/** An own property of process.env only (an inherited one cannot supply a secret); empty is unset. */
function variable (name: Variable): string | undefined {
  // One read for an unset variable (the common case for two of the three), on every standalone call.
  const value = process.env[name]
  return value === undefined || value === '' || !Object.hasOwn(process.env, name) ? undefined : value
}

/**
 * A comma-separated list, each part trimmed. An empty part is refused rather than
 * skipped: `"$NEW,$OLD"` with one of them unset would otherwise drop a secret unnoticed.
 */
function parts (name: Variable, value: string, first: Role, rest: Role): Named[] {
  return value.split(',').map((part, i) => {
    const trimmed = part.trim()
    if (trimmed === '') {
      throw new InvalidOptionError(`${name}[${i}] is empty: ${name} is a comma-separated list of secrets, with no empty part and no comma at either end`)
    }
    return { name: `${name}[${i}]`, value: trimmed, role: i === 0 ? first : rest }
  })
}

/** SECRET_KEYS (first current, rest previous) and SECRET_KEYS_NEXT, else SECRET_KEY as one secret. */
function fromEnvironment (): Named[] {
  const single = variable('SECRET_KEY')
  const listed = variable('SECRET_KEYS')
  const next = variable('SECRET_KEYS_NEXT')
  if (listed === undefined) {
    if (next !== undefined) {
      throw new InvalidOptionError('SECRET_KEYS_NEXT is set but SECRET_KEYS is not: put the signing secret first in SECRET_KEYS (SECRET_KEY may stay only with the same value)')
    }
    if (single === undefined) {
      throw new NoSecretError(`no secret: pass the secret option or set SECRET_KEY; ${MAKE_ONE}`)
    }
    const pieces = single.split(',')
    if (pieces.length > 1 && pieces.every((p) => Buffer.byteLength(p.trim(), 'utf8') >= MIN_SECRET_BYTES)) {
      throw new InvalidOptionError(`SECRET_KEY holds ${pieces.length} comma-separated secrets, but it is one secret, used whole: give a list in SECRET_KEYS instead (comma-separated, the first signs)`)
    }
    return [{ name: 'SECRET_KEY', value: single, role: 'current' }]
  }
  const named = parts('SECRET_KEYS', listed, 'current', 'previous')
  if (single !== undefined && single !== named[0].value) {
    throw new InvalidOptionError('SECRET_KEY and SECRET_KEYS are both set, and SECRET_KEY is not the first secret of SECRET_KEYS: set only SECRET_KEYS, or give SECRET_KEY the value of its first secret (for a Python service that reads SECRET_KEY)')
  }
  return next === undefined ? named : [...named, ...parts('SECRET_KEYS_NEXT', next, 'next', 'next')]
}

/** Keys from the given secret (checked by the schema), else from the environment; never a built-in default. */
export function resolveSecrets (secret: Secret | undefined): Secrets {
  return build(secret === undefined ? fromEnvironment() : fromOption(secret))
}

// What decides the keys, as a list compared by content (standalone.ts keeps the
// last one). The markers cannot be given as secrets, so no two shapes compare equal.
const ENVIRONMENT = Symbol('environment')
const ROLES = Symbol('roles')
const NEXT = Symbol('next')
const PREVIOUS = Symbol('previous')
const ROLE_NAMES = new Set(['current', 'next', 'previous'])

/** The secret as a list to compare, or undefined for a value no checked secret can be. */
export function secretsKey (secret: unknown): readonly unknown[] | undefined {
  if (secret === undefined) return [ENVIRONMENT, ...VARIABLES.map(variable)]
  if (typeof secret === 'string') return [secret]
  if (Array.isArray(secret)) return [...secret]
  if (typeof secret !== 'object' || secret === null) return undefined
  // Own enumerable properties, as the full check reads them.
  const names = Object.keys(secret)
  if (!names.every((n) => ROLE_NAMES.has(n))) return undefined
  const read = (name: string): unknown => names.includes(name) ? (secret as Record<string, unknown>)[name] : undefined
  const next = read('next')
  const previous = read('previous')
  if (!Array.isArray(next ?? []) || !Array.isArray(previous ?? [])) return undefined
  return [ROLES, read('current'), NEXT, ...list(next), PREVIOUS, ...list(previous)]
}

/** Whether `secret` decides the same keys as `known` (a secretsKey list); allocating only for a role object. */
export function sameSecrets (secret: unknown, known: readonly unknown[]): boolean {
  if (typeof secret === 'string') return known.length === 1 && known[0] === secret
  if (secret === undefined) {
    return known[0] === ENVIRONMENT && VARIABLES.every((name, i) => known[i + 1] === variable(name))
  }
  const wanted = Array.isArray(secret) ? secret : secretsKey(secret)
  if (wanted === undefined || wanted.length !== known.length) return false
  for (let i = 0; i < known.length; i++) if (wanted[i] !== known[i]) return false
  return true
}
