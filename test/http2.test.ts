// Over HTTP/2 a request whose :method Fastify's router does not know ('get', 'FOO')
// goes down Fastify's fallback 404 path, with a request and reply that no plugin
// decorated: the plugin's hooks must leave Fastify's own 404 as it is.
import { connect } from 'node:http2'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import Fastify from 'fastify'
import sessions from '../lib/index.js'
import { SECRET, T0 } from './helpers.js'

interface Answer { status: number, body: string, headers: Record<string, unknown> }

/** One request over a fresh HTTP/2 connection to 127.0.0.1, bounded by a timeout. */
async function request (port: number, headers: Record<string, string>): Promise<Answer> {
  const client = connect(`http://127.0.0.1:${port}`)
  try {
    return await new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('no answer in 5 s')) }, 5000)
      client.on('error', reject)
      const stream = client.request(headers, { endStream: true })
      let status = 0
      let answerHeaders: Record<string, unknown> = {}
      const chunks: Buffer[] = []
      stream.on('response', (h) => { status = Number(h[':status']); answerHeaders = h })
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('error', reject)
      stream.on('end', () => {
        clearTimeout(timer)
        resolve({ status, body: Buffer.concat(chunks).toString('utf8'), headers: answerHeaders })
      })
    })
  } finally {
    client.close()
  }
}

t.test('an unknown or lower-case :method gets Fastify\'s own 404, with or without a session cookie', async (t) => {
  const app = Fastify({ http2: true })
  t.teardown(() => app.close())
  await app.register(sessions, { secret: SECRET, now: () => T0, rolling: true, ttl: 3600 })
  app.get('/whoami', async (request) => request.session)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo

  const known = await request(port, { ':method': 'GET', ':path': '/whoami' })
  t.equal(known.status, 200, 'a routed request still works')
  t.same(JSON.parse(known.body), { userId: null, issuedAt: null, expiresAt: null, sessionId: null })

  for (const method of ['get', 'FOO', 'post', 'Delete']) {
    for (const cookie of [undefined, '__Host-Http-session=a.b.c']) {
      const headers: Record<string, string> = { ':method': method, ':path': '/whoami', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }
      if (cookie !== undefined) headers.cookie = cookie
      const res = await request(port, headers)
      t.equal(res.status, 404, `${method}${cookie === undefined ? '' : ' with a cookie'}: 404`)
      t.match(JSON.parse(res.body), { statusCode: 404, code: 'FST_ERR_NOT_FOUND' }, 'Fastify\'s own body')
      t.notMatch(res.body, 'Cannot read properties')
    }
  }
})
