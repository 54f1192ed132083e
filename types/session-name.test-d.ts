// The request property follows the name the app declares (docs/typescript.md), checked
// in a program of its own: the declaration is program-wide (`npm run test:types` runs
// tsd on this file separately from index.test-d.ts).
import Fastify from 'fastify'
import { expectError, expectType } from 'tsd'
import fastifyDbbasicSessions, { type FastifyDbbasicSessionsOptions, type Session, type SessionName } from './index.js'

declare module './index.js' {
  interface FastifyDbbasicSessionsTypes {
    sessionName: 'auth'
  }
}

const app = Fastify()
expectType<'auth'>(null as unknown as SessionName)

// The option must say the declared name, or the types would describe another property.
app.register(fastifyDbbasicSessions, { secret: 'x'.repeat(32), sessionName: 'auth' })
expectError(app.register(fastifyDbbasicSessions, { secret: 'x'.repeat(32) }))
expectError(app.register(fastifyDbbasicSessions, { sessionName: 'session' }))
expectError(app.register(fastifyDbbasicSessions, { sessionName: 'other' }))
expectError<FastifyDbbasicSessionsOptions>({ ttl: 60 })

app.get('/', { preHandler: app.requireSession }, async (request) => {
  expectType<Session>(request.auth)
  expectType<string | null>(request.auth.userId)
  expectType<string>(request.requireUserId())
  // Under another name, request.session is not ours (it is free for @fastify/session or
  // @fastify/secure-session).
  expectError(request.session.userId)
  return { userId: request.auth.userId }
})
