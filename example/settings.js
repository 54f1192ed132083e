// @ts-check
// The demo's settings from environment variables, with their defaults. A wrong
// value stops the demo with a message naming the variable.
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'

export const DEFAULTS = Object.freeze({
  port: 3000,
  /** Idle time: 30 minutes without a request and the session ends. */
  ttl: 1800,
  /** Absolute lifetime: 12 hours after signing in, however active. */
  absoluteTtl: 43200,
  /** The longest a sign-out on one process takes to reach the others (the plugin's revocation.staleness). */
  revocationStaleness: 2,
  /** Sign-in and register attempts per minute per client address, each. */
  rateLimitMax: 10,
  /** Wrong passwords per minute for one account, from all addresses together. */
  accountRateLimitMax: 10,
  dataDir: fileURLToPath(new URL('.data', import.meta.url))
})

/**
 * @param {NodeJS.ProcessEnv} env
 * @param {string} name
 * @param {number} fallback
 * @param {number} min
 */
function whole (env, name, fallback, min) {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = /^[0-9]{1,9}$/.test(raw) ? Number(raw) : NaN
  if (!(value >= min)) throw new Error(`${name} must be a whole number from ${min} on; got ${JSON.stringify(raw.slice(0, 40))}`)
  return value
}

/** @param {NodeJS.ProcessEnv} env */
function staleness (env) {
  const value = whole(env, 'REVOCATION_STALENESS', DEFAULTS.revocationStaleness, 1)
  if (value > 60) throw new Error(`REVOCATION_STALENESS must be at most 60 seconds; got ${value}`)
  return value
}

/**
 * Fastify's trustProxy from TRUST_PROXY: a hop count, or the proxies' addresses
 * (comma-separated, CIDR allowed). Unset: no proxy is trusted.
 * @param {string | undefined} raw
 * @returns {number | string | undefined}
 */
export function trustProxyOf (raw) {
  if (raw === undefined || raw === '') return undefined
  if (/^[0-9]{1,2}$/.test(raw)) return Number(raw)
  const addresses = raw.split(',').map((a) => a.trim())
  if (addresses.every((a) => /^[0-9a-fA-F:.]+(\/[0-9]{1,3})?$/.test(a) && a.length <= 50)) return addresses.join(',')
  throw new Error(`TRUST_PROXY must be a hop count or the proxies' addresses, comma-separated; got ${JSON.stringify(raw.slice(0, 40))}`)
}

/**
 * @param {NodeJS.ProcessEnv} env @param {string} name @param {string[]} schemes
 * @returns {string | undefined}
 */
function url (env, name, schemes) {
  const raw = env[name]
  if (raw === undefined || raw === '') return undefined
  if (!schemes.some((s) => raw.startsWith(`${s}://`))) throw new Error(`${name} must be a ${schemes.map((s) => `${s}://`).join(' or ')} URL`)
  return raw
}

/** @param {NodeJS.ProcessEnv} env */
export function settingsFromEnv (env) {
  const port = whole(env, 'PORT', DEFAULTS.port, 0)
  if (port > 65535) throw new Error(`PORT must be a port number up to 65535; got ${port}`)
  const ttl = whole(env, 'SESSION_TTL', DEFAULTS.ttl, 1)
  // Unset, the absolute lifetime is at least one ttl; set, it must be.
  const absoluteTtl = whole(env, 'SESSION_ABSOLUTE_TTL', Math.max(DEFAULTS.absoluteTtl, ttl), 1)
  if (absoluteTtl < ttl) throw new Error(`SESSION_ABSOLUTE_TTL (${absoluteTtl}) must be at least SESSION_TTL (${ttl})`)
  // SECRET_KEYS, comma-separated (the first signs, all verify), is for rotation drills.
  /** @type {string | string[] | undefined} */
  /** @type {import('fastify-dbbasic-sessions').Secret | undefined} */
  let secret = env.SECRET_KEYS ? env.SECRET_KEYS.split(',') : env.SECRET_KEY
  // SECRET_KEYS_NEXT (comma-separated): secrets that verify and are never re-signed away
  // from, for step 1 of the rotation recipe, as the plugin reads them itself.
  if (env.SECRET_KEYS_NEXT) {
    if (!env.SECRET_KEYS) throw new Error('SECRET_KEYS_NEXT needs SECRET_KEYS: its first secret signs, the next ones only verify')
    const [current, ...previous] = env.SECRET_KEYS.split(',')
    secret = { current, previous, next: env.SECRET_KEYS_NEXT.split(',') }
  }
  const secretGenerated = !secret
  if (!secret) secret = randomBytes(32).toString('hex')
  return {
    port,
    secret,
    secretGenerated,
    ttl,
    absoluteTtl,
    revocationStaleness: staleness(env),
    rateLimitMax: whole(env, 'RATE_LIMIT_MAX', DEFAULTS.rateLimitMax, 1),
    accountRateLimitMax: whole(env, 'ACCOUNT_RATE_LIMIT_MAX', DEFAULTS.accountRateLimitMax, 1),
    // The URLs are never echoed back in a message: they may hold a password.
    databaseUrl: url(env, 'DATABASE_URL', ['postgres', 'postgresql']),
    redisUrl: url(env, 'REDIS_URL', ['redis', 'rediss']),
    trustProxy: trustProxyOf(env.TRUST_PROXY),
    dataDir: env.DATA_DIR ? env.DATA_DIR : DEFAULTS.dataDir,
    logLevel: env.LOG_LEVEL ? env.LOG_LEVEL : undefined
  }
}
