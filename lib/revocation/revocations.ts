// The one object through which the request side, the reply side and the revokers reach
// revocation: what a token's check says, what a sign-out stores, and the loop that keeps
// this process's table in step with the shared store, off the request path.
//
// The rules, and what each survives:
//  - A session revocation names the session (its sid, or a key derived from the signature
//    for a token without one) and is kept until no copy of the token can be valid.
//  - A sign-out everywhere is a cut-off with a generation `after` (milliseconds, the
//    revoking process's clock, and always above the user's previous one). A process that
//    knows a user's cut-off writes it into every login's token as `gen`: a token whose
//    `gen` reaches the limit came after it, whatever the clocks say. A token that cannot
//    show that (no `gen`: made before, by Python, or by a process that had not read the
//    cut-off yet) is refused unless its login time is later than the cut-off by more than
//    clockTolerance + 1 s, so clocks that disagree by up to clockTolerance never let an
//    earlier login through. Nothing read from the store moves a clock.
//  - No session is accepted before the store's live revocations were read completely,
//    unless acceptBeforeLoad says so. Staleness counts from the last completed read.
//  - A store whose history no longer holds this process's position (flushed, restored,
//    replaced) says so (`reset`); everything is read again into a table of its own while
//    the old one stays in force, then the new one replaces it and what was lost is told.
import type { FastifyBaseLogger } from 'fastify'
import type * as Contract from '../../types/index.js'
import { publish, sessionChannel } from '../diagnostics.js'
import { RevocationFailedError } from '../errors.js'
import { MAX_TTL, keepUntil, loginOf, type Policy } from '../lifecycle.js'
import { revocationKey } from '../session-id.js'
import type { Verified } from '../token.js'
import { fingerprintHigh, fingerprintLow } from './fingerprint.js'
import { sharedTable } from './memory.js'
import { RevocationTable, type UserCutoff } from './table.js'

export interface RevocationConfig {
  store: Contract.RevocationStore
  staleness: number
  onStale: 'accept' | 'refuse'
  timeout: number
  acceptBeforeLoad: boolean
  maxRevokedSessions: number
  /** No store was given: this process's own memory store, said once at start-up. */
  implicit: boolean
}

type Reason = 'revoked' | 'revocations unavailable'

/** Expired revocations are pruned from the store and the table about this often. */
const PRUNE_EVERY_MS = 60_000
/** A subscription that failed is tried again after this, doubling up to the most. */
const SUBSCRIBE_RETRY_MS = [1000, 30_000]
/** Before the first complete read (sessions are refused), a failed one is tried again after this, doubling up to the most. */
const LOAD_RETRY_MS = [100, 5000]

/** What a log line may say of a store's error: never more than its message and code. */
function described (err: unknown): { message: string, code?: string } {
  const e = err as { message?: unknown, code?: unknown } | null
  const message = String(e?.message ?? err).slice(0, 200)
  return typeof e?.code === 'string' ? { message, code: e.code } : { message }
}

/**
 * The store's call, failing after `ms` milliseconds or when `stop` aborts (the app
 * closing); the call's signal is aborted then, so the store can drop the connection.
 */
async function timed<T> (call: (signal: AbortSignal) => Promise<T>, ms: number, what: string, stop?: AbortSignal): Promise<T> {
  if (stop?.aborted === true) throw new Error(`${what} was not started: the app is closing`)
  const controller = new AbortController()
  let fail!: (error: Error) => void
  const late = new Promise<never>((_resolve, reject) => {
    fail = (error) => {
      clearTimeout(timer)
      controller.abort(error)
      reject(error)
    }
  })
  const closing = (): void => { fail(new Error(`${what} was cut short: the app is closing`)) }
  const timer = setTimeout(() => { fail(new Error(`${what} took longer than ${ms} ms`)) }, ms)
  stop?.addEventListener('abort', closing, { once: true })
  try {
    return await Promise.race([Promise.resolve().then(() => call(controller.signal)), late])
  } finally {
    clearTimeout(timer)
    // `stop` lives as long as the app: a listener left on it per call would be kept as long.
    stop?.removeEventListener('abort', closing)
  }
}

const isTime = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n)

/** A revocation of the contract's shape (a store of the app's own may hand back anything). */
function wellFormed (r: Contract.Revocation): boolean {
  if (typeof r !== 'object' || r === null || typeof r.id !== 'string' || r.id === '' || !isTime(r.until)) return false
  if (r.kind === 'session') return true
  return r.kind === 'user' && isTime(r.after) && (r.except === undefined || (typeof r.except === 'string' && r.except !== ''))
}

let saidInProcess = false

export class Revocations {
  table: RevocationTable
  readonly #store: Contract.RevocationStore
  readonly #config: RevocationConfig
  readonly #policy: Policy
  readonly #now: () => number
  readonly #log: FastifyBaseLogger
  /** The memory store: its table is this one, so there is nothing to read. */
  readonly #shared: boolean
  #cursor: string | null = null
  #loaded: boolean
  /** When (plugin clock, ms) the last complete read ended. */
  #lastRead = -Infinity
  /** A full read after a reset, filling a table of its own. */
  #rebuild: RevocationTable | null = null
  #stale = false
  #slow = false
  #full = false
  #lastError: unknown
  #reading: Promise<void> | null = null
  #again = false
  #closed = false
  /** Aborted when the app closes: a read under way stops waiting for the store. */
  readonly #closing = new AbortController()
  #timer: NodeJS.Timeout | undefined
  #retry: NodeJS.Timeout | undefined
  #loadRetry: NodeJS.Timeout | undefined
  #loadWait = LOAD_RETRY_MS[0]
  #stopPush: (() => Promise<void>) | undefined
  #subscribing: Promise<void> | undefined
  #lastPrune: number

  constructor (config: RevocationConfig, policy: Policy, now: () => number, log: FastifyBaseLogger) {
    this.#store = config.store
    this.#config = config
    this.#policy = policy
    this.#now = now
    this.#log = log
    const shared = sharedTable(config.store)
    this.#shared = shared !== undefined
    this.table = shared ?? new RevocationTable()
    // The memory store's table is this process's own: always read, never stale.
    this.#loaded = this.#shared
    if (this.#shared) this.#lastRead = Infinity
    this.#lastPrune = now()
  }

  /**
   * Starts the loop and waits for the first complete read, at most `timeout` and half of
   * Fastify's `pluginTimeout`: a store that is down or slow at start-up never stops the
   * app from starting (it is read on in the background, and sessions refused meanwhile).
   */
  async start (pluginTimeout: number): Promise<void> {
    // pluginTimeout 0: Fastify waits for ever, so `timeout` alone bounds the wait.
    const waitMs = pluginTimeout > 0 ? Math.min(this.#config.timeout, pluginTimeout / 2) : this.#config.timeout
    if (this.#config.implicit && !saidInProcess) {
      saidInProcess = true
      this.#log.info('fastify-dbbasic-sessions: sign-outs are revocations kept in this process\'s memory: a restart forgets them and other processes do not see them. ' +
        'To share and keep them, give revocation: { store: postgresStore(pool) } or { store: redisStore(client) }; revocation: { store: memoryStore() } keeps them here without this line')
    }
    if (this.#shared) return
    this.#timer = setInterval(() => { this.#tick() }, this.#config.staleness * 500)
    this.#timer.unref()
    this.#subscribe(SUBSCRIBE_RETRY_MS[0])
    let timer: NodeJS.Timeout | undefined
    const waited = new Promise<void>((resolve) => { timer = setTimeout(resolve, waitMs) })
    await Promise.race([this.read(), waited])
    clearTimeout(timer)
    if (!this.#loaded) {
      this.#log.warn(`fastify-dbbasic-sessions: the revocation store could not be read completely at start-up; ${this.#config.acceptBeforeLoad
        ? 'sessions are checked against the revocations read so far until it is (revocation.acceptBeforeLoad)'
        : 'every session is refused until it is (set revocation.acceptBeforeLoad to accept them meanwhile)'}`)
    }
  }

  async stop (): Promise<void> {
    this.#closed = true
    this.#closing.abort()
    clearInterval(this.#timer)
    clearTimeout(this.#retry)
    clearTimeout(this.#loadRetry)
    await this.#subscribing
    await this.#stopPush?.().catch(() => {})
    await this.#reading
  }

  /** Every session is refused: nothing read yet, or stale under onStale "refuse". */
  refusing (nowMs: number): boolean {
    if (!this.#loaded && !this.#config.acceptBeforeLoad) return true
    return this.#config.onStale === 'refuse' && nowMs - this.#lastRead > this.#config.staleness * 1000
  }

  /** Why a revocation refuses this verified token at `seconds`, if one does. */
  refusal (token: Verified, seconds: number): Reason | undefined {
    if (this.refusing(seconds * 1000)) return 'revocations unavailable'
    const { table } = this
    if (table.size === 0) return undefined
    if (table.sessions !== 0) {
      if (token.high === -1) {
        const key = revocationKey(token)
        token.high = fingerprintHigh(key)
        token.low = fingerprintLow(key)
      }
      if (table.fingerprintRevoked(token.high, token.low, seconds)) return 'revoked'
    }
    const cutoff = table.user(token.userId, seconds)
    return cutoff !== undefined && this.#beforeCutoff(token, cutoff) ? 'revoked' : undefined
  }

  #beforeCutoff (token: Verified, cutoff: UserCutoff): boolean {
    const limit = cutoff.except !== null && revocationKey(token) === cutoff.except ? cutoff.floor : cutoff.after
    if (limit === 0 || (token.gen !== null && token.gen >= limit)) return false
    return loginOf(token, this.#policy) * 1000 <= limit + this.#marginMs
  }

  /** How much later than a cut-off a login must be, by its own clock, to count as after it. */
  get #marginMs (): number {
    return (this.#policy.clockTolerance + 1) * 1000
  }

  /** The `gen` a login of `userId` carries: the user's latest cut-off known here. */
  generation (userId: string, seconds: number): number | undefined {
    return this.table.user(userId, seconds)?.after
  }

  /** Ends the session of `token` (every copy, every renewal); at capacity, the user's sessions. */
  async endSession (token: Verified, seconds: number): Promise<void> {
    if (this.table.sessions >= this.#config.maxRevokedSessions) {
      this.#sayFull()
      await this.endUser(token.userId, seconds, undefined)
      return
    }
    const until = keepUntil(token, seconds, this.#policy) + this.#config.staleness
    await this.#add({ kind: 'session', id: revocationKey(token), until })
  }

  /** Ends one session by its id, wherever its copies are. */
  async endSessionById (id: string, seconds: number): Promise<void> {
    await this.#add({ kind: 'session', id, until: Math.floor(seconds) + this.#horizon() })
  }

  /** Ends every session of `userId` logged in before now, but the one `except` names. */
  async endUser (userId: string, seconds: number, except: string | undefined): Promise<void> {
    const known = this.table.user(userId, seconds)?.after ?? 0
    const after = Math.max(Math.floor(seconds * 1000), known + 1)
    const until = Math.ceil(after / 1000) + Math.ceil(this.#marginMs / 1000) + this.#horizon()
    await this.#add(except === undefined ? { kind: 'user', id: userId, after, until } : { kind: 'user', id: userId, after, until, except })
  }

  /** The longest any session a revocation made now covers can still be accepted somewhere. */
  #horizon (): number {
    const { absoluteTtl, clockTolerance } = this.#policy
    return (absoluteTtl ?? MAX_TTL) + clockTolerance + this.#config.staleness
  }

  #sayFull (): void {
    if (this.#full) return
    this.#full = true
    this.#log.warn(`fastify-dbbasic-sessions: ${this.table.sessions} revoked sessions are held (revocation.maxRevokedSessions); until some expire, a sign-out ends every session of its user`)
  }

  /** Stores a revocation, then enforces it here; a failure is logged, published and thrown. */
  async #add (revocation: Contract.Revocation): Promise<void> {
    const { timeout } = this.#config
    try {
      // Half the wait: a write the store takes by then has the other half for its answer
      // to come back, so a failure reported here is a write not made (docs/revocation.md).
      const deadline = Date.now() + timeout / 2
      await timed(async () => { await this.#store.add(revocation, deadline) }, timeout, 'writing to the revocation store')
    } catch (err) {
      this.#log.error({ storeError: described(err), kind: revocation.kind }, 'fastify-dbbasic-sessions: a revocation could not be stored (if the store took it, it did so within the timeout, never after); the caller was told')
      if (sessionChannel.hasSubscribers) publish({ event: 'revocation-write-failed', kind: revocation.kind })
      throw new RevocationFailedError()
    }
    // The memory store is this table: it needs no loop, and is pruned as it grows.
    if (this.#shared) return this.#pruneIfDue()
    this.table.add(revocation)
    this.#rebuild?.add(revocation)
  }

  /** Reads what was added since the last read; one read at a time, another right after if asked meanwhile. */
  read (): Promise<void> {
    if (this.#reading !== null) {
      this.#again = true
      return this.#reading
    }
    this.#reading = this.#readAll().finally(() => {
      this.#reading = null
      if (this.#again && !this.#closed) {
        this.#again = false
        this.read()
      }
    })
    return this.#reading
  }

  /** Page after page until the store has nothing more; a failed page is resumed from, not restarted. */
  async #readAll (): Promise<void> {
    const started = this.#now()
    try {
      for (let more = true; more;) more = await this.#readPage()
    } catch (err) {
      if (this.#closed) return
      this.#lastError = err
      this.#checkStale()
      if (!this.#loaded && !this.#closed) this.#retryLoad()
      return
    }
    if (this.#rebuild !== null) this.#replaceTable(this.#rebuild)
    const ended = this.#now()
    this.#lastRead = ended
    if (!this.#loaded) {
      this.#loaded = true
      this.#log.info({ revocations: this.table.size, ms: ended - started }, 'fastify-dbbasic-sessions: the revocation store was read; sessions are checked against it')
      if (sessionChannel.hasSubscribers) publish({ event: 'revocation-loaded', revocations: this.table.size })
    } else {
      this.#checkSlow(ended - started)
    }
    if (this.#stale) {
      this.#stale = false
      this.#log.info('fastify-dbbasic-sessions: the revocation store answers again; revocations are up to date')
      if (sessionChannel.hasSubscribers) publish({ event: 'revocation-recovered' })
    }
  }

  async #readPage (): Promise<boolean> {
    const seconds = Math.floor(this.#now() / 1000)
    const batch = await timed(async (signal) => await this.#store.since(this.#cursor, seconds, signal), this.#config.timeout, 'reading the revocation store', this.#closing.signal)
    if (batch.reset === true) this.#rebuild = new RevocationTable()
    for (const revocation of batch.revocations) {
      if (!wellFormed(revocation) || revocation.until < seconds) continue
      // Enforced at once, and kept for the table that replaces this one.
      this.table.add(revocation)
      this.#rebuild?.add(revocation)
    }
    this.#cursor = String(batch.cursor)
    return batch.more === true
  }

  /** A full read after a reset is complete: it replaces the table; what it lacks is reported. */
  #replaceTable (rebuilt: RevocationTable): void {
    const seconds = Math.floor(this.#now() / 1000)
    const lost = this.table.missingFrom(rebuilt, seconds)
    this.table = rebuilt
    this.#rebuild = null
    if (lost.sessions + lost.users === 0) {
      this.#log.info('fastify-dbbasic-sessions: the revocation store\'s history changed (restored, flushed or replaced); it was read again in full and holds every revocation this process knew')
    } else {
      this.#log.error(lost, 'fastify-dbbasic-sessions: the revocation store was reset (restored, flushed or replaced) and lost revocations this process enforced; ' +
        'they are no longer enforced anywhere. Restore the store, or sign the users concerned out again (docs/revocation.md#when-the-store-is-reset)')
    }
    if (sessionChannel.hasSubscribers) publish({ event: 'revocation-store-reset', lostSessions: lost.sessions, lostUsers: lost.users })
  }

  /** Sooner than the next tick: until the first complete read, every session is refused. */
  #retryLoad (): void {
    clearTimeout(this.#loadRetry)
    this.#loadRetry = setTimeout(() => { this.read() }, Math.min(this.#loadWait, this.#config.staleness * 500)).unref()
    this.#loadWait = Math.min(this.#loadWait * 2, LOAD_RETRY_MS[1])
  }

  #checkSlow (ms: number): void {
    const slow = ms > this.#config.staleness * 1000
    if (slow && !this.#slow) {
      this.#log.warn({ ms }, `fastify-dbbasic-sessions: a read of the revocation store took longer than revocation.staleness (${this.#config.staleness} s); ` +
        'revocations are enforced that much later' + (this.#config.onStale === 'refuse' ? ', and sessions are refused whenever no read has completed within it' : ''))
      if (sessionChannel.hasSubscribers) publish({ event: 'revocation-slow', ms })
    }
    this.#slow = slow
  }

  #checkStale (): void {
    if (this.#stale || this.#now() - this.#lastRead <= this.#config.staleness * 1000) return
    this.#stale = true
    const policy = this.#config.onStale
    this.#log.warn({ storeError: this.#lastError === undefined ? undefined : described(this.#lastError) },
      `fastify-dbbasic-sessions: the revocation store has not been read ${this.#lastRead === -Infinity ? 'yet' : `for over ${this.#config.staleness} s`}; until it is, ` +
      (this.refusing(this.#now()) ? 'every session is refused' : 'sessions are checked against the revocations already known') + ` (revocation.onStale "${policy}")`)
    if (sessionChannel.hasSubscribers) publish({ event: 'revocation-stale', policy })
  }

  /** Push, where the store has it; tried again in the background until it works. */
  #subscribe (wait: number): void {
    const subscribe = this.#store.subscribe
    if (subscribe === undefined || this.#closed) return
    const attempt = Promise.resolve().then(async () => await subscribe.call(this.#store, () => { this.read() }))
    this.#subscribing = timed(async () => await attempt, this.#config.timeout, 'subscribing to the revocation store')
      .then((stop) => {
        if (this.#closed) stop().catch(() => {})
        else this.#stopPush = stop
      }, (err: unknown) => {
        // Timed out, it may still come up (a network that held its connections heals):
        // then it is stopped, so that its connections do not stay open beside the next attempt's.
        attempt.then(async (stop) => { await stop() }).catch(() => {})
        if (wait === SUBSCRIBE_RETRY_MS[0]) this.#log.warn({ storeError: described(err) }, `fastify-dbbasic-sessions: the revocation store's push is unavailable; reading it every ${this.#config.staleness / 2} s and trying again`)
        if (!this.#closed) this.#retry = setTimeout(() => { this.#subscribe(Math.min(wait * 2, SUBSCRIBE_RETRY_MS[1])) }, wait).unref()
      })
  }

  #tick (): void {
    // A read still under way may hang: the staleness is then noticed here; a new read
    // notices it itself when it fails.
    if (this.#reading === null) this.read()
    else this.#checkStale()
    this.#pruneIfDue()
  }

  #pruneIfDue (): void {
    const now = this.#now()
    if (now - this.#lastPrune < PRUNE_EVERY_MS) return
    this.#lastPrune = now
    const seconds = Math.floor(now / 1000)
    this.table.merge(seconds)
    if (this.table.sessions < this.#config.maxRevokedSessions) this.#full = false
    const prune = this.#store.prune
    if (prune === undefined || this.#shared) return
    timed(async () => { await prune.call(this.#store, seconds) }, this.#config.timeout, 'pruning the revocation store')
      .catch((err: unknown) => { this.#log.debug({ storeError: described(err) }, 'fastify-dbbasic-sessions: pruning the revocation store failed; it is tried again later') })
  }
}
