// `npm run soak [-- --duration S]`: a real server on 127.0.0.1 under autocannon with a
// mix of valid, renewed, old-secret, expired, forged and garbage cookies, logins and
// logouts. Fails on any error, any unexpected status, or memory growth past the bounds.
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { createSession } from 'fastify-dbbasic-sessions'

const { values } = parseArgs({ options: { duration: { type: 'string', default: '60' }, connections: { type: 'string', default: '16' } } })
const duration = Number(values.duration)
const HEAP_BOUND_MB = 8
const RSS_BOUND_MB = 48

const secrets = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')]
const forger = randomBytes(32).toString('hex')
const server = fork(new URL('./soak/server.mjs', import.meta.url), {
  execArgv: ['--expose-gc'],
  env: { ...process.env, SOAK_SECRETS: JSON.stringify(secrets) },
  stdio: ['ignore', 'inherit', 'inherit', 'ipc']
})
const samples = []
const address = await new Promise((resolve, reject) => {
  server.once('exit', (code) => reject(new Error(`the soak server exited (${code})`)))
  server.on('message', (m) => { if (m.address) resolve(m.address); else samples.push(m) })
})

let n = 0
const counts = {}
const now = () => Date.now()
// Each request gets a fresh token (distinct user ids), so nothing can be served from
// a per-session structure that grows.
const scenarios = [
  ['valid', 30, () => { const u = `u${n++}`; return { path: '/check', cookie: createSession(u, { secret: secrets[0], ttl: 60 }), expect: u } }],
  ['due for renewal', 10, () => { const u = `r${n++}`; return { path: '/check', cookie: createSession(u, { secret: secrets[0], ttl: 20 }), expect: u } }],
  ['old secret', 10, () => { const u = `o${n++}`; return { path: '/check', cookie: createSession(u, { secret: secrets[1], ttl: 60 }), expect: u } }],
  ['expired', 10, () => ({ path: '/check', cookie: createSession(`e${n++}`, { secret: secrets[0], ttl: 60, now: () => now() - 61_000 }) })],
  ['forged', 10, () => ({ path: '/check', cookie: createSession(`f${n++}`, { secret: forger, ttl: 3600 }) })],
  ['garbage', 10, () => ({ path: '/check', cookie: randomBytes(1 + (n++ % 300)).toString('base64') })],
  ['no cookie', 5, () => ({ path: '/check' })],
  ['login', 10, () => ({ method: 'POST', path: '/login', user: `l${n++}` })],
  ['logout', 5, () => ({ method: 'POST', path: '/logout', cookie: createSession(`x${n++}`, { secret: secrets[0], ttl: 3600 }) })]
]
const bag = scenarios.flatMap(([name, weight, make]) => Array(weight).fill([name, make]))

const result = await autocannon({
  url: address,
  connections: Number(values.connections),
  duration,
  requests: [{
    setupRequest: (request) => {
      const [name, make] = bag[Math.floor(Math.random() * bag.length)]
      counts[name] = (counts[name] ?? 0) + 1
      const s = make()
      const headers = {}
      if (s.cookie !== undefined) headers.cookie = `session=${s.cookie}`
      if (s.expect !== undefined) headers['x-expect'] = s.expect
      if (s.user !== undefined) headers['x-user'] = s.user
      return { ...request, method: s.method ?? 'GET', path: s.path, headers }
    }
  }]
})
server.disconnect()

const mb = (bytes) => bytes / 1024 / 1024
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length
// Compare the second quarter (after warm-up) with the last quarter.
const q = Math.floor(samples.length / 4)
const early = samples.slice(q, 2 * q)
const late = samples.slice(-q)
const heapGrowth = mb(mean(late.map((s) => s.heapUsed)) - mean(early.map((s) => s.heapUsed)))
const rssGrowth = mb(mean(late.map((s) => s.rss)) - mean(early.map((s) => s.rss)))
const peakHeap = mb(Math.max(...samples.map((s) => s.heapUsed)))
const peakRss = mb(Math.max(...samples.map((s) => s.rss)))

const problems = []
if (result.errors > 0) problems.push(`${result.errors} connection errors`)
if (result.timeouts > 0) problems.push(`${result.timeouts} timeouts`)
if (result.non2xx > 0) problems.push(`${result.non2xx} unexpected status codes`)
if (q < 2) problems.push('too few memory samples')
if (heapGrowth > HEAP_BOUND_MB) problems.push(`heap grew ${heapGrowth.toFixed(1)} MB (bound ${HEAP_BOUND_MB} MB)`)
if (rssGrowth > RSS_BOUND_MB) problems.push(`RSS grew ${rssGrowth.toFixed(1)} MB (bound ${RSS_BOUND_MB} MB)`)

const f = (x) => x.toFixed(1)
console.log(`soak: ${duration} s, ${values.connections} connections, Node ${process.version}
  requests: ${result.requests.total} (${Math.round(result.requests.average)} req/s), errors ${result.errors}, timeouts ${result.timeouts}, unexpected status ${result.non2xx}
  mix: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}
  latency: p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms
  server memory after GC, ${samples.length} samples: heap ${f(mb(early[0]?.heapUsed ?? 0))} -> ${f(mb(late.at(-1)?.heapUsed ?? 0))} MB (growth ${f(heapGrowth)} MB, bound ${HEAP_BOUND_MB}; peak ${f(peakHeap)}), RSS growth ${f(rssGrowth)} MB (bound ${RSS_BOUND_MB}; peak ${f(peakRss)})
  ${problems.length === 0 ? 'result: pass' : 'result: FAIL: ' + problems.join('; ')}`)
process.exit(problems.length === 0 ? 0 : 1)
