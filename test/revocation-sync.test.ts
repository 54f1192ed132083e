// The sync loop against a store that fails the way a database does: each stale
// period, failed write and recovery logged once and published; the onStale policy;
// nothing on the request path waits for the store. The plugin's clock comes from
// `now`; only the loop's own ticks (staleness / 2) run on real timers, so waits for a
// tick are bounded.
import t, { type Test } from 'tap'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { FastifyInstance } from 'fastify'
import { diagnosticsChannelName, memoryStore } from '../lib/index.js'
import type { FastifyDbbasicSessionsOptions, Revocation, RevocationStore } from '../types/index.js'
import { encodeToken, toKeys } from '../lib/token.js'
import { LogCapture, NONE, SECRET, T0, buildApp, clock, payloadOf, visit } from './helpers.js'

const S0 = T0 / 1000

/** A store in memory that can be taken down: calls reject, or never answer. */
function faultyStore (): RevocationStore & { down: 'no' | 'reject' | 'hang', reads: number, pruned: number[] } {
  const inner = memoryStore()
  const gate = async <T>(call: () => Promise<T>): Promise<T> => {
    if (store.down === 'reject') throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' })
    if (store.down === 'hang') return await new Promise<T>(() => {})
    return await call()
  }
  const store = {
    down: 'no' as 'no' | 'reject' | 'hang',
    reads: 0,
    pruned: [] as number[],
    add: async (r: Revocation) => { await gate(async () => { await inner.add(r) }) },
    since: async (cursor: string | null, now: number) => {
      store.reads++
      return await gate(async () => await inner.since(cursor, now))
    },
    prune: async (now: number) => { store.pruned.push(now); await gate(async () => { await inner.prune!(now) }) }
  }
  return store
}

/** Waits, at most `ms` milliseconds, for `done` to hold. */
async function until (done: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms
  while (!done() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20))
  return done()
}

function events (t: Test): Array<Record<string, unknown>> {
  const seen: Array<Record<string, unknown>> = []
  const listener = (message: unknown): void => {
    const m = message as Record<string, unknown>
    if (String(m.event).startsWith('revocation')) seen.push(m)
  }
  subscribe(diagnosticsChannelName, listener)
  t.teardown(() => { unsubscribe(diagnosticsChannelName, listener) })
  return seen
}

async function build (t: Test, store: RevocationStore, options: FastifyDbbasicSessionsOptions, logs: LogCapture): Promise<FastifyInstance> {
  const app = await buildApp({ ...options, revocation: { store, staleness: 1, timeout: 200, ...options.revocation } }, logs)
  t.teardown(() => app.close())
  return app
}

const ours = (logs: LogCapture): Array<[number, string]> =>
  logs.records.filter((r) => String(r.msg).includes('revocation store')).map((r) => [r.level as number, r.msg as string])

t.test('onStale "accept": a store down past the staleness is logged and published once; sessions verify on; recovery without a restart', async (t) => {
  const time = clock()
  const store = faultyStore()
  const logs = new LogCapture()
  const seen = events(t)
  const app = await build(t, store, { now: time.now }, logs)
  const token = (await app.inject({ method: 'POST', url: '/login?user=a' })).json().token as string
  store.down = 'reject'
  time.advance(2)
  t.ok(await until(() => seen.length === 1), 'stale, after a tick')
  t.equal((await visit(app, token)).session.userId, 'a', 'signed-in users keep browsing: sessions verify by computation')
  const reads = store.reads
  t.ok(await until(() => store.reads > reads + 1), 'the loop keeps trying')
  t.equal(seen.length, 1, 'one event for the whole stale period')
  store.down = 'no'
  t.ok(await until(() => seen.length === 2), 'recovered at the next read')
  t.same(seen, [{ event: 'revocation-stale', policy: 'accept' }, { event: 'revocation-recovered' }])
  t.same(ours(logs), [
    [40, 'fastify-dbbasic-sessions: the revocation store has not been read for over 1 s; until it is, sessions are checked against the revocations already known (revocation.onStale "accept")'],
    [30, 'fastify-dbbasic-sessions: the revocation store answers again; revocations are up to date']
  ])
  t.match(logs.records.find((r) => r.level === 40)?.storeError, { message: 'connect ECONNREFUSED 127.0.0.1:6379', code: 'ECONNREFUSED' })
})

t.test('onStale "refuse": no session while the store is stale, sessions again when it answers', async (t) => {
  const time = clock()
  const store = faultyStore()
  const logs = new LogCapture()
  // Reads time out after 1.5 s, so a tick (every 0.5 s) finds one still under way.
  const app = await build(t, store, { now: time.now, revocation: { store, onStale: 'refuse', timeout: 1500 } }, logs)
  const token = (await app.inject({ method: 'POST', url: '/login?user=b' })).json().token as string
  store.down = 'hang'
  time.advance(1)
  t.equal((await visit(app, token)).session.userId, 'b', 'within the staleness: still a session')
  time.advance(1)
  t.ok(await until(() => ours(logs).some(([level]) => level === 40)), 'a read hangs: stale, noticed by the loop')
  t.match(logs.records.find((r) => r.level === 40), { storeError: undefined }, 'no read has failed yet: the line says only how long')
  t.same((await visit(app, token)).session, NONE, 'past it: refused, with no wait for the store')
  t.ok(logs.records.some((r) => r.reason === 'revocations unavailable'))
  t.equal((await visit(app, token, '/private')).status, 401, 'a 401, never a 5xx')
  store.down = 'no'
  t.ok(await until(() => ours(logs).some(([, msg]) => msg.includes('answers again')), 5000), 'a read gets through (the hung ones time out)')
  time.advance(0)
  t.equal((await visit(app, token)).session.userId, 'b', 'signed in again, no restart')
})

t.test('a store that does not answer at start leaves the process stale, not stopped', async (t) => {
  const store = faultyStore()
  store.down = 'reject'
  const logs = new LogCapture()
  const seen = events(t)
  const app = await build(t, store, { revocation: { store, onStale: 'refuse' } }, logs)
  t.same(seen, [{ event: 'revocation-stale', policy: 'refuse' }], 'reported at once: nothing is known yet')
  t.same((await visit(app, (await app.inject({ method: 'POST', url: '/login?user=c' })).json().token)).session, NONE)
})

t.test('revocations reach other processes by polling when the store has no push, and bad entries are skipped', async (t) => {
  const time = clock()
  const store = faultyStore()
  const logs = new LogCapture()
  const a = await build(t, store, { now: time.now }, logs)
  const b = await build(t, store, { now: time.now }, logs)
  const token = (await a.inject({ method: 'POST', url: '/login?user=d' })).json().token as string
  await store.add({ kind: 'session', id: 'x', until: 'soon' } as unknown as Revocation)
  await store.add({ kind: 'nothing', id: 'y', until: S0 + 60 } as unknown as Revocation)
  await a.inject({ method: 'POST', url: '/logout', headers: { cookie: `__Host-session=${token}` } })
  let refused = false
  for (const end = Date.now() + 3000; !refused && Date.now() < end; await new Promise((resolve) => setTimeout(resolve, 50))) {
    refused = (await visit(b, token)).session.userId === null
  }
  t.ok(refused, 'refused by the other process within a tick')
  t.equal((await visit(b, (await b.inject({ method: 'POST', url: '/login?user=d' })).json().token)).session.userId, 'd', 'junk entries change nothing')
})

t.test('expired revocations are pruned from the store and the table about once a minute', async (t) => {
  const time = clock()
  const store = faultyStore()
  const logs = new LogCapture()
  const app = await build(t, store, { ttl: 60, now: time.now }, logs)
  const token = (await app.inject({ method: 'POST', url: '/login?user=e' })).json().token as string
  await app.inject({ method: 'POST', url: '/logout', headers: { cookie: `__Host-session=${token}` } })
  time.advance(62)
  t.ok(await until(() => store.pruned.length === 1), 'pruned')
  t.equal(store.pruned[0], S0 + 62)
  t.same((await store.since(null, 0)).revocations, [], 'the expired revocation is gone from the store')
  store.down = 'reject'
  time.advance(61)
  t.ok(await until(() => logs.records.some((r) => r.msg === 'fastify-dbbasic-sessions: pruning the revocation store failed; it is tried again later')), 'a failed prune is only a debug line')
})

t.test('a store whose push cannot be set up is read by polling, and says so', async (t) => {
  const inner = memoryStore()
  const store: RevocationStore = {
    add: inner.add,
    since: inner.since,
    subscribe: async () => { throw new Error('LISTEN failed') }
  }
  const logs = new LogCapture()
  const app = await build(t, store, {}, logs)
  t.ok(app.hasDecorator('revokeSessions'))
  t.same(logs.records.filter((r) => r.level === 40).map((r) => r.msg), ['fastify-dbbasic-sessions: the revocation store\'s push is unavailable; reading it every 0.5 s'])
})

t.test('closing the app stops the push and the loop', async (t) => {
  const inner = memoryStore()
  let stopped = 0
  const store: RevocationStore = {
    add: inner.add,
    since: inner.since,
    subscribe: async (onChange) => {
      const stop = await inner.subscribe!(onChange)
      return async () => { stopped++; await stop() }
    }
  }
  const app = await buildApp({ revocation: { store } })
  const token = (await app.inject({ method: 'POST', url: '/login?user=f' })).json().token as string
  t.equal(payloadOf(token).user_id, 'f')
  await app.close()
  t.equal(stopped, 1)
})

t.test('a push during a read brings one more read right after it, never two at once', async (t) => {
  const inner = memoryStore()
  let notify: () => void = () => {}
  let release: () => void = () => {}
  let gated = false
  let reads = 0
  let concurrent = 0
  let most = 0
  const store: RevocationStore = {
    add: inner.add,
    since: async (cursor, now) => {
      reads++
      concurrent++
      most = Math.max(most, concurrent)
      if (gated) await new Promise<void>((resolve) => { release = resolve })
      concurrent--
      return await inner.since(cursor, now)
    },
    subscribe: async (onChange) => {
      notify = onChange
      return async () => {}
    }
  }
  const app = await buildApp({ revocation: { store, staleness: 60 } })
  t.teardown(() => app.close())
  gated = true
  const first = reads
  notify()
  t.ok(await until(() => reads === first + 1), 'a read under way')
  const before = reads
  notify()
  notify()
  gated = false
  release()
  t.ok(await until(() => reads === before + 1), 'the pushes during the read made one more')
  t.equal(most, 1, 'one read at a time')
})

t.test('a failed write is published; a store error without a message is logged as what it is', async (t) => {
  const inner = memoryStore()
  const store: RevocationStore = {
    add: async () => await Promise.reject('disk full'), // eslint-disable-line prefer-promise-reject-errors -- a store of the app's own may reject with anything
    since: inner.since
  }
  const logs = new LogCapture()
  const seen = events(t)
  const app = await build(t, store, {}, logs)
  await t.rejects(app.revokeSessions('u'), { code: 'FST_DBBASIC_SESSIONS_REVOCATION_FAILED', statusCode: 503 })
  t.same(seen, [{ event: 'revocation-write-failed', kind: 'user' }])
  t.same(logs.records.find((r) => r.level === 50)?.storeError, { message: 'disk full' })
})

t.test('thousands of revocations read at once are all enforced', async (t) => {
  const store = memoryStore()
  const ids: string[] = []
  for (let i = 0; i < 5000; i++) {
    const id = `sid-${String(i).padStart(20, '0')}`
    ids.push(id)
    await store.add({ kind: 'session', id, until: S0 + 3600 })
  }
  const logs = new LogCapture()
  const app = await build(t, store, {}, logs)
  const token = (await app.inject({ method: 'POST', url: '/login?user=v' })).json().token as string
  t.equal((await visit(app, token)).session.userId, 'v', 'a session not among them is kept')
  const keys = toKeys([SECRET])
  for (const id of [ids[0], ids[4321], ids[4999]]) {
    const revoked = encodeToken('v', S0 + 600, keys[0], { iat: S0, sid: id })
    t.same((await visit(app, revoked)).session, NONE, id)
  }
})
