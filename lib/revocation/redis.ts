// The revocation store in Redis, on the app's own ioredis client. No import of ioredis:
// the client is described structurally in types/index.d.ts.
// Every write and every read is one Lua script, so it is atomic: the sequence number a
// revocation gets and its place in the log are set together, and a read returns the
// sequence it saw with exactly the entries up to it. (A MULTI could not use INCR's
// result; two writers could then log out of sequence order and a read miss one.)
import type * as Contract from '../../types/index.js'
import { InvalidOptionError } from '../errors.js'
import { shown } from '../options.js'

const PREFIX = /^[\x21-\x7e]{1,100}$/
/** ioredis's states once a connection is lost, until the next attempt. */
const DOWN = new Set(['reconnecting', 'close', 'end'])

const ADD = `local seq = redis.call('INCR', KEYS[1])
local member = seq .. ' ' .. ARGV[1]
redis.call('ZADD', KEYS[2], seq, member)
redis.call('ZADD', KEYS[3], ARGV[2], member)
redis.call('PUBLISH', ARGV[3], seq)
return seq`

// A cursor above the sequence means the data went away (FLUSHALL, a server without
// persistence restarted): everything is read again rather than nothing ever after.
const SINCE = `local seq = tonumber(redis.call('GET', KEYS[1]) or '0')
local cursor = tonumber(ARGV[1])
if cursor == nil or cursor > seq then
  return {tostring(seq), redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. ARGV[2], '+inf')}
end
return {tostring(seq), redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. cursor, '+inf')}`

// In batches: ZREM takes as many arguments as Lua's unpack can give.
const PRUNE = `local removed = 0
local batch
repeat
  batch = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1], 'LIMIT', 0, 1000)
  if #batch > 0 then
    redis.call('ZREM', KEYS[1], unpack(batch))
    redis.call('ZREM', KEYS[2], unpack(batch))
  end
  removed = removed + #batch
until #batch < 1000
return removed`

type Stored = [kind: 'session' | 'user', id: string, until: number, after?: number]

function checkOptions (client: unknown, options: Contract.RedisStoreOptions): string {
  const candidate = client as Partial<Contract.RedisClient> | null
  if (typeof candidate?.eval !== 'function' || typeof candidate.duplicate !== 'function') {
    throw new InvalidOptionError(`redisStore(client) needs an ioredis client (with eval and duplicate), such as fastify.redis; got ${shown(client)}`)
  }
  const prefix = options.prefix ?? '{dbbasic-sessions:revocations}:'
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    throw new InvalidOptionError(`redisStore option prefix must be 1 to 100 printable ASCII characters without spaces; got ${shown(prefix)}`)
  }
  return prefix
}

/** A log entry, "<seq> <json>"; null for one this store did not write. */
function parse (member: string): Contract.Revocation | null {
  try {
    const [kind, id, until, after] = JSON.parse(member.slice(member.indexOf(' ') + 1)) as Stored
    if (kind === 'user' && typeof id === 'string' && Number.isFinite(until) && Number.isFinite(after)) return { kind, id, after: after as number, until }
    if (kind === 'session' && typeof id === 'string' && Number.isFinite(until)) return { kind, id, until }
  } catch {}
  return null
}

export function redisStore (client: Contract.RedisClient, options: Contract.RedisStoreOptions = {}): Contract.RevocationStore {
  const prefix = checkOptions(client, options)
  const [seq, log, expiry, channel] = ['seq', 'log', 'expiry', 'changes'].map((name) => prefix + name) as [string, string, string, string]
  // ioredis queues a command while disconnected and sends it on reconnection: refused
  // here once the connection is known lost, so a write the plugin reported as failed
  // does not wait in that queue. (A first connection, or an attempt under way, is let through.)
  const connected = (): void => {
    if (DOWN.has(client.status)) throw new Error(`redisStore: Redis is not connected (ioredis status ${client.status})`)
  }
  return {
    async add (revocation) {
      connected()
      const stored: Stored = revocation.kind === 'user'
        ? ['user', revocation.id, revocation.until, revocation.after]
        : ['session', revocation.id, revocation.until]
      await client.eval(ADD, 3, seq, log, expiry, JSON.stringify(stored), revocation.until, channel)
    },
    async since (cursor, nowSeconds) {
      connected()
      const [at, members] = await client.eval(SINCE, 3, seq, log, expiry, cursor ?? '', nowSeconds) as [string, string[]]
      const revocations = members.map(parse).filter((r): r is Contract.Revocation => r !== null && r.until > nowSeconds)
      return { revocations, cursor: at }
    },
    async prune (nowSeconds) {
      connected()
      await client.eval(PRUNE, 2, log, expiry, nowSeconds)
    },
    async subscribe (onChange) {
      const subscriber = client.duplicate()
      let stopped = false
      let connectedOnce = false
      // ioredis reconnects by itself and subscribes again; the polls report the outage.
      subscriber.on('error', () => {})
      subscriber.on('message', (name) => { if (name === channel && !stopped) onChange() })
      // What was published while this connection was down.
      subscriber.on('ready', () => { if (connectedOnce && !stopped) onChange(); connectedOnce = true })
      // Subscribed, or the first connection failed: ioredis keeps the SUBSCRIBE queued.
      await new Promise<void>((resolve) => {
        subscriber.subscribe(channel).then(() => resolve(), () => resolve())
        subscriber.on('error', () => resolve())
      })
      return async () => {
        stopped = true
        subscriber.disconnect()
      }
    }
  }
}
