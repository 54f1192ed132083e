// The session cookie as an OpenAPI security scheme, through @fastify/swagger.
import t from 'tap'
import Fastify from 'fastify'
import fastifySwagger from '@fastify/swagger'
import sessions from '../lib/index.js'
import { SECRET } from './helpers.js'

t.test('@fastify/swagger documents the session cookie and the guarded route', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())

  // --- as in the README ---
  await app.register(sessions, { secret: SECRET })
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'My app', version: '1.0.0' },
      components: { securitySchemes: { session: app.sessionSecurityScheme } }
    }
  })
  app.get('/me', {
    preHandler: app.requireSession,
    schema: { security: [{ session: [] }] }
  }, async (request) => ({ id: request.requireUserId() }))
  // ---
  app.get('/health', async () => ({ ok: true }))
  await app.ready()

  const doc = app.swagger() as { components: { securitySchemes: Record<string, unknown> }, paths: Record<string, { get: { security?: unknown } }> }
  t.same(doc.components.securitySchemes, { session: { type: 'apiKey', in: 'cookie', name: '__Host-Http-session' } })
  t.same(doc.paths['/me'].get.security, [{ session: [] }])
  t.equal(doc.paths['/health'].get.security, undefined, 'an open route has no requirement')
})

t.test('the scheme follows the cookie name, and cannot be changed by the app', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(sessions, { secret: SECRET, cookie: { secure: false } })
  t.same(app.sessionSecurityScheme, { type: 'apiKey', in: 'cookie', name: 'session' })
  t.throws(() => { (app.sessionSecurityScheme as { name: string }).name = 'other' })
  t.equal(app.sessionSecurityScheme.name, 'session')
})
