// One HTTP benchmark server per process: `node bench/server.mjs <case>`. It reports
// its port and the cookie a client should send, then answers CPU-time questions.
import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import fastifyCookie from '@fastify/cookie'
import secureSession from '@fastify/secure-session'
import fastifyJwt from '@fastify/jwt'
import sessions, { createSession } from '../dist/index.js'

const which = process.argv[2]
const secret = randomBytes(32).toString('hex')
const app = Fastify({ logger: false })
let cookie = ''

switch (which) {
  case 'bare':
    app.get('/', async () => ({ userId: null }))
    cookie = `session=${createSession('42', { secret })}`
    break
  case 'bare + @fastify/cookie':
    await app.register(fastifyCookie)
    app.get('/', async (request) => ({ userId: request.cookies.session === undefined ? null : '?' }))
    cookie = `session=${createSession('42', { secret })}`
    break
  case 'this package':
    await app.register(sessions, { secret })
    app.get('/', async (request) => ({ userId: request.session.userId }))
    cookie = `session=${createSession('42', { secret })}`
    break
  case '@fastify/secure-session':
    await app.register(secureSession, { key: randomBytes(32), cookieName: 'session', cookie: { path: '/' } })
    app.get('/', async (request) => ({ userId: request.session.get('userId') ?? null }))
    await app.ready()
    cookie = `session=${app.encodeSecureSession(app.createSecureSession({ userId: '42' }))}`
    break
  case '@fastify/jwt (cookie)':
    await app.register(fastifyCookie)
    await app.register(fastifyJwt, { secret, cookie: { cookieName: 'session', signed: false } })
    app.addHook('onRequest', async (request) => { try { await request.jwtVerify() } catch {} })
    app.get('/', async (request) => ({ userId: request.user?.userId ?? null }))
    await app.ready()
    cookie = `session=${app.jwt.sign({ userId: '42' })}`
    break
  default:
    throw new Error(`unknown case ${which}`)
}

// Every case gets the same two other cookies a real browser would send along.
cookie = `_ga=GA1.2.1234567890.1700000000; theme=dark; ${cookie}`
const address = await app.listen({ host: '127.0.0.1', port: 0 })
process.send({ address, cookie })
process.on('message', (m) => {
  if (m === 'cpu') process.send({ cpu: process.cpuUsage() })
})
process.on('disconnect', () => process.exit(0))
