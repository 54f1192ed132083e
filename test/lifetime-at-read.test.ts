// The lifetime rules hold when a token is read, from what it carries and the options in
// force, never from the time it happens to be read at: lowering ttl or absoluteTtl
// shortens sessions already issued, a replayed copy gains nothing, and readSession gives
// the hook's verdict for every kind of token at every clock boundary.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { createSession } from '../lib/index.js'
import type { FastifyDbbasicSessionsOptions } from '../types/index.js'
import { LogCapture, NONE, OTHER_SECRET, SECRET, T0, buildApp, clock, payloadOf, visit } from './helpers.js'

const S0 = T0 / 1000

t.test('lowering ttl ends sessions already issued at the next request', async (t) => {
  const time = clock()
  const before = await buildApp({ ttl: 2592000, now: time.now })
  t.teardown(() => before.close())
  const token = (await before.inject({ method: 'POST', url: '/login?user=long' })).json().token as string
  const after = await buildApp({ ttl: 60, now: time.now })
  t.teardown(() => after.close())
  time.set(T0 + 59_000)
  t.equal((await visit(after, token)).session.userId, 'long', 'within the new ttl of its login')
  t.equal((await visit(after, token)).session.expiresAt, S0 + 60, 'and ending at login + the new ttl')
  time.set(T0 + 120_000)
  t.same((await visit(after, token)).session, NONE, 'a 30-day cookie is over 120 s after a login under ttl 60')
  t.same(await after.readSession(`__Host-Http-session=${token}`), NONE, 'readSession agrees')
})

t.test('lowering ttl under rolling counts from the last renewal', async (t) => {
  const time = clock()
  const before = await buildApp({ ttl: 3600, rolling: true, now: time.now })
  t.teardown(() => before.close())
  const token = (await before.inject({ method: 'POST', url: '/login?user=r' })).json().token as string
  time.set(T0 + 2000_000)
  const renewed = (await visit(before, token)).cookie!.value
  const after = await buildApp({ ttl: 600, rolling: true, now: time.now })
  t.teardown(() => after.close())
  time.set(T0 + 2599_000)
  t.equal((await visit(after, renewed)).session.userId, 'r', 'inside 600 s of the renewal')
  time.set(T0 + 2600_000)
  t.same((await visit(after, renewed)).session, NONE, 'idle 600 s since the renewal: over, though the token says 3600')
})

t.test('a replayed Python token never outlives its cap, through the hook or readSession', async (t) => {
  const time = clock()
  const app = await buildApp({ ttl: 1800, rolling: true, absoluteTtl: 12 * 3600, now: time.now })
  t.teardown(() => app.close())
  const python = createSession('py', { secret: SECRET, now: () => T0 })
  // The original copy, never renewed: idle past ttl after 30 minutes, and past the cap for ever after.
  for (const hours of [0.25, 0.5, 1, 11, 12, 24, 696]) {
    time.set(T0 + hours * 3600_000)
    const hooked = (await visit(app, python)).session.userId
    const read = (await app.readSession(`__Host-Http-session=${python}`)).userId
    t.equal(read, hooked, `${hours} h: readSession agrees with the hook`)
    t.equal(read, hours < 0.5 ? 'py' : null, `${hours} h after its login`)
  }
})

t.test('externalTtl is the longest ttl a token without iat may have: one claiming more is refused, one within it is re-signed without a login time in the future', async (t) => {
  const time = clock()
  const logs = new LogCapture()
  const app = await buildApp({ ttl: 3600, externalTtl: 600, secret: [SECRET, OTHER_SECRET], now: time.now }, logs)
  t.teardown(() => app.close())
  // Made with Python's 30 days under an externalTtl of 10 minutes: its login, counted
  // back from its expiry, would be 30 days ahead, and a sign-out everywhere could not
  // tell whether it came before.
  const python = createSession('py', { secret: OTHER_SECRET, now: () => T0 })
  t.same((await visit(app, python)).session, NONE)
  t.ok(logs.records.some((r) => r.reason === 'issued in the future'))
  const fits = createSession('py', { secret: OTHER_SECRET, ttl: 600, now: () => T0 })
  const first = await visit(app, fits)
  t.equal(first.session.userId, 'py', 'a token made with externalTtl or less is read')
  t.equal(payloadOf(first.cookie!.value).iat, S0, 'and re-signed with the login time it counts as, now')
  time.set(T0 + 500_000)
  t.equal((await visit(app, first.cookie!.value)).session.userId, 'py', 'the re-signed cookie still signs in')
  const shorter = createSession('py', { secret: OTHER_SECRET, ttl: 60, now: () => T0 })
  time.set(T0)
  t.ok(payloadOf((await visit(app, shorter)).cookie!.value).iat! < S0, 'a shorter ttl counts as an earlier login: the safe side')
})

/** Every kind of token the plugin may be handed. */
async function tokens (time: ReturnType<typeof clock>): Promise<Record<string, string>> {
  const plugin = await buildApp({ ttl: 3600, rolling: true, now: time.now })
  const older = await buildApp({ ttl: 3600, secret: OTHER_SECRET, now: time.now })
  time.set(T0)
  const made = (await plugin.inject({ method: 'POST', url: '/login?user=plugin' })).json().token as string
  const short = (await plugin.inject({ method: 'POST', url: '/login?user=short&ttl=300' })).json().token as string
  const oldSecret = (await older.inject({ method: 'POST', url: '/login?user=old' })).json().token as string
  time.set(T0 + 2000_000)
  const renewed = (await visit(plugin, made)).cookie!.value
  await plugin.close()
  await older.close()
  return {
    made,
    short,
    oldSecret,
    renewed,
    python: createSession('py', { secret: SECRET, now: () => T0 }),
    standalone: createSession('sa', { secret: SECRET, ttl: 3600, now: () => T0 })
  }
}

t.test('readSession gives the hook\'s verdict for every kind of token, option set and clock boundary', async (t) => {
  const time = clock()
  const all = await tokens(time)
  const configs: FastifyDbbasicSessionsOptions[] = [
    {},
    { ttl: 3600 },
    { ttl: 600, rolling: true },
    { ttl: 3600, absoluteTtl: 5400, rolling: true, externalTtl: 3600 },
    { ttl: 1800, absoluteTtl: 7200, clockTolerance: 60 },
    { secret: [SECRET, OTHER_SECRET], ttl: 3600 }
  ]
  const moments = [0, 299, 300, 599, 600, 1799, 1800, 2599, 2600, 3599, 3600, 3659, 3660, 5399, 5400, 5600, 7200, 2592000]
  let compared = 0
  for (const options of configs) {
    const app: FastifyInstance = await buildApp({ ...options, now: time.now })
    t.teardown(() => app.close())
    for (const [kind, token] of Object.entries(all)) {
      for (const at of moments) {
        time.set(T0 + at * 1000)
        const hooked = (await visit(app, token)).session
        const read = await app.readSession(`__Host-Http-session=${token}`)
        if (read.userId !== hooked.userId || read.issuedAt !== hooked.issuedAt || read.sessionId !== hooked.sessionId) {
          t.fail(`${JSON.stringify(options)} ${kind} at +${at} s: hook ${JSON.stringify(hooked)}, readSession ${JSON.stringify(read)}`)
        }
        // The hook may have renewed; readSession reports the end that nothing renewed.
        if (read.userId !== null && read.expiresAt! > hooked.expiresAt!) t.fail(`${kind} at +${at} s: readSession says it ends later than the hook`)
        compared++
      }
    }
  }
  t.equal(compared, configs.length * 6 * moments.length, `${compared} verdicts compared`)
})
