// Resets. Redis flushed (FLUSHALL), then Redis restarted without persistence; PostgreSQL
// restored from an older pg_dump (the tables dropped, then pg_restore). Each time: a
// burst of 8 sign-outs right after, every one enforced by every process within the
// staleness; what the reset lost is what each process says it lost; what the store
// still holds stays refused throughout; and a process started after the reset agrees
// with the running ones on every session.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { App, Figures, enforced, everywhere, login, logout, pgAdmin, redisAdmin, settled, startStore, stats, whoami, type Store } from './drill.js'
import type { PostgresServer } from '../servers/postgres.js'
import { pause } from '../servers/process.js'
import { waitFor } from '../servers/wait.js'

const STALENESS = 2
const BOUND_MS = STALENESS * 1000 + 1000
const BURST = 8
const BIN = process.env.POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin'

interface Made { token: string, kind: 'session' | 'user', user: string }

/** The drill's own account of what the store holds, to know what a reset loses. */
class Ledger {
  held: Made[] = []
  /** What the store lost: all of it, or what came after the copy it was restored from. */
  lose (kept: (m: Made) => boolean = () => false): { sessions: number, users: number } {
    const lost = this.held.filter((m) => !kept(m))
    this.held = this.held.filter(kept)
    return { sessions: lost.filter((m) => m.kind === 'session').length, users: new Set(lost.filter((m) => m.kind === 'user').map((m) => m.user)).size }
  }
}

/** `n` sign-outs at once, on the processes in turn, of sessions made on the next one: a sign-out everywhere every fourth. */
async function signOuts (apps: App[], n: number, name: string, f: Figures, ledger: Ledger): Promise<Array<Made & { at: number }>> {
  return await Promise.all(Array.from({ length: n }, async (_, i) => {
    const revoker = apps[i % apps.length]
    const user = `${name}-${i}`
    const token = await login(apps[(i + 1) % apps.length], user)
    const kind = i % 4 === 3 ? 'user' : 'session'
    const status = kind === 'user' ? await everywhere(revoker, user) : await logout(revoker, token)
    f.signOut(status, false)
    if (status !== 200) throw new Error(`a sign-out after the reset answered ${status}`)
    const made = { token, kind, user } as const
    ledger.held.push(made)
    return { ...made, at: Date.now() }
  }))
}

/** Every app, asked for `tokens` every 50 ms until stopped: a revoked session the store still holds, accepted, breaks a promise. */
function guard (apps: App[], tokens: () => string[], f: Figures): { stop: () => Promise<void> } {
  const on = { value: true }
  const loop = (async () => {
    while (on.value) {
      for (const token of tokens()) {
        for (const app of apps) {
          const who = await whoami(app, token)
          f.answer(who.status)
          if (who.userId !== null) {
            f.revokedAfterBound++
            f.details.push(`${app.name} accepted a session revoked before the reset, which the store still holds`)
          }
        }
      }
      await pause(50)
    }
  })()
  return { stop: async () => { on.value = false; await loop } }
}

/**
 * One reset: sign-outs before it, the reset, a burst of 8 after it. `kept` says which
 * sign-outs the store still holds after the reset (a restore keeps those of the copy).
 */
async function reset (t: Test, owner: Test, store: Store, apps: App[], ledger: Ledger, name: string, doReset: () => Promise<(m: Made) => boolean>): Promise<void> {
  const f = new Figures()
  const before = await signOuts(apps, 4, `${name}-before`, f, ledger)
  await Promise.all(before.map(async (m) => { await enforced(apps, m.token, m.at, BOUND_MS, f) }))
  const resetsBefore = await Promise.all(apps.map(async (app) => (await stats(app)).events['revocation-store-reset'] ?? 0))
  const lostBefore = await Promise.all(apps.map(async (app) => (await stats(app)).lost))
  let stillHeld: string[] = []
  const guarding = guard(apps, () => stillHeld, f)
  const resetAt = Date.now()
  const kept = await doReset()
  const expected = ledger.lose(kept)
  stillHeld = ledger.held.map((m) => m.token)
  // Until a sign-out can be stored again (Redis restarting), then the burst.
  await waitFor(async () => {
    const probe = await login(apps[0], 'probe')
    if (await logout(apps[0], probe) !== 200) return false
    ledger.held.push({ token: probe, kind: 'session', user: 'probe' })
    return true
  }, 30_000, 'the store to take sign-outs again')
  const burstAt = Date.now()
  const burst = await signOuts(apps, BURST, `${name}-burst`, f, ledger)
  await Promise.all(burst.map(async (m) => { await enforced(apps, m.token, m.at, BOUND_MS, f) }))
  // Each process has seen the reset, and says what it lost: what the drill knows was lost.
  await waitFor(async () => (await Promise.all(apps.map(async (app, i) => ((await stats(app)).events['revocation-store-reset'] ?? 0) > resetsBefore[i]))).every(Boolean), 15_000, 'every process to see the reset')
  for (const [i, app] of apps.entries()) {
    const { lost } = await stats(app)
    const told = { sessions: lost.sessions - lostBefore[i].sessions, users: lost.users - lostBefore[i].users }
    if (told.sessions !== expected.sessions || told.users !== expected.users) {
      f.lost++
      f.details.push(`${app.name} said it lost ${JSON.stringify(told)}; the reset lost ${JSON.stringify(expected)}`)
    }
  }
  await guarding.stop()
  // A process started now agrees with the running ones, on every session signed out so far and a valid one.
  // It runs on, through the resets that follow: the store's test owns it.
  const late = await App.start(owner, `N(${name})`, store, urlOf(apps[0]), { staleness: STALENESS })
  urls.set(late, urlOf(apps[0]))
  await settled([late])
  const valid = await login(apps[0], `${name}-valid`)
  const everyone = [...apps, late]
  let disagreements = 0
  for (const { token } of [...before, ...burst, ...ledger.held, { token: valid }]) {
    const answers = await Promise.all(everyone.map(async (app) => (await whoami(app, token)).userId))
    if (new Set(answers).size > 1) {
      disagreements++
      f.details.push(`processes disagree on a session of ${answers.find((a) => a !== null) ?? '?'}: ${everyone.map((a, i) => `${a.name} ${answers[i] === null ? 'refuses' : 'accepts'}`).join(', ')}`)
    }
  }
  t.equal(disagreements, 0, `${name}: a process started after the reset agrees with the running ones`)
  apps.push(late)
  f.details.push(`the reset lost ${expected.sessions} sessions' and ${expected.users} users' sign-outs, as every process said; ` +
    `sign-outs worked again ${burstAt - resetAt} ms after the reset began; ${ledger.held.length} sign-outs held now`)
  f.report(t, `${store.kind}: ${name}`, { enforcementMaxMs: BOUND_MS })
}

const urls = new WeakMap<App, string>()
const urlOf = (app: App): string => urls.get(app) as string

async function startApps (t: Test, store: Store, n: number): Promise<App[]> {
  const proxy = await store.proxy(t)
  const apps = await Promise.all(Array.from({ length: n }, async (_, i) => await App.start(t, String.fromCharCode(65 + i), store, store.urlVia(proxy), { staleness: STALENESS })))
  for (const app of apps) urls.set(app, store.urlVia(proxy))
  await settled(apps)
  return apps
}

t.test('Redis', async (parent) => {
  const t = parent
  const store = await startStore(t, 'redis', { persistence: false })
  const apps = await startApps(t, store, 2)
  const ledger = new Ledger()
  const admin = redisAdmin(t, store)
  await t.test('FLUSHALL', async (t) => {
    await reset(t, parent, store, apps, ledger, 'FLUSHALL', async () => {
      await admin.flushall()
      return () => false
    })
  })
  await t.test('restarted without persistence', async (t) => {
    await reset(t, parent, store, apps, ledger, 'restart without persistence', async () => {
      await store.server.stop()
      await store.server.start()
      return () => false
    })
  })
})

t.test('PostgreSQL', async (parent) => {
  const t = parent
  const store = await startStore(t, 'postgres')
  const apps = await startApps(t, store, 2)
  const ledger = new Ledger()
  const admin = await pgAdmin(t, store)
  const dir = mkdtempSync(join(tmpdir(), 'fdbs-dump-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const dump = join(dir, 'revocations.dump')
  const { config } = store.server as PostgresServer
  const connection = ['-h', config.host, '-p', String(config.port), '-U', config.user]
  // The older copy: a dump taken before some sign-outs, with what the store held then.
  const base = await signOuts(apps, 4, 'dumped', new Figures(), ledger)
  await Promise.all(base.map(async (m) => { await enforced(apps, m.token, m.at, BOUND_MS, new Figures()) }))
  execFileSync(join(BIN, 'pg_dump'), [...connection, '-Fc', '-t', 'dbbasic_sessions_revocations', '-t', 'dbbasic_sessions_revocations_head', '-f', dump, config.database], { timeout: 30_000 })
  const inDump = new Set(ledger.held.map((m) => m.token))
  await t.test('restored from an older pg_dump', async (t) => {
    await reset(t, parent, store, apps, ledger, 'restore from an older dump', async () => {
      await admin.query('DROP TABLE dbbasic_sessions_revocations, dbbasic_sessions_revocations_head')
      execFileSync(join(BIN, 'pg_restore'), [...connection, '-d', config.database, dump], { timeout: 30_000 })
      return (m) => inDump.has(m.token)
    })
  })
})
