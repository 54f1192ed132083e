import Fastify, { type FastifyReply } from 'fastify'
import { expectAssignable, expectError, expectNotAssignable, expectType } from 'tsd'
import fastifyDbbasicSessions, {
  createSession,
  destroySession,
  fastifyDbbasicSessions as named,
  getSession,
  optionsSchema,
  type FastifyDbbasicSessionsOptions,
  type Session,
  type ValidatedSession
} from './index.js'

const app = Fastify()

// The default and the named export are the same plugin.
expectType<typeof fastifyDbbasicSessions>(named)
app.register(fastifyDbbasicSessions, { secret: 'x'.repeat(32) })
app.register(fastifyDbbasicSessions, {
  secret: ['new'.repeat(11), 'old'.repeat(11)],
  ttl: 3600,
  cookieName: '__Host-session',
  cookie: { path: '/', secure: true, httpOnly: true, sameSite: 'strict' },
  now: () => Date.now()
})
app.register(fastifyDbbasicSessions)
app.register(fastifyDbbasicSessions, {
  rolling: true,
  absoluteTtl: 86400,
  clockTolerance: 30,
  validate: async (session, request) => {
    expectType<ValidatedSession>(session)
    expectType<string>(session.userId)
    expectType<number | null>(session.issuedAt)
    expectType<number>(session.expiresAt)
    expectType<string>(request.url)
    return session.issuedAt !== null
  }
})
app.register(fastifyDbbasicSessions, { validate: () => true, cacheSize: 0 })
const fromEnv: string[] = (process.env.SECRETS ?? '').split(',')
expectAssignable<FastifyDbbasicSessionsOptions>({ secret: fromEnv })

// Options that must not compile.
expectError(app.register(fastifyDbbasicSessions, { ttl: '3600' }))
expectError(app.register(fastifyDbbasicSessions, { secret: 42 }))
expectError(app.register(fastifyDbbasicSessions, { cookie: { sameSite: 'Lax' } }))
expectError(app.register(fastifyDbbasicSessions, { cookie: { secure: 'yes' } }))
expectError(app.register(fastifyDbbasicSessions, { now: 5 }))
expectError(app.register(fastifyDbbasicSessions, { rolling: 'yes' }))
expectError(app.register(fastifyDbbasicSessions, { cacheSize: '10k' }))
expectError(app.register(fastifyDbbasicSessions, { absoluteTtl: '1d' }))
expectError(app.register(fastifyDbbasicSessions, { validate: () => 'yes' }))
expectError(app.register(fastifyDbbasicSessions, { validate: async () => 1 }))
expectNotAssignable<FastifyDbbasicSessionsOptions>({ ttL: 60 })
expectNotAssignable<FastifyDbbasicSessionsOptions>({ cookie: { maxAge: 60 } })

app.get('/', async (request, reply) => {
  expectType<Session>(request.session)
  expectType<string | null>(request.session.userId)
  expectType<number | null>(request.session.issuedAt)
  expectType<number | null>(request.session.expiresAt)
  expectType<string>(reply.createSession('alice'))
  expectType<string>(reply.createSession(42, { ttl: 60 }))
  expectType<string>(reply.createSession(42n))
  expectType<FastifyReply>(reply.destroySession())
  expectError(reply.createSession({ id: 1 }))
  expectError(reply.createSession('a', { secret: 'x' }))
  expectError(reply.createSession())
  expectError(request.session.userId = 42)
  return 'ok'
})

app.get('/private', { preHandler: app.requireSession }, async () => 'ok')
app.addHook('preHandler', app.requireSession)

expectType<string>(createSession('alice'))
expectType<string>(createSession(42, { secret: 'x'.repeat(32), ttl: 60, now: Date.now }))
expectType<string | null>(getSession('token'))
expectType<string | null>(getSession(undefined, { secret: ['a', 'b'] }))
expectType<undefined>(destroySession('token'))
expectType<undefined>(destroySession())
expectError(createSession({ id: 1 }))
expectError(createSession('a', { cookieName: 'x' }))
expectError(getSession(42))
expectError(getSession('t', { ttl: 60 }))

expectAssignable<Readonly<Record<string, unknown>>>(optionsSchema)
