// A Fastify app on a revocation store, run as a child process by test/stores.e2e.ts.
// Set up as the docs say: @fastify/postgres or @fastify/redis registered first, the
// store on the app's own client. Prints PORT=N once listening, and logs (JSON) on stdout.
import Fastify from 'fastify'
import fastifyPostgres from '@fastify/postgres'
import fastifyRedis from '@fastify/redis'
import sessions, { postgresStore, redisStore } from '../lib/index.js'
import { SECRET } from './helpers.js'

const env = process.env
const app = Fastify({ logger: { level: 'info' }, disableRequestLogging: true })
if (env.STORE === 'postgres') {
  await app.register(fastifyPostgres, { connectionString: env.STORE_URL, connectionTimeoutMillis: 1000 })
  // node-postgres emits an idle connection's failure on the pool: without a listener, it ends the process.
  app.pg.pool.on('error', (err) => { app.log.warn({ err: err.message }, 'database connection lost') })
} else {
  await app.register(fastifyRedis, { url: env.STORE_URL, closeClient: true, retryStrategy: () => 100 })
}
await app.register(sessions, {
  secret: SECRET,
  revocation: {
    store: env.STORE === 'postgres' ? postgresStore(app.pg.pool) : redisStore(app.redis),
    staleness: Number(env.STALENESS),
    onStale: env.ON_STALE === 'refuse' ? 'refuse' : 'accept',
    timeout: 1000
  }
})
app.post<{ Querystring: { user: string } }>('/login', async (request, reply) => ({ token: (await reply.createSession(request.query.user)).token }))
app.post('/logout', async (_request, reply) => { await reply.destroySession(); return { ok: true } })
app.post<{ Querystring: { user: string } }>('/everywhere', async (request) => {
  await app.revokeAllSessions(request.query.user)
  return { ok: true }
})
app.get('/private', { preHandler: app.requireSession }, async (request) => ({ userId: request.session.userId }))
await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`PORT=${(app.server.address() as { port: number }).port}\n`)
process.once('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
