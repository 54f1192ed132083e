// Options: the JSON Schema, compiled once, the defaults, and messages that name
// the option and its rule (and never show a secret).
import { Ajv, type ErrorObject } from 'ajv'
import type {
  CookieOptions, CreateSessionOptions, CsrfOptions, FastifyDbbasicSessionsOptions, GetSessionOptions,
  ReplyCreateSessionOptions, RevocationOptions, RevocationStore, Secret
} from '../types/index.js'
import { isExactOrigin } from './csrf.js'
import { InvalidOptionError } from './errors.js'
import { MAX_TTL, type Policy } from './lifecycle.js'
import { memoryStore } from './revocation/memory.js'
import type { RevocationConfig } from './revocation/revocations.js'
import { MAKE_ONE, MIN_SECRET_BYTES, resolveSecrets } from './secrets.js'
import type { Keys } from './token.js'

export { weakness } from './secrets.js'
export const DEFAULT_TTL = 2592000
export const MAX_CLOCK_TOLERANCE = 300
export const DEFAULT_CACHE_SIZE = 10000
export const MAX_CACHE_SIZE = 1000000
export const MAX_STALENESS = 60
export const DEFAULT_STALENESS = 2
export const DEFAULT_STORE_TIMEOUT = 5000
/** About 16 MB of revoked sessions per process (see revocation/revocations.ts for what happens past it). */
export const DEFAULT_MAX_REVOKED = 1_000_000

const oneSecret = { type: 'string', minBytes: MIN_SECRET_BYTES }
const secretList = { type: 'array', items: oneSecret }
// A string, a list (the first signs, the rest are previous), or the secrets by role.
const secretSchema = {
  type: ['string', 'array', 'object'],
  minBytes: MIN_SECRET_BYTES,
  minItems: 1,
  items: oneSecret,
  additionalProperties: false,
  required: ['current'],
  properties: { current: oneSecret, next: secretList, previous: secretList }
}
const ttlSchema = { type: 'integer', minimum: 1, maximum: MAX_TTL }
const nowSchema = { isFunction: true }
const cookieNameSchema = { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" }

export const optionsSchema = {
  $id: 'fastify-dbbasic-sessions/options',
  type: 'object',
  additionalProperties: false,
  properties: {
    secret: secretSchema,
    ttl: ttlSchema,
    cookieName: cookieNameSchema,
    cookie: {
      type: 'object',
      additionalProperties: false,
      properties: {
        path: { type: 'string', pattern: '^/[\\x20-\\x3a\\x3c-\\x7e]*$' },
        domain: {
          type: 'string',
          pattern: '^\\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$'
        },
        secure: { type: 'boolean' },
        httpOnly: { type: 'boolean' },
        sameSite: { type: 'string', enum: ['lax', 'strict', 'none'] }
      }
    },
    rolling: { type: 'boolean' },
    absoluteTtl: ttlSchema,
    clockTolerance: { type: 'integer', minimum: 0, maximum: MAX_CLOCK_TOLERANCE },
    validate: { isFunction: true },
    cacheSize: { type: 'integer', minimum: 0, maximum: MAX_CACHE_SIZE },
    now: nowSchema,
    csrf: {
      type: ['boolean', 'object'],
      additionalProperties: false,
      properties: { trustedOrigins: { type: 'array', items: { type: 'string' } } }
    },
    sessionName: { type: 'string', pattern: '^[A-Za-z_$][A-Za-z0-9_$]*$' },
    externalTtl: ttlSchema,
    revocation: {
      type: ['object', 'boolean'],
      additionalProperties: false,
      properties: {
        store: { isStore: true },
        staleness: { type: 'integer', minimum: 1, maximum: MAX_STALENESS },
        onStale: { type: 'string', enum: ['accept', 'refuse'] },
        timeout: { type: 'integer', minimum: 100, maximum: 60000 },
        acceptBeforeLoad: { type: 'boolean' },
        maxRevokedSessions: { type: 'integer', minimum: 1, maximum: 100_000_000 }
      }
    }
  }
} as const

const createSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { secret: secretSchema, ttl: ttlSchema, now: nowSchema }
}
const replySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { ttl: ttlSchema, persistent: { type: 'boolean' } }
}
const getSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { secret: secretSchema, now: nowSchema }
}

const RULES: Record<string, string> = {
  secret: `a string of at least ${MIN_SECRET_BYTES} bytes, or a non-empty array of such strings, or { current, next, previous } (one such string, two arrays of them)`,
  ttl: `an integer number of seconds from 1 to ${MAX_TTL} (400 days)`,
  cookieName: "a cookie name: letters, digits and !#$%&'*+-.^_`|~ only",
  'cookie.path': 'a path that starts with "/" and has no ";" or control characters',
  'cookie.domain': 'a domain name: letters, digits, "-" and "."',
  'cookie.secure': 'true or false',
  'cookie.httpOnly': 'true or false',
  'cookie.sameSite': '"lax", "strict" or "none"',
  rolling: 'true or false',
  absoluteTtl: `an integer number of seconds from 1 to ${MAX_TTL} (400 days)`,
  clockTolerance: `an integer number of seconds from 0 to ${MAX_CLOCK_TOLERANCE}`,
  validate: 'a function (session, request) returning a boolean or a promise of one',
  cacheSize: `an integer number of tokens from 0 (no cache) to ${MAX_CACHE_SIZE}`,
  now: 'a function returning milliseconds since the epoch',
  persistent: 'true or false',
  csrf: 'true, false or { trustedOrigins: [origins] }',
  'csrf.trustedOrigins': 'an array of origins like "https://app.example.com"',
  sessionName: 'a JavaScript identifier (the request property to fill)',
  externalTtl: `an integer number of seconds from 1 to ${MAX_TTL}: the ttl that tokens without iat (Python, the standalone API) are made with`,
  revocation: 'true (the default), false (off) or { store, staleness, onStale, timeout, acceptBeforeLoad, maxRevokedSessions }',
  'revocation.store': 'a revocation store: an object with add(revocation) and since(cursor, nowSeconds) methods, e.g. memoryStore(), postgresStore(pool) or redisStore(client)',
  'revocation.acceptBeforeLoad': 'true or false',
  'revocation.maxRevokedSessions': 'an integer from 1 to 100000000',
  'revocation.staleness': `an integer number of seconds from 1 to ${MAX_STALENESS}`,
  'revocation.onStale': '"accept" or "refuse"',
  'revocation.timeout': 'an integer number of milliseconds from 100 to 60000'
}

const ajv = new Ajv({ allowUnionTypes: true })
ajv.addKeyword({
  keyword: 'minBytes',
  type: 'string',
  schemaType: 'number',
  validate: (min: number, data: string) => Buffer.byteLength(data, 'utf8') >= min
})
ajv.addKeyword({
  keyword: 'isStore',
  schemaType: 'boolean',
  validate: (_: boolean, data: unknown) => typeof data === 'object' && data !== null &&
    typeof (data as RevocationStore).add === 'function' && typeof (data as RevocationStore).since === 'function'
})
ajv.addKeyword({
  keyword: 'isFunction',
  schemaType: 'boolean',
  validate: (_: boolean, data: unknown) => typeof data === 'function'
})
const validatePlugin = ajv.compile(optionsSchema)
const validateCreate = ajv.compile(createSchema)
const validateGet = ajv.compile(getSchema)
const validateReply = ajv.compile(replySchema)

/** A short, safe description of a wrong value for an error message. Never used for secrets. */
export function shown (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value)
  if (Array.isArray(value)) return 'an array'
  return (typeof value === 'object' ? 'an ' : 'a ') + typeof value
}

/** The known name a typo most likely meant: same letters in another case, or at most two edits away. */
function closest (name: string, known: string[]): string | undefined {
  const lower = name.toLowerCase()
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

function editDistance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]
}

interface ObjectSchema { properties: Record<string, object> }

/** The rule of the part of `secret` at `steps`: the whole, the list of a role, or one secret. */
function secretRule (steps: string[]): string {
  if (steps.length === 1) return RULES.secret
  const last = steps[steps.length - 1]
  return last === 'next' || last === 'previous'
    ? `an array of strings of at least ${MIN_SECRET_BYTES} bytes`
    : `a string of at least ${MIN_SECRET_BYTES} bytes`
}

function describe (error: ErrorObject, schema: ObjectSchema, data: Record<string, unknown>): string {
  const steps = error.instancePath.split('/').slice(1)
  if (error.keyword === 'additionalProperties') {
    const extra: string = error.params.additionalProperty
    const within = steps.length > 0 ? steps.join('.') + '.' : ''
    let properties: Record<string, object> = schema.properties
    for (const step of steps) properties = (properties[step] as ObjectSchema).properties
    const known = Object.keys(properties)
    const guess = closest(extra, known)
    return `unknown option "${within}${extra}"` + (guess !== undefined ? ` (did you mean "${within}${guess}"?)` : '') +
      `; the options are ${known.map((k) => within + k).join(', ')}`
  }
  // The only required property: a role object's current.
  if (error.keyword === 'required') return `secret needs current: the secret that signs, a string of at least ${MIN_SECRET_BYTES} bytes`
  const name = steps.map((s, i) => /^\d+$/.test(s) ? `[${s}]` : (i > 0 ? '.' : '') + s).join('')
  if (steps[0] === 'secret') {
    const hint = error.keyword === 'minBytes' ? `; ${MAKE_ONE}` : ''
    return `${name} must be ${secretRule(steps)}${hint}`
  }
  const rule = RULES[steps.filter((s) => !/^\d+$/.test(s)).join('.')]
  let value: unknown = data
  for (const s of steps) value = (value as Record<string, unknown>)[s]
  return `${name} must be ${rule}; got ${shown(value)}`
}

function check (validate: typeof validatePlugin, schema: ObjectSchema, options: Record<string, unknown>): void {
  if (!validate(options)) throw new InvalidOptionError(describe((validate.errors as ErrorObject[])[0], schema, options))
}

// Options are read as own properties only, into an object with no prototype, so a
// polluted Object.prototype cannot supply one. An option given as undefined (say
// `ttl: process.env.TTL`) means "use the default". The caller's object is never changed.
const NO_OPTIONS: Readonly<Record<string, unknown>> = Object.freeze(Object.create(null))
function defined<T extends object> (options: T | undefined, what = 'options'): T {
  if (options === undefined) return NO_OPTIONS as T
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError(`${what} must be an object; got ${shown(options)}`)
  }
  const own: Record<string, unknown> = Object.create(null)
  for (const key of Object.keys(options)) {
    const value = (options as Record<string, unknown>)[key]
    if (value !== undefined) own[key] = value
  }
  return own as T
}

/** A role object given as `secret`, as its own properties (see `defined`); any other value as it is. */
const ownSecret = (secret: unknown): unknown =>
  typeof secret === 'object' && secret !== null && !Array.isArray(secret) ? defined(secret, 'secret') : secret

/** Seconds since the epoch from the configured clock; a broken clock is a bug, not "no session". */
export function clockSeconds (now: () => number): number {
  const ms = now()
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new InvalidOptionError(`now must return a finite number of milliseconds; got ${shown(ms)}`)
  }
  return ms / 1000
}

export interface CookieConfig {
  path: string
  domain: string | undefined
  secure: boolean
  httpOnly: boolean
  sameSite: 'lax' | 'strict' | 'none'
}

export interface Config {
  keys: Keys
  /** Per key: a token it verified is re-signed with the current secret. */
  resign: readonly boolean[]
  /** Per key, the keys a re-issue of a token it verified is signed with (see Secrets). */
  signers: readonly Keys[]
  ttl: number
  cookieName: string
  cookie: CookieConfig
  policy: Policy
  validate: FastifyDbbasicSessionsOptions['validate']
  cacheSize: number
  now: () => number
  /** null when the cross-origin check is off. */
  trustedOrigins: ReadonlySet<string> | null
  sessionName: string
  /** null when revocation is off (`revocation: false`). */
  revocation: RevocationConfig | null
}

/** The revocation settings; without a store, this instance's own memoryStore(). */
function revocationConfig (given: RevocationOptions | true | undefined): RevocationConfig {
  const options: RevocationOptions = typeof given === 'object' ? given : NO_OPTIONS as RevocationOptions
  return {
    store: options.store ?? memoryStore(),
    staleness: options.staleness ?? DEFAULT_STALENESS,
    onStale: options.onStale ?? 'accept',
    timeout: options.timeout ?? DEFAULT_STORE_TIMEOUT,
    acceptBeforeLoad: options.acceptBeforeLoad ?? false,
    maxRevokedSessions: options.maxRevokedSessions ?? DEFAULT_MAX_REVOKED,
    implicit: options.store === undefined
  }
}

// What browsers require of a cookie whose name has a prefix, checked here because a
// browser drops a cookie that breaks its prefix's rule without a word: the sign-in would
// silently do nothing. Prefixes are matched in any case, as browsers match them.
const PREFIXES: Array<[prefix: string, rule: (c: CookieConfig) => boolean, needs: string]> = [
  ['__host-http-', (c) => c.secure && c.httpOnly && c.path === '/' && c.domain === undefined, 'cookie.secure: true, cookie.httpOnly: true, cookie.path "/" and no cookie.domain'],
  ['__http-', (c) => c.secure && c.httpOnly, 'cookie.secure: true and cookie.httpOnly: true'],
  ['__host-', (c) => c.secure && c.path === '/' && c.domain === undefined, 'cookie.secure: true, cookie.path "/" and no cookie.domain'],
  ['__secure-', (c) => c.secure, 'cookie.secure: true']
]

function checkCookieRules (name: string, cookie: CookieConfig): void {
  if (cookie.sameSite === 'none' && !cookie.secure) {
    throw new InvalidOptionError('cookie.sameSite "none" requires cookie.secure: true (browsers drop SameSite=None cookies that are not Secure)')
  }
  const lower = name.toLowerCase()
  const prefix = PREFIXES.find(([p]) => lower.startsWith(p))
  if (prefix !== undefined && !prefix[1](cookie)) {
    throw new InvalidOptionError(`cookieName "${name}" requires ${prefix[2]} (browsers drop a ${name.slice(0, prefix[0].length)} cookie otherwise, so signing in would do nothing)`)
  }
}

/** The strongest prefix the attributes allow: browsers refuse it from another host, over plain http, or from a script. */
export function defaultCookieName (cookie: CookieConfig): string {
  if (!cookie.secure) return 'session'
  const hostOnly = cookie.path === '/' && cookie.domain === undefined
  if (cookie.httpOnly) return hostOnly ? '__Host-Http-session' : '__Http-session'
  return hostOnly ? '__Host-session' : '__Secure-session'
}

function trustedOrigins (csrf: boolean | CsrfOptions | undefined): ReadonlySet<string> | null {
  if (csrf === false) return null
  const origins = typeof csrf === 'object' ? csrf.trustedOrigins ?? [] : []
  origins.forEach((origin, i) => {
    if (!isExactOrigin(origin)) {
      throw new InvalidOptionError(`csrf.trustedOrigins[${i}] must be an origin as a browser sends it: "scheme://host" or "scheme://host:port" (e.g. "https://app.example.com", "http://localhost:5173", "chrome-extension://<id>", "capacitor://localhost"), lower case, nothing after the host; got ${shown(origin)}`)
    }
  })
  return new Set(origins)
}

export function resolvePluginOptions (given: FastifyDbbasicSessionsOptions | undefined): Config {
  const options = defined(given)
  const cookie = defined<CookieOptions>(options.cookie, 'cookie')
  const csrf = typeof options.csrf === 'object' ? defined<CsrfOptions>(options.csrf, 'csrf') : options.csrf
  const revocation = typeof options.revocation === 'object' ? defined<RevocationOptions>(options.revocation, 'revocation') : options.revocation
  const checked: Record<string, unknown> = Object.assign(Object.create(null), options)
  if (options.cookie !== undefined) checked.cookie = cookie
  if (typeof revocation === 'object') checked.revocation = revocation
  if (csrf !== undefined) checked.csrf = csrf
  if (options.secret !== undefined) checked.secret = ownSecret(options.secret)
  check(validatePlugin, optionsSchema, checked)
  const secrets = resolveSecrets(checked.secret as Secret | undefined)
  const ttl = options.ttl ?? DEFAULT_TTL
  if (options.absoluteTtl !== undefined && options.absoluteTtl < ttl) {
    throw new InvalidOptionError(`absoluteTtl must be at least ttl (${ttl}); got ${options.absoluteTtl}`)
  }
  const cookieConfig: CookieConfig = {
    path: cookie.path ?? '/',
    domain: cookie.domain,
    secure: cookie.secure ?? true,
    httpOnly: cookie.httpOnly ?? true,
    sameSite: cookie.sameSite ?? 'lax'
  }
  const config: Config = {
    keys: secrets.keys,
    resign: secrets.resign,
    signers: secrets.signers,
    ttl,
    cookieName: options.cookieName ?? defaultCookieName(cookieConfig),
    cookie: cookieConfig,
    policy: {
      ttl,
      absoluteTtl: options.absoluteTtl,
      rolling: options.rolling ?? false,
      clockTolerance: options.clockTolerance ?? 0,
      externalTtl: options.externalTtl ?? DEFAULT_TTL
    },
    validate: options.validate,
    cacheSize: options.cacheSize ?? DEFAULT_CACHE_SIZE,
    now: options.now ?? Date.now,
    trustedOrigins: trustedOrigins(csrf),
    sessionName: options.sessionName ?? 'session',
    revocation: revocation === false ? null : revocationConfig(revocation)
  }
  checkCookieRules(config.cookieName, config.cookie)
  return config
}

function checker<T extends object> (validate: typeof validatePlugin, schema: ObjectSchema) {
  return (options: T | undefined): T => {
    const clean = defined(options)
    const own = clean as Record<string, unknown>
    if ('secret' in own) own.secret = ownSecret(own.secret)
    check(validate, schema, clean as Record<string, unknown>)
    return clean
  }
}

export const checkCreateOptions = checker<CreateSessionOptions>(validateCreate, createSchema)
export const checkGetOptions = checker<GetSessionOptions>(validateGet, getSchema)
export const checkReplyOptions = checker<ReplyCreateSessionOptions>(validateReply, replySchema)
