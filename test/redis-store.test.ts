// redisStore against a real redis-server that this file starts on 127.0.0.1.
import t, { type Test } from 'tap'
import { Redis, type RedisOptions } from 'ioredis'
import { redisStore } from '../lib/index.js'
import { PAGE } from '../lib/revocation/redis.js'
import type { Revocation } from '../types/index.js'
import { ephemeralLow } from './servers/ports.js'
import { startRedis } from './servers/redis.js'
import { faultRounds, readAll, readWhileWriting, subscribe } from './servers/store-checks.js'
import { pause } from './servers/process.js'
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

t.test('the server\'s port is below the ephemeral range: a client reconnecting while it is down cannot connect to itself', async (t) => {
  t.ok(server.port < ephemeralLow(), `port ${server.port} < ${ephemeralLow()}`)
})

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
  t.same(empty, { revocations: [], cursor: '0:', more: false })
  const others: Revocation = { kind: 'user', id: 'carol', after: NOW * 1000 + 7, until: NOW + 600, except: 'AZrHOpsAsid-kept-device' }
  await store.add(session)
  await store.add(user)
  await store.add(others)
  await store.add({ kind: 'session', id: 'expired', until: NOW - 1 })
  const first = await store.since(null, NOW)
  t.same(first.revocations, [session, user, others], 'the live ones, with every field; the expired one is left out')
  t.match(first.cursor, /^4:[0-9a-f]{12}$/, 'the cursor names the last entry read, by number and mark')
  t.same(await store.since(first.cursor, NOW), { revocations: [], cursor: first.cursor, more: false }, 'nothing new after the cursor')
  const later: Revocation = { kind: 'user', id: 'bob', after: NOW * 1000 + 5000, until: NOW + 60 }
  await store.add(later)
  const next = await store.since(first.cursor, NOW)
  t.same(next.revocations, [later])
  t.match(next.cursor, /^5:/)
  t.same((await store.since(first.cursor, NOW + 61)).revocations, [], 'expired by the clock the plugin passes')
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

t.test('a long history is read in pages of 10,000, resumed from any page', async (t) => {
  const client = newClient(t)
  const prefix = fresh()
  const store = redisStore(client, { prefix })
  const pipeline = client.pipeline()
  for (let i = 1; i <= 25_000; i++) {
    const member = `${i} ${i.toString(16).padStart(12, '0')} ["session","id-${i}",${NOW + 60}]`
    pipeline.zadd(prefix + 'log', i, member).zadd(prefix + 'expiry', NOW + 60, member)
  }
  pipeline.set(prefix + 'seq', 25_000)
  await pipeline.exec()
  t.equal(PAGE, 10_000)
  const pages = await readAll(store, null, NOW)
  t.same(pages.map((p) => [p.revocations.length, p.more]), [[10_000, true], [10_000, true], [5000, false]])
  t.equal(new Set(pages.flatMap((p) => p.revocations.map((r) => r.id))).size, 25_000)
  t.equal((await store.since(pages[1].cursor, NOW)).revocations[0].id, 'id-20001', 'a page asked for again starts where the cursor stops')
})

t.test('FLUSHALL, a restart without persistence, or a failover to a replica that lagged: a reset, read again in full, and no later revocation skipped', async (t) => {
  const client = newClient(t)
  const prefix = fresh()
  const store = redisStore(client, { prefix })
  const add = async (...ids: string[]): Promise<void> => { for (const id of ids) await store.add({ kind: 'session', id, until: NOW + 60 }) }
  await add('a', 'b', 'c')
  // The older copy a lagging replica (or a backup) holds.
  const keys = ['seq', 'log', 'expiry'].map((name) => prefix + name)
  const copy = await Promise.all(keys.map(async (key) => await client.dumpBuffer(key)))
  await add('d', 'e')
  const read = await store.since(null, NOW)
  for (const [i, key] of keys.entries()) await client.restore(key, 0, copy[i] as Buffer, 'REPLACE')
  await add('f', 'g', 'h', 'i', 'j', 'k', 'l', 'm')
  const again = await store.since(read.cursor, NOW)
  t.equal(again.reset, true, 'the entry the cursor names has another mark now')
  t.same(again.revocations.map((r) => r.id), ['a', 'b', 'c', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm'])
  await client.flushall()
  await add('n')
  t.match(await store.since(again.cursor, NOW), { reset: true, revocations: [{ id: 'n' }] }, 'after FLUSHALL')
  await client.flushall()
  t.same(await store.since(again.cursor, NOW), { revocations: [], cursor: '0:', more: false, reset: true }, 'flushed and nothing since: read from the start next time')
  t.same((await store.since('not-a-cursor', NOW)).revocations, [], 'a cursor it did not make reads everything')
})

t.test('entries the store did not write are skipped, not fatal', async (t) => {
  const client = newClient(t)
  const prefix = fresh()
  const store = redisStore(client, { prefix })
  await store.add(session)
  const junk = ['2 aa not json', '3 bb ["session",5,99999999999]', '4 cc ["user","u",99999999999]', '5 dd ["other","u",99999999999]']
  for (const member of junk) {
    await client.zadd(prefix + 'log', Number(member.split(' ')[0]), member)
    await client.zadd(prefix + 'expiry', 99999999999, member)
  }
  await client.set(prefix + 'seq', 5)
  const read = await store.since(null, NOW)
  t.same(read.revocations, [session])
  t.equal(read.cursor, '5:dd', 'the cursor moves past them')
})

t.test('prune deletes, from the log and the expiry index, what expired before the given time, but the newest entry', async (t) => {
  const client = newClient(t)
  const prefix = fresh()
  const store = redisStore(client, { prefix })
  // More than one batch of the script's 1000.
  await Promise.all(Array.from({ length: 2100 }, async (_, i) => { await store.add({ kind: 'session', id: `old${i}`, until: NOW - 10 }) }))
  await store.add({ kind: 'session', id: 'edge', until: NOW })
  await store.add(user)
  await store.add({ kind: 'session', id: 'newest', until: NOW - 10 })
  const cursor = (await store.since(null, NOW - 20)).cursor
  await store.prune?.(NOW)
  t.equal(await client.zcard(prefix + 'log'), 3)
  t.equal(await client.zcard(prefix + 'expiry'), 3)
  t.same((await store.since(null, NOW - 1)).revocations.map((r) => r.id), ['edge', user.id])
  t.notOk((await store.since(cursor, NOW)).reset, 'a reader at the newest entry is not sent back to the start')
})

t.test('a write that reaches Redis after its deadline is refused, not applied', async (t) => {
  const client = newClient(t)
  const prefix = fresh()
  const store = redisStore(client, { prefix })
  await t.rejects(store.add(session, Date.now() - 1), { message: /DEADLINE the revocation reached Redis after its deadline and was not stored/ })
  t.equal(await client.exists(prefix + 'seq'), 0, 'nothing stored, no number used up')
  await store.add(session, Date.now() + 5000)
  t.same((await store.since(null, NOW)).revocations, [session])
})

t.test('subscribe: a change from another client is pushed; stop closes the store\'s connections', async (t) => {
  const prefix = fresh()
  const client = newClient(t)
  const store = redisStore(client, { prefix })
  const writer = redisStore(newClient(t), { prefix })
  const connections = async (): Promise<number> => String(await client.client('LIST')).trim().split('\n').length
  const before = await connections()
  let changes = 0
  const stop = await subscribe(store, () => { changes++ })
  t.same(await client.pubsub('NUMSUB', prefix + 'changes'), [prefix + 'changes', 1])
  await writer.add(session)
  await waitFor(() => changes === 1, 5000, 'the message')
  await waitFor(async () => await connections() === before + 2, 5000, 'the subscriber and the store\'s own command connection')
  await stop()
  await waitFor(async () => (await client.pubsub('NUMSUB', prefix + 'changes'))[1] === 0 && await connections() === before, 5000, 'both to go')
  t.equal(changes, 1)
})

t.test('subscribed, the store\'s calls go through a connection of its own: a blocking command on the app\'s client delays none', async (t) => {
  const prefix = fresh()
  const client = newClient(t)
  const store = redisStore(client, { prefix })
  const stop = await subscribe(store, () => {})
  t.teardown(stop)
  await waitFor(async () => (await client.client('LIST') as string).split('\n').length >= 3, 5000, 'the store\'s connection')
  const blocked = client.blpop(prefix + 'nothing', 3)
  const started = Date.now()
  await within(store.add(session), 1500)
  t.same((await within(store.since(null, NOW), 1500)).revocations, [session])
  t.ok(Date.now() - started < 1500, 'both answered while the app\'s client was blocked for 3 s')
  await blocked
})

t.test('a read that is aborted (the plugin stopped waiting) drops the store\'s connection, which connects again; reads go on', async (t) => {
  const prefix = fresh()
  const client = newClient(t)
  const admin = newClient(t)
  const store = redisStore(client, { prefix })
  await store.add(session)
  const stop = await subscribe(store, () => {})
  t.teardown(stop)
  await waitFor(async () => (await admin.client('LIST') as string).split('\n').length >= 4, 5000, 'the store\'s connection')
  await admin.call('CLIENT', 'PAUSE', '1000', 'ALL')
  const controller = new AbortController()
  const read = store.since(null, NOW, controller.signal)
  setTimeout(() => { controller.abort() }, 100)
  await t.rejects(within(read, 900), 'the read ends with its connection, before the pause does')
  await waitFor(async () => (await store.since(null, NOW).then((b) => b.revocations.length, () => 0)) === 1, 5000, 'reads to work again')
})

t.test('a command in flight on the store\'s own connection when the server goes is failed at once, as not connected, not after ioredis\'s retries', async (t) => {
  const prefix = fresh()
  const client = newClient(t)
  const admin = newClient(t)
  const store = redisStore(client, { prefix })
  const stop = await subscribe(store, () => {})
  t.teardown(stop)
  await waitFor(async () => (await admin.client('LIST') as string).split('\n').length >= 4, 5000, 'the store\'s connection')
  // Held by the server, so the write is on the wire when the server dies.
  await admin.call('CLIENT', 'PAUSE', '3000', 'ALL')
  const write = store.add(session).then(() => null, (err: Error) => err)
  await pause(100)
  const killed = Date.now()
  await server.kill()
  t.teardown(() => server.start())
  const failed = await within(write, 5000)
  t.match(failed?.message, /Redis is not connected/)
  // ioredis would have failed it after 20 attempts 50 ms apart.
  t.ok(Date.now() - killed < 700, `failed ${Date.now() - killed} ms after the kill`)
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

t.test('a reconnection attempt under way is not a connection: a write is refused at once, not queued until ioredis gives up', async (t) => {
  const client = newClient(t)
  const store = redisStore(client, { prefix: fresh() })
  await store.add(session)
  await server.kill()
  t.teardown(() => server.start())
  // The client retries every 50 ms; between attempts it is 'reconnecting', during one 'connecting'.
  const attempt = await within(new Promise<void>((resolve) => {
    const look = (): void => { if (client.status === 'connecting') resolve(); else setImmediate(look) }
    look()
  }), 5000)
  t.equal(attempt, undefined)
  const started = Date.now()
  await t.rejects(store.add(user), /Redis is not connected \(ioredis status connecting\)/)
  t.ok(Date.now() - started < 100, 'refused at once')
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
