// Shared by the tests; not a test itself (.taprc runs only the compiled *.test.ts).
import { readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance } from 'fastify'
import type { FastifyDbbasicSessionsOptions } from '../types/index.js'
import sessions from '../lib/index.js'
import { root } from './paths.js'

// This test program registers the plugin under the default name and, beside the
// store-backed session plugins, under 'auth': both are declared, as an app declares its
// own (docs/typescript.md; its set-up is compiled by typescript.test.ts).
declare module '../types/index.js' {
  interface FastifyDbbasicSessionsTypes {
    sessionName: 'session' | 'auth'
  }
}

export const SECRET = 'test-secret-0123456789abcdef0123456789abcdef'
export const OTHER_SECRET = 'another-secret-0123456789abcdef0123456789ab'
/** 2025-11-26T00:00:00Z, the vectors' creation time, in milliseconds. */
export const T0 = 1764115200000
/** request.session without a session. */
export const NONE = { userId: null, issuedAt: null, expiresAt: null, sessionId: null }

export interface Vectors {
  create: Array<{ secret: string, user_id: string | number, now: number, ttl: number, token: string }>
  verify: Array<{ secret: string, token: string, now: number, case: string, expect: string | null, note?: string }>
}
export const vectors: Vectors = JSON.parse(readFileSync(new URL('test/fixtures/dbbasic-sessions-3.0.0.json', root), 'utf8'))

/** A clock the test moves by hand. */
export function clock (start = T0): { now: () => number, set: (ms: number) => void, advance: (seconds: number) => void } {
  let current = start
  return {
    now: () => current,
    set: (ms) => { current = ms },
    advance: (seconds) => { current += seconds * 1000 }
  }
}

/** Every log line the app writes, at every level, as raw text and parsed. */
export class LogCapture extends Writable {
  lines: string[] = []
  override _write (chunk: Buffer, _enc: string, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''))
    done()
  }

  get records (): Array<Record<string, unknown>> {
    return this.lines.map((l) => JSON.parse(l))
  }

  get text (): string {
    return this.lines.join('\n')
  }
}

/**
 * An app with the plugin and the routes the tests use: /whoami (the session as the
 * route sees it), /login (form of a user id), /logout, /private (requireSession).
 */
export async function buildApp (
  options: FastifyDbbasicSessionsOptions = {},
  logs?: LogCapture,
  configure?: (app: FastifyInstance) => void
): Promise<FastifyInstance> {
  const app = Fastify(logs === undefined ? {} : { logger: { level: 'trace', stream: logs } })
  await app.register(sessions, { secret: SECRET, now: () => T0, ...options })
  app.get('/whoami', async (request) => request.session)
  app.post<{ Querystring: { user: string, ttl?: number } }>('/login', async (request, reply) => {
    const { token } = await reply.createSession(request.query.user, request.query.ttl === undefined ? undefined : { ttl: Number(request.query.ttl) })
    return { token }
  })
  app.post('/logout', async (_request, reply) => { await reply.destroySession(); return { ok: true } })
  app.get('/private', { preHandler: app.requireSession }, async (request) => ({ userId: request.session.userId }))
  configure?.(app)
  await app.ready()
  return app
}

/** The error registering the plugin with `options` gives, at register or ready (fails the test if none). */
export async function registerError (options: unknown): Promise<Error & { code?: string }> {
  const app = Fastify()
  try {
    await app.register(sessions, options as FastifyDbbasicSessionsOptions)
    await app.ready()
  } catch (err) {
    return err as Error & { code?: string }
  } finally {
    await app.close()
  }
  throw new Error('the plugin registered')
}

/** The value of the one Set-Cookie header a response carries for `name`, split into value and attributes. */
export function sessionCookie (headers: Record<string, unknown>, name = '__Host-Http-session'): { value: string, attributes: string[], raw: string } | undefined {
  const all = headers['set-cookie']
  const list = all === undefined ? [] : Array.isArray(all) ? all : [String(all)]
  const ours = list.filter((c: string) => c.startsWith(name + '='))
  if (ours.length === 0) return undefined
  if (ours.length > 1) throw new Error(`${ours.length} Set-Cookie headers for ${name}`)
  const [pair, ...attributes] = ours[0].split('; ')
  return { value: pair.slice(name.length + 1), attributes, raw: ours[0] }
}

/** The JSON a token carries, decoded (tests only: the plugin never decodes before verifying). */
export function payloadOf (token: string): { user_id: string, expires: number, iat?: number, sid?: string, gen?: number, renewed?: number, ttl?: number, persistent?: boolean } {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'))
}

/** A token's JSON without its session id, which is random: what a test can compare exactly. */
export function fieldsOf (token: string): Omit<ReturnType<typeof payloadOf>, 'sid'> {
  const { sid: _sid, ...rest } = payloadOf(token)
  return rest
}

/** Sends a request with a session cookie (or none) and returns the session the route saw and the new cookie, if any. */
export async function visit (app: FastifyInstance, token: string | undefined, url = '/whoami'): Promise<{
  status: number
  session: { userId: string | null, issuedAt: number | null, expiresAt: number | null, sessionId: string | null }
  cookie: { value: string, attributes: string[], raw: string } | undefined
  setCookies: number
}> {
  const res = await app.inject({ url, headers: token === undefined ? {} : { cookie: `__Host-Http-session=${token}` } })
  const all = res.headers['set-cookie']
  return {
    status: res.statusCode,
    session: res.json(),
    cookie: sessionCookie(res.headers),
    setCookies: all === undefined ? 0 : Array.isArray(all) ? all.length : 1
  }
}
