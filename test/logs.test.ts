// With the logger at trace, no secret and no token (nor its signature) ever reaches a log line.
import t from 'tap'
import Fastify from 'fastify'
import sessions, { createSession } from '../lib/index.js'
import { LogCapture, OTHER_SECRET, SECRET, T0, buildApp, clock } from './helpers.js'

t.test('a whole session life at trace level logs neither secrets nor tokens', async (t) => {
  const logs = new LogCapture()
  const time = clock()
  const app = await buildApp({ secret: [SECRET, OTHER_SECRET], ttl: 60, now: time.now }, logs)
  t.teardown(() => app.close())

  const tokens: string[] = []
  const login = await app.inject({ method: 'POST', url: '/login?user=trace-user' })
  tokens.push(login.json().token)
  const old = createSession('trace-user', { secret: OTHER_SECRET, now: () => T0 })
  const forged = createSession('trace-user', { secret: 'not-the-secret-but-long-enough-for-a-key' })
  tokens.push(old, forged)
  await app.inject({ url: '/private', headers: { cookie: `session=${tokens[0]}` } })
  await app.inject({ url: '/private', headers: { cookie: `session=${old}` } })
  await app.inject({ url: '/private', headers: { cookie: `session=${forged}` } })
  await app.inject({ url: '/private', headers: { cookie: `session=${tokens[0]}x` } })
  time.advance(61)
  await app.inject({ url: '/private', headers: { cookie: `session=${tokens[0]}` } })
  await app.inject({ method: 'POST', url: '/logout', headers: { cookie: `session=${tokens[0]}` } })
  await app.inject({ method: 'POST', url: '/login?user=a&ttl=-1' })

  t.ok(logs.lines.length > 20, `${logs.lines.length} lines were logged`)
  t.equal(app.log.level, 'trace', 'every level is captured')
  t.ok(logs.records.some((r) => r.reason === 'expired'), 'the reasons are')
  for (const secret of [SECRET, OTHER_SECRET]) t.notOk(logs.text.includes(secret), 'no secret')
  for (const token of tokens) {
    t.notOk(logs.text.includes(token.split('.')[1]), 'no signature')
    t.notOk(logs.text.includes(token.split('.')[0]), 'no payload')
  }
})

t.test('a refused option is logged (by Fastify) without the secret', async (t) => {
  const logs = new LogCapture()
  const app = Fastify({ logger: { level: 'trace', stream: logs } })
  t.teardown(() => app.close())
  const short = 'short-secret-value'
  app.register(sessions, { secret: [SECRET, short], ttl: -1 })
  const err = await app.ready().then(() => null, (e: Error) => e)
  t.ok(err instanceof Error)
  t.notOk(`${logs.text}\n${(err as Error).message}\n${(err as Error).stack}`.includes(short))
  t.notOk(`${logs.text}\n${(err as Error).message}\n${(err as Error).stack}`.includes(SECRET))
})
