// @ts-check
// Sign-in limits, through @fastify/rate-limit: every sign-in and register attempt
// counts per client address (request.ip: the real client behind a proxy listed in
// TRUST_PROXY), and every wrong password counts per account name, from whatever
// address, so guesses spread over many addresses are stopped too.
// With REDIS_URL the counts live in Redis and hold across every process. When Redis
// does not answer, each process counts on its own until it does (fail open to a
// per-process limit): sign-in keeps working, and guessing stays bounded, by the
// number of processes times the limit.
import rateLimit from '@fastify/rate-limit'
import { nameKey, normalizeName } from './names.js'

const WINDOW_MS = 60_000
const LOCAL_MAX_KEYS = 10_000
const COUNT = `local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`
const READ = `local n = tonumber(redis.call('GET', KEYS[1]) or '0')
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = 0 end
return {n, ttl}`

/** In-process counts, the oldest dropped past LOCAL_MAX_KEYS. */
function localCounts () {
  /** @type {Map<string, { current: number, end: number }>} */
  const counts = new Map()
  /** @param {string} key @param {number} window @param {boolean} increment */
  return (key, window, increment) => {
    const now = Date.now()
    let entry = counts.get(key)
    if (entry === undefined || entry.end <= now) entry = { current: 0, end: now + window }
    if (increment) entry.current++
    counts.delete(key)
    if (counts.size >= LOCAL_MAX_KEYS) counts.delete(/** @type {string} */ (counts.keys().next().value))
    counts.set(key, entry)
    return { current: entry.current, ttl: entry.end - now }
  }
}

/**
 * A store for @fastify/rate-limit: Redis when given, else (and while Redis fails) this process.
 * @param {import('ioredis').Redis | undefined} redis
 * @param {(err: unknown) => void} onFallback
 */
export function countingStore (redis, onFallback) {
  const local = localCounts()
  const commands = /** @type {any} */ (redis)
  if (redis !== undefined) {
    redis.defineCommand('demoCount', { numberOfKeys: 1, lua: COUNT })
    redis.defineCommand('demoRead', { numberOfKeys: 1, lua: READ })
  }
  /** @typedef {(err: Error | null, result?: { current: number, ttl: number }) => void} Done */
  return class CountingStore {
    constructor (/** @type {unknown} */ _params, prefix = 'demo-limit:') { this.prefix = prefix }
    /** @param {string} key @param {Done} done @param {number} window */
    incr (key, done, window) { this.count(key, done, window, true) }
    /** @param {string} key @param {Done} done @param {number} window */
    read (key, done, window) { this.count(key, done, window, false) }
    /** @param {string} key @param {Done} done @param {number} window @param {boolean} increment */
    count (key, done, window, increment) {
      const full = this.prefix + key
      if (commands === undefined) return done(null, local(full, window, increment))
      const call = increment ? commands.demoCount(full, window) : commands.demoRead(full)
      call.then(
        (/** @type {[number, number]} */ [current, ttl]) => done(null, { current, ttl }),
        (/** @type {unknown} */ err) => { onFallback(err); done(null, local(full, window, increment)) })
    }

    /** @param {any} route the route's options and routeInfo (the types leave routeInfo out) */
    child (route) { return new CountingStore(null, `${this.prefix}${route.routeInfo.method}${route.routeInfo.url}-`) }
  }
}

/** The account a sign-in form names, as names are compared. */
const accountOf = (/** @type {unknown} */ body) => {
  const name = /** @type {Record<string, unknown> | null} */ (body)?.name
  return typeof name === 'string' && name.length <= 256 ? nameKey(normalizeName(name)) : ''
}

/**
 * @param {import('fastify').FastifyInstance} app
 * @param {{ redis: import('ioredis').Redis | undefined, rateLimitMax: number, accountRateLimitMax: number }} options
 */
export async function setUpLimits (app, { redis, rateLimitMax, accountRateLimitMax }) {
  let failing = false
  const store = countingStore(redis, (err) => {
    // Once per outage, not once per request.
    if (!failing) app.log.warn({ err }, 'demo: Redis does not answer; sign-in attempts are counted in this process until it does')
    failing = true
  })
  redis?.on('ready', () => {
    if (failing) app.log.info('demo: Redis answers again; sign-in attempts are counted there')
    failing = false
  })
  await app.register(rateLimit, { global: false, store })
  const account = app.createRateLimit({ max: accountRateLimitMax, timeWindow: WINDOW_MS, keyGenerator: (request) => `account:${accountOf(request.body)}` })
  return {
    /** Route config: the per-address limit. */
    perAddress: { rateLimit: { max: rateLimitMax, timeWindow: WINDOW_MS } },
    /** Seconds to wait when this account has had too many wrong passwords, else 0. */
    async accountWait (/** @type {import('fastify').FastifyRequest} */ request) {
      const state = await account(request, { increment: false })
      return 'remaining' in state && state.remaining <= 0 ? Math.max(1, state.ttlInSeconds) : 0
    },
    /** Counts a wrong password against the account. */
    async wrongPassword (/** @type {import('fastify').FastifyRequest} */ request) { await account(request) }
  }
}
