// Shared by the demo's in-process tests; not a test itself. Each app gets its own
// database (a temporary SQLite folder, or a fresh database on the file's one
// PostgreSQL server), removed in teardown, and a clock the test moves.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import tap, { type Test } from 'tap'
import { buildDemo, type DemoOptions } from '../../example/app.js'
import { clock, SECRET } from '../helpers.js'
import { DATABASES, freshPostgres, tempDataDir, type Kind } from './databases.js'

export { DATABASES, freshPostgres, postgresServer, tempDataDir, type Kind } from './databases.js'

/** Runs `body` once per database, as subtests named after it. */
export function onEach (name: string, body: (t: Test, kind: Kind) => Promise<void>): void {
  for (const kind of DATABASES) tap.test(`${name} (${kind})`, (t) => body(t, kind))
}

export type Clock = ReturnType<typeof clock>

export interface TestDemo {
  app: FastifyInstance
  database: Awaited<ReturnType<typeof buildDemo>>['database']
  dataDir: string
  /** Set for PostgreSQL: another app given it shares the database. */
  databaseUrl: string | undefined
  clock: Clock
}

/**
 * The demo app on a fresh (or the given) database, with a hand-moved clock. With
 * kind 'postgres' and no databaseUrl, a fresh PostgreSQL database. Teardown closes it
 * before the folder goes.
 */
export async function demoApp (t: Test, options: Partial<DemoOptions> & { clock?: Clock, kind?: Kind } = {}): Promise<TestDemo> {
  const { kind = 'sqlite', clock: given, ...rest } = options
  const dataDir = rest.dataDir ?? tempDataDir(t)
  const databaseUrl = rest.databaseUrl ?? (kind === 'postgres' ? await freshPostgres() : undefined)
  const time = given ?? clock()
  const { app, database } = await buildDemo({
    secret: SECRET,
    rateLimitMax: 1000,
    accountRateLimitMax: 1000,
    // As server.js runs it on plain http: the cookie is then named `session`.
    secure: false,
    now: time.now,
    ...rest,
    ...(databaseUrl === undefined ? {} : { databaseUrl }),
    dataDir
  })
  t.teardown(() => app.close())
  return { app, database, dataDir, databaseUrl, clock: time }
}

/** A browser: keeps the session cookie the app sets, sends it back. */
export class Browser {
  cookie: string | undefined
  constructor (public app: FastifyInstance, public userAgent = 'TestBrowser/1.0') {}

  /** `on` sends the request to another app (another process) sharing the database. */
  async get (url: string, on = this.app): Promise<LightMyRequestResponse> {
    return this.absorb(await on.inject({ method: 'GET', url, headers: { ...this.headers(), 'user-agent': this.userAgent } }))
  }

  async post (url: string, fields: Record<string, string> = {}, on = this.app): Promise<LightMyRequestResponse> {
    return this.absorb(await on.inject({
      method: 'POST',
      url,
      headers: { ...this.headers(), 'content-type': 'application/x-www-form-urlencoded', 'user-agent': this.userAgent },
      payload: new URLSearchParams(fields).toString()
    }))
  }

  private headers (): Record<string, string> {
    return this.cookie === undefined ? {} : { cookie: this.cookie }
  }

  private absorb (res: LightMyRequestResponse): LightMyRequestResponse {
    const header = res.headers['set-cookie']
    for (const line of header === undefined ? [] : [header].flat()) {
      const pair = line.split(';')[0]
      if (!pair.startsWith('session=')) continue
      this.cookie = /;\s*Max-Age=0(;|$)/i.test(line) ? undefined : pair
    }
    return res
  }
}

/** The time a `<time id=…>` on the page holds, in Unix seconds, or undefined. */
export function shownTime (html: string, id: string): number | undefined {
  const match = new RegExp(`<time id="${id}" datetime="[^"]*" data-seconds="(\\d+)"`).exec(html)
  return match === null ? undefined : Number(match[1])
}

/** The text of `<p id="status">`, without tags. */
export function status (html: string): string | undefined {
  return /<p id="status">(.*?)<\/p>/s.exec(html)?.[1].replace(/<[^>]+>/g, '')
}

/** The text of the error line, if the page has one. */
export function errorText (html: string): string | undefined {
  return /<p class="error" id="error" role="alert">(.*?)<\/p>/s.exec(html)?.[1]
}

/** Registers (or signs in with `path: '/login'`) and checks the redirect home. */
export async function signUp (t: Test, browser: Browser, name: string, password = 'correct horse', path = '/register'): Promise<void> {
  const res = await browser.post(path, { name, password })
  t.equal(res.statusCode, 303, `${path} as ${name}`)
  t.equal(res.headers.location, '/')
  t.ok(browser.cookie, 'a session cookie was set')
}
