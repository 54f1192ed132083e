// @ts-check
// Where the demo keeps things: PostgreSQL with DATABASE_URL (through @fastify/postgres),
// else the embedded SQLite file; Redis with REDIS_URL (through @fastify/redis) for the
// sign-in counts. The plugin's revocations live in PostgreSQL when there is one, else
// in Redis when that is what the processes share, else in the SQLite file.
import fastifyPostgres from '@fastify/postgres'
import fastifyRedis from '@fastify/redis'
import { postgresStore, redisStore } from 'fastify-dbbasic-sessions'
import { openPostgres } from './db-postgres.js'
import { openSqlite } from './db-sqlite.js'

/**
 * @typedef {object} StorageOptions
 * @property {string} dataDir
 * @property {string | undefined} databaseUrl
 * @property {string | undefined} redisUrl
 * @property {number} busyWaitMs
 */

/** @param {string} url what may be shown of a URL: no user or password */
const shown = (url) => {
  const { protocol, host, pathname } = new URL(url)
  return `${protocol}//${host}${pathname}`
}

/**
 * @param {import('fastify').FastifyInstance} app
 * @param {StorageOptions} options
 */
export async function connectStorage (app, { dataDir, databaseUrl, redisUrl, busyWaitMs }) {
  let redis
  if (redisUrl !== undefined) {
    // No queue while disconnected and a command timeout: a Redis that is down fails
    // each call at once, and the caller decides what that means. Reconnect attempts at
    // most a second apart, so the counts are shared again soon after Redis is back.
    await app.register(fastifyRedis, {
      url: redisUrl,
      enableOfflineQueue: false,
      commandTimeout: 2000,
      maxRetriesPerRequest: 0,
      retryStrategy: (/** @type {number} */ times) => Math.min(times * 100, 1000),
      closeClient: true
    })
    redis = app.redis
    let reported = false
    redis.on('error', (err) => { if (!reported) app.log.warn({ err }, 'demo: Redis connection error'); reported = true })
    redis.on('ready', () => { reported = false })
  }
  /** @type {import('./db.js').DemoDatabase} */
  let database
  if (databaseUrl !== undefined) {
    // pg gives up on a server that does not answer: 2 s to connect, 5 s a query.
    await app.register(fastifyPostgres, { connectionString: databaseUrl, connectionTimeoutMillis: 2000, query_timeout: 5000, max: 10 })
    const pool = app.pg.pool
    // An idle connection the server closed (a restart) must not take the process down.
    pool.on('error', (err) => { app.log.warn({ err }, 'demo: an idle PostgreSQL connection failed') })
    database = await openPostgres(pool, `PostgreSQL at ${shown(databaseUrl)}`, postgresStore(pool))
  } else {
    database = openSqlite(dataDir, { busyWaitMs })
    app.addHook('onClose', async () => { await database.close() })
    if (redis !== undefined) database = { ...database, revocations: redisStore(redis) }
  }
  return { database, redis }
}
