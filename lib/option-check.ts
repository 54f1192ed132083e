// Checking options against the JSON Schema built from option-list.ts, compiled once,
// with a message that names the option and its rule (and never shows a secret). Options
// are read as own properties only, into an object with no prototype, so a polluted
// Object.prototype cannot supply one; an option given as undefined (`ttl: process.env.TTL`)
// means "use the default"; the caller's object is never changed.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import type { RevocationStore } from '../types/index.js'
import { InvalidOptionError, shown } from './errors.js'
import { pluginOptions, signInOptions, standaloneOptions, type Declared } from './option-list.js'
import { MAKE_ONE, MIN_SECRET_BYTES } from './secrets.js'

interface ObjectSchema { type: unknown, additionalProperties: false, properties: Record<string, object> }

function schemaOf (options: Record<string, Declared>): ObjectSchema {
  const properties: Record<string, object> = {}
  for (const [name, d] of Object.entries(options)) {
    properties[name] = d.options === undefined ? d.schema : { ...d.schema, properties: schemaOf(d.options).properties }
  }
  return { type: 'object', additionalProperties: false, properties }
}

/** The plugin's options as a JSON Schema (with the custom keywords minBytes, isFunction and isStore). */
export const optionsSchema = { $id: 'fastify-dbbasic-sessions/options', ...schemaOf(pluginOptions) }
const getOptions = { secret: standaloneOptions.secret, now: standaloneOptions.now }

const ajv = new Ajv({ allowUnionTypes: true })
ajv.addKeyword({ keyword: 'minBytes', type: 'string', schemaType: 'number', validate: (min: number, data: string) => Buffer.byteLength(data, 'utf8') >= min })
ajv.addKeyword({
  keyword: 'isStore',
  schemaType: 'boolean',
  validate: (_: boolean, data: unknown) => typeof data === 'object' && data !== null &&
    typeof (data as RevocationStore).add === 'function' && typeof (data as RevocationStore).since === 'function'
})
ajv.addKeyword({ keyword: 'isFunction', schemaType: 'boolean', validate: (_: boolean, data: unknown) => typeof data === 'function' })

/** The known name a typo most likely meant: same letters in another case, or at most two edits away. */
function closest (name: string, known: string[]): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase())
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

/** The rule of the part of `secret` at `steps`: the whole, the list of a role, or one secret. */
function secretRule (whole: string, steps: string[]): string {
  if (steps.length === 1) return whole
  const last = steps[steps.length - 1]
  return last === 'next' || last === 'previous' ? `an array of strings of at least ${MIN_SECRET_BYTES} bytes` : `a string of at least ${MIN_SECRET_BYTES} bytes`
}

function unknownOption (error: ErrorObject, steps: string[], schema: ObjectSchema): string {
  const extra: string = error.params.additionalProperty
  const within = steps.length > 0 ? steps.join('.') + '.' : ''
  let properties = schema.properties
  for (const step of steps) properties = (properties[step] as ObjectSchema).properties
  const known = Object.keys(properties)
  const guess = closest(extra, known)
  return `unknown option "${within}${extra}"` + (guess !== undefined ? ` (did you mean "${within}${guess}"?)` : '') +
    `; the options are ${known.map((k) => within + k).join(', ')}`
}

function describe (error: ErrorObject, declared: Record<string, Declared>, schema: ObjectSchema, data: Record<string, unknown>): string {
  const steps = error.instancePath.split('/').slice(1)
  if (error.keyword === 'additionalProperties') return unknownOption(error, steps, schema)
  // The only required property: a role object's current.
  if (error.keyword === 'required') return `secret needs current: the secret that signs, a string of at least ${MIN_SECRET_BYTES} bytes`
  const name = steps.map((s, i) => /^\d+$/.test(s) ? `[${s}]` : (i > 0 ? '.' : '') + s).join('')
  if (steps[0] === 'secret') return `${name} must be ${secretRule(declared.secret.rule, steps)}${error.keyword === 'minBytes' ? `; ${MAKE_ONE}` : ''}`
  const names = steps.filter((s) => !/^\d+$/.test(s))
  let option = declared[names[0]]
  for (const step of names.slice(1)) option = (option.options as Record<string, Declared>)[step]
  let value: unknown = data
  for (const s of steps) value = (value as Record<string, unknown>)[s]
  return `${name} must be ${option.rule}; got ${shown(value)}`
}

/** Own, defined properties of `options` in an object of no prototype; undefined is no options. */
export function defined<T extends object> (options: T | undefined, what = 'options'): T {
  if (options === undefined) return Object.create(null) as T
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

/** A role object given as `secret`, as its own properties; any other value as it is. */
export const ownSecret = (secret: unknown): unknown =>
  typeof secret === 'object' && secret !== null && !Array.isArray(secret) ? defined(secret, 'secret') : secret

/** A checker for one set of declared options: throws InvalidOptionError naming the first wrong one. */
export function checker (declared: Record<string, Declared>, schema = schemaOf(declared)): (options: Record<string, unknown>) => void {
  const validate: ValidateFunction = ajv.compile(schema)
  return (options) => {
    if (!validate(options)) throw new InvalidOptionError(describe((validate.errors as ErrorObject[])[0], declared, schema, options))
  }
}

/** Checks the options of a call (standalone createSession/getSession, reply.createSession). */
function callChecker<T extends object> (declared: Record<string, Declared>): (options: T | undefined) => T {
  const check = checker(declared)
  return (options) => {
    const clean = defined(options) as Record<string, unknown>
    if ('secret' in clean) clean.secret = ownSecret(clean.secret)
    check(clean)
    return clean as T
  }
}

export const checkPluginOptions = checker(pluginOptions, optionsSchema)
export const checkCreateOptions = callChecker<import('../types/index.js').CreateSessionOptions>(standaloneOptions)
export const checkGetOptions = callChecker<import('../types/index.js').GetSessionOptions>(getOptions)
export const checkReplyOptions = callChecker<import('../types/index.js').ReplyCreateSessionOptions>(signInOptions)
