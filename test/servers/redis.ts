// redis-server (REDIS_SERVER, or the one on PATH) on a free loopback port, its data in a
// temporary folder removed at teardown. The append-only file is synced on every write, as
// an app that cannot lose a revocation would configure it, so a kill -9 loses nothing
// Redis acknowledged; with `persistence: false` nothing is kept, and a restart starts empty.
import { mkdtempSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { freePort } from './ports.js'
import { redisServer } from './find.mjs'
import { manage, type Server } from './process.js'

export interface RedisServer extends Server {
  /** For `new Redis(...)` or @fastify/redis. */
  config: { host: string, port: number }
}

/** PING over a raw socket, bounded by one second. */
async function ping (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let reply = ''
    const done = (ok: boolean): void => { socket.destroy(); clearTimeout(timer); resolve(ok) }
    const timer = setTimeout(() => done(false), 1000)
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1')
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}

export async function startRedis (t: Test, { persistence = true } = {}): Promise<RedisServer> {
  const command = redisServer()
  if (command === undefined) throw new Error('no redis-server on PATH: apt-get install redis-server, or set REDIS_SERVER')
  const dir = mkdtempSync(join(tmpdir(), 'fdbs-redis-'))
  const port = await freePort()
  const server = await manage(t, {
    port,
    dir,
    logFile: join(dir, 'server.log'),
    command,
    args: ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...(persistence ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']), '--daemonize', 'no', '--logfile', ''],
    stopSignal: 'SIGTERM',
    ready: async () => await ping(port),
    waitMs: 20_000
  })
  return Object.assign(server, { config: { host: '127.0.0.1', port } })
}
