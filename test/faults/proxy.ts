// A TCP proxy between the app processes and a store, on 127.0.0.1, whose mode the drill
// sets: 'forward'; 'blackhole' (connections are accepted and held, no byte goes either
// way; what was sent meanwhile is delivered when it heals, in order, as TCP's
// retransmission would after a partition, even on a connection its client has closed
// since); 'refuse' (every connection closed at once, new ones too: destroy(), not
// resetAndDestroy(), whose sockets kept Node 20 spinning at exit); 'delay' (each chunk
// goes on `delayMs` later, both ways). Bounded: at most MAX_HELD bytes wait on a
// connection and MAX_CONNECTIONS are open, beyond which connections are closed.
import { createServer, connect, type Server, type Socket } from 'node:net'
import type { Test } from 'tap'

export type Mode = 'forward' | 'blackhole' | 'refuse' | 'delay'

const MAX_HELD = 64 * 1024 * 1024
const MAX_CONNECTIONS = 500

/** One direction of one connection: chunks in order, each with the time it may go on. */
class Lane {
  readonly #queue: Array<{ data: Buffer, at: number }> = []
  #held = 0
  #timer: NodeJS.Timeout | undefined
  #ending = false
  bytes = 0

  constructor (readonly to: Socket, readonly proxy: TcpProxy, readonly count: (n: number) => void, readonly close: () => void) {}

  push (data: Buffer): void {
    this.#held += data.length
    if (this.#held > MAX_HELD) return this.close()
    this.#queue.push({ data, at: Date.now() + (this.proxy.mode === 'delay' ? this.proxy.delayMs : 0) })
    this.pump()
  }

  /** The other side ended: end this one once everything before it has gone on. */
  end (): void {
    this.#ending = true
    this.pump()
  }

  pump (): void {
    clearTimeout(this.#timer)
    if (this.proxy.mode === 'blackhole' || this.to.destroyed) return
    const now = Date.now()
    while (this.#queue.length > 0) {
      const next = this.#queue[0]
      if (next.at > now && this.proxy.mode === 'delay') {
        this.#timer = setTimeout(() => { this.pump() }, next.at - now)
        return
      }
      this.#queue.shift()
      this.#held -= next.data.length
      this.bytes += next.data.length
      this.count(next.data.length)
      this.to.write(next.data)
    }
    if (this.#ending) this.to.end()
  }

  drop (): void {
    clearTimeout(this.#timer)
    this.#queue.length = 0
    this.#held = 0
  }
}

interface Pair { client: Socket, upstream: Socket, lanes: [Lane, Lane] }

export class TcpProxy {
  mode: Mode = 'forward'
  delayMs = 0
  /** Bytes delivered from the store to the processes, and the other way, since the start. */
  down = 0
  up = 0
  /** Connections accepted since the start. */
  accepted = 0
  readonly #pairs = new Set<Pair>()
  readonly #server: Server

  private constructor (readonly target: number, server: Server, readonly port: number) {
    this.#server = server
  }

  static async start (t: Test, target: number): Promise<TcpProxy> {
    const server = createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', resolve)
    })
    const proxy = new TcpProxy(target, server, (server.address() as { port: number }).port)
    server.on('connection', (socket) => { proxy.#accept(socket) })
    t.teardown(async () => { await proxy.close() })
    return proxy
  }

  /** Open connections. */
  get connections (): number {
    return this.#pairs.size
  }

  #accept (client: Socket): void {
    this.accepted++
    client.on('error', () => {})
    if (this.mode === 'refuse' || this.#pairs.size >= MAX_CONNECTIONS) {
      client.destroy()
      return
    }
    const upstream = connect(this.target, '127.0.0.1')
    upstream.on('error', () => {})
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    const close = (): void => {
      this.#pairs.delete(pair)
      for (const lane of pair.lanes) lane.drop()
      client.destroy()
      upstream.destroy()
    }
    const pair: Pair = {
      client,
      upstream,
      lanes: [
        new Lane(upstream, this, (n) => { this.up += n }, close),
        new Lane(client, this, (n) => { this.down += n }, close)
      ]
    }
    this.#pairs.add(pair)
    const [toStore, toClient] = pair.lanes
    client.on('data', (data) => { toStore.push(data) })
    upstream.on('data', (data) => { toClient.push(data) })
    // A side that goes away ends the other once what it sent has been delivered.
    client.on('close', () => { toStore.end() })
    upstream.on('close', () => { toClient.end() })
    const gone = (): void => { if (client.destroyed && upstream.destroyed) this.#pairs.delete(pair) }
    client.on('close', gone)
    upstream.on('close', gone)
  }

  /** Sets the mode; 'forward' and 'delay' deliver what a blackhole held. */
  set (mode: Mode, delayMs = 0): void {
    this.mode = mode
    this.delayMs = delayMs
    if (mode === 'refuse') {
      for (const pair of this.#pairs) {
        for (const lane of pair.lanes) lane.drop()
        pair.client.destroy()
        pair.upstream.destroy()
      }
      this.#pairs.clear()
      return
    }
    for (const pair of this.#pairs) for (const lane of pair.lanes) lane.pump()
  }

  async close (): Promise<void> {
    this.set('refuse')
    await new Promise<void>((resolve) => { this.#server.close(() => { resolve() }) })
  }
}
