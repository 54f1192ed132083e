// The fleet for `npm run test:fleet`: three demo processes sharing one PostgreSQL
// (accounts, devices, revocations) and one Redis (sign-in counts), real servers from
// Debian on 127.0.0.1, started once per test file and stopped when it ends; each
// fleet gets a fresh database and Redis database of its own. Not a test itself.
import { request } from 'node:http'
import pg from 'pg'
import tap, { type Test } from 'tap'
import { startDemo, type Demo } from '../demo/process.js'
import { startPostgres, type PostgresServer } from '../servers/postgres.js'
import { startRedis, type RedisServer } from '../servers/redis.js'
import { freePort } from '../servers/ports.js'
import type { Client, Stats } from './fleet-client.js'

export interface Backend { port: number, demo: Demo }
export interface Fleet {
  backends: Backend[]
  /** Stops one process (SIGTERM, it drains) and starts it again with these secrets (SECRET_KEYS, and SECRET_KEYS_NEXT when given). */
  restart: (backend: Backend, secrets: string, next?: string) => Promise<void>
  /** kill -9, then starts it again. */
  killAndStart: (backend: Backend) => Promise<void>
  /** A query on the fleet's database (a pool of one, ended at teardown). */
  query: (text: string) => Promise<Array<Record<string, unknown>>>
  postgres: PostgresServer
  redis: RedisServer
}

let servers: Promise<{ postgres: PostgresServer, redis: RedisServer }> | undefined
let fleets = 0

/** The file's PostgreSQL and Redis, started on first use. */
export async function sharedServers (): Promise<{ postgres: PostgresServer, redis: RedisServer }> {
  servers ??= Promise.all([startPostgres(tap), startRedis(tap)]).then(([postgres, redis]) => ({ postgres, redis }))
  return await servers
}

export async function startFleet (t: Test, secrets: string, settings: Record<string, string> = {}): Promise<Fleet> {
  const { postgres, redis } = await sharedServers()
  const n = ++fleets
  if (n > 15) throw new Error('more fleets in one file than Redis has databases')
  const database = `fleet_${process.pid}_${n}`
  const admin = new pg.Client(postgres.config)
  await admin.connect()
  await admin.query(`CREATE DATABASE ${database}`)
  await admin.end()
  const pool = new pg.Pool({ ...postgres.config, database, max: 1, connectionTimeoutMillis: 2000 })
  pool.on('error', () => {})
  t.teardown(() => pool.end())
  const env = (keys: string, port: number, next?: string): Record<string, string> => ({
    SECRET_KEYS: keys,
    ...(next === undefined ? {} : { SECRET_KEYS_NEXT: next }),
    DATABASE_URL: `postgres://${postgres.config.user}@127.0.0.1:${postgres.port}/${database}`,
    REDIS_URL: `redis://127.0.0.1:${redis.port}/${n}`,
    // nginx is the one proxy: the address it reports in X-Forwarded-For is the client's.
    TRUST_PROXY: '127.0.0.1',
    LOG_LEVEL: 'warn',
    SESSION_TTL: '6',
    REVOCATION_STALENESS: '2',
    RATE_LIMIT_MAX: '1000000',
    ACCOUNT_RATE_LIMIT_MAX: '1000000',
    PORT: String(port),
    ...settings
  })
  const ports = [await freePort(), await freePort(), await freePort()]
  let current = secrets
  let currentNext: string | undefined
  // All three at once on an empty database: they race to migrate it.
  const backends = await Promise.all(ports.map(async (port) => ({ port, demo: await startDemo(t, env(secrets, port)) })))
  return {
    backends,
    postgres,
    redis,
    query: async (text) => (await pool.query(text)).rows,
    restart: async (backend, keys, next) => {
      current = keys
      currentNext = next
      await backend.demo.stop()
      backend.demo = await startDemo(t, env(keys, backend.port, next))
    },
    killAndStart: async (backend) => {
      backend.demo.child.kill('SIGKILL')
      await new Promise((resolve) => backend.demo.child.once('exit', resolve))
      backend.demo = await startDemo(t, env(current, backend.port, currentNext))
    }
  }
}

export const summary = (s: Stats): string =>
  `${s.requests} requests, answers by status ${JSON.stringify(s.statuses)}, ${s.logins} logins, ${s.renewals} renewals, ${s.failovers} moved to another process by nginx, processes answering: ${s.upstreams.size}, sessions lost: ${s.lost}, wrong logins: ${s.wrongUser}, failed: ${s.failed}${s.failed > 0 ? ` ${JSON.stringify(s.failures)}` : ''}`

/** Sends requests from every client, round and round, until `done` settles. */
export async function traffic (clients: Client[], stats: Stats, done: Promise<unknown>): Promise<void> {
  const state = { finished: false }
  done.then(() => { state.finished = true }, () => { state.finished = true })
  while (!state.finished) for (const c of clients) await c.visit(stats)
}

export interface Answer { status: number, upstream: string, setCookie: string[] }

/**
 * One form post from a given loopback address (127.0.0.2, ...: another client as
 * nginx sees it), with extra headers; bounded by 10 s.
 */
export async function postFrom (base: string, path: string, fields: Record<string, string>, from: string, headers: Record<string, string> = {}): Promise<Answer> {
  const body = new URLSearchParams(fields).toString()
  return await new Promise((resolve, reject) => {
    const req = request(base + path, {
      method: 'POST',
      localAddress: from,
      timeout: 10_000,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), ...headers }
    }, (res) => {
      res.resume()
      res.on('end', () => resolve({
        status: res.statusCode ?? 0,
        upstream: String(res.headers['x-upstream'] ?? '').split(', ').pop() ?? '',
        setCookie: res.headers['set-cookie'] ?? []
      }))
    })
    req.on('timeout', () => req.destroy(new Error(`${path} from ${from}: no answer in 10 s`)))
    req.on('error', reject)
    req.end(body)
  })
}

export const pause = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
