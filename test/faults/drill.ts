// What the fault drills share: the app processes (test/faults-app.ts) and their routes,
// seen from outside; the figures every drill counts and prints; the stores' servers and
// a proxy in front of each. Not a test itself.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { startPostgres, type PostgresServer } from '../servers/postgres.js'
import { startRedis, type RedisServer } from '../servers/redis.js'
import { pause } from '../servers/process.js'
import { within } from '../servers/wait.js'
import { TcpProxy } from './proxy.js'

const APP = fileURLToPath(new URL('../faults-app.js', import.meta.url))

export type StoreKind = 'postgres' | 'redis'

export interface AppConfig {
  staleness?: number
  onStale?: 'accept' | 'refuse'
  /** The plugin's revocation.timeout, ms. */
  timeout?: number
  /** This process's clock against real time, ms. */
  offsetMs?: number
  clockTolerance?: number
  poolMax?: number
  connectTimeoutMs?: number
  /** Node's own flags (--max-old-space-size). */
  nodeArgs?: string[]
}

/** A store's server, a proxy in front of it, and the URL the apps reach it by. */
export interface Store {
  kind: StoreKind
  server: PostgresServer | RedisServer
  /** A URL through a proxy of its own, made per app or shared. */
  urlVia: (proxy: TcpProxy) => string
  proxy: (t: Test) => Promise<TcpProxy>
}

export async function startStore (t: Test, kind: StoreKind, { persistence = true } = {}): Promise<Store> {
  const server = kind === 'postgres' ? await startPostgres(t) : await startRedis(t, { persistence })
  return {
    kind,
    server,
    urlVia: (proxy) => kind === 'postgres' ? `postgres://postgres@127.0.0.1:${proxy.port}/postgres` : `redis://127.0.0.1:${proxy.port}`,
    proxy: async (t) => await TcpProxy.start(t, server.port)
  }
}

/** A connection of the drill's own to the store, straight to the server. */
export async function pgAdmin (t: Test, store: Store): Promise<pg.Client> {
  const client = new pg.Client({ ...(store.server as PostgresServer).config })
  client.on('error', () => {})
  await client.connect()
  // Bounded: end() can wait for ever on a connection the server already closed.
  t.teardown(async () => { await within(client.end(), 2000).catch(() => {}) })
  return client
}
export function redisAdmin (t: Test, store: Store): Redis {
  const client = new Redis({ host: '127.0.0.1', port: store.server.port, retryStrategy: () => 100 })
  client.on('error', () => {})
  t.teardown(() => { client.disconnect() })
  return client
}

export class App {
  base = ''
  /** Milliseconds from spawn to listening. */
  startMs = 0
  #out = ''
  #err = ''
  readonly child: ChildProcess

  constructor (readonly name: string, kind: StoreKind, url: string, config: AppConfig) {
    this.child = spawn(process.execPath, [...(config.nodeArgs ?? []), APP], {
      env: {
        ...process.env,
        STORE: kind,
        STORE_URL: url,
        STALENESS: String(config.staleness ?? 2),
        ON_STALE: config.onStale ?? 'accept',
        TIMEOUT: String(config.timeout ?? 5000),
        CLOCK_OFFSET_MS: String(config.offsetMs ?? 0),
        CLOCK_TOLERANCE: String(config.clockTolerance ?? 0),
        POOL_MAX: String(config.poolMax ?? 4),
        PG_CONNECT_TIMEOUT: String(config.connectTimeoutMs ?? 1000)
      },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    this.child.stdout?.on('data', (chunk: Buffer) => { this.#out += chunk.toString('utf8') })
    this.child.stderr?.on('data', (chunk: Buffer) => { this.#err += chunk.toString('utf8') })
  }

  static async start (t: Test, name: string, store: Store, url: string, config: AppConfig = {}): Promise<App> {
    const started = Date.now()
    const app = new App(name, store.kind, url, config)
    t.teardown(async () => { await app.stop() })
    const port = await within(new Promise<number>((resolve, reject) => {
      const look = (): void => {
        const found = /^PORT=(\d+)$/m.exec(app.#out)
        if (found !== null) resolve(Number(found[1]))
      }
      app.child.stdout?.on('data', look)
      app.child.once('exit', (code) => { reject(new Error(`${name} exited (${String(code)}): ${app.output()}`)) })
    }), 30_000)
    app.startMs = Date.now() - started
    app.base = `http://127.0.0.1:${port}`
    return app
  }

  /** What it logged (stdout) and wrote to stderr. */
  output (): string { return this.#out + this.#err }
  /** How many of its log lines say `text`. */
  count (text: string): number { return this.output().split(text).length - 1 }

  async stop (): Promise<void> {
    const child = this.child
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    await within(exited, 5000).catch(async () => { child.kill('SIGKILL'); await exited })
  }
}

let cookieName: string | null = null
const cookieOf = (token: string): Record<string, string> => ({ cookie: `${cookieName as string}=${token}` })

export interface Answer { status: number, body: Record<string, unknown> }

/** One request; a failure to answer (no connection, 10 s) is status 0. */
export async function call (app: App, method: string, path: string, token?: string, ms = 10_000): Promise<Answer> {
  try {
    const response = await fetch(app.base + path, { method, headers: token === undefined ? {} : cookieOf(token), signal: AbortSignal.timeout(ms) })
    const text = await response.text()
    let body: Record<string, unknown> = {}
    try { body = JSON.parse(text) } catch {}
    return { status: response.status, body }
  } catch {
    return { status: 0, body: {} }
  }
}

/** Signs `user` in on `app`; the token from the Set-Cookie, whose name is learned from the first. */
export async function login (app: App, user: string): Promise<string> {
  const response = await fetch(`${app.base}/login?user=${encodeURIComponent(user)}`, { method: 'POST', signal: AbortSignal.timeout(10_000) })
  await response.arrayBuffer()
  const set = response.headers.getSetCookie()[0]
  const found = set === undefined ? null : /^([^=;]+)=([^;]*)/.exec(set)
  if (response.status !== 200 || found === null) throw new Error(`${app.name}: login of ${user} answered ${response.status}`)
  cookieName ??= found[1]
  return found[2]
}

export interface Who { status: number, userId: string | null, reason: string | null }
export async function whoami (app: App, token: string): Promise<Who> {
  const { status, body } = await call(app, 'GET', '/whoami', token)
  return { status, userId: (body.userId as string | null | undefined) ?? null, reason: (body.reason as string | null | undefined) ?? null }
}
export const logout = async (app: App, token: string, ms?: number): Promise<number> => (await call(app, 'POST', '/logout', token, ms)).status
export const everywhere = async (app: App, user: string, ms?: number): Promise<number> => (await call(app, 'POST', `/everywhere?user=${encodeURIComponent(user)}`, undefined, ms)).status
export const revokeById = async (app: App, sid: string): Promise<number> => (await call(app, 'POST', `/revoke?sid=${sid}`)).status

export interface Stats { heapPeak: number, events: Record<string, number>, lost: { sessions: number, users: number }, now: number }
export const stats = async (app: App): Promise<Stats> => (await call(app, 'GET', '/stats')).body as unknown as Stats

export function payloadOf (token: string): { user_id: string, expires: number, iat?: number, sid?: string, gen?: number } {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'))
}

export const median = (values: number[]): number => {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor((sorted.length - 1) / 2)]
}

/**
 * What every drill counts. The broken promises: a revoked session accepted after the
 * bound, a fresh sign-in refused (for any reason but the store being unreadable under
 * onStale 'refuse' or before the first read), a revocation lost without the plugin
 * saying so, a 5xx other than a sign-out's 503 while the store is unreachable.
 */
export class Figures {
  revokedAfterBound = 0
  freshRefused = 0
  /** Fresh sign-ins refused as 'revocations unavailable' (the store unread): counted, not a broken promise. */
  unavailable = 0
  lost = 0
  fiveXX = 0
  /** 503s of sign-outs tried while the store was unreachable: what the plugin promises then. */
  signOut503 = 0
  enforcement: number[] = []
  requests = 0
  readonly details: string[] = []

  answer (status: number): void {
    this.requests++
    if (status >= 500) this.fiveXX++
  }

  /** A sign-out's status: 503 is counted apart when `may503`. */
  signOut (status: number, may503: boolean): void {
    this.requests++
    if (status === 503 && may503) this.signOut503++
    else if (status >= 500) this.fiveXX++
  }

  line (): string {
    const e = this.enforcement
    const ms = e.length === 0 ? 'none measured' : `median ${median(e)} ms, max ${Math.max(...e)} ms (${e.length} measured)`
    return `revoked accepted after the bound ${this.revokedAfterBound}, fresh sign-ins refused ${this.freshRefused}` +
      `${this.unavailable > 0 ? ` (and ${this.unavailable} as 'revocations unavailable')` : ''}, revocations lost ${this.lost}, 5xx ${this.fiveXX}` +
      `${this.signOut503 > 0 ? ` (sign-outs answered 503 while unreachable: ${this.signOut503})` : ''}; enforcement ${ms}; ${this.requests} requests`
  }

  /** Prints the figures, then fails on each broken promise. */
  report (t: Test, label: string, { enforcementMaxMs }: { enforcementMaxMs?: number } = {}): void {
    t.comment(`${label}: ${this.line()}`)
    for (const detail of this.details) t.comment(`${label}: ${detail}`)
    t.equal(this.revokedAfterBound, 0, `${label}: no revoked session accepted after the bound`)
    t.equal(this.freshRefused, 0, `${label}: no fresh sign-in refused`)
    t.equal(this.lost, 0, `${label}: no revocation lost`)
    t.equal(this.fiveXX, 0, `${label}: no 5xx`)
    if (enforcementMaxMs !== undefined && this.enforcement.length > 0) {
      t.ok(Math.max(...this.enforcement) <= enforcementMaxMs, `${label}: every revocation enforced within ${enforcementMaxMs} ms`)
    }
  }
}

/**
 * Polls every app with `token` (every 20 ms) until each refuses it as revoked, and on
 * until `revokedAt + boundMs` has passed: an answer that accepts it, sent after that,
 * counts against the bound. The enforcement time (ms from `revokedAt` to the last app's
 * first refusal) is recorded; an app that never refuses within `limitMs` is a revocation lost.
 */
export async function enforced (apps: App[], token: string, revokedAt: number, boundMs: number, f: Figures, limitMs = boundMs + 10_000): Promise<number> {
  const first = new Map<App, number>()
  const deadline = revokedAt + limitMs
  for (;;) {
    const now = Date.now()
    const answers = await Promise.all(apps.map(async (app) => ({ app, sent: Date.now(), who: await whoami(app, token) })))
    for (const { app, sent, who } of answers) {
      f.answer(who.status)
      if (who.userId !== null && sent > revokedAt + boundMs) f.revokedAfterBound++
      if (who.userId === null && who.reason === 'revoked' && !first.has(app)) first.set(app, sent - revokedAt)
    }
    if ((first.size === apps.length && now > revokedAt + boundMs) || now > deadline) break
    await pause(20)
  }
  if (first.size < apps.length) {
    f.lost++
    f.details.push(`a revocation never enforced by ${apps.filter((a) => !first.has(a)).map((a) => a.name).join(', ')} within ${limitMs} ms`)
    return limitMs
  }
  const ms = Math.max(...first.values())
  f.enforcement.push(ms)
  return ms
}

/**
 * A sign-in on `app` that must work at once: accepted by the next request on it, and
 * by every app in `everywhere`. Returns the token.
 */
export async function freshLogin (app: App, user: string, f: Figures, everywhere: App[] = [app]): Promise<string> {
  const token = await login(app, user)
  f.answer(200)
  for (const other of everywhere) {
    const who = await whoami(other, token)
    f.answer(who.status)
    if (who.userId === user) continue
    if (who.reason === 'revocations unavailable') f.unavailable++
    else {
      f.freshRefused++
      f.details.push(`a fresh sign-in of ${user} on ${app.name} refused by ${other.name}: ${who.reason ?? who.status}`)
    }
  }
  return token
}

/** At the end of a drill: every revoked token is refused by every app (a revocation lost otherwise). */
export async function stillRevoked (apps: App[], tokens: string[], f: Figures): Promise<void> {
  for (const token of tokens) {
    const accepted: string[] = []
    for (const app of apps) {
      const who = await whoami(app, token)
      f.answer(who.status)
      if (who.userId !== null) accepted.push(app.name)
    }
    if (accepted.length > 0) {
      f.lost++
      f.details.push(`a revoked session of ${payloadOf(token).user_id} accepted at the end by ${accepted.join(', ')}`)
    }
  }
}

/** Until every app has read the store (none refuses for want of it): a user signed in on each is accepted everywhere. */
export async function settled (apps: App[], ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  const token = await login(apps[0], 'settle-probe')
  for (;;) {
    const answers = await Promise.all(apps.map(async (app) => await whoami(app, token)))
    if (answers.every((a) => a.userId === 'settle-probe')) return
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${apps.map((a) => a.name).join(', ')} to read the store: ${JSON.stringify(answers)}`)
    await pause(50)
  }
}
