// The revocation store in Redis, on the app's own ioredis client. No import of ioredis:
// the client is described structurally in types/index.d.ts.
// Every write and every read is one Lua script, so it is atomic: the sequence number a
// revocation gets and its place in the log are set together. Each entry also carries a
// random mark, and a reader's cursor is the number and mark of the last entry it read:
// after a FLUSHALL, a restart without persistence or a failover to a replica that had
// not caught up, that entry is gone or marked otherwise, however many came since, and
// the reader is told to read everything again.
// While subscribed, reads and writes go through a connection of the store's own, so
// the app's slow or blocking commands on its client do not delay them.
import { randomBytes } from 'node:crypto'
import type * as Contract from '../../types/index.js'
import { InvalidOptionError, shown } from '../errors.js'

const PREFIX = /^[\x21-\x7e]{1,100}$/
/** ioredis's states once a connection is lost, until the next attempt. */
const DOWN = new Set(['reconnecting', 'close', 'end'])
/** Entries a read returns at most; a reader asks again for the rest. */
export const PAGE = 10_000

// The deadline is checked by Redis's clock: a write that arrives late (a network that
// was down, then healed, or a client that resent it) is refused, not applied.
const ADD = `local t = redis.call('TIME')
if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[5]) then
  return redis.error_reply('DEADLINE the revocation reached Redis after its deadline and was not stored')
end
local seq = redis.call('INCR', KEYS[1])
local member = seq .. ' ' .. ARGV[4] .. ' ' .. ARGV[1]
redis.call('ZADD', KEYS[2], seq, member)
redis.call('ZADD', KEYS[3], ARGV[2], member)
redis.call('PUBLISH', ARGV[3], seq)
return seq`

const SINCE = `local from = tonumber(ARGV[1])
local reset = 0
if from > 0 then
  local at = redis.call('ZRANGEBYSCORE', KEYS[1], from, from)
  if #at == 0 or string.match(at[1], '^%d+ (%x+) ') ~= ARGV[2] then
    from = 0
    reset = 1
  end
end
return {reset, redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. from, '+inf', 'LIMIT', 0, tonumber(ARGV[3]))}`

// In batches: ZREM takes as many arguments as Lua's unpack can give. The newest entry
// stays: it may be a reader's cursor, and without it the cursor would look like a reset.
const PRUNE = `local newest = redis.call('GET', KEYS[3])
local removed = 0
local batch
local gone
repeat
  batch = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1], 'LIMIT', 0, 1000)
  gone = {}
  for _, member in ipairs(batch) do
    if string.match(member, '^(%d+) ') ~= newest then gone[#gone + 1] = member end
  end
  if #gone > 0 then
    redis.call('ZREM', KEYS[1], unpack(gone))
    redis.call('ZREM', KEYS[2], unpack(gone))
  end
  removed = removed + #gone
until #batch < 1000 or #gone == 0
return removed`

type Stored = [kind: 'session' | 'user', id: string, until: number, after?: number, except?: string]

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

/** ioredis's error for a command whose connection closed before the answer (once it gives up on it), said as the store says it. */
function named (error: unknown): never {
  if (error instanceof Error && error.name === 'MaxRetriesPerRequestError') {
    throw new Error('redisStore: Redis is not connected (the connection closed before Redis answered)', { cause: error })
  }
  throw error
}

interface Entry { seq: string, mark: string, revocation: Contract.Revocation | null }

/** A log entry, "<seq> <mark> <json>"; its revocation null for one this store did not write. */
function parse (member: string): Entry {
  const space = member.indexOf(' ')
  const next = member.indexOf(' ', space + 1)
  const entry: Entry = { seq: member.slice(0, space), mark: member.slice(space + 1, next), revocation: null }
  try {
    const [kind, id, until, after, except] = JSON.parse(member.slice(next + 1)) as Stored
    if (kind === 'user' && typeof id === 'string' && Number.isFinite(until) && Number.isFinite(after)) {
      entry.revocation = { kind, id, after: after as number, until, ...(typeof except === 'string' ? { except } : {}) }
    } else if (kind === 'session' && typeof id === 'string' && Number.isFinite(until)) {
      entry.revocation = { kind, id, until }
    }
  } catch {}
  return entry
}

export function redisStore (client: Contract.RedisClient, options: Contract.RedisStoreOptions = {}): Contract.RevocationStore {
  const prefix = checkOptions(client, options)
  const [seq, log, expiry, channel] = ['seq', 'log', 'expiry', 'changes'].map((name) => prefix + name) as [string, string, string, string]
  /** Connections of the store's own for commands, one per subscription. */
  const readers = new Set<Contract.RedisConnection>()
  // ioredis queues a command while disconnected and sends it on reconnection: refused
  // here once the connection is known lost, so a call the plugin reported as failed
  // does not wait in that queue. A first connection (or a lazyConnect client's first
  // command) is let through; an attempt to connect again, once the client has answered
  // the store, is not: it lasts a moment between waits, and a command queued in it
  // would wait out ioredis's retries.
  let answered = false
  const connection = (): Pick<Contract.RedisConnection, 'eval' | 'disconnect'> | Contract.RedisClient => {
    for (const reader of readers) if (reader.status === 'ready') return reader
    const { status } = client
    if (DOWN.has(status) || (answered && status === 'connecting')) throw new Error(`redisStore: Redis is not connected (ioredis status ${status})`)
    return client
  }
  /** The call on `via`; when `signal` aborts, a connection of the store's own is dropped and made again. */
  const call = async (via: ReturnType<typeof connection>, signal: AbortSignal | undefined, ...args: Array<string | number>): Promise<unknown> => {
    const own = via !== client
    const abandon = (): void => { if (own) (via as Contract.RedisConnection).disconnect(true) }
    signal?.addEventListener('abort', abandon, { once: true })
    try {
      const answer = await via.eval(args[0] as string, ...(args.slice(1) as [number, ...Array<string | number>])).catch(named)
      answered ||= !own
      return answer
    } finally {
      signal?.removeEventListener('abort', abandon)
    }
  }
  return {
    async add (revocation, deadline) {
      const stored: Stored = revocation.kind === 'session'
        ? ['session', revocation.id, revocation.until]
        : revocation.except === undefined
          ? ['user', revocation.id, revocation.until, revocation.after]
          : ['user', revocation.id, revocation.until, revocation.after, revocation.except]
      const mark = randomBytes(6).toString('hex')
      const controller = new AbortController()
      const timer = deadline === undefined ? undefined : setTimeout(() => { controller.abort() }, Math.max(0, deadline - Date.now()))
      try {
        await call(connection(), controller.signal, ADD, 3, seq, log, expiry, JSON.stringify(stored), revocation.until, channel, mark, deadline ?? Number.MAX_SAFE_INTEGER)
      } finally {
        clearTimeout(timer)
      }
    },
    async since (cursor, nowSeconds, signal) {
      const [from, mark] = /^\d{1,16}:[0-9a-f]{0,12}$/.test(cursor ?? '') ? (cursor as string).split(':') : ['0', '']
      const [reset, members] = await call(connection(), signal, SINCE, 1, log, from, mark, PAGE) as [number, string[]]
      const entries = members.map(parse)
      const last = entries.at(-1)
      const revocations = entries.flatMap((e) => e.revocation !== null && e.revocation.until > nowSeconds ? [e.revocation] : [])
      return {
        revocations,
        cursor: last === undefined ? (reset === 1 ? '0:' : `${from}:${mark}`) : `${last.seq}:${last.mark}`,
        more: members.length === PAGE,
        ...(reset === 1 ? { reset: true } : {})
      }
    },
    async prune (nowSeconds) {
      await call(connection(), undefined, PRUNE, 3, log, expiry, seq, nowSeconds)
    },
    async subscribe (onChange) {
      const subscriber = client.duplicate()
      // Commands that were sent on a connection that then closed fail there and then, and
      // are not sent again: the plugin reports them as failed.
      const reader = client.duplicate({ autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 0 })
      reader.on('error', () => {})
      readers.add(reader)
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
        readers.delete(reader)
        subscriber.disconnect()
        reader.disconnect()
      }
    }
  }
}
