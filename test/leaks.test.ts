// No secret and no token signature ever shows: not in logs (at trace), error
// messages, JSON.stringify or util.inspect of what the plugin hands out.
import { inspect } from 'node:util'
import t from 'tap'
import Fastify from 'fastify'
import sessions, { createSession, getSession } from '../lib/index.js'
import type { FastifyDbbasicSessionsOptions } from '../types/index.js'
import { LogCapture, OTHER_SECRET, SECRET, buildApp, clock } from './helpers.js'

const SHORT = 'short-secret-value'

/** Everything that could carry text out of an error. */
function errorText (err: unknown): string {
  const e = err as Error
  return [e.message, e.stack, JSON.stringify(e), inspect(e, { depth: Infinity, showHidden: true })].join('\n')
}

t.test('a whole session life at trace level: login, verify, renewal, rotation, revocation, logout, errors', async (t) => {
  const logs = new LogCapture()
  const time = clock()
  const revoked = new Set<string>()
  const seenSessions: string[] = []
  const app = await buildApp({
    secret: [SECRET, OTHER_SECRET],
    ttl: 600,
    rolling: true,
    absoluteTtl: 3600,
    validate: (session) => {
      if (session.userId === 'broken') throw new Error('user store is down')
      return !revoked.has(session.userId)
    },
    now: time.now
  }, logs, (app) => {
    app.addHook('onResponse', async (request) => { seenSessions.push(JSON.stringify(request.session), inspect(request.session, { showHidden: true })) })
  })
  t.teardown(() => app.close())

  const tokens: string[] = []
  const bodies: string[] = []
  const send = async (url: string, token?: string, method: 'GET' | 'POST' = 'GET'): Promise<string | undefined> => {
    const res = await app.inject({ method, url, headers: token === undefined ? {} : { cookie: `__Host-Http-session=${token}` } })
    bodies.push(res.body)
    const set = ([] as string[]).concat(res.headers['set-cookie'] ?? [])
    const value = set.map((c) => c.split(';')[0].slice('__Host-Http-session='.length)).find((v) => v !== '')
    if (value !== undefined) tokens.push(value)
    return value
  }
  const login = await send('/login?user=trace-user', undefined, 'POST')
  const old = createSession('trace-user', { secret: OTHER_SECRET, now: time.now })
  tokens.push(old, createSession('broken', { secret: SECRET, now: time.now }), createSession('trace-user', { secret: 'not-the-secret-but-long-enough-for-a-key' }))
  await send('/private', login)
  await send('/private', old) // rotation: re-signed
  time.advance(400)
  await send('/private', login) // renewal
  await send('/private', tokens[3]) // forged
  await send('/private', `${login}x`) // malformed
  await send('/private', tokens[2]) // validate throws
  revoked.add('trace-user')
  await send('/private', login) // revoked
  await send('/logout', login, 'POST')
  await send('/login?user=a&ttl=-1', undefined, 'POST') // bad per-login ttl
  await send(`/login?user=${'x'.repeat(3000)}`, undefined, 'POST') // too large
  time.advance(4000)
  await send('/private', login) // expired

  t.equal(app.log.level, 'trace', 'every level is captured')
  t.ok(logs.lines.length > 20, `${logs.lines.length} log lines`)
  const reasons = new Set(logs.records.map((r) => r.reason).filter((r) => r !== undefined))
  for (const reason of ['no cookie', 'bad signature', 'malformed', 'revoked', 'expired']) t.ok(reasons.has(reason), `the "${reason}" path ran`)
  t.ok(logs.records.some((r) => r.secretIndex === 1), 'the rotation path ran')
  t.ok(logs.records.some((r) => r.msg === 'fastify-dbbasic-sessions: session renewed'), 'the renewal path ran')
  t.ok(tokens.length >= 6, `${tokens.length} tokens were in play`)

  const everything = [logs.text, ...bodies, ...seenSessions, inspect(app, { depth: 6, showHidden: true }), app.printPlugins(), app.printRoutes()].join('\n')
  for (const secret of [SECRET, OTHER_SECRET]) t.notOk(everything.includes(secret), 'no secret anywhere')
  for (const token of tokens) {
    t.notOk(logs.text.includes(token.split('.')[1]), 'no signature in the log')
    t.notOk(logs.text.includes(token.split('.')[0]), 'no payload in the log')
    t.notOk(seenSessions.join('\n').includes(token.split('.')[1]), 'no signature in request.session')
  }
})

t.test('refused options: the error and Fastify\'s log carry no secret', async (t) => {
  const cases: Array<Record<string, unknown>> = [
    { secret: [SECRET, SHORT] },
    { secret: SHORT },
    { secret: SECRET, ttl: -1 },
    { secret: [SECRET, OTHER_SECRET], cookie: { sameSite: 'none', secure: false } },
    { secret: SECRET, absoluteTtl: 1 },
    { secret: SECRET, typo: SECRET }
  ]
  for (const options of cases) {
    const logs = new LogCapture()
    const app = Fastify({ logger: { level: 'trace', stream: logs } })
    app.register(sessions, options as FastifyDbbasicSessionsOptions)
    const err = await app.ready().then(() => null, (e: Error) => e)
    await app.close()
    t.ok(err instanceof Error, err?.message ?? 'no error')
    const text = `${logs.text}\n${errorText(err)}`
    t.notOk(text.includes(SHORT) || text.includes(SECRET) || text.includes(OTHER_SECRET), 'no secret in the error or the log')
  }
})

t.test('the standalone API\'s errors carry no secret or token', async (t) => {
  const saved = process.env.SECRET_KEY
  t.teardown(() => { if (saved === undefined) delete process.env.SECRET_KEY; else process.env.SECRET_KEY = saved })
  process.env.SECRET_KEY = SHORT
  const errors: unknown[] = []
  const token = createSession('a', { secret: SECRET })
  for (const call of [
    () => createSession('a'),
    () => getSession(token),
    () => createSession('a', { secret: SHORT }),
    () => createSession('', { secret: SECRET }),
    () => createSession('x'.repeat(4000), { secret: SECRET }),
    () => getSession(token, { secret: [SECRET, SHORT] })
  ]) {
    try {
      call()
    } catch (err) {
      errors.push(err)
    }
  }
  t.equal(errors.length, 6, 'every call threw')
  const text = errors.map(errorText).join('\n')
  t.notOk(text.includes(SHORT) || text.includes(SECRET), 'no secret')
  t.notOk(text.includes(token.split('.')[1]), 'no token')
})
