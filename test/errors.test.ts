// The exported error classes are the ones the plugin throws: apps test `instanceof`
// or compare `code` with the class's, instead of spelling the string.
import t from 'tap'
import Fastify from 'fastify'
import sessions, {
  createSession, CrossOriginError, InvalidOptionError, InvalidUserIdError, NoSecretError, ReplySentError, TooLargeError, UnauthorizedError
} from '../lib/index.js'
import { SECRET } from './helpers.js'

t.test('configuration errors are instances of the exported classes, with their codes', async (t) => {
  const bad = Fastify()
  bad.register(sessions, { secret: SECRET, ttl: 0 })
  const err = await bad.ready().then(() => null, (e: unknown) => e)
  t.ok(err instanceof InvalidOptionError, 'a bad option')
  t.ok(err instanceof TypeError, 'still a TypeError')
  t.equal((err as InstanceType<typeof InvalidOptionError>).code, new InvalidOptionError().code)
  await bad.close()

  const saved = process.env.SECRET_KEY
  delete process.env.SECRET_KEY
  t.teardown(() => { if (saved !== undefined) process.env.SECRET_KEY = saved })
  t.throws(() => createSession('a'), NoSecretError)
  t.throws(() => createSession('', { secret: SECRET }), InvalidUserIdError)
  t.throws(() => createSession('x'.repeat(5000), { secret: SECRET }), TooLargeError)
})

t.test('request errors reach the error handler as instances of the exported classes', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(sessions, { secret: SECRET })
  const seen: string[] = []
  app.setErrorHandler(async (error, _request, reply) => {
    if (error instanceof UnauthorizedError) seen.push('unauthorized')
    else if (error instanceof CrossOriginError) seen.push('cross-origin')
    return reply.send(error)
  })
  let late: unknown = null
  app.addHook('onResponse', async (_request, reply) => {
    try { reply.destroySession() } catch (e) { late = e }
  })
  app.get('/me', { preHandler: app.requireSession }, async () => ({ ok: true }))
  app.post('/form', async () => ({ ok: true }))
  t.equal((await app.inject({ url: '/me' })).statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: '/form', headers: { 'sec-fetch-site': 'cross-site' } })).statusCode, 403)
  t.same(seen, ['unauthorized', 'cross-origin'])
  t.ok(late instanceof ReplySentError, 'destroySession after the response went out')
})
