// Options: the JSON Schema, compiled once, the defaults, and messages that name
// the option and its rule (and never show a secret).
import { Ajv, type ErrorObject } from 'ajv'
import type {
  CookieOptions, CreateSessionOptions, FastifyDbbasicSessionsOptions, GetSessionOptions, ReplyCreateSessionOptions, Secret
} from '../types/index.js'
import { InvalidOptionError, NoSecretError } from './errors.js'
import type { Policy } from './lifecycle.js'
import { toKeys, type Keys } from './token.js'

export const MIN_SECRET_BYTES = 32
/** 400 days: browsers cap a cookie's lifetime there, so a longer session could not be kept. */
export const MAX_TTL = 34560000
export const DEFAULT_TTL = 2592000
export const MAX_CLOCK_TOLERANCE = 300
export const DEFAULT_CACHE_SIZE = 10000
export const MAX_CACHE_SIZE = 1000000
const MAKE_ONE = 'make one with: node -e "console.log(crypto.randomBytes(32).toString(\'hex\'))"'

const secretSchema = {
  type: ['string', 'array'],
  minBytes: MIN_SECRET_BYTES,
  minItems: 1,
  items: { type: 'string', minBytes: MIN_SECRET_BYTES }
}
const ttlSchema = { type: 'integer', minimum: 1, maximum: MAX_TTL }
const nowSchema = { isFunction: true }

export const optionsSchema = {
  $id: 'fastify-dbbasic-sessions/options',
  type: 'object',
  additionalProperties: false,
  properties: {
    secret: secretSchema,
    ttl: ttlSchema,
    cookieName: { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" },
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
    now: nowSchema
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
  properties: { ttl: ttlSchema }
}
const getSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { secret: secretSchema, now: nowSchema }
}

const RULES: Record<string, string> = {
  secret: `a string of at least ${MIN_SECRET_BYTES} bytes, or a non-empty array of such strings`,
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
  now: 'a function returning milliseconds since the epoch'
}

const ajv = new Ajv({ allowUnionTypes: true })
ajv.addKeyword({
  keyword: 'minBytes',
  type: 'string',
  schemaType: 'number',
  validate: (min: number, data: string) => Buffer.byteLength(data, 'utf8') >= min
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

function closest (name: string, known: string[]): string | undefined {
  return known.find((k) => k.toLowerCase() === name.toLowerCase())
}

interface ObjectSchema { properties: Record<string, object> }

function describe (error: ErrorObject, schema: ObjectSchema, data: Record<string, unknown>): string {
  const steps = error.instancePath.split('/').slice(1)
  if (error.keyword === 'additionalProperties') {
    const extra: string = error.params.additionalProperty
    const within = steps.length > 0 ? steps.join('.') + '.' : ''
    const known = Object.keys(steps.length > 0 ? optionsSchema.properties.cookie.properties : schema.properties)
    const guess = closest(extra, known)
    return `unknown option "${within}${extra}"` + (guess !== undefined ? ` (did you mean "${within}${guess}"?)` : '') +
      `; the options are ${known.map((k) => within + k).join(', ')}`
  }
  const name = steps.map((s, i) => /^\d+$/.test(s) ? `[${s}]` : (i > 0 ? '.' : '') + s).join('')
  const rule = steps[0] === 'secret' && steps.length > 1 ? `a string of at least ${MIN_SECRET_BYTES} bytes` : RULES[steps.join('.')]
  if (steps[0] === 'secret') {
    const hint = error.keyword === 'minBytes' ? `; ${MAKE_ONE}` : ''
    return `${name} must be ${rule}${hint}`
  }
  let value: unknown = data
  for (const s of steps) value = (value as Record<string, unknown>)[s]
  return `${name} must be ${rule}; got ${shown(value)}`
}

function check (validate: typeof validatePlugin, schema: ObjectSchema, options: Record<string, unknown>): void {
  if (!validate(options)) throw new InvalidOptionError(describe((validate.errors as ErrorObject[])[0], schema, options))
}

// An option given as undefined (say `ttl: process.env.TTL`) means "use the default".
function defined<T extends object> (options: T | undefined, what = 'options'): T {
  if (options === undefined) return {} as T
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError(`${what} must be an object; got ${shown(options)}`)
  }
  const record = options as Record<string, unknown>
  for (const key in record) {
    if (record[key] === undefined) {
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(record)) if (v !== undefined) out[k] = v
      return out as T
    }
  }
  // Nothing to drop: the caller's object is only read, never changed.
  return options
}

/** Keys from the given secret, else from SECRET_KEY; never a built-in default. */
export function resolveKeys (secret: Secret | undefined): Keys {
  if (secret !== undefined) return toKeys(typeof secret === 'string' ? [secret] : secret)
  const env = process.env.SECRET_KEY
  if (env === undefined || env === '') {
    throw new NoSecretError(`no secret: pass the secret option or set SECRET_KEY; ${MAKE_ONE}`)
  }
  if (Buffer.byteLength(env, 'utf8') < MIN_SECRET_BYTES) {
    throw new InvalidOptionError(`SECRET_KEY must be at least ${MIN_SECRET_BYTES} bytes; ${MAKE_ONE}`)
  }
  return toKeys([env])
}

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
  domain?: string
  secure: boolean
  httpOnly: boolean
  sameSite: 'lax' | 'strict' | 'none'
}

export interface Config {
  keys: Keys
  ttl: number
  cookieName: string
  cookie: CookieConfig
  policy: Policy
  validate: FastifyDbbasicSessionsOptions['validate']
  cacheSize: number
  now: () => number
}

function checkCookieRules (name: string, cookie: CookieConfig): void {
  if (cookie.sameSite === 'none' && !cookie.secure) {
    throw new InvalidOptionError('cookie.sameSite "none" requires cookie.secure: true (browsers drop SameSite=None cookies that are not Secure)')
  }
  const lower = name.toLowerCase()
  if ((lower.startsWith('__host-') || lower.startsWith('__secure-')) && !cookie.secure) {
    throw new InvalidOptionError(`cookieName "${name}" requires cookie.secure: true (browsers refuse the prefix otherwise)`)
  }
  if (lower.startsWith('__host-') && (cookie.path !== '/' || cookie.domain !== undefined)) {
    throw new InvalidOptionError(`cookieName "${name}" requires cookie.path "/" and no cookie.domain (browsers refuse the __Host- prefix otherwise)`)
  }
}

export function resolvePluginOptions (given: FastifyDbbasicSessionsOptions | undefined): Config {
  const options = defined(given)
  const cookie = defined<CookieOptions>(options.cookie, 'cookie')
  check(validatePlugin, optionsSchema, { ...options, ...(options.cookie === undefined ? {} : { cookie }) })
  const ttl = options.ttl ?? DEFAULT_TTL
  if (options.absoluteTtl !== undefined && options.absoluteTtl < ttl) {
    throw new InvalidOptionError(`absoluteTtl must be at least ttl (${ttl}); got ${options.absoluteTtl}`)
  }
  const config: Config = {
    keys: resolveKeys(options.secret),
    ttl,
    cookieName: options.cookieName ?? 'session',
    cookie: {
      path: cookie.path ?? '/',
      domain: cookie.domain,
      secure: cookie.secure ?? true,
      httpOnly: cookie.httpOnly ?? true,
      sameSite: cookie.sameSite ?? 'lax'
    },
    policy: {
      ttl,
      absoluteTtl: options.absoluteTtl,
      rolling: options.rolling ?? false,
      clockTolerance: options.clockTolerance ?? 0,
      withIat: options.rolling === true || options.absoluteTtl !== undefined || options.validate !== undefined
    },
    validate: options.validate,
    cacheSize: options.cacheSize ?? DEFAULT_CACHE_SIZE,
    now: options.now ?? Date.now
  }
  checkCookieRules(config.cookieName, config.cookie)
  return config
}

function checker<T extends object> (validate: typeof validatePlugin, schema: ObjectSchema) {
  return (options: T | undefined): T => {
    const clean = defined(options)
    check(validate, schema, clean as Record<string, unknown>)
    return clean
  }
}

export const checkCreateOptions = checker<CreateSessionOptions>(validateCreate, createSchema)
export const checkGetOptions = checker<GetSessionOptions>(validateGet, getSchema)
export const checkReplyOptions = checker<ReplyCreateSessionOptions>(validateReply, replySchema)
