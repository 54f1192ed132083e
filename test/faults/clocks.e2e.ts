// Skewed clocks, each its own process (the plugin's `now` option, at a fixed offset from
// real time), sharing one store. Within the declared skew (+50 s, and ±30 s, under
// clockTolerance 60): every session issued, in real time, before a revocation ends
// within the staleness everywhere, whatever process made it and whatever the token
// (plugin-made with and without `gen`, the standalone createSession's without iat or
// sid); a sign-in right after a sign-out everywhere works at once on the process that
// revoked, and on every other once it has read the revocation; no sign-in is refused for
// another user's revocation or another process's clock. Beyond it (±300 s, 600 s apart,
// under clockTolerance 300): every process's own users sign in again at once, and the
// sessions made on the correctly set process end; the rest is counted and printed.
import t, { type Test } from 'tap'
import { createSession } from '../../lib/index.js'
import { SECRET } from '../helpers.js'
import {
  App, Figures, enforced, everywhere, freshLogin, login, logout, payloadOf, revokeById, settled, startStore, whoami,
  type Store, type StoreKind
} from './drill.js'

const STALENESS = 2
/** Another process's read: the staleness, and a request's time on a busy 2-core machine. */
const BOUND_MS = STALENESS * 1000 + 1000

interface Skew { name: string, offsets: number[], tolerance: number }

async function startApps (t: Test, store: Store, skew: Skew): Promise<App[]> {
  const proxy = await store.proxy(t)
  const apps = await Promise.all(skew.offsets.map(async (offset) => await App.start(t, `P(${offset >= 0 ? '+' : ''}${offset} s)`, store, store.urlVia(proxy), {
    staleness: STALENESS,
    offsetMs: offset * 1000,
    clockTolerance: skew.tolerance
  })))
  await settled(apps)
  return apps
}

/** The revoking process refuses at once; every process within the bound. */
async function ended (apps: App[], revoker: App, token: string, f: Figures): Promise<void> {
  const revokedAt = Date.now()
  const who = await whoami(revoker, token)
  f.answer(who.status)
  if (who.userId !== null) {
    f.revokedAfterBound++
    f.details.push(`${revoker.name} accepted a session it had just revoked`)
  }
  await enforced(apps, token, revokedAt, BOUND_MS, f)
}

async function expectOk (status: number, what: string, f: Figures): Promise<void> {
  f.answer(status)
  if (status !== 200) throw new Error(`${what} answered ${status}`)
}

/** The sign-outs of one revoking process, on users and sessions of its own. */
async function revokeFrom (t: Test, apps: App[], r: number, f: Figures): Promise<void> {
  const revoker = apps[r]
  const others = apps.filter((a) => a !== revoker)
  // Users of this run only: the store keeps the sign-outs of the runs before.
  const run = Math.random().toString(36).slice(2, 8)
  const user = (what: string): string => `${what}-${r}-${run}`
  // Tokens with `gen`: the user's earlier sign-out everywhere, read by every process before the logins.
  const before = await login(apps[(r + 1) % apps.length], user('gen'))
  await expectOk(await everywhere(apps[(r + 1) % apps.length], user('gen')), 'an earlier sign-out everywhere', f)
  await enforced(apps, before, Date.now(), BOUND_MS, f)
  const tokens: Record<string, string[]> = {
    nogen: await Promise.all(apps.map(async (app) => await login(app, user('nogen')))),
    gen: await Promise.all(apps.map(async (app) => await login(app, user('gen')))),
    standalone: [createSession(user('standalone'), { secret: SECRET })]
  }
  t.ok(tokens.nogen.every((token) => payloadOf(token).gen === undefined), `${revoker.name}: tokens without gen`)
  t.ok(tokens.gen.every((token) => payloadOf(token).gen !== undefined), `${revoker.name}: tokens with gen`)
  t.ok(payloadOf(tokens.standalone[0]).iat === undefined && payloadOf(tokens.standalone[0]).sid === undefined, `${revoker.name}: a standalone token without iat or sid`)
  // Sessions ended one by one: destroySession on the revoking process of a session made
  // elsewhere (and of a standalone token), revokeSession by its id.
  const destroyed = [...await Promise.all(others.map(async (app) => await login(app, user('destroyed')))), createSession(user('destroyed-standalone'), { secret: SECRET })]
  const byId = await Promise.all(others.map(async (app) => await login(app, user('by-id'))))

  await Promise.all([
    ...Object.entries(tokens).map(async ([kind, list]) => {
      await expectOk(await everywhere(revoker, user(kind)), 'a sign-out everywhere', f)
      // Right after, on the process that revoked: a sign-in works at once, everywhere.
      await freshLogin(revoker, user(kind), f, apps)
      await Promise.all(list.map(async (token) => { await ended(apps, revoker, token, f) }))
      // Once each process has read it (the old sessions are refused there), a sign-in there works at once.
      for (const app of others) await freshLogin(app, user(kind), f, apps)
    }),
    ...destroyed.map(async (token) => {
      await expectOk(await logout(revoker, token), 'a sign-out', f)
      await ended(apps, revoker, token, f)
    }),
    ...byId.map(async (token) => {
      await expectOk(await revokeById(revoker, payloadOf(token).sid as string), 'revokeSession', f)
      await ended(apps, revoker, token, f)
    })
  ])
}

async function withinSkew (t: Test, store: Store, skew: Skew): Promise<void> {
  const apps = await startApps(t, store, skew)
  const f = new Figures()
  // Someone unrelated signs in on every process throughout: never refused.
  const bystanders = { on: true }
  const bystander = (async () => {
    for (let i = 0; bystanders.on; i++) await freshLogin(apps[i % apps.length], `bystander-${i % 5}`, f, apps)
  })()
  try {
    await Promise.all(apps.map(async (_app, r) => { await revokeFrom(t, apps, r, f) }))
  } finally {
    bystanders.on = false
    await bystander
  }
  f.report(t, `${store.kind}: ${skew.name}`, { enforcementMaxMs: BOUND_MS })
}

/** Beyond the declared skew: the promises that still hold are checked, the rest printed. */
async function beyondSkew (t: Test, store: Store, skew: Skew): Promise<void> {
  const apps = await startApps(t, store, skew)
  const f = new Figures()
  const right = apps[skew.offsets.indexOf(0)]
  // Every process's own users sign in again at once; on every other once it has read the sign-out.
  await Promise.all(apps.map(async (app, j) => {
    const user = `own-${j}`
    await login(app, user)
    await expectOk(await everywhere(app, user), 'a sign-out everywhere', f)
    await freshLogin(app, user, f)
    await waitRead(apps, f)
    for (const other of apps) await freshLogin(other, user, f)
  }))
  // Sessions made on the correctly set process end everywhere, whoever signs them out.
  await Promise.all(apps.map(async (revoker, j) => {
    const everywhereToken = await login(right, `right-${j}`)
    const destroyToken = await login(right, `right-destroyed-${j}`)
    await expectOk(await everywhere(revoker, `right-${j}`), 'a sign-out everywhere', f)
    await expectOk(await logout(revoker, destroyToken), 'a sign-out', f)
    await Promise.all([everywhereToken, destroyToken].map(async (token) => { await ended(apps, revoker, token, f) }))
  }))
  // What the skew beyond clockTolerance does to the rest, printed.
  const accepted: string[] = []
  const survived: string[] = []
  for (const issuer of apps) {
    const token = await login(issuer, `cross-${issuer.name}`)
    for (const reader of apps) {
      const who = await whoami(reader, token)
      if (who.userId === null) accepted.push(`${issuer.name} on ${reader.name}: refused (${who.reason ?? who.status})`)
    }
    for (const revoker of apps.filter((a) => a !== issuer && a !== right)) {
      const victim = `skewed-${issuer.name}-${revoker.name}`
      const old = await login(issuer, victim)
      await everywhere(revoker, victim)
      await waitRead(apps, f)
      const kept = []
      for (const reader of apps) if ((await whoami(reader, old)).userId !== null) kept.push(reader.name)
      if (kept.length > 0) survived.push(`made on ${issuer.name}, signed out everywhere on ${revoker.name}: still accepted by ${kept.join(', ')}`)
    }
  }
  f.details.push(`beyond the skew, fresh sign-ins refused on another process: ${accepted.length === 0 ? 'none' : accepted.join('; ')}`)
  f.details.push(`beyond the skew, sessions that survived a sign-out everywhere: ${survived.length === 0 ? 'none' : survived.join('; ')}`)
  f.report(t, `${store.kind}: ${skew.name} (beyond the declared skew)`, { enforcementMaxMs: BOUND_MS })
}

/** Every process has read the store's latest: a sign-out made now is enforced by all. */
async function waitRead (apps: App[], f: Figures): Promise<void> {
  const token = await login(apps[0], `read-probe-${Math.random()}`)
  await expectOk(await logout(apps[0], token), 'a probe sign-out', f)
  await enforced(apps, token, Date.now(), BOUND_MS, f)
}

async function drill (t: Test, kind: StoreKind): Promise<void> {
  const store = await startStore(t, kind)
  await t.test('a process 50 s ahead, clockTolerance 60', async (t) => { await withinSkew(t, store, { name: '+50 s, clockTolerance 60', offsets: [0, 50], tolerance: 60 }) })
  await t.test('processes 30 s behind and 30 s ahead, clockTolerance 60', async (t) => { await withinSkew(t, store, { name: '±30 s, clockTolerance 60', offsets: [-30, 30, 0], tolerance: 60 }) })
  await t.test('processes 300 s behind and 300 s ahead, clockTolerance 300', async (t) => { await beyondSkew(t, store, { name: '±300 s, clockTolerance 300', offsets: [-300, 0, 300], tolerance: 300 }) })
}

t.test('PostgreSQL', async (t) => { await drill(t, 'postgres') })
t.test('Redis', async (t) => { await drill(t, 'redis') })
