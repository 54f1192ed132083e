// redisStore against a real redis-server that this file starts on 127.0.0.1.
import t, { type Test } from 'tap'
import { Redis, type RedisOptions } from 'ioredis'
import { redisStore } from '../lib/index.js'
import type { Revocation } from '../types/index.js'
import { startRedis } from './servers/redis.js'
import { faultRounds, readWhileWriting, subscribe } from './servers/store-checks.js'
import { waitFor, within } from './servers/wait.js'

const server = await startRedis(t)
const NOW = 1_764_115_200

let prefixes = 0
/** Keys of its own for each test. */
const fresh = (): string => `test${++prefixes}:`

function newClient (tt: Test, options: RedisOptions = {}): Redis {
  // Reconnects every 50 ms, so that the fault tests wait little for the server's return.
  const client = new Redis({ ...server.config, retryStrategy: () => 50, ...options })
  client.on('error', () => {})
  tt.teardown(() => { client.disconnect() })
  return client
}
const session: Revocation = { kind: 'session', id: 'AZrHOpsAsid-of-a-device', until: NOW + 3600 }
const user: Revocation = { kind: 'user', id: 'alice@example.com', after: NOW * 1000 + 123, until: NOW + 86400 }

t.test('the prefix option: printable ASCII without spaces, and the error names it', async (t) => {
  const client = newClient(t)
  for (const prefix of ['', 'has space', 'tab\t', 'é', 'x'.repeat(101), 5 as unknown as string]) {
    t.throws(() => redisStore(client, { prefix }), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION', message: /^fastify-dbbasic-sessions: redisStore option prefix must be/ }, String(prefix))
  }
  t.throws(() => redisStore(null as unknown as Redis), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION', message: /redisStore\(client\) needs an ioredis client/ })
})

t.test('add and since: every field round-trips, and the cursor gives only what is new', async (t) => {
  const client = newClient(t)
  const store = redisStore(client, { prefix: fresh() })
  const empty = await store.since(null, NOW)
  t.same(empty, { revocations: [], cursor: '0' })
  await store.add(session)
  await store.add(user)
  await store.add({ kind: 'session', id: 'expired', until: NOW - 1 })
  const first = await store.since(null, NOW)
  t.same(first.revocations, [session, user], 'the live ones, with every field; the expired one is left out')
  t.equal(first.cursor, '3')
  t.same((await store.since(first.cursor, NOW)).revocations, [], 'nothing new after the cursor')
  const later: Revocation = { kind: 'user', id: 'bob', after: NOW * 1000 + 5000, until: NOW + 60 }
  await store.add(later)
  const next = await store.since(first.cursor, NOW)
  t.same(next, { revocations: [later], cursor: '4' })
  t.same((await store.since('1', NOW + 61)).revocations, [user], 'from an older cursor, less what the clock says expired')
})

t.test('the default prefix keeps every key in one Cluster slot', async (t) => {
  const client = newClient(t)
  await redisStore(client).add(session)
  const keys = (await client.keys('{dbbasic-sessions:revocations}:*')).sort()
  t.same(keys, ['{dbbasic-sessions:revocations}:expiry', '{dbbasic-sessions:revocations}:log', '{dbbasic-sessions:revocations}:seq'])
  const slots = await Promise.all(keys.map(async (key) => await client.call('CLUSTER', 'KEYSLOT', key).catch(() => null)))
  t.ok(slots.every((slot) => slot === slots[0]), 'one slot (or no cluster support to ask)')
})

t.test('concurrent writers on several connections: a reader polling meanwhile misses none', async (t) => {
  const prefix = fresh()
  const reader = redisStore(newClient(t), { prefix })
  const writers = [newClient(t), newClient(t), newClient(t)].map((client) => redisStore(client, { prefix }))
  const seen = await readWhileWriting(reader, writers, NOW, 100, { concurrent: true })
  t.equal(seen.size, 300, 'every one of the 300 revocations was read')
})

t.test('a cursor it did not make, or beyond the data (FLUSHALL), reads everything again', async (t) => {
  const client = newClient(t)
  const store = redisStore(client, { prefix: fresh() })
  await store.add(session)
  await store.add(user)
  t.same((await store.since('not-a-cursor', NOW)).revocations, [session, user])
  await client.flushall()
  await store.add(session)
  t.same(await store.since('2', NOW), { revocations: [session], cursor: '1' }, 'the sequence restarted below the cursor')
})

t.test('entries the store did not write are skipped, not fatal', async (t) => {
  const client = newClient(t)
  const prefix = fresh()
  const store = redisStore(client, { prefix })
  await store.add(session)
  const junk = ['2 not json', '3 ["session",5,99999999999]', '4 ["user","u",99999999999]', '5 ["other","u",99999999999]']
  for (const member of junk) {
    await client.zadd(prefix + 'log', Number(member.split(' ')[0]), member)
    await client.zadd(prefix + 'expiry', 99999999999, member)
  }
  await client.set(prefix + 'seq', 5)
  t.same((await store.since('0', NOW)).revocations, [session])
  t.same((await store.since(null, NOW)).revocations, [session])
})

t.test('prune deletes, from the log and the expiry index, what expired before the given time', async (t) => {
  const client = newClient(t)
  const prefix = fresh()
  const store = redisStore(client, { prefix })
  // More than one batch of the script's 1000.
  await Promise.all(Array.from({ length: 2100 }, async (_, i) => { await store.add({ kind: 'session', id: `old${i}`, until: NOW - 10 }) }))
  await store.add({ kind: 'session', id: 'edge', until: NOW })
  await store.add(user)
  await store.prune?.(NOW)
  t.equal(await client.zcard(prefix + 'log'), 2)
  t.equal(await client.zcard(prefix + 'expiry'), 2)
  t.same((await store.since('0', NOW - 1)).revocations.map((r) => r.id), ['edge', user.id])
})

t.test('subscribe: a change from another client is pushed; stop closes the subscriber connection', async (t) => {
  const prefix = fresh()
  const client = newClient(t)
  const store = redisStore(client, { prefix })
  const writer = redisStore(newClient(t), { prefix })
  let changes = 0
  const stop = await subscribe(store, () => { changes++ })
  t.same(await client.pubsub('NUMSUB', prefix + 'changes'), [prefix + 'changes', 1])
  await writer.add(session)
  await waitFor(() => changes === 1, 5000, 'the message')
  await stop()
  await waitFor(async () => (await client.pubsub('NUMSUB', prefix + 'changes'))[1] === 0, 5000, 'the subscriber to go')
  t.equal(changes, 1)
})

t.test('a lazyConnect client: its first command connects it', async (t) => {
  const client = newClient(t, { lazyConnect: true })
  const store = redisStore(client, { prefix: fresh() })
  t.equal(client.status, 'wait')
  await store.add(session)
  t.same((await store.since(null, NOW)).revocations, [session])
})

t.test('the server goes down: add, since and prune reject; back up, all work with the same store, and push resumes', async (t) => {
  const prefix = fresh()
  const client = newClient(t)
  const store = redisStore(client, { prefix })
  const writer = redisStore(newClient(t), { prefix })
  await faultRounds(t, {
    server,
    store,
    writer,
    now: NOW,
    first: session,
    second: user,
    rejects: /Redis is not connected/,
    down: async () => { await waitFor(() => client.status === 'reconnecting', 5000, 'the client to see the server gone') },
    up: async () => { await waitFor(() => client.status === 'ready', 5000, 'the client to reconnect') }
  })
})

t.test('subscribing while the server is down resolves, subscribes once it is back, and stops cleanly', async (t) => {
  const prefix = fresh()
  const client = newClient(t)
  const writer = redisStore(client, { prefix })
  await server.kill()
  let changes = 0
  const stop = await within(subscribe(redisStore(client, { prefix }), () => { changes++ }), 5000)
  await server.start()
  await waitFor(async () => client.status === 'ready' && (await client.pubsub('NUMSUB', prefix + 'changes'))[1] === 1, 5000, 'the queued SUBSCRIBE')
  await writer.add(session)
  await waitFor(() => changes >= 1, 5000, 'the message')
  await stop()
  // Stopped while down: the queued SUBSCRIBE is dropped, and nothing is left connecting.
  await server.kill()
  const late = await within(subscribe(redisStore(client, { prefix }), () => {}), 5000)
  await late()
  await server.start()
  await waitFor(() => client.status === 'ready', 5000, 'the client to reconnect')
  t.equal((await client.pubsub('NUMSUB', prefix + 'changes'))[1], 0)
})
