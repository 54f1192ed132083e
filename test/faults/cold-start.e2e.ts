// Cold starts. A process whose store is unreachable when it starts (the proxy holding
// every connection, or closing every one) starts all the same, with the default timeout
// (5000 ms), refuses every session ('revocations unavailable') until it has read the
// store completely, answers a sign-out meanwhile with 503 (and never applies it later),
// reads the store in the background and recovers without a restart; it never accepts a
// session revoked before the outage. Then 1,000,000 live revocations, put in
// the store in its own format: a process loads them in at most 20 s with at most 100 MB
// of heap (--max-old-space-size=100, and heapUsed + arrayBuffers sampled every 50 ms in
// the process), and a load cut
// half-way (every connection closed) resumes where it stopped instead of starting over.
import t, { type Test } from 'tap'
import { App, Figures, enforced, freshLogin, login, logout, everywhere, pgAdmin, redisAdmin, settled, startStore, stats, whoami, type Store, type StoreKind } from './drill.js'
import type { TcpProxy } from './proxy.js'
import { waitFor } from '../servers/wait.js'
import { pause } from '../servers/process.js'

const STALENESS = 2
const BOUND_MS = STALENESS * 1000 + 1000
const MILLION = 1_000_000
const LOAD_MAX_MS = 20_000
const HEAP_MAX = 100 * 1024 * 1024
const LOADED = 'the revocation store was read; sessions are checked against it'
const MB = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`

interface Before { valid: string, revoked: string[] }

/** Made on a process that reaches the store: a session to keep, and sessions ended before any outage. */
async function before (writer: App): Promise<Before> {
  const valid = await login(writer, 'keeper')
  const ended = await login(writer, 'ended-session')
  const user = [await login(writer, 'ended-user'), await login(writer, 'ended-user')]
  if (await logout(writer, ended) !== 200 || await everywhere(writer, 'ended-user') !== 200) throw new Error('the sign-outs before the outage failed')
  return { valid, revoked: [ended, ...user] }
}

interface Sample { received: number, valid: boolean, accepted: boolean }

/** Asks `app` for each token every 50 ms until stopped; what it answered, and when the answer came. */
function watch (app: App, b: Before, f: Figures): { stop: () => Promise<Sample[]> } {
  const on = { value: true }
  const samples: Sample[] = []
  const loop = (async () => {
    while (on.value) {
      for (const token of [b.valid, ...b.revoked]) {
        const who = await whoami(app, token)
        f.answer(who.status)
        samples.push({ received: Date.now(), valid: token === b.valid, accepted: who.userId !== null })
      }
      await pause(50)
    }
  })()
  return { stop: async () => { on.value = false; await loop; return samples } }
}

/** A revoked session accepted at any time, or any session accepted before `readAt` (answered before the store could have been read), breaks a promise. */
function judge (app: App, samples: Sample[], readAt: number, f: Figures): void {
  const revoked = samples.filter((s) => !s.valid && s.accepted).length
  const early = samples.filter((s) => s.valid && s.accepted && s.received < readAt).length
  f.revokedAfterBound += revoked + early
  if (revoked > 0) f.details.push(`${app.name} accepted a session revoked before the outage ${revoked} times`)
  if (early > 0) f.details.push(`${app.name} accepted a session ${early} times before it had read the store`)
}

async function unreachable (t: Test, store: Store, writer: App, b: Before, mode: 'blackhole' | 'refuse'): Promise<void> {
  const f = new Figures()
  const proxy = await store.proxy(t)
  proxy.set(mode)
  const app = await App.start(t, `A(${mode})`, store, store.urlVia(proxy), { staleness: STALENESS })
  t.notMatch(app.output(), /AVV_ERR|PLUGIN_TIMEOUT|FST_ERR/, `${mode}: started without a plugin timeout`)
  // Its logger writes apart from PORT=, so the line may come just after it.
  await waitFor(() => app.count('could not be read completely at start-up') === 1, 5000, `${mode}: the start-up warning`)
  const watching = watch(app, b, f)
  // Refused as unavailable while the store cannot be read: 2 s of it.
  const refusedUntil = Date.now() + 2000
  let refusals = 0
  while (Date.now() < refusedUntil) {
    const who = await whoami(app, b.valid)
    f.answer(who.status)
    if (who.userId === null && who.reason === 'revocations unavailable') refusals++
    await pause(100)
  }
  // A sign-out meanwhile cannot be stored: 503, never a sign-out that did not happen.
  const leaving = await login(writer, `leaving-${mode}`)
  const outAt = Date.now()
  const out = await logout(app, leaving, 15_000)
  const outMs = Date.now() - outAt
  f.signOut(out, true)
  t.equal(out, 503, `${mode}: a sign-out before the store is read answers 503`)
  const healedAt = Date.now()
  proxy.set('forward')
  await waitFor(async () => (await whoami(app, b.valid)).userId === 'keeper', 30_000, `${app.name} to read the store after the heal`)
  const recoveredMs = Date.now() - healedAt
  for (const where of [app, writer]) {
    const who = await whoami(where, leaving)
    f.answer(who.status)
    if (who.userId === null) {
      f.lost++
      f.details.push(`the session whose sign-out answered 503 was refused by ${where.name} after the heal: applied late`)
    }
  }
  // Running normally without a restart: a sign-out on another process is enforced here, a sign-in works.
  const later = await login(writer, 'later')
  if (await logout(writer, later) === 200) await enforced([app], later, Date.now(), BOUND_MS, f)
  await freshLogin(app, 'fresh', f, [app, writer])
  judge(app, await watching.stop(), healedAt, f)
  // Connections it holds once settled: a subscription tried while unreachable must not stay open beside the one that works.
  await pause(1000)
  const held = proxy.connections
  f.details.push(`started (listening) ${app.startMs} ms after spawn; refused the valid session as unavailable ${refusals} times in 2 s; a sign-out answered ${out} in ${outMs} ms; ` +
    `read the store ${recoveredMs} ms after the heal; connections through its proxy afterwards: ${held}`)
  f.report(t, `${store.kind}: store ${mode === 'blackhole' ? 'blackholed' : 'refusing'} at start`, { enforcementMaxMs: BOUND_MS })
}

/** 1,000,000 live session revocations, in the store's own format, after what is there. */
async function fill (t: Test, store: Store): Promise<number> {
  const until = Math.floor(Date.now() / 1000) + 86_400
  const started = Date.now()
  if (store.kind === 'postgres') {
    const admin = await pgAdmin(t, store)
    // Numbered after the head, which is moved in the same statement, as the store's own writes are.
    await admin.query(`WITH h AS (UPDATE dbbasic_sessions_revocations_head SET seq = seq + ${MILLION} RETURNING seq - ${MILLION} AS base)
INSERT INTO dbbasic_sessions_revocations (seq, mark, kind, subject, after_ms, except_key, until_s)
SELECT h.base + g, (random() * 281474976710655)::bigint, 'session', 'bulk-' || lpad(to_hex(g), 19, '0'), NULL, NULL, $1
FROM h, generate_series(1, ${MILLION}) g`, [until])
  } else {
    const admin = redisAdmin(t, store)
    const prefix = '{dbbasic-sessions:revocations}:'
    const base = Number(await admin.get(prefix + 'seq'))
    // One ZADD of 10,000 members per key and batch: 200 commands for the million.
    for (let from = 1; from <= MILLION; from += 10_000) {
      const log: Array<string | number> = []
      const expiry: Array<string | number> = []
      for (let i = from; i < from + 10_000; i++) {
        const member = `${base + i} ${(base + i).toString(16).padStart(12, '0')} ["session","bulk-${i.toString(16).padStart(19, '0')}",${until}]`
        log.push(base + i, member)
        expiry.push(until, member)
      }
      await admin.zadd(prefix + 'log', ...log)
      await admin.zadd(prefix + 'expiry', ...expiry)
    }
    await admin.set(prefix + 'seq', base + MILLION)
  }
  return Date.now() - started
}

interface Load { ms: number, loggedMs: number, revocations: number, heapPeak: number, bytes: number }

/** Starts a process (while `during` runs) and waits for it to have read everything; its figures. */
async function load (t: Test, store: Store, name: string, proxy: TcpProxy, b: Before, f: Figures, during?: () => Promise<void>): Promise<{ app: App, load: Load }> {
  const started = Date.now()
  const duringDone = during?.()
  const app = await App.start(t, name, store, store.urlVia(proxy), { staleness: STALENESS, nodeArgs: [`--max-old-space-size=${HEAP_MAX / 1024 / 1024}`] })
  const watching = watch(app, b, f)
  await duringDone
  await waitFor(() => app.count(LOADED) === 1 || app.child.exitCode !== null, 120_000, `${name} to read the store`)
  if (app.child.exitCode !== null) throw new Error(`${name} ended during the load (out of heap?): ${app.output().slice(-2000)}`)
  const ms = Date.now() - started
  const line = JSON.parse(app.output().split('\n').find((l) => l.includes(LOADED)) as string) as { revocations: number, ms: number, time: number }
  judge(app, await watching.stop(), line.time, f)
  const { heapPeak } = await stats(app)
  return { app, load: { ms, loggedMs: line.ms, revocations: line.revocations, heapPeak, bytes: proxy.down } }
}

async function million (t: Test, store: Store, writer: App, b: Before): Promise<void> {
  const f = new Figures()
  const fillMs = await fill(t, store)
  const whole = await store.proxy(t)
  const first = await load(t, store, 'M(whole)', whole, b, f)
  const m = first.load
  await freshLogin(first.app, 'after-million', f, [first.app, writer])
  t.ok(m.revocations >= MILLION, `read all ${m.revocations} revocations`)
  t.ok(m.ms <= LOAD_MAX_MS, `loaded within ${LOAD_MAX_MS} ms of the spawn: ${m.ms} ms`)
  // The hard check is the flag: an old space that needed more would have ended the process.
  // The sample adds the young generation and the typed arrays, so it may pass the flag's figure a little.
  t.ok(first.app.child.exitCode === null, `loaded under --max-old-space-size=${HEAP_MAX / 1024 / 1024}; heapUsed + arrayBuffers at its peak: ${MB(m.heapPeak)}`)
  await first.app.stop()
  // The same load cut half-way: every connection closed, then open again at once.
  const cut = await store.proxy(t)
  let cutAt = 0
  const second = await load(t, store, 'M(cut)', cut, b, f, async () => {
    await waitFor(() => cut.down >= m.bytes / 2, 60_000, 'half the load')
    cutAt = cut.down
    cut.set('refuse')
    await pause(200)
    cut.set('forward')
  })
  const c = second.load
  t.ok(c.revocations >= MILLION, `the cut load read all ${c.revocations} revocations`)
  // Started over, it would read the half again: 1.5 times the whole.
  t.ok(c.bytes < m.bytes * 1.2, `resumed, not started over: ${MB(c.bytes)} read in all against ${MB(m.bytes)} for a whole load`)
  await second.app.stop()
  f.details.push(`1,000,000 revocations put in ${fillMs} ms; a process read ${m.revocations} in ${m.ms} ms from its spawn (${m.loggedMs} ms by its log), ` +
    `heap peak ${MB(m.heapPeak)}, ${MB(m.bytes)} from the store`)
  f.details.push(`a load cut at ${MB(cutAt)} of ${MB(m.bytes)} finished ${c.ms} ms after the spawn (${c.loggedMs} ms by its log) with ${MB(c.bytes)} read in all, heap peak ${MB(c.heapPeak)}`)
  f.report(t, `${store.kind}: 1,000,000 revocations at start`)
}

async function drill (t: Test, kind: StoreKind): Promise<void> {
  const store = await startStore(t, kind)
  const direct = await store.proxy(t)
  const writer = await App.start(t, 'W', store, store.urlVia(direct), { staleness: STALENESS })
  await settled([writer])
  const b = await before(writer)
  await Promise.all([
    t.test('the store blackholed at start', async (t) => { await unreachable(t, store, writer, b, 'blackhole') }),
    t.test('the store refusing at start', async (t) => { await unreachable(t, store, writer, b, 'refuse') })
  ])
  await t.test('1,000,000 revocations at start', async (t) => { await million(t, store, writer, b) })
}

t.test('PostgreSQL', async (t) => { await drill(t, 'postgres') })
t.test('Redis', async (t) => { await drill(t, 'redis') })
