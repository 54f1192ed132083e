// One HTTP benchmark server per process: `node bench/server.mjs <case> [users]`. It
// reports its address and the cookies a client should send (one, or one per user
// when `users` is given), then answers CPU-time questions: over the IPC channel when
// it was forked with one, else as lines on stdin and stdout (a server with no channel).
import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'

// Each case loads only what it runs: a bare server must not carry this package (which,
// on import, keeps Node's nextTick on its fast path: lib/ticks.ts) nor the peers.
const load = async (name) => (await import(name)).default

const which = process.argv[2]
const users = Number(process.argv[3] ?? 1)
const secret = randomBytes(32).toString('hex')
const app = Fastify({ logger: false })
// The cookie for one user id, once the server is ready.
let cookieFor

let store = null
function countingStore (revoked) {
  let queries = 0
  const until = Math.floor(Date.now() / 1000) + 3600
  return {
    get queries () { return queries },
    async add () {},
    async since (cursor) {
      queries++
      if (cursor !== null) return { revocations: [], cursor }
      // Made when asked and not kept: the heap measured afterwards is the plugin's.
      const revocations = Array.from({ length: revoked }, () => ({ kind: 'session', id: randomBytes(12).toString('base64url'), until }))
      return { revocations, cursor: '1' }
    }
  }
}

// `count` revoked sessions of ids in the form newSessionId makes, one random block cut up.
async function fill (memory, count) {
  const until = Math.floor(Date.now() / 1000) + 3600
  const bytes = randomBytes(18 * count)
  const adds = new Array(count)
  for (let i = 0; i < count; i++) adds[i] = memory.add({ kind: 'session', id: bytes.toString('base64url', 18 * i, 18 * i + 18), until })
  await Promise.all(adds)
}

// Our cookie's name follows the plugin's default: __Host-Http-session (secure, httpOnly, path /).
const ours = async () => {
  const { createSession } = await import('../dist/index.js')
  return (id) => `__Host-Http-session=${createSession(id, { secret })}`
}
// What a bare server gets: a cookie of the same length and form as ours (the
// reference's JSON, padded base64url, a dot, 64 hex digits) that nothing there verifies.
const lookalike = (id) => {
  const json = `{"user_id": ${JSON.stringify(id)}, "expires": ${Math.floor(Date.now() / 1000) + 86400}}`
  return `__Host-Http-session=${Buffer.from(json).toString('base64').replaceAll('+', '-').replaceAll('/', '_')}.${randomBytes(32).toString('hex')}`
}

switch (which) {
  // For bench/hooks.mjs: bare, guarded as this package guards every process it is in.
  case 'bare, nextTick guard':
    (await import('../dist/ticks.js')).holdTickShapes()
  // falls through
  case 'bare':
    app.get('/', async () => ({ userId: null }))
    cookieFor = lookalike
    break
  // For bench/instructions.mjs: bare, its nextTick made to fall off V8's fast path before
  // it serves (full GCs with the tick queue empty, as test/next-tick.test.ts does), so
  // that a run shows the harness telling a fallen server. Needs --expose-gc.
  case 'bare, made to fall': {
    const noop = () => {}
    for (let cycle = 0; cycle < 8; cycle++) {
      for (let i = 0; i < 50; i++) process.nextTick(noop, i)
      await new Promise((resolve) => setImmediate(resolve))
      globalThis.gc()
    }
    app.get('/', async () => ({ userId: null }))
    cookieFor = lookalike
    break
  }
  // For bench/hooks.mjs: what registering hooks costs Fastify, with nothing in them.
  case 'bare + empty onRequest':
  case 'bare + empty onSend':
  case 'bare + both empty':
    if (!which.endsWith('onSend')) app.addHook('onRequest', (request, reply, done) => { done() })
    if (!which.endsWith('onRequest')) app.addHook('onSend', (request, reply, payload, done) => { done(null, payload) })
    app.get('/', async () => ({ userId: null }))
    cookieFor = lookalike
    break
  case 'bare + @fastify/cookie':
    await app.register(await load('@fastify/cookie'))
    app.get('/', async (request) => ({ userId: request.cookies['__Host-Http-session'] === undefined ? null : '?' }))
    cookieFor = lookalike
    break
  case 'this package':
  case 'this package, csrf: false':
  case 'this package, cache off':
    await app.register(await load('../dist/index.js'), { secret, ...(which.endsWith('csrf: false') ? { csrf: false } : {}), ...(which.endsWith('cache off') ? { cacheSize: 0 } : {}) })
    app.get('/', async (request) => ({ userId: request.session.userId }))
    cookieFor = await ours()
    break
  // Revocation (issue 17): a store of the contract that counts its queries, holding
  // nothing or a million revoked sessions; the cookie is one the plugin wrote at login.
  // The memoryStore cases and their control without revocation are bench/instructions.mjs's:
  // the option as an app turns it on today, the store filled before the plugin reads it.
  case 'this package, revocation on':
  case 'this package, 1,000,000 revoked':
  case 'this package, login cookie, revocation off':
  case 'this package, memoryStore':
  case 'this package, memoryStore, 1,000,000 revoked': {
    let revocation
    if (which.includes('memoryStore')) {
      const { memoryStore } = await import('../dist/index.js')
      const memory = memoryStore()
      if (which.includes('1,000,000')) {
        await fill(memory, 1_000_000)
        // What the steady state holds: every revocation merged into the sorted arrays.
        await memory.prune(Math.floor(Date.now() / 1000))
      }
      revocation = { store: memory }
    } else if (which.endsWith('off')) {
      revocation = false
    } else {
      store = countingStore(which.includes('1,000,000') ? 1_000_000 : 0)
      revocation = { store, staleness: 2 }
    }
    await app.register(await load('../dist/index.js'), { secret, ...(revocation === undefined ? {} : { revocation }) })
    app.get('/', async (request) => ({ userId: request.session.userId }))
    app.post('/login', async (request, reply) => { reply.createSession(request.query.id); return {} })
    await app.ready()
    const logins = new Map()
    for (let i = 0; i < users; i++) {
      const id = users === 1 ? '42' : `user-${i}`
      const set = (await app.inject({ method: 'POST', url: `/login?id=${id}` })).headers['set-cookie']
      logins.set(id, String(set).split(';')[0])
    }
    cookieFor = (id) => logins.get(id)
    break
  }
  case '@fastify/secure-session':
    await app.register(await load('@fastify/secure-session'), { key: randomBytes(32), cookieName: 'session', cookie: { path: '/' } })
    app.get('/', async (request) => ({ userId: request.session.get('userId') ?? null }))
    await app.ready()
    // Encoded as the plugin sets it: the value holds ";" between its two parts.
    cookieFor = (id) => `session=${encodeURIComponent(app.encodeSecureSession(app.createSecureSession({ userId: id })))}`
    break
  case '@fastify/jwt (cookie)':
    await app.register(await load('@fastify/cookie'))
    await app.register(await load('@fastify/jwt'), { secret, cookie: { cookieName: 'session', signed: false } })
    app.addHook('onRequest', async (request) => { try { await request.jwtVerify() } catch {} })
    app.get('/', async (request) => ({ userId: request.user?.userId ?? null }))
    await app.ready()
    cookieFor = (id) => `session=${app.jwt.sign({ userId: id })}`
    break
  default:
    throw new Error(`unknown case ${which}`)
}

// Every case gets the same two other cookies a real browser would send along.
const withOthers = (cookie) => `_ga=GA1.2.1234567890.1700000000; theme=dark; ${cookie}`
const cookies = Array.from({ length: users }, (_, i) => withOthers(cookieFor(users === 1 ? '42' : `user-${i}`)))
const address = await app.listen({ host: '127.0.0.1', port: 0 })

// What one process.nextTick costs here (the best of 20 batches): 40 to 80 ns on V8's
// fast path, several hundred once it has fallen off (lib/ticks.ts, docs/performance.md).
// The batches drain on their own, after this answer.
function nextTickCost () {
  const noop = () => {}
  let best = Infinity
  for (let k = 0; k < 20; k++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < 100; i++) process.nextTick(noop, i)
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 100)
  }
  return best
}

// bench/profile.mjs asks for a CPU profile of the loaded window only.
let inspector
async function answer (m) {
  if (m === 'cpu') return { cpu: process.cpuUsage(), queries: store?.queries ?? 0 }
  if (m === 'tick') return { ns: nextTickCost() }
  if (m === 'heap') {
    globalThis.gc?.()
    // Typed arrays keep their bytes outside the JS heap: count both.
    const { heapUsed, arrayBuffers } = process.memoryUsage()
    return { heap: heapUsed + arrayBuffers }
  }
  inspector ??= await import('node:inspector/promises').then(({ Session }) => { const s = new Session(); s.connect(); return s })
  if (m === 'profile-start') {
    await inspector.post('Profiler.enable')
    await inspector.post('Profiler.setSamplingInterval', { interval: 100 })
    await inspector.post('Profiler.start')
    return { done: true }
  }
  const { profile } = await inspector.post('Profiler.stop')
  const { writeFileSync } = await import('node:fs')
  writeFileSync(m.slice('profile-stop:'.length), JSON.stringify(profile))
  return { done: true }
}
if (process.send !== undefined) {
  process.send({ address, cookies })
  process.on('message', async (m) => process.send(await answer(m)))
  process.on('disconnect', () => process.exit(0))
} else {
  process.stdout.write(JSON.stringify({ address, cookies }) + '\n')
  let rest = ''
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', async (chunk) => {
    const lines = (rest + chunk).split('\n')
    rest = lines.pop()
    for (const line of lines) process.stdout.write(JSON.stringify(await answer(line)) + '\n')
  })
  process.stdin.on('end', () => process.exit(0))
}
