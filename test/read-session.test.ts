// fastify.readSession(cookieHeader): the onRequest hook's checks, for code outside a
// route (a socket.io handshake, an upgrade handled by hand), with the hook's verdict for
// every kind of token, option set and clock boundary. Never sets a cookie.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { createSession } from '../lib/index.js'
import type { FastifyDbbasicSessionsOptions, Session, ValidatedSession } from '../types/index.js'
import { LogCapture, NONE, OTHER_SECRET, SECRET, T0, buildApp, clock, visit } from './helpers.js'

const S0 = T0 / 1000
const token = (user: string, options: { ttl?: number, at?: number, secret?: string } = {}): string =>
  createSession(user, { secret: options.secret ?? SECRET, ttl: options.ttl ?? 3600, now: () => options.at ?? T0 })

/** A route that reads a session from the token in its query string, not from its own cookie. */
function readRoute (app: FastifyInstance): void {
  app.get<{ Querystring: { t: string } }>('/read', async (request) => app.readSession(`__Host-Http-session=${request.query.t}`))
}

async function setup (options: FastifyDbbasicSessionsOptions = {}): Promise<{ app: FastifyInstance, logs: LogCapture }> {
  const logs = new LogCapture()
  const app = await buildApp({ externalTtl: 3600, ...options }, logs, readRoute)
  return { app, logs }
}

/** The reasons logged while `run` ran. */
async function reasonsOf<T> (logs: LogCapture, run: () => Promise<T>): Promise<[T, unknown[]]> {
  const from = logs.lines.length
  const result = await run()
  return [result, logs.records.slice(from).filter((r) => r.reason !== undefined).map((r) => r.reason)]
}

t.test('the same answer and reason as the onRequest hook, case by case', async (t) => {
  const { app, logs } = await setup()
  t.teardown(() => app.close())
  const alice = token('alice')
  const alice2 = token('alice', { ttl: 7200 })
  const bob = token('bob')
  const forged = alice.slice(0, -1) + (alice.endsWith('0') ? '1' : '0')
  const alive = { userId: 'alice', issuedAt: null, expiresAt: S0 + 3600, sessionId: null }
  const cases: Array<[string, string | undefined, Session, string | undefined]> = [
    ['no Cookie header', undefined, NONE, 'no cookie'],
    ['other cookies only', 'theme=dark; lang=en', NONE, 'no cookie'],
    ['a valid cookie', `theme=dark; __Host-Http-session=${alice}`, alive, undefined],
    ['a forged cookie', `__Host-Http-session=${forged}`, NONE, 'bad signature'],
    ['another secret\'s cookie', `__Host-Http-session=${token('alice', { secret: OTHER_SECRET })}`, NONE, 'bad signature'],
    ['a malformed cookie', '__Host-Http-session=a.b.c', NONE, 'malformed'],
    ['an expired cookie', `__Host-Http-session=${token('alice', { at: T0 - 3600_000, ttl: 60 })}`, NONE, 'expired'],
    ['two valid cookies for different users', `__Host-Http-session=${alice}; __Host-Http-session=${bob}`, NONE, 'conflicting cookies'],
    ['two valid cookies for the same user', `__Host-Http-session=${alice}; __Host-Http-session=${alice2}`, alive, undefined],
    ['a forged duplicate beside a valid cookie', `__Host-Http-session=${forged}; __Host-Http-session=${alice}`, alive, undefined],
    ['five cookies of the name', Array(5).fill(`__Host-Http-session=${alice}`).join('; '), NONE, 'conflicting cookies']
  ]
  for (const [what, header, expected, reason] of cases) {
    const [read, readReasons] = await reasonsOf(logs, () => app.readSession(header))
    const [hooked, hookReasons] = await reasonsOf(logs, async () =>
      (await app.inject({ url: '/whoami', headers: header === undefined ? {} : { cookie: header } })).json())
    t.same(read, expected, what)
    t.same(hooked, expected, `${what}: the hook agrees`)
    t.same(readReasons, reason === undefined ? [] : [reason], `${what}: reason`)
    t.same(hookReasons, readReasons, `${what}: the hook's reason`)
  }
})

t.test('absoluteTtl and a login time in the future are checked', async (t) => {
  const time = clock()
  const { app: before } = await setup({ ttl: 3600, absoluteTtl: 10800, rolling: true, now: time.now })
  t.teardown(() => before.close())
  const login = await before.inject({ method: 'POST', url: '/login?user=c' })
  const issued = login.json().token as string

  const { app: after, logs } = await setup({ ttl: 1800, absoluteTtl: 1800, rolling: true, now: time.now })
  t.teardown(() => after.close())
  time.set(T0 + 1000_000)
  t.match(await after.readSession(`__Host-Http-session=${issued}`), { userId: 'c', issuedAt: S0, expiresAt: S0 + 1800 }, 'the cap shortens the session')
  time.set(T0 + 1800_000)
  t.same(await reasonsOf(logs, () => after.readSession(`__Host-Http-session=${issued}`)), [NONE, ['absolute lifetime over']])

  time.set(T0 - 600_000)
  t.same(await reasonsOf(logs, () => after.readSession(`__Host-Http-session=${issued}`)), [NONE, ['issued in the future']])
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

t.test('validate is called with request null; false means no session, reason "revoked"', async (t) => {
  const calls: Array<[ValidatedSession, unknown]> = []
  const { app, logs } = await setup({
    validate: async (session, request) => {
      calls.push([session, request])
      return session.userId !== 'revoked'
    }
  })
  t.teardown(() => app.close())
  const loggedIn = (await app.inject({ method: 'POST', url: '/login?user=alice' })).json().token as string
  const revoked = (await app.inject({ method: 'POST', url: '/login?user=revoked' })).json().token as string
  t.match(await app.readSession(`__Host-Http-session=${loggedIn}`), { userId: 'alice', issuedAt: S0, expiresAt: S0 + 2592000 })
  t.same(await reasonsOf(logs, () => app.readSession(`__Host-Http-session=${revoked}`)), [NONE, ['revoked']])
  t.match(calls, [
    [{ userId: 'alice', issuedAt: S0, expiresAt: S0 + 2592000, sessionId: String }, null],
    [{ userId: 'revoked', issuedAt: S0, expiresAt: S0 + 2592000, sessionId: String }, null]
  ])
  t.equal(await app.readSession(undefined).then((s) => s.userId), null)
  t.equal(calls.length, 2, 'not called without a valid cookie')
})

t.test('a validate that throws, or returns something else than a boolean, rejects', async (t) => {
  let verdict: () => unknown = () => { throw new Error('user store down') }
  const { app } = await setup({ validate: async () => verdict() as boolean })
  t.teardown(() => app.close())
  const cookie = `__Host-Http-session=${token('alice')}`
  await t.rejects(app.readSession(cookie), { message: 'user store down' })
  verdict = () => 'yes'
  await t.rejects(app.readSession(cookie), { code: 'FST_DBBASIC_SESSIONS_INVALID_OPTION' })
})

t.test('never sets a cookie, and reports when the token really ends, where the hook would renew or re-sign', async (t) => {
  const time = clock()
  const { app } = await setup({ secret: [SECRET, OTHER_SECRET], ttl: 3600, rolling: true, now: time.now })
  t.teardown(() => app.close())
  const login = (await app.inject({ method: 'POST', url: '/login?user=r' })).json().token as string
  const old = token('o', { secret: OTHER_SECRET })
  time.set(T0 + 3000_000)

  const hooked = await app.inject({ url: '/whoami', headers: { cookie: `__Host-Http-session=${login}` } })
  t.ok(hooked.headers['set-cookie'], 'the hook renews: the baseline')
  t.equal(hooked.json().expiresAt, S0 + 3000 + 3600)

  const read = await app.inject({ url: `/read?t=${login}` })
  t.equal(read.headers['set-cookie'], undefined, 'no renewal cookie')
  t.match(read.json(), { userId: 'r', issuedAt: S0, expiresAt: S0 + 3600 }, 'the token\'s own end: nothing renewed it')

  const resigned = await app.inject({ url: `/read?t=${old}` })
  t.equal(resigned.headers['set-cookie'], undefined, 'no re-signed cookie')
  t.equal(resigned.json().userId, 'o')
})

t.test('no header (undefined or null) is no session; any other non-string is a TypeError naming what it got', async (t) => {
  const { app } = await setup()
  t.teardown(() => app.close())
  t.same(await app.readSession(undefined), NONE)
  t.same(await app.readSession(null), NONE)
  const wrong: unknown[] = [42, ['__Host-Http-session=x'], { cookie: 'x' }, true]
  for (const value of wrong) {
    await t.rejects(app.readSession(value as string), {
      name: 'TypeError',
      message: /^fastify-dbbasic-sessions: readSession takes the Cookie header as a string \(undefined or null when there is none\); got an? (number|object|boolean)$/
    }, String(value))
  }
})

t.test('validate gets a copy: changing it changes nothing in the answer', async (t) => {
  const { app } = await setup({
    validate: (session) => {
      ;(session as { userId: string }).userId = 'mallory'
      session.expiresAt += 1000
      return true
    }
  })
  t.teardown(() => app.close())
  t.same(await app.readSession(`__Host-Http-session=${token('alice')}`), { userId: 'alice', issuedAt: null, expiresAt: S0 + 3600, sessionId: null })
})
