// The soak test's server, in its own process: the built package as a user installs it.
// The client makes its tokens with the standalone API (no login time in them) and the
// server's ttl, so externalTtl says so.
import Fastify from 'fastify'
import sessions from 'fastify-dbbasic-sessions'

const [secretNew, secretOld] = JSON.parse(process.env.SOAK_SECRETS)
const app = Fastify({ logger: false })
await app.register(sessions, { secret: [secretNew, secretOld], ttl: 60, externalTtl: 60, rolling: true, absoluteTtl: 7200, cookie: { secure: false } })

// 200 when the session is the one the client expects, 409 otherwise: autocannon
// counts every non-2xx, so a wrong login or a wrong logout cannot go unnoticed.
app.get('/check', async (request, reply) => {
  const expected = request.headers['x-expect'] ?? null
  if (request.session.userId !== expected) return reply.code(409).send({ expected, got: request.session.userId })
  return { ok: true }
})
app.post('/login', async (request, reply) => {
  reply.createSession(String(request.headers['x-user']))
  return { ok: true }
})
app.post('/logout', async (_request, reply) => { await reply.destroySession(); return { ok: true } })

const address = await app.listen({ host: '127.0.0.1', port: 0 })
process.send({ address })
setInterval(() => {
  globalThis.gc()
  const { heapUsed, rss } = process.memoryUsage()
  process.send({ heapUsed, rss })
}, 250).unref()
process.on('disconnect', () => { app.close().then(() => process.exit(0)) })
