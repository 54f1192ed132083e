// Keeps this process's revocation table in step with the shared store, off the
// request path: a poll at least every staleness / 2 seconds (sooner when the store
// pushes a change), and writes that report failure instead of hiding it.
import type { FastifyBaseLogger } from 'fastify'
import type { Revocation, RevocationStore } from '../../types/index.js'
import { publish, sessionChannel } from '../diagnostics.js'
import { RevocationFailedError } from '../errors.js'
import type { RevocationConfig } from '../options.js'
import { RevocationTable } from './table.js'

/** Expired revocations are pruned from the store and the table about this often. */
const PRUNE_EVERY_MS = 60_000

/** What a log line may say of a store's error: never more than its message and code. */
function described (err: unknown): { message: string, code?: string } {
  const e = err as { message?: unknown, code?: unknown } | null
  const message = String(e?.message ?? err).slice(0, 200)
  return typeof e?.code === 'string' ? { message, code: e.code } : { message }
}

/** The store's call, failing after `ms` milliseconds (the call itself may still finish). */
async function timed<T> (call: () => Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`${what} took longer than ${ms} ms`)) }, ms)
  })
  try {
    return await Promise.race([Promise.resolve().then(call), late])
  } finally {
    clearTimeout(timer)
  }
}

const isTime = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n)

/** A revocation of the contract's shape (a store of the app's own may hand back anything). */
function wellFormed (r: Revocation): boolean {
  if (typeof r !== 'object' || r === null || typeof r.id !== 'string' || r.id === '' || !isTime(r.until)) return false
  return r.kind === 'session' || (r.kind === 'user' && isTime(r.after))
}

export class RevocationSync {
  readonly table = new RevocationTable()
  readonly #store: RevocationStore
  readonly #config: RevocationConfig
  readonly #now: () => number
  readonly #log: FastifyBaseLogger
  #cursor: string | null = null
  /** When (by the plugin's clock, ms) the last successful read started; what was stored before it is known. */
  #lastRead = -Infinity
  #stale = false
  #reading: Promise<void> | null = null
  #again = false
  #closed = false
  #timer: NodeJS.Timeout | undefined
  #stopPush: (() => Promise<void>) | undefined
  #lastPrune: number

  readonly #observe: (cutoffMs: number) => void

  /** `observe` hears of every user cut-off read from the store. */
  constructor (config: RevocationConfig, now: () => number, log: FastifyBaseLogger, observe: (cutoffMs: number) => void) {
    this.#observe = observe
    this.#store = config.store
    this.#config = config
    this.#now = now
    this.#log = log
    this.#lastPrune = now()
  }

  /** The first read (a store that does not answer leaves this process stale, not stopped), then the loop. */
  async start (): Promise<void> {
    await this.read()
    this.#timer = setInterval(() => { this.#tick() }, this.#config.staleness * 500)
    this.#timer.unref()
    const subscribe = this.#store.subscribe
    if (subscribe === undefined) return
    try {
      this.#stopPush = await timed(() => subscribe.call(this.#store, () => { this.read() }), this.#config.timeout, 'subscribing to the revocation store')
    } catch (err) {
      this.#log.warn({ err: described(err) }, `fastify-dbbasic-sessions: the revocation store's push is unavailable; reading it every ${this.#config.staleness / 2} s`)
    }
  }

  async stop (): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    await this.#stopPush?.().catch(() => {})
    await this.#reading
  }

  /** Sessions are refused: the policy says so and the revocations are older than the staleness. */
  refusing (nowMs: number): boolean {
    return this.#config.onStale === 'refuse' && nowMs - this.#lastRead > this.#config.staleness * 1000
  }

  /** Reads what was added since the last read; one read at a time, another right after if asked meanwhile. */
  read (): Promise<void> {
    if (this.#reading !== null) {
      this.#again = true
      return this.#reading
    }
    this.#reading = this.#readOnce().finally(() => {
      this.#reading = null
      if (this.#again && !this.#closed) {
        this.#again = false
        this.read()
      }
    })
    return this.#reading
  }

  async #readOnce (): Promise<void> {
    const started = this.#now()
    try {
      const batch = await timed(() => this.#store.since(this.#cursor, Math.floor(started / 1000)), this.#config.timeout, 'reading the revocation store')
      for (const revocation of batch.revocations) {
        if (!wellFormed(revocation)) continue
        this.table.add(revocation)
        if (revocation.kind === 'user') this.#observe(revocation.after)
      }
      if (this.table.crowded) this.table.merge(0)
      this.#cursor = String(batch.cursor)
      this.#lastRead = started
    } catch (err) {
      this.#checkStale(err)
      return
    }
    if (this.#stale) {
      this.#stale = false
      this.#log.info('fastify-dbbasic-sessions: the revocation store answers again; revocations are up to date')
      if (sessionChannel.hasSubscribers) publish({ event: 'revocation-recovered' })
    }
  }

  #checkStale (err?: unknown): void {
    if (this.#stale || this.#now() - this.#lastRead <= this.#config.staleness * 1000) return
    this.#stale = true
    const policy = this.#config.onStale
    this.#log.warn({ err: err === undefined ? undefined : described(err) },
      `fastify-dbbasic-sessions: the revocation store has not been read for over ${this.#config.staleness} s; until it is, ` +
      (policy === 'refuse' ? 'every session is refused (revocation.onStale "refuse")' : 'sessions are checked against the revocations already known (revocation.onStale "accept")'))
    if (sessionChannel.hasSubscribers) publish({ event: 'revocation-stale', policy })
  }

  #tick (): void {
    this.#checkStale()
    this.read()
    const now = this.#now()
    if (now - this.#lastPrune < PRUNE_EVERY_MS) return
    this.#lastPrune = now
    const seconds = Math.floor(now / 1000)
    this.table.merge(seconds)
    const prune = this.#store.prune
    if (prune !== undefined) {
      timed(() => prune.call(this.#store, seconds), this.#config.timeout, 'pruning the revocation store')
        .catch((err: unknown) => { this.#log.debug({ err: described(err) }, 'fastify-dbbasic-sessions: pruning the revocation store failed; it is tried again later') })
    }
  }

  /** Stores a revocation, then enforces it here; a failure is logged, published and thrown. */
  async add (revocation: Revocation): Promise<void> {
    try {
      await timed(() => this.#store.add(revocation), this.#config.timeout, 'writing to the revocation store')
    } catch (err) {
      this.#log.error({ err: described(err), kind: revocation.kind }, 'fastify-dbbasic-sessions: a revocation could not be stored, so it was not made; the caller was told')
      if (sessionChannel.hasSubscribers) publish({ event: 'revocation-write-failed', kind: revocation.kind })
      throw new RevocationFailedError()
    }
    this.table.add(revocation)
  }
}
