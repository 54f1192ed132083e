// Ports for the servers the tests start, kill and start again.
//
// Not from listen(0): that gives a port in the kernel's ephemeral range, the range it
// also takes a connection's own (source) port from. While such a server is down, a
// client reconnecting to it every few milliseconds may be given that very port as its
// source and connect to itself (TCP's simultaneous open): ioredis then sat in 'connect'
// for ever, reading its own INFO back (1 run in 20 of redis-store.test.ts under load).
// Below the range no connection is given the port, and no listen(0) takes it.
import { randomInt } from 'node:crypto'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

const FLOOR = 10_000

/** The lowest port of the ephemeral range (Linux's setting, else its default). */
export function ephemeralLow (): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    return Number.isInteger(low) && low > 0 ? low : 32768
  } catch {
    return 32768
  }
}

async function listenable (port: number): Promise<boolean> {
  const server = createServer()
  try {
    server.listen(port, '127.0.0.1')
    await once(server, 'listening')
  } catch {
    return false
  }
  server.close()
  await once(server, 'close')
  return true
}

/** A free port on 127.0.0.1 from FLOOR up to the ephemeral range, tried at random. */
export async function freePort (): Promise<number> {
  const below = ephemeralLow() - FLOOR
  if (below > 1000) {
    for (let attempt = 0; attempt < 100; attempt++) {
      const port = FLOOR + randomInt(below)
      if (await listenable(port)) return port
    }
  }
  throw new Error(`no free port from ${FLOOR} to ${ephemeralLow() - 1} on 127.0.0.1 (the ephemeral range starts at ${ephemeralLow()})`)
}
