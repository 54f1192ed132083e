// The app of the fault drills (test/faults/*.e2e.ts), run as a child process: a Fastify app
// on a revocation store reached through the drill's proxy, configured by environment:
//   STORE (postgres | redis), STORE_URL, STALENESS (s), ON_STALE, TIMEOUT (ms),
//   CLOCK_OFFSET_MS (this process's clock against real time), CLOCK_TOLERANCE (s),
//   POOL_MAX and PG_CONNECT_TIMEOUT (ms) for the app's own pg pool, HEAP_SAMPLE_MS.
// Every call of the plugin's decorators is in this file, and nowhere in the drills.
// Prints PORT=N once listening, and logs (JSON) on stdout.
import { subscribe } from 'node:diagnostics_channel'
import Fastify from 'fastify'
import fastifyPostgres from '@fastify/postgres'
import { Redis } from 'ioredis'
import sessions, { diagnosticsChannelName, postgresStore, redisStore } from '../lib/index.js'
import type { RevocationStore, SessionEvent } from '../types/index.js'
import { SECRET } from './helpers.js'

const env = process.env
const offset = Number(env.CLOCK_OFFSET_MS ?? 0)
const app = Fastify({ logger: { level: 'info' }, disableRequestLogging: true })

// What the plugin publishes: revocation events counted, and why a request had no session.
const events: Record<string, number> = {}
const lost = { sessions: 0, users: 0 }
const reasons = new Map<string, string>()
subscribe(diagnosticsChannelName, (message) => {
  const event = message as SessionEvent
  if (event.event === 'no-session') {
    if (event.requestId !== null) reasons.set(event.requestId, event.reason)
    return
  }
  events[event.event] = (events[event.event] ?? 0) + 1
  if (event.event === 'revocation-store-reset') {
    lost.sessions += event.lostSessions
    lost.users += event.lostUsers
  }
})

// heapUsed + arrayBuffers, at its highest, sampled from the start.
let heapPeak = 0
const sample = (): void => {
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  heapPeak = Math.max(heapPeak, heapUsed + arrayBuffers)
}
sample()
const sampler = setInterval(sample, Number(env.HEAP_SAMPLE_MS ?? 50))
sampler.unref()

let store: RevocationStore
let busy: (seconds: number) => Promise<unknown>
if (env.STORE === 'postgres') {
  await app.register(fastifyPostgres, {
    connectionString: env.STORE_URL,
    max: Number(env.POOL_MAX ?? 4),
    connectionTimeoutMillis: Number(env.PG_CONNECT_TIMEOUT ?? 1000)
  })
  // node-postgres emits an idle connection's failure on the pool: without a listener, it ends the process.
  app.pg.pool.on('error', (err) => { app.log.warn({ err: err.message }, 'database connection lost') })
  store = postgresStore(app.pg.pool)
  busy = async (seconds) => await app.pg.pool.query('SELECT pg_sleep($1)', [seconds])
} else {
  // Not @fastify/redis: it waits for Redis at registration, and this app must start without it.
  const client = new Redis(env.STORE_URL as string, { retryStrategy: () => 100, lazyConnect: false })
  client.on('error', () => {})
  app.addHook('onClose', async () => { client.disconnect() })
  store = redisStore(client)
  // A blocking command holds the app's connection, as a slow app command would.
  busy = async (seconds) => await client.blpop(`faults-busy-${Math.random()}`, seconds)
}

await app.register(sessions, {
  secret: SECRET,
  now: () => Date.now() + offset,
  clockTolerance: Number(env.CLOCK_TOLERANCE ?? 0),
  revocation: {
    store,
    staleness: Number(env.STALENESS ?? 2),
    onStale: env.ON_STALE === 'refuse' ? 'refuse' : 'accept',
    timeout: Number(env.TIMEOUT ?? 5000)
  }
})

app.post<{ Querystring: { user: string } }>('/login', async (request, reply) => {
  await reply.createSession(request.query.user)
  return { ok: true }
})
app.post('/logout', async (_request, reply) => {
  await reply.destroySession()
  return { ok: true }
})
app.post<{ Querystring: { user: string } }>('/everywhere', async (request) => {
  await app.revokeAllSessions(request.query.user)
  return { ok: true }
})
app.post<{ Querystring: { sid: string } }>('/revoke', async (request) => {
  await app.revokeSessionById(request.query.sid)
  return { ok: true }
})
app.get('/whoami', async (request) => ({ ...request.session, reason: reasons.get(request.id) ?? null }))
app.addHook('onResponse', async (request) => { reasons.delete(request.id) })
app.get<{ Querystring: { s: string } }>('/busy', async (request) => {
  await busy(Number(request.query.s))
  return { ok: true }
})
app.get('/stats', async () => ({ heapPeak, events, lost, now: Date.now() + offset }))

await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`PORT=${(app.server.address() as { port: number }).port}\n`)
process.once('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
