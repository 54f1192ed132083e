// The plain-http warning: a Secure cookie set on a plain-http request to another host
// than this machine is dropped by the browser, so the plugin says so, once per process.
// The subtests are ordered: those that must not warn first, then the first warning
// (last but one), then proof that no second line follows. Subtests that need a
// warning of their own load the plugin afresh (t.mockImport), as a new process would.
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import sessions from '../lib/index.js'
import type { FastifyDbbasicSessionsOptions } from '../types/index.js'
import { LogCapture, SECRET, T0, clock } from './helpers.js'

type Plugin = typeof sessions

async function build (t: Test, options: FastifyDbbasicSessionsOptions = {}, trustProxy = false, plugin: Plugin = sessions): Promise<{ app: FastifyInstance, logs: LogCapture, time: ReturnType<typeof clock> }> {
  const logs = new LogCapture()
  const time = clock()
  const app = Fastify({ logger: { level: 'warn', stream: logs }, trustProxy })
  await app.register(plugin, { secret: SECRET, ttl: 3600, rolling: true, now: time.now, ...options })
  app.post('/login', async (_request, reply) => ({ token: (await reply.createSession('alice')).token }))
  app.get('/whoami', async (request) => request.session)
  t.teardown(() => app.close())
  return { app, logs, time }
}

/** Logs in and makes one renewal, both sent with these headers. */
async function loginAndRenew (app: FastifyInstance, time: ReturnType<typeof clock>, headers: Record<string, string>): Promise<void> {
  const login = await app.inject({ method: 'POST', url: '/login', headers })
  const token = login.json().token as string
  if (login.headers['set-cookie'] === undefined) throw new Error('no login cookie')
  time.set(T0 + 2000_000)
  const renewal = await app.inject({ url: '/whoami', headers: { ...headers, cookie: `__Host-Http-session=${token}` } })
  if (renewal.headers['set-cookie'] === undefined) throw new Error('no renewal cookie')
}

const warnings = (logs: LogCapture): Array<Record<string, unknown>> => logs.records.filter((r) => r.level === 40)

function checkLine (t: Test, line: Record<string, unknown>, host: string): void {
  const msg = String(line.msg)
  t.match(msg, `plain-http request to "${host}"`, 'names the host')
  t.match(msg, 'browsers drop it, so the sign-in will not stick', 'says what goes wrong')
  t.match(msg, 'Serve the app over HTTPS', 'says how to fix it')
  t.match(msg, "set Fastify's trustProxy to true or to the proxy's address so X-Forwarded-Proto counts (a hop count does not)", 'behind a TLS proxy')
  t.match(msg, 'cookie.secure: false', 'for local development')
}

/**
 * The plugin with a warnings module of its own, as in a new process. Modules are named
 * by URL from this file: t.mockImport would resolve a relative name from the
 * source-mapped test/ path, where only the .ts files are.
 */
async function fresh (t: Test): Promise<Plugin> {
  const warningsUrl = new URL('../lib/warnings.js', import.meta.url).href
  const warningsModule = await t.mockImport<typeof import('../lib/warnings.js')>(warningsUrl)
  return (await t.mockImport<typeof import('../lib/index.js')>(new URL('../lib/index.js', import.meta.url).href, { [warningsUrl]: warningsModule })).default
}

t.test('no line for this machine over plain http', async (t) => {
  for (const host of ['localhost', 'localhost:3000', 'localhost.:3000', 'LOCALHOST', '127.0.0.1:8080', '127.1.2.3', '[::1]:3000', 'app.localhost:3000', 'app.localhost.']) {
    const { app, logs, time } = await build(t)
    await loginAndRenew(app, time, { host })
    t.same(warnings(logs), [], host)
  }
})

t.test('no line for https behind a trusted proxy', async (t) => {
  const { app, logs, time } = await build(t, {}, true)
  await loginAndRenew(app, time, { host: 'app.example.com', 'x-forwarded-proto': 'https' })
  t.same(warnings(logs), [])
})

t.test('no line when the cookie is not Secure', async (t) => {
  const { app, logs, time } = await build(t, { cookie: { secure: false } })
  const login = await app.inject({ method: 'POST', url: '/login', headers: { host: 'app.example.com' } })
  time.set(T0 + 2000_000)
  await app.inject({ url: '/whoami', headers: { host: 'app.example.com', cookie: `session=${login.json().token}` } })
  t.same(warnings(logs), [])
})

t.test('a login over plain http to another host: one line, once', async (t) => {
  const { app, logs } = await build(t, {}, false, await fresh(t))
  for (let i = 0; i < 3; i++) await app.inject({ method: 'POST', url: '/login', headers: { host: 'app.example.com:8080' } })
  t.equal(warnings(logs).length, 1)
  checkLine(t, warnings(logs)[0], 'app.example.com')
})

t.test('a renewal over plain http to another host: one line', async (t) => {
  const { app, logs, time } = await build(t, {}, false, await fresh(t))
  const login = await app.inject({ method: 'POST', url: '/login' })
  t.same(warnings(logs), [], 'the login came to localhost')
  time.set(T0 + 2000_000)
  const renewal = await app.inject({ url: '/whoami', headers: { host: '10.0.0.5', cookie: `__Host-Http-session=${login.json().token}` } })
  t.ok(renewal.headers['set-cookie'])
  t.equal(warnings(logs).length, 1)
  checkLine(t, warnings(logs)[0], '10.0.0.5')
})

t.test('X-Forwarded-Proto without trustProxy is plain http: the first line of this process', async (t) => {
  const { app, logs } = await build(t)
  await app.inject({ method: 'POST', url: '/login', headers: { host: 'app.example.com', 'x-forwarded-proto': 'https' } })
  t.equal(warnings(logs).length, 1)
  checkLine(t, warnings(logs)[0], 'app.example.com')
})

t.test('a route that logs only errors does not use up the one line: the next request to another route gets it', async (t) => {
  const { app, logs } = await build(t, {}, false, await fresh(t))
  app.post('/quiet-login', { logLevel: 'error' }, async (_request, reply) => ({ token: (await reply.createSession('alice')).token }))
  await app.inject({ method: 'POST', url: '/quiet-login', headers: { host: 'app.example.com' } })
  t.same(warnings(logs), [], 'nothing from the quiet route')
  await app.inject({ method: 'POST', url: '/login', headers: { host: 'app.example.com' } })
  t.equal(warnings(logs).length, 1)
  checkLine(t, warnings(logs)[0], 'app.example.com')
})

t.test('a logger without isLevelEnabled still gets the line', async (t) => {
  const lines: unknown[][] = []
  const logger = {
    level: 'info',
    fatal: () => {},
    error: () => {},
    info: () => {},
    debug: () => {},
    trace: () => {},
    silent: () => {},
    warn: (...args: unknown[]) => { lines.push(args) },
    child () { return this }
  }
  const app = Fastify({ loggerInstance: logger })
  t.teardown(() => app.close())
  await app.register(await fresh(t), { secret: SECRET })
  app.post('/login', async (_request, reply) => ({ token: (await reply.createSession('alice')).token }))
  await app.inject({ method: 'POST', url: '/login', headers: { host: 'app.example.com' } })
  t.equal(lines.length, 1)
  t.match(String(lines[0][0]), 'a Secure session cookie was set on a plain-http request to "app.example.com"')
})

t.test('trustProxy as a hop count: Fastify does not read X-Forwarded-Proto, and the line says so', async (t) => {
  const logs = new LogCapture()
  // Fastify's documentation lists a number of hops, its types no longer do, and
  // Fastify 5.12 ignores X-Forwarded-Proto with one: a JavaScript app can still set it.
  const hops = Fastify({ trustProxy: 1 as unknown as boolean, logger: { level: 'warn', stream: logs } })
  t.teardown(() => hops.close())
  await hops.register(await fresh(t), { secret: SECRET })
  hops.post('/login', async (request, reply) => ({ protocol: request.protocol, token: (await reply.createSession('alice')).token }))
  const res = await hops.inject({ method: 'POST', url: '/login', headers: { host: 'app.example.com', 'x-forwarded-proto': 'https' } })
  t.equal(res.json().protocol, 'http', "Fastify's own view of the request")
  t.equal(warnings(logs).length, 1)
  checkLine(t, warnings(logs)[0], 'app.example.com')
})

t.test('once per process: another app, login and renewal, no second line', async (t) => {
  const { app, logs, time } = await build(t)
  await loginAndRenew(app, time, { host: 'other.example.com' })
  t.same(warnings(logs), [])
})
