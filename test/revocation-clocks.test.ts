// Sign-out everywhere when clocks disagree and logins come in bursts. Each app is a
// process with a clock of its own (`now`), sharing a store that it reads as another
// process would: pushed at once, or (store.quiet) only when the test pushes. A login's
// iat is the real time of the login; ordering against a cut-off is the token's `gen`; a
// token without one counts as after a cut-off only when its login time is later by more
// than clockTolerance + 1 s. Nothing read from the store moves a clock.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { createSession } from '../lib/index.js'
import type { FastifyDbbasicSessionsOptions } from '../types/index.js'
import { LogCapture, NONE, SECRET, T0, buildApp, payloadOf, visit } from './helpers.js'
import { logStore, type LogStore } from './log-store.js'

const S0 = T0 / 1000
const DAY = 86400

/** Real time, which every process's clock follows at its own offset. */
class World {
  real = T0
  advance (seconds: number): void { this.real += seconds * 1000 }
  /** A clock `skew` seconds ahead of real time (behind when negative). */
  clock (skew: number): () => number { return () => this.real + skew * 1000 }
}

interface Process { app: FastifyInstance, logs: LogCapture }

async function processOn (t: Test, store: LogStore, now: () => number, options: FastifyDbbasicSessionsOptions = {}): Promise<Process> {
  const logs = new LogCapture()
  const app = await buildApp({ now, ...options, revocation: { store, staleness: 60 } }, logs, (app) => {
    app.post<{ Querystring: { user: string } }>('/everywhere', async (request) => {
      await app.revokeAllSessions(request.query.user)
      return { ok: true }
    })
  })
  t.teardown(() => app.close())
  return { app, logs }
}

const login = async (p: Process, user: string): Promise<string> => (await p.app.inject({ method: 'POST', url: `/login?user=${user}` })).json().token
const everywhere = async (p: Process, user: string): Promise<void> => {
  t.equal((await p.app.inject({ method: 'POST', url: `/everywhere?user=${user}` })).statusCode, 200)
}
const who = async (p: Process, token: string): Promise<string | null> => (await visit(p.app, token)).session.userId
/** Lets every process read what was pushed. */
const settle = async (): Promise<void> => { for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve)) }

t.test('a burst of sign-ins in one millisecond: every login carries the real time, and each is accepted at once', async (t) => {
  const world = new World()
  const store = logStore()
  const a = await processOn(t, store, world.clock(0))
  const b = await processOn(t, store, world.clock(0))
  const tokens: string[] = []
  for (let i = 0; i < 3000; i++) tokens.push(await login(a, `u${i % 50}`))
  t.same(new Set(tokens.map((token) => payloadOf(token).iat)), new Set([S0]), 'iat is the login\'s own second, 3,000 times over')
  t.equal(new Set(tokens.map((token) => payloadOf(token).sid)).size, 3000, 'and every session its own id')
  t.equal(await who(a, tokens.at(-1)!), 'u49', 'the last one is accepted by the next request (clockTolerance 0)')
  await everywhere(a, 'someone-else')
  await settle()
  t.equal(await who(b, await login(b, 'u7')), 'u7', 'another user\'s sign-out everywhere changes nothing for a fresh login elsewhere')
  t.equal(await who(b, tokens[7]), 'u7', 'nor for the sessions of the burst')
})

t.test('a process 50 s ahead, inside clockTolerance 60: a thief\'s login 10 s before the sign-out is refused everywhere, for as long as it lives', async (t) => {
  const world = new World()
  const store = logStore()
  const options = { clockTolerance: 60, ttl: DAY }
  const a = await processOn(t, store, world.clock(0), options)
  const b = await processOn(t, store, world.clock(50), options)
  const thief = await login(b, 'victim')
  t.equal(payloadOf(thief).iat, S0 + 50, 'its login time, by a clock 50 s ahead, is after the sign-out 10 s later')
  world.advance(10)
  await everywhere(a, 'victim')
  await settle()
  for (const later of [1, 3600, DAY - 11]) {
    world.real = T0 + (10 + later) * 1000
    t.equal(await who(a, thief), null, `refused by the process that signed out, ${later} s after`)
    t.equal(await who(b, thief), null, `and by the fast one, ${later} s after`)
  }
})

t.test('clocks at -30, 0 and +30 s (clockTolerance 60, the most two of them disagree by): a sign-out everywhere made on the slow process ends every earlier session; one made on the fast process locks no one out', async (t) => {
  const world = new World()
  const store = logStore()
  const options = { clockTolerance: 60 }
  const procs = [await processOn(t, store, world.clock(-30), options), await processOn(t, store, world.clock(0), options), await processOn(t, store, world.clock(30), options)]
  const [slow, right, fast] = procs
  const earlier: string[] = []
  for (const p of procs) for (let i = 0; i < 3; i++) earlier.push(await login(p, 'ann'))
  world.advance(1)
  await everywhere(slow, 'ann')
  await settle()
  for (const p of procs) {
    const kept = (await Promise.all(earlier.map(async (token) => await who(p, token)))).filter((user) => user !== null)
    t.same(kept, [], 'none of the 9 earlier sessions survives')
  }
  world.advance(1)
  await everywhere(fast, 'ann')
  await settle()
  for (const p of procs) {
    t.equal(await who(p, await login(p, 'ann')), 'ann', 'a fresh login of the same user works at once, whatever the process\'s clock')
    t.equal(await who(p, await login(p, 'bo')), 'bo', 'and of any other user')
    t.equal(await who(slow, await login(p, 'ann')), 'ann', 'read by the slow process too')
  }
  t.equal(await who(right, await login(slow, 'ann')), 'ann')
})

t.test('clocks at -300, 0 and +300 s: every process signs its own users in at once after a sign-out everywhere made anywhere; within clockTolerance (300) earlier sessions end', async (t) => {
  const world = new World()
  const store = logStore()
  const options = { clockTolerance: 300 }
  const procs = [await processOn(t, store, world.clock(-300), options), await processOn(t, store, world.clock(0), options), await processOn(t, store, world.clock(300), options)]
  // Made on the process whose clock is right: 300 s at most from any other.
  const before = await login(procs[1], 'cy')
  for (const signer of procs) {
    world.advance(1)
    await everywhere(signer, 'cy')
    await settle()
    for (const p of procs) {
      t.equal(await who(p, await login(p, 'cy')), 'cy', 'the user signs in again at once')
      t.equal(await who(p, await login(p, 'dee')), 'dee', 'other users are untouched')
      t.equal(await who(p, before), null, 'the session from before stays ended')
    }
  }
})

t.test('a login on a process that has not read a sign-out everywhere yet: refused once it has (within staleness), accepted when its login is later by more than clockTolerance + 1 s', async (t) => {
  const world = new World()
  const store = logStore()
  const a = await processOn(t, store, world.clock(0), { clockTolerance: 5 })
  const b = await processOn(t, store, world.clock(3), { clockTolerance: 5 })
  store.quiet = true
  await everywhere(a, 'eve')
  t.equal(await who(a, await login(a, 'eve')), 'eve', 'on the process that signed out: at once')
  const unaware = await login(b, 'eve')
  t.equal(payloadOf(unaware).gen, undefined, 'B could not write the cut-off into it')
  world.advance(3)
  const stillUnaware = await login(b, 'eve')
  world.advance(1)
  const muchLater = await login(b, 'eve')
  store.push()
  await settle()
  t.equal(await who(b, unaware), null, 'B\'s login right after the sign-out, made before it read it: cannot be told from one before it, so refused')
  t.equal(await who(b, stillUnaware), null, '6 s after it by B\'s clock (3 s ahead): not beyond the 6 s margin, refused')
  t.equal(await who(a, muchLater), 'eve', '7 s after it by B\'s clock: beyond the margin, so after it whatever the skew: accepted')
  const aware = await login(b, 'eve')
  t.ok(typeof payloadOf(aware).gen === 'number', 'once read, B writes it into every login of the user')
  t.equal(await who(a, aware), 'eve')
})

t.test('a cut-off made by a clock far ahead moves no process\'s clock: logins keep their real time and are accepted', async (t) => {
  const world = new World()
  const store = logStore()
  const ahead = await processOn(t, store, world.clock(3600))
  const right = await processOn(t, store, world.clock(0))
  await everywhere(ahead, 'fay')
  await settle()
  const token = await login(right, 'fay')
  t.equal(payloadOf(token).iat, S0, 'the login time is the real one, not the cut-off\'s')
  t.equal(await who(right, token), 'fay')
  t.equal(await who(right, await login(right, 'gus')), 'gus')
  t.equal(payloadOf(await login(right, 'gus')).iat, S0)
})

t.test('tokens without iat (Python, the standalone API): within externalTtl they count as issued at the latest possible moment; longer ones are refused', async (t) => {
  const world = new World()
  const store = logStore()
  const python = (user: string, ttl: number): string => createSession(user, { secret: SECRET, ttl, now: world.clock(0) })
  const a = await processOn(t, store, world.clock(0), { externalTtl: DAY })
  const long = python('hal', 90 * DAY)
  t.equal(await who(a, long), null, 'a 90-day token under externalTtl 1 day claims more than a Python login can: refused, sign-out or not')

  const b = await processOn(t, store, world.clock(0), { externalTtl: 30 * DAY })
  const before = python('ida', 30 * DAY)
  const shortBefore = python('ida', 3600)
  world.advance(3600)
  await everywhere(b, 'ida')
  await settle()
  world.advance(2)
  const after = python('ida', 30 * DAY)
  const shortAfter = python('ida', 3600)
  t.equal(await who(b, before), null, 'a 30-day token made an hour before the sign-out is refused')
  t.equal(await who(b, shortBefore), null, 'so is a one-hour one')
  t.equal(await who(b, after), 'ida', 'one made with externalTtl after it (by more than clockTolerance + 1 s) is accepted at once')
  t.equal(await who(b, shortAfter), null, 'a shorter ttl than externalTtl cannot show it came after: refused (docs/revocation.md#tokens-without-a-login-time)')
  for (const day of [1, 29]) {
    world.real = T0 + (3602 + day * DAY) * 1000
    t.equal(await who(b, python('ida', 30 * DAY)), 'ida', `a Python login ${day} days after the sign-out is accepted`)
  }
})

t.test('a token expiring more than 400 days out is refused at read, with its reason', async (t) => {
  const store = logStore()
  const p = await processOn(t, store, () => T0)
  const century = createSession('old', { secret: SECRET, ttl: 34560000, now: () => T0 + 100 * 365 * DAY * 1000 - 34560000 * 1000 })
  t.same((await visit(p.app, century)).session, NONE)
  t.ok(p.logs.records.some((r) => r.reason === 'expiry too far'))
  t.equal(await who(p, createSession('ok', { secret: SECRET, ttl: 34560000, now: () => T0 })), null, 'a Python token of 400 days is over the default externalTtl')
  const q = await processOn(t, store, () => T0, { externalTtl: 34560000 })
  t.equal(await who(q, createSession('ok', { secret: SECRET, ttl: 34560000, now: () => T0 })), 'ok', 'and read with an externalTtl of 400 days')
})
