// The loop that keeps a process's revocations in step with a store that fails the way a
// database does: down, hung, slow, answering in pages, reset to an older history, down
// at start-up. Each stale period, slow read, reset and recovery is logged once and
// published; the onStale policy; nothing on the request path waits for the store. The
// plugin's clock comes from `now` (a slow read advances it); only the loop's own ticks
// (staleness / 2) run on real timers, so waits for a tick are bounded.
import t, { type Test } from 'tap'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import sessions, { diagnosticsChannelName, memoryStore } from '../lib/index.js'
import type { FastifyDbbasicSessionsOptions, Revocation, RevocationOptions, RevocationStore } from '../types/index.js'
import { encodeToken, toKeys } from '../lib/token.js'
import { Revocations } from '../lib/revocation/revocations.js'
import { LogCapture, NONE, SECRET, T0, buildApp, clock, payloadOf, visit } from './helpers.js'
import { logStore } from './log-store.js'

const S0 = T0 / 1000
const keys = toKeys([SECRET])

/** Waits, at most `ms` milliseconds, for `done` to hold. */
async function until (done: () => boolean | Promise<boolean>, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms
  while (!(await done()) && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20))
  return await done()
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

async function build (t: Test, store: RevocationStore, options: FastifyDbbasicSessionsOptions, logs: LogCapture, revocation: Omit<RevocationOptions, 'store'> = {}): Promise<FastifyInstance> {
  const app = await buildApp({ ...options, revocation: { store, staleness: 1, timeout: 200, ...revocation } }, logs)
  t.teardown(() => app.close())
  return app
}

const ours = (logs: LogCapture): Array<[number, string]> =>
  logs.records.filter((r) => String(r.msg).includes('revocation store')).map((r) => [r.level as number, r.msg as string])
const login = async (app: FastifyInstance, user: string): Promise<string> => (await app.inject({ method: 'POST', url: `/login?user=${user}` })).json().token
/** A token of the session `sid`, as another process made it. */
const tokenOf = (user: string, sid: string): string => encodeToken(user, S0 + 600, keys[0], { iat: S0, sid })
const sid = (i: number): string => `sid-${String(i).padStart(20, '0')}`
const revoked = (i: number): Revocation => ({ kind: 'session', id: sid(i), until: S0 + 3600 })

t.test('onStale "accept": a store down past the staleness is logged and published once; sessions verify on; recovery without a restart', async (t) => {
  const time = clock()
  const store = logStore()
  const logs = new LogCapture()
  const seen = events(t)
  const app = await build(t, store, { now: time.now }, logs)
  const token = await login(app, 'a')
  store.down = 'reject'
  time.advance(2)
  t.ok(await until(() => seen.length === 2), 'stale, after a tick')
  t.equal((await visit(app, token)).session.userId, 'a', 'signed-in users keep browsing: sessions verify by computation')
  const reads = store.reads.length
  t.ok(await until(() => store.reads.length > reads + 1), 'the loop keeps trying')
  t.equal(seen.length, 2, 'one event for the whole stale period')
  store.down = 'no'
  t.ok(await until(() => seen.length === 3), 'recovered at the next read')
  t.same(seen, [{ event: 'revocation-loaded', revocations: 0 }, { event: 'revocation-stale', policy: 'accept' }, { event: 'revocation-recovered' }])
  t.same(ours(logs).slice(-2), [
    [40, 'fastify-dbbasic-sessions: the revocation store has not been read for over 1 s; until it is, sessions are checked against the revocations already known (revocation.onStale "accept")'],
    [30, 'fastify-dbbasic-sessions: the revocation store answers again; revocations are up to date']
  ])
  t.match(logs.records.find((r) => r.level === 40)?.storeError, { message: 'connect ECONNREFUSED 127.0.0.1:6379', code: 'ECONNREFUSED' })
})

t.test('onStale "refuse": no session while the store is stale, sessions again when it answers', async (t) => {
  const time = clock()
  const store = logStore()
  const logs = new LogCapture()
  // Reads time out after 1.5 s, so a tick (every 0.5 s) finds one still under way.
  const app = await build(t, store, { now: time.now }, logs, { onStale: 'refuse', timeout: 1500 })
  const token = await login(app, 'b')
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
  t.equal((await visit(app, token)).session.userId, 'b', 'signed in again, no restart')
})

t.test('a store down at start-up: the app starts, refuses every session until the store is read in full, and recovers by itself', async (t) => {
  const time = clock()
  const store = logStore()
  await store.add(revoked(1))
  store.down = 'reject'
  const logs = new LogCapture()
  const seen = events(t)
  const app = await build(t, store, { now: time.now }, logs)
  t.same(seen, [{ event: 'revocation-stale', policy: 'accept' }], 'reported at once: nothing is known yet')
  t.ok(logs.records.some((r) => r.level === 40 && String(r.msg).includes('could not be read completely at start-up; every session is refused until it is')))
  t.ok(logs.records.some((r) => r.level === 40 && String(r.msg).startsWith('fastify-dbbasic-sessions: the revocation store has not been read yet; until it is, every session is refused')), 'never read is said as such, not as a staleness it has not had')
  const token = await login(app, 'c')
  t.same((await visit(app, token)).session, NONE, 'even under onStale "accept": never read is not stale')
  t.ok(logs.records.some((r) => r.reason === 'revocations unavailable'))
  t.same((await visit(app, tokenOf('c', sid(1)))).session, NONE, 'and a session revoked before the outage is not let in')
  store.down = 'no'
  t.ok(await until(() => seen.some((e) => e.event === 'revocation-loaded')), 'read in the background once it answers')
  t.same(seen.at(-1), { event: 'revocation-recovered' })
  t.equal((await visit(app, token)).session.userId, 'c', 'sessions are accepted, without a restart')
  t.same((await visit(app, tokenOf('c', sid(1)))).session, NONE, 'the revoked one stays refused')
})

t.test('a store that does not answer at start-up never holds up ready past half the plugin timeout', async (t) => {
  const store = logStore()
  store.down = 'hang'
  const app = Fastify({ pluginTimeout: 1000 })
  const started = Date.now()
  await app.register(sessions, { secret: SECRET, revocation: { store } })
  await app.ready()
  t.teardown(() => app.close())
  const waited = Date.now() - started
  t.ok(waited < 1000, `ready after ${waited} ms, with the default timeout of 5000 ms`)
})

t.test('pluginTimeout 0 (Fastify waits for ever): the first read is waited for up to timeout', async (t) => {
  const store = logStore()
  store.down = 'hang'
  const app = Fastify({ pluginTimeout: 0 })
  const started = Date.now()
  await app.register(sessions, { secret: SECRET, revocation: { store, timeout: 300 } })
  await app.ready()
  t.teardown(() => app.close())
  const waited = Date.now() - started
  t.ok(waited >= 290 && waited < 2000, `ready after ${waited} ms`)
})

t.test('acceptBeforeLoad: sessions are checked against what was read so far, by name', async (t) => {
  const store = logStore()
  await store.add(revoked(2))
  store.down = 'reject'
  const logs = new LogCapture()
  const app = await build(t, store, {}, logs, { acceptBeforeLoad: true })
  t.ok(logs.records.some((r) => r.level === 40 && String(r.msg).includes('sessions are checked against the revocations read so far until it is (revocation.acceptBeforeLoad)')))
  t.equal((await visit(app, await login(app, 'k'))).session.userId, 'k')
  t.equal((await visit(app, tokenOf('k', sid(2)))).session.userId, 'k', 'what it has not read, it cannot refuse: the trade-off the option names')
})

t.test('push that cannot be set up at start is tried again in the background until it works', async (t) => {
  const store = logStore()
  const subscribeTo = store.subscribe!.bind(store)
  let attempts = 0
  store.subscribe = async (onChange) => {
    if (++attempts < 2) throw new Error('LISTEN failed')
    return await subscribeTo(onChange)
  }
  const logs = new LogCapture()
  const app = await build(t, store, {}, logs, { staleness: 60 })
  t.same(logs.records.filter((r) => r.level === 40).map((r) => r.msg), ['fastify-dbbasic-sessions: the revocation store\'s push is unavailable; reading it every 30 s and trying again'])
  t.ok(await until(() => attempts === 2), 'tried again after a second')
  const token = await login(app, 'p')
  await store.add({ kind: 'session', id: payloadOf(token).sid!, until: S0 + 3600 })
  t.ok(await until(async () => (await visit(app, token)).session.userId === null), 'a push reaches it now, long before the 30 s poll')
})

t.test('a read in pages: the first load takes them all before any session is accepted; a failed page is resumed from, not started over', async (t) => {
  const store = logStore()
  store.page = 3
  for (let i = 0; i < 10; i++) await store.add(revoked(i))
  store.failRead = 2
  const logs = new LogCapture()
  const app = await build(t, store, {}, logs, { staleness: 60 })
  t.equal(store.reads[0], null, 'from the start')
  t.ok(await until(() => logs.records.some((r) => String(r.msg).includes('the revocation store was read'))), 'loaded')
  const cursors = store.reads
  t.same(cursors.filter((c) => c === null).length, 1, 'never started over')
  t.equal(cursors[3], cursors[2], 'the failed page was asked for again, from where it stopped')
  t.equal(cursors.length, 5, 'four pages and the one that failed')
  for (let i = 0; i < 10; i++) t.same((await visit(app, tokenOf('v', sid(i)))).session, NONE, sid(i))
  t.equal((await visit(app, tokenOf('v', sid(10)))).session.userId, 'v', 'a session not among them is kept')
  t.match(logs.records.find((r) => String(r.msg).includes('was read')), { revocations: 10 })
})

t.test('a reset store (an older history restored, or flushed) is read again in full: no later revocation is skipped, what was lost is told, the fleet agrees', async (t) => {
  const time = clock()
  const store = logStore()
  for (let i = 0; i < 5; i++) await store.add(revoked(i))
  const logs = new LogCapture()
  const seen = events(t)
  const app = await build(t, store, { now: time.now }, logs, { staleness: 60 })
  store.restore(3)
  // More revocations than were lost: a cursor check by number alone would pass over them.
  for (let i = 10; i < 18; i++) await store.add(revoked(i))
  store.push()
  t.ok(await until(() => seen.some((e) => e.event === 'revocation-store-reset')), 'detected at the next read')
  t.same(seen.find((e) => e.event === 'revocation-store-reset'), { event: 'revocation-store-reset', lostSessions: 2, lostUsers: 0 })
  t.match(logs.records.find((r) => r.level === 50), { sessions: 2, users: 0, msg: /the revocation store was reset .* and lost revocations this process enforced/ })
  const fresh = await build(t, store, { now: time.now }, new LogCapture(), { staleness: 60 })
  for (const i of [0, 1, 2, 10, 13, 17]) {
    t.same((await visit(app, tokenOf('r', sid(i)))).session, NONE, `${sid(i)}: refused by the running process`)
    t.same((await visit(fresh, tokenOf('r', sid(i)))).session, NONE, `${sid(i)}: and by a process started after the reset`)
  }
  for (const i of [3, 4]) {
    t.equal((await visit(app, tokenOf('r', sid(i)))).session.userId, 'r', `${sid(i)}: lost with the reset, by both alike`)
    t.equal((await visit(fresh, tokenOf('r', sid(i)))).session.userId, 'r')
  }
  store.restore(0)
  await store.add(revoked(20))
  store.push()
  t.ok(await until(() => seen.filter((e) => e.event === 'revocation-store-reset').length === 3), 'a flush too (told by both processes)')
  t.same((await visit(app, tokenOf('r', sid(20)))).session, NONE)
})

t.test('while a reset store is read again, what was known stays in force; once the read is complete, the store decides', async (t) => {
  const store = logStore()
  store.page = 2
  for (let i = 0; i < 6; i++) await store.add(revoked(i))
  const seen = events(t)
  const app = await build(t, store, {}, new LogCapture(), { staleness: 60 })
  store.quiet = true
  store.restore(0)
  for (let i = 6; i < 10; i++) await store.add(revoked(i))
  const reads = store.reads.length
  store.failRead = reads + 1
  store.push()
  t.ok(await until(() => store.reads.length === reads + 2), 'the full read has failed part-way')
  t.same((await visit(app, tokenOf('w', sid(0)))).session, NONE, 'a revocation the store lost is still enforced until the full read is complete')
  t.same((await visit(app, tokenOf('w', sid(6)))).session, NONE, 'and what the part read holds already counts')
  store.push()
  t.ok(await until(() => seen.some((e) => e.event === 'revocation-store-reset')), 'resumed and complete')
  t.equal(store.reads[reads + 2], store.reads[reads + 1], 'from the page that failed')
  t.equal((await visit(app, tokenOf('w', sid(0)))).session.userId, 'w', 'then the store decides, as it does for a process started now')
  for (let i = 6; i < 10; i++) t.same((await visit(app, tokenOf('w', sid(i)))).session, NONE)
})

t.test('a store whose history changed but lost nothing (its data put back whole): read again, said at info, nothing dropped', async (t) => {
  const store = logStore()
  for (let i = 0; i < 3; i++) await store.add(revoked(i))
  const logs = new LogCapture()
  const seen = events(t)
  const app = await build(t, store, {}, logs, { staleness: 60 })
  store.quiet = true
  store.restore(0)
  for (let i = 0; i < 3; i++) await store.add(revoked(i))
  store.push()
  t.ok(await until(() => seen.some((e) => e.event === 'revocation-store-reset')), 'read again')
  t.same(seen.find((e) => e.event === 'revocation-store-reset'), { event: 'revocation-store-reset', lostSessions: 0, lostUsers: 0 })
  t.ok(logs.records.some((r) => r.level === 30 && String(r.msg).includes('it was read again in full and holds every revocation this process knew')))
  t.notOk(logs.records.some((r) => r.level === 50))
  for (let i = 0; i < 3; i++) t.same((await visit(app, tokenOf('x', sid(i)))).session, NONE)
})

t.test('a read slower than the staleness is told once; staleness counts from the last completed read', async (t) => {
  const time = clock()
  const store = logStore(time)
  const logs = new LogCapture()
  const seen = events(t)
  const app = await build(t, store, { now: time.now }, logs, { onStale: 'refuse' })
  const token = await login(app, 's')
  store.slowSeconds = 2
  t.ok(await until(() => seen.some((e) => e.event === 'revocation-slow')), 'a slow read')
  t.same(seen.find((e) => e.event === 'revocation-slow'), { event: 'revocation-slow', ms: 2000 })
  t.match(logs.records.find((r) => r.level === 40), { ms: 2000, msg: 'fastify-dbbasic-sessions: a read of the revocation store took longer than revocation.staleness (1 s); revocations are enforced that much later, and sessions are refused whenever no read has completed within it' })
  const reads = store.reads.length
  t.ok(await until(() => store.reads.length > reads + 1), 'more slow reads')
  t.equal(seen.filter((e) => e.event === 'revocation-slow').length, 1, 'told once')
  t.equal((await visit(app, token)).session.userId, 's', 'a read that completed just now: within the staleness, though it began 2 s ago')
  store.slowSeconds = 0
  t.ok(await until(() => { const n = store.reads.length; return n > reads + 4 }), 'fast again')
  store.slowSeconds = 2
  t.ok(await until(() => seen.filter((e) => e.event === 'revocation-slow').length === 2), 'slow again after fast reads: told again')
})

t.test('revocations reach other processes by polling when the store has no push, and bad entries are skipped', async (t) => {
  const time = clock()
  const store = logStore()
  store.subscribe = undefined
  const logs = new LogCapture()
  const a = await build(t, store, { now: time.now }, logs)
  const b = await build(t, store, { now: time.now }, logs)
  const token = await login(a, 'd')
  await store.add({ kind: 'session', id: 'x', until: 'soon' } as unknown as Revocation)
  await store.add({ kind: 'nothing', id: 'y', until: S0 + 60 } as unknown as Revocation)
  await store.add({ kind: 'user', id: 'y', after: S0 * 1000, until: S0 + 60, except: 7 } as unknown as Revocation)
  await store.add({ kind: 'user', id: 'y', after: S0 * 1000, until: S0 + 60, except: '' } as unknown as Revocation)
  await store.add({ kind: 'user', id: 'y', after: 'then', until: S0 + 60 } as unknown as Revocation)
  await store.add({ kind: 'session', id: '', until: S0 + 60 })
  await store.add({ kind: 'session', id: 'z', until: NaN })
  await store.add(null as unknown as Revocation)
  await a.inject({ method: 'POST', url: '/logout', headers: { cookie: `__Host-Http-session=${token}` } })
  let refused = false
  for (const end = Date.now() + 3000; !refused && Date.now() < end; await new Promise((resolve) => setTimeout(resolve, 50))) {
    refused = (await visit(b, token)).session.userId === null
  }
  t.ok(refused, 'refused by the other process within a tick')
  t.equal((await visit(b, await login(b, 'd'))).session.userId, 'd', 'junk entries change nothing')
  t.equal((await visit(b, await login(b, 'y'))).session.userId, 'y', 'a user cut-off with a bad exception is skipped whole')
})

t.test('expired revocations are pruned from the store and the table about once a minute', async (t) => {
  const time = clock()
  const store = logStore()
  const logs = new LogCapture()
  const app = await build(t, store, { ttl: 60, now: time.now }, logs)
  const token = await login(app, 'e')
  await app.inject({ method: 'POST', url: '/logout', headers: { cookie: `__Host-Http-session=${token}` } })
  await store.add(revoked(1))
  time.advance(62)
  t.ok(await until(() => store.pruned.length === 1), 'pruned')
  t.equal(store.pruned[0], S0 + 62)
  t.equal(store.size, 1, 'the expired revocation is gone from the store, but for the newest entry, which a cursor may name')
  store.down = 'reject'
  time.advance(61)
  t.ok(await until(() => logs.records.some((r) => r.msg === 'fastify-dbbasic-sessions: pruning the revocation store failed; it is tried again later')), 'a failed prune is only a debug line')
})

t.test('without prune, a store is read on; with it failing or absent, nothing else changes', async (t) => {
  const time = clock()
  const store = logStore()
  store.prune = undefined
  const app = await build(t, store, { now: time.now }, new LogCapture())
  const token = await login(app, 'n')
  time.advance(61)
  await app.inject({ method: 'POST', url: '/logout', headers: { cookie: `__Host-Http-session=${token}` } })
  const reads = store.reads.length
  t.ok(await until(() => store.reads.length > reads + 1), 'ticks go on')
  t.same((await visit(app, token)).session, NONE)
})

t.test('closing the app while a read hangs, or while the push is being set up, ends both at once', async (t) => {
  const store = logStore()
  let subscribed = 0
  let release: () => void = () => {}
  store.subscribe = async () => {
    await new Promise<void>((resolve) => { release = resolve })
    return async () => { subscribed-- }
  }
  const app = await buildApp({ revocation: { store, timeout: 5000 } })
  subscribed++
  store.down = 'hang'
  store.push()
  const reads = store.reads.length
  const started = Date.now()
  const closing = app.close()
  await new Promise((resolve) => setTimeout(resolve, 50))
  release()
  await closing
  t.ok(Date.now() - started < 1000, 'closed without waiting out the 5 s timeout')
  t.equal(subscribed, 0, 'a push set up after close was stopped')
  t.equal(store.reads.length, reads, 'no read after close')
})

t.test('a revocation made here while a reset store is read again is kept in the table that replaces the old one', async (t) => {
  const store = logStore()
  store.page = 2
  for (let i = 0; i < 4; i++) await store.add(revoked(i))
  const seen = events(t)
  const app = await build(t, store, {}, new LogCapture(), { staleness: 60 })
  const token = await login(app, 'h')
  store.quiet = true
  store.restore(0)
  for (let i = 4; i < 8; i++) await store.add(revoked(i))
  const reads = store.reads.length
  store.failRead = reads + 1
  store.push()
  t.ok(await until(() => store.reads.length === reads + 2), 'part-way')
  t.equal((await app.inject({ method: 'POST', url: '/logout', headers: { cookie: `__Host-Http-session=${token}` } })).statusCode, 200)
  store.push()
  t.ok(await until(() => seen.some((e) => e.event === 'revocation-store-reset')), 'complete')
  t.same((await visit(app, token)).session, NONE, 'the sign-out made during the full read still holds')
})

t.test('closing the app stops the push and the loop', async (t) => {
  const inner = logStore()
  let stopped = 0
  const store: RevocationStore = {
    add: inner.add,
    since: inner.since,
    subscribe: async (onChange) => {
      const stop = await inner.subscribe!(onChange)
      // A change pushed while the subscription is being stopped: the app is closing, so no read waits on it.
      return async () => { stopped++; onChange(); await stop() }
    }
  }
  const app = await buildApp({ revocation: { store, timeout: 5000 } })
  const token = await login(app, 'f')
  t.equal(payloadOf(token).user_id, 'f')
  const reads = inner.reads.length
  const started = Date.now()
  await app.close()
  t.equal(stopped, 1)
  t.ok(Date.now() - started < 1000, 'closed at once')
  t.equal(inner.reads.length, reads, 'the read that push asked for never reached the store')
})

t.test('a push during a read brings one more read right after it, never two at once', async (t) => {
  const inner = logStore()
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

t.test('a failed write is published; a store error without a message is logged as what it is; the store is given the deadline', async (t) => {
  const inner = memoryStore()
  let deadline: number | undefined
  const store: RevocationStore = {
    add: async (_r, d) => { deadline = d; return await Promise.reject('disk full') }, // eslint-disable-line prefer-promise-reject-errors -- a store of the app's own may reject with anything
    since: inner.since
  }
  const logs = new LogCapture()
  const seen = events(t)
  const app = await build(t, store, {}, logs)
  const before = Date.now()
  await t.rejects(app.revokeAllSessions('u'), { code: 'FST_DBBASIC_SESSIONS_REVOCATION_FAILED', statusCode: 503 })
  t.ok(deadline !== undefined && deadline >= before + 100 && deadline <= Date.now() + 100, 'half-way through the plugin\'s wait (timeout 200 ms), by the real clock')
  t.same(seen.filter((e) => e.event !== 'revocation-loaded'), [{ event: 'revocation-write-failed', kind: 'user' }])
  t.same(logs.records.find((r) => r.level === 50)?.storeError, { message: 'disk full' })
})

t.test('thousands of revocations read at once are all enforced', async (t) => {
  const store = logStore()
  const ids: string[] = []
  for (let i = 0; i < 5000; i++) {
    ids.push(sid(i))
    await store.add(revoked(i))
  }
  const app = await build(t, store, {}, new LogCapture())
  const token = await login(app, 'v')
  t.equal((await visit(app, token)).session.userId, 'v', 'a session not among them is kept')
  for (const id of [ids[0], ids[4321], ids[4999]]) t.same((await visit(app, tokenOf('v', id))).session, NONE, id)
})

t.test('a push that comes up only after its timeout, once another attempt was made, is stopped: no connection is left open beside the one kept', async (t) => {
  const store = logStore()
  const subscribeTo = store.subscribe!.bind(store)
  let attempts = 0
  let stopped = 0
  let release: () => void = () => {}
  // The first attempt hangs (a store behind a network that holds its connections), then comes up when it heals.
  store.subscribe = async (onChange) => {
    if (++attempts === 1) await new Promise<void>((resolve) => { release = resolve })
    const stop = await subscribeTo(onChange)
    return async () => { stopped++; await stop() }
  }
  const app = await build(t, store, {}, new LogCapture(), { staleness: 60 })
  t.ok(await until(() => attempts === 2), 'tried again once the first timed out')
  release()
  t.ok(await until(() => stopped === 1), 'the late one is stopped when it comes up')
  await app.close()
  t.equal(stopped, 2, 'and the one kept, at close')
})

t.test('reads leave no listener behind on the signal that closing the app aborts', async (t) => {
  const warned: string[] = []
  const onWarning = (warning: Error): void => { warned.push(warning.name) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  const store = logStore()
  await build(t, store, {}, new LogCapture(), { staleness: 60 })
  // Each read waits on that signal; more than 10 listeners left on it would be a leak, and Node says so.
  for (let i = 0; i < 15; i++) {
    const reads = store.reads.length
    store.push()
    t.ok(await until(() => store.reads.length > reads), `read ${i + 1}`)
  }
  await new Promise((resolve) => setImmediate(resolve))
  t.same(warned.filter((name) => name === 'MaxListenersExceededWarning'), [], 'no listener kept per read')
})

t.test('a sign-out while sessions are refused for want of the store (not read yet, or stale under onStale "refuse") still ends the session: stored, or 503 when it cannot be', async (t) => {
  const time = clock()
  const store = logStore()
  const since = store.since.bind(store)
  let readable = false
  // Reads fail (a store that cannot be read), writes work.
  store.since = async (cursor, nowSeconds) => {
    if (!readable) throw new Error('the connection was reset')
    return await since(cursor, nowSeconds)
  }
  const seen = events(t)
  const app = await build(t, store, { now: time.now }, new LogCapture(), { onStale: 'refuse' })
  const logout = async (token: string): Promise<number> => (await app.inject({ method: 'POST', url: '/logout', headers: { cookie: `__Host-Http-session=${token}` } })).statusCode
  const stored = async (i: number): Promise<boolean> => (await since(null, S0)).revocations.some((r) => r.id === sid(i))
  t.same((await visit(app, tokenOf('w', sid(7)))).session, NONE, 'refused: the store was never read')
  t.same(await app.readSession(`__Host-Http-session=${tokenOf('w', sid(7))}`), NONE, 'by readSession too')
  t.equal(await logout(tokenOf('w', sid(7))), 200)
  t.ok(await stored(7), 'the sign-out was stored all the same')
  readable = true
  t.ok(await until(() => seen.some((e) => e.event === 'revocation-loaded')), 'read')
  t.same((await visit(app, tokenOf('w', sid(7)))).session, NONE, 'and the session stays ended once the store is read')
  t.equal((await visit(app, tokenOf('w', sid(8)))).session.userId, 'w', 'another is accepted')
  // Stale under onStale "refuse": the same.
  readable = false
  time.advance(2)
  t.ok(await until(async () => (await visit(app, tokenOf('w', sid(8)))).session.userId === null), 'refused while stale')
  t.equal(await logout(tokenOf('w', sid(8))), 200)
  t.ok(await stored(8), 'stored')
  // And with writes failing too, the sign-out says so: 503, the cookie kept.
  store.down = 'reject'
  const failed = await app.inject({ method: 'POST', url: '/logout', headers: { cookie: `__Host-Http-session=${tokenOf('w', sid(9))}` } })
  t.equal(failed.statusCode, 503, 'a sign-out that could not be stored is not reported done')
  t.equal(failed.headers['set-cookie'], undefined, 'and the cookie is kept')
})

t.test('a sign-out everywhere that keeps one session (except), as read from the store: that session is accepted, the user\'s others are refused', async (t) => {
  const time = clock()
  const store = logStore()
  const app = await build(t, store, { now: time.now }, new LogCapture())
  const kept = tokenOf('e', sid(20))
  const other = tokenOf('e', sid(21))
  await store.add({ kind: 'user', id: 'e', after: T0 + 1000, until: S0 + 3600, except: sid(20) })
  t.ok(await until(async () => (await visit(app, other)).session.userId === null), 'the other session is refused')
  t.equal((await visit(app, kept)).session.userId, 'e', 'the one it keeps is not')
  // A later cut-off that keeps nothing refuses the kept one too.
  await store.add({ kind: 'user', id: 'e', after: T0 + 2000, until: S0 + 3600 })
  t.ok(await until(async () => (await visit(app, kept)).session.userId === null), 'then refused as well')
})

t.test('the cut-off a sign-out that keeps one session stores names that session', async (t) => {
  const store = logStore()
  const silent = { info () {}, warn () {}, error () {}, debug () {} } as unknown as FastifyBaseLogger
  const policy = { ttl: 3600, absoluteTtl: undefined, rolling: false, clockTolerance: 0, externalTtl: 3600 }
  const revocations = new Revocations({ store, staleness: 2, onStale: 'accept', timeout: 1000, acceptBeforeLoad: false, maxRevokedSessions: 10, implicit: false }, policy, () => T0, silent)
  await revocations.endUser('u', S0, sid(22))
  t.match((await store.since(null, S0)).revocations, [{ kind: 'user', id: 'u', after: T0, except: sid(22) }])
})

t.test('a push that arrives once the app is closing reads nothing more and says nothing', async (t) => {
  const store = logStore()
  const subscribeTo = store.subscribe!.bind(store)
  let push: () => void = () => {}
  store.subscribe = async (onChange) => {
    push = onChange
    return await subscribeTo(onChange)
  }
  const logs = new LogCapture()
  const app = await build(t, store, {}, logs, { staleness: 60 })
  await app.close()
  const said = logs.records.length
  push()
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(logs.records.length, said, 'no line after close')
})
