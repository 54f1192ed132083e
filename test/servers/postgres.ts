// Debian's PostgreSQL 15 on a free loopback port, with a data directory of its own in a
// temporary folder: initdb'd for the test, removed at teardown. PostgreSQL refuses to
// run as root, so as root it runs as the postgres user.
import { execFileSync } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { Test } from 'tap'
import { freePort } from '../e2e/nginx.js'
import { manage, type Server } from './process.js'

const BIN = process.env.POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin'

export interface PostgresServer extends Server {
  /** For `new pg.Pool(...)` or @fastify/postgres. */
  config: { host: string, port: number, user: string, database: string }
  /** The same as a connection string. */
  url: string
}

/** The uid and gid to run as: the postgres user's when we are root. */
function account (): { uid?: number, gid?: number } {
  if (process.getuid?.() !== 0) return {}
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim())
  return { uid: id('-u'), gid: id('-g') }
}

export async function startPostgres (t: Test): Promise<PostgresServer> {
  if (!existsSync(join(BIN, 'postgres'))) {
    throw new Error(`no PostgreSQL in ${BIN}: install Debian's postgresql (apt-get install postgresql) or set POSTGRES_BIN`)
  }
  const dir = mkdtempSync(join(tmpdir(), 'fdbs-pg-'))
  const data = join(dir, 'data')
  mkdirSync(data)
  const { uid, gid } = account()
  if (uid !== undefined && gid !== undefined) {
    chmodSync(dir, 0o755)
    chownSync(dir, uid, gid)
    chownSync(data, uid, gid)
  }
  execFileSync(join(BIN, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '--no-instructions', '-E', 'UTF8'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 60_000,
    ...(uid === undefined ? {} : { uid, gid })
  })
  const port = await freePort()
  const config = { host: '127.0.0.1', port, user: 'postgres', database: 'postgres' }
  const ready = async (): Promise<boolean> => {
    const client = new pg.Client({ ...config, connectionTimeoutMillis: 1000 })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query('SELECT 1')
      return true
    } catch {
      return false
    } finally {
      await client.end().catch(() => {})
    }
  }
  const server = await manage(t, {
    port,
    dir,
    logFile: join(dir, 'server.log'),
    command: join(BIN, 'postgres'),
    // fsync off: throw-away data; a kill -9 of the server (not the machine) still loses nothing committed.
    args: ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=50'],
    uid,
    gid,
    stopSignal: 'SIGINT',
    ready,
    waitMs: 30_000
  })
  return Object.assign(server, { config, url: `postgres://postgres@127.0.0.1:${port}/postgres` })
}
