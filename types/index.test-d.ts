import Fastify, { type FastifyRequest } from 'fastify'
import { expectAssignable, expectError, expectNotAssignable, expectType } from 'tsd'
import fastifyDbbasicSessions, {
  createSession,
  destroySession,
  diagnosticsChannelName,
  fastifyDbbasicSessions as named,
  getSession,
  memoryStore,
  type Revocation,
  type RevocationOptions,
  type RevocationStore,
  type SignedIn,
  optionsSchema,
  postgresStore,
  redisStore,
  safeRedirect,
  CrossOriginError,
  InvalidOptionError,
  InvalidUserIdError,
  NoSecretError,
  ReauthenticationRequiredError,
  ReplySentError,
  TooLargeError,
  UnauthorizedError,
  RevocationFailedError,
  type FastifyDbbasicSessionsOptions,
  type Secret,
  type SecretRoles,
  type Session,
  type SessionEvent,
  type SessionSecurityScheme,
  type ValidatedSession
} from './index.js'

const app = Fastify()

// The default and the named export are the same plugin.
expectType<typeof fastifyDbbasicSessions>(named)
app.register(fastifyDbbasicSessions, { secret: 'x'.repeat(32) })
app.register(fastifyDbbasicSessions, {
  secret: ['new'.repeat(11), 'old'.repeat(11)],
  ttl: 3600,
  cookieName: '__Host-Http-session',
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
    expectType<FastifyRequest | null>(request)
    return session.issuedAt !== null && request?.url !== '/nobody'
  }
})
app.register(fastifyDbbasicSessions, { validate: () => true, cacheSize: 0 })
const fromEnv: string[] = (process.env.SECRETS ?? '').split(',')
expectAssignable<FastifyDbbasicSessionsOptions>({ secret: fromEnv })

// Secrets by role: current is required, next and previous are lists of strings.
app.register(fastifyDbbasicSessions, { secret: { current: 'new'.repeat(11), next: ['n2'.repeat(16)], previous: ['old'.repeat(11)] } })
app.register(fastifyDbbasicSessions, { secret: { current: 'new'.repeat(11) } })
const roles: SecretRoles = { current: 'a', next: fromEnv, previous: undefined }
expectAssignable<Secret>(roles)
expectAssignable<FastifyDbbasicSessionsOptions>({ secret: { current: 'a', next: [] as readonly string[] } })
expectType<string | null>(getSession('t', { secret: { current: 'a', previous: ['b'] } }))
expectType<string>(createSession('a', { secret: { current: 'a', next: ['b'] } }))
expectError(app.register(fastifyDbbasicSessions, { secret: { next: ['n'] } }))
expectError(app.register(fastifyDbbasicSessions, { secret: { current: 'a', next: 'n' } }))
expectError(app.register(fastifyDbbasicSessions, { secret: { current: 'a', previous: [1] } }))
expectError(app.register(fastifyDbbasicSessions, { secret: { current: ['a'] } }))
expectNotAssignable<Secret>({ current: 'a', nxt: ['n'] })
expectError(getSession('t', { secret: { previous: ['b'] } }))

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
  expectType<Promise<SignedIn>>(reply.createSession('alice'))
  expectType<Promise<SignedIn>>(reply.createSession(42, { ttl: 60 }))
  expectType<Promise<SignedIn>>(reply.createSession(42n))
  expectType<Promise<void>>(reply.destroySession())
  // The chain of before 0.3: destroySession() no longer returns the reply.
  expectError(reply.destroySession().send({ ok: true }))
  expectType<Promise<void>>(reply.revokeOtherSessions())
  expectType<SignedIn>(reply.refreshLogin())
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

// The options of issue 13 compile.
app.register(fastifyDbbasicSessions, { csrf: false })
app.register(fastifyDbbasicSessions, { csrf: true })
app.register(fastifyDbbasicSessions, { csrf: { trustedOrigins: ['https://app.example.com'] } })
app.register(fastifyDbbasicSessions, { sessionName: 'session' })
// Another name compiles only once the app declares it (session-name.test-d.ts).
expectError(app.register(fastifyDbbasicSessions, { sessionName: 'auth' }))
app.post('/callback', { config: { csrf: false } }, async () => 'ok')
expectError(app.register(fastifyDbbasicSessions, { csrf: 'yes' }))
expectError(app.register(fastifyDbbasicSessions, { csrf: { trustedOrigins: 'https://app.example.com' } }))
expectError(app.register(fastifyDbbasicSessions, { sessionName: 1 }))
expectError(app.register(fastifyDbbasicSessions, { legacyCookie: { name: 'session', issuedBefore: 1 } }))
expectError(app.post('/callback', { config: { csrf: 'no' } }, async () => 'ok'))

// A guarded route reads the id as a string; an unguarded one still sees string | null.
app.get('/me', { preHandler: app.requireSession }, async (request) => {
  expectType<string>(request.requireUserId())
  expectType<string | null>(request.session.userId)
  return { id: request.requireUserId() }
})

// Remember me.
app.post('/login', async (_request, reply) => {
  const signedIn = await reply.createSession('a', { persistent: false })
  expectType<string>(signedIn.sessionId)
  expectType<number>(signedIn.issuedAt)
  expectType<string>(signedIn.token)
  expectType<Promise<SignedIn>>(reply.createSession('a', { persistent: true, ttl: 3600 }))
  expectError(reply.createSession('a', { persistent: 'no' }))
  expectError(reply.createSession('a', { remember: false }))
  return 'ok'
})

// Sessions outside routes, the OpenAPI scheme, the diagnostics channel.
expectType<Promise<Session>>(app.readSession('__Host-Http-session=token'))
expectType<Promise<Session>>(app.readSession(undefined))
expectType<Promise<Session>>(app.readSession(null))
expectError(app.readSession(42))
expectError(app.readSession(['__Host-Http-session=token']))
expectType<SessionSecurityScheme>(app.sessionSecurityScheme)
expectType<'apiKey'>(app.sessionSecurityScheme.type)
expectType<'cookie'>(app.sessionSecurityScheme.in)
expectType<string>(app.sessionSecurityScheme.name)
expectError(app.sessionSecurityScheme = { type: 'apiKey', in: 'cookie', name: 'x' })
// Frozen at runtime, read-only in the types.
expectError(app.sessionSecurityScheme.name = 'x')
expectType<'fastify-dbbasic-sessions:session'>(diagnosticsChannelName)
declare const event: SessionEvent
if (event.event === 'no-session') {
  expectType<string | null>(event.requestId)
  expectType<string | null>(event.method)
  expectType<string | undefined>(event.route)
}
if (event.event === 'created') {
  expectType<string>(event.requestId)
  expectType<string>(event.method)
}
// Events are plain data, safe to log whole: the request (its Cookie header holds the token) is not in them.
// @ts-expect-error no request in an event
if (event.event === 'destroyed') console.log(event.request)
if (event.event === 'renewed') expectType<number>(event.secretIndex)
if (event.event === 're-signed') expectType<'older secret'>(event.reason)
// @ts-expect-error a renewal has no reason
if (event.event === 'renewed') console.log(event.reason)

// exactOptionalPropertyTypes is on for this file (package.json "tsd"): undefined
// still means "the default", so options read from the environment compile.
expectAssignable<FastifyDbbasicSessionsOptions>({ secret: process.env.SECRET_KEY, ttl: undefined, cookie: { domain: undefined } })

// Revocation: the option, the store contract, the decorators, the session id.
{
  const app = Fastify()
  const store = memoryStore()
  expectAssignable<RevocationStore>(store)
  app.register(fastifyDbbasicSessions, { revocation: { store } })
  app.register(fastifyDbbasicSessions, { revocation: { store, staleness: 1, onStale: 'refuse', timeout: 1000, acceptBeforeLoad: true, maxRevokedSessions: 1000 }, externalTtl: 3600 })
  app.register(fastifyDbbasicSessions, { revocation: false })
  app.register(fastifyDbbasicSessions, { revocation: true })
  app.register(fastifyDbbasicSessions, { revocation: { staleness: 5 } })
  expectError(app.register(fastifyDbbasicSessions, { revocation: 'memory' }))
  expectError(app.register(fastifyDbbasicSessions, { revocation: { acceptBeforeLoad: 'yes' } }))
  expectError(app.register(fastifyDbbasicSessions, { revocation: { store, onStale: 'ignore' } }))
  expectError(app.register(fastifyDbbasicSessions, { revocation: { store: { add: async () => {} } } }))
  expectType<Promise<void>>(app.revokeAllSessions('alice'))
  expectType<Promise<void>>(app.revokeAllSessions(42))
  expectType<Promise<void>>(app.revokeSessionById('AZq9dbgAMs38td7cgfC_tcYl'))
  expectError(app.revokeSessionById(42))
  // The names of before 0.3 are gone: one letter told a user's sessions from one session.
  expectError(app.revokeSessions('alice'))
  expectError(app.revokeSession('AZq9dbgAMs38td7cgfC_tcYl'))
  app.post('/payout', { preHandler: app.requireRecentLogin(600) }, async () => 'ok')
  expectError(app.requireRecentLogin('600'))
  app.get('/devices', async (request) => {
    expectType<string | null>(request.session.sessionId)
    return null
  })
  const own: RevocationStore = {
    add: async (revocation: Revocation) => { expectType<'session' | 'user'>(revocation.kind) },
    since: async (cursor: string | null, now: number) => ({ revocations: [], cursor: String(cursor ?? now) })
  }
  expectAssignable<RevocationOptions>({ store: own })
  if (event.event === 'revocation-stale') expectType<'accept' | 'refuse'>(event.policy)
  if (event.event === 'revocation-write-failed') expectType<'session' | 'user'>(event.kind)
}

// The README quick start, as written there.
async function quickStart (): Promise<void> {
  const app = Fastify()
  await app.register(fastifyDbbasicSessions, { secret: process.env.SECRET_KEY })

  app.post('/login', async (request, reply) => {
    const user = await checkPassword(request.body) // your own check
    await reply.createSession(user.id) // sets the cookie
    return { ok: true }
  })

  app.get('/dashboard', { preHandler: app.requireSession }, async (request) => {
    return { userId: request.session.userId } // string | null in the types; never null here
  })

  app.get('/account', async (request) => {
    const userId = request.requireUserId() // a string, or the 401 is thrown
    expectType<string>(userId)
    return { userId }
  })

  app.post('/logout', async (_request, reply) => {
    await reply.destroySession()
    return { ok: true }
  })

  await app.listen({ port: 3000 })
}
declare function checkPassword (body: unknown): Promise<{ id: string }>
expectType<() => Promise<void>>(quickStart)

// The stores take the app's own pg Pool and ioredis client, and nothing that lacks their methods.
{
  const { default: pg } = await import('pg')
  const { Redis } = await import('ioredis')
  expectType<RevocationStore>(postgresStore(new pg.Pool()))
  expectType<RevocationStore>(postgresStore(new pg.Pool(), { table: 'revocations' }))
  expectType<RevocationStore>(redisStore(new Redis()))
  expectType<RevocationStore>(redisStore(new Redis(), { prefix: 'app:' }))
  expectError(postgresStore(new Redis()))
  expectError(redisStore(new pg.Pool()))
  expectError(postgresStore(new pg.Pool(), { table: 1 }))
  expectError(redisStore(new Redis(), { keyPrefix: 'x' }))
}
// safeRedirect takes whatever the request holds and always gives a string.
expectType<string>(safeRedirect('/a'))
expectType<string>(safeRedirect(undefined, '/home'))
expectType<string>(safeRedirect(['/a', '/b']))
expectError(safeRedirect('/a', 42))

// The error classes: instanceof narrows to the code and status; they can be made.
const caught: unknown = new Error('x')
if (caught instanceof UnauthorizedError) {
  expectType<'FST_DBBASIC_SESSIONS_UNAUTHORIZED'>(caught.code)
  expectType<401>(caught.statusCode)
  expectAssignable<Error>(caught)
}
if (caught instanceof CrossOriginError) expectType<403>(caught.statusCode)
if (caught instanceof InvalidOptionError) expectType<'FST_DBBASIC_SESSIONS_INVALID_OPTION'>(caught.code)
expectType<'FST_DBBASIC_SESSIONS_NO_SECRET'>(new NoSecretError().code)
expectType<'FST_DBBASIC_SESSIONS_INVALID_USER_ID'>(new InvalidUserIdError('x').code)
expectType<'FST_DBBASIC_SESSIONS_TOO_LARGE'>(new TooLargeError().code)
expectType<'FST_DBBASIC_SESSIONS_REPLY_SENT'>(new ReplySentError().code)
expectType<'FST_DBBASIC_SESSIONS_REAUTHENTICATION_REQUIRED'>(new ReauthenticationRequiredError().code)
expectType<401>(new ReauthenticationRequiredError().statusCode)
expectError(new UnauthorizedError(1))
// A code is a literal type, so a misspelt one does not type.
expectNotAssignable<typeof UnauthorizedError.prototype.code>('FST_DBBASIC_SESSIONS_UNAUTHORISED')
if (caught instanceof RevocationFailedError) expectType<503>(caught.statusCode)
