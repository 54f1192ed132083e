// The plugin on another JavaScript runtime (Bun, Deno; Node too): plain JavaScript that
// each runs as it is, over real HTTP on 127.0.0.1. `node test/node-versions.mjs` runs it
// with each runtime. Checks: the README's quick start, the standalone API against the
// reference vectors, the cross-origin check, secret rotation, and the demo's sign-in
// flow (example/server.js started with the same runtime). Ends with "N passed, N failed".
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import sessions, { createSession, getSession } from '../../dist/index.js'

const root = new URL('../../', import.meta.url)
const SECRET = 'runtime-smoke-secret-0123456789abcdef0123'
const runtime = typeof globalThis.Bun !== 'undefined' ? `Bun ${globalThis.Bun.version}` : typeof globalThis.Deno !== 'undefined' ? `Deno ${globalThis.Deno.version.deno}` : `Node ${process.version}`
let passed = 0
let failed = 0

async function check (name, fn) {
  try {
    await fn()
    passed++
    console.log(`ok - ${name}`)
  } catch (err) {
    failed++
    console.log(`not ok - ${name}\n  ${String(err?.stack ?? err).split('\n').join('\n  ')}`)
  }
}

/** The README's quick start, listening on 127.0.0.1; its base URL and a close function. */
async function quickStart (options = {}) {
  const app = Fastify()
  await app.register(sessions, { secret: SECRET, ...options })
  app.post('/login', async (request, reply) => {
    reply.createSession(request.headers['x-user'] ?? 'ada')
    return { ok: true }
  })
  app.get('/dashboard', { preHandler: app.requireSession }, async (request) => ({ userId: request.session.userId }))
  app.get('/account', async (request) => ({ userId: request.requireUserId() }))
  app.post('/logout', async (request, reply) => { await reply.destroySession(); return { ok: true } })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  return { base, close: () => app.close() }
}

const cookieOf = (response) => (response.headers.get('set-cookie') ?? '').split(';')[0]

await check('the quick start over HTTP: sign in, a guarded route, requireUserId, sign out', async () => {
  const { base, close } = await quickStart()
  try {
    assert.equal((await fetch(base + '/dashboard')).status, 401, 'no cookie: 401')
    const login = await fetch(base + '/login', { method: 'POST' })
    assert.equal(login.status, 200)
    const cookie = cookieOf(login)
    assert.match(cookie, /^__Host-Http-session=/)
    assert.match(login.headers.get('set-cookie'), /HttpOnly/i)
    assert.deepEqual(await (await fetch(base + '/dashboard', { headers: { cookie } })).json(), { userId: 'ada' })
    assert.deepEqual(await (await fetch(base + '/account', { headers: { cookie } })).json(), { userId: 'ada' })
    const logout = await fetch(base + '/logout', { method: 'POST', headers: { cookie } })
    assert.match(logout.headers.get('set-cookie'), /Max-Age=0/)
  } finally { await close() }
})

await check('the standalone API matches every reference vector (dbbasic-sessions 3.0.0)', async () => {
  const vectors = JSON.parse(readFileSync(new URL('test/fixtures/dbbasic-sessions-3.0.0.json', root), 'utf8'))
  assert.equal(vectors.create.length + vectors.verify.length, 241)
  for (const v of vectors.create) {
    assert.equal(createSession(v.user_id, { secret: v.secret, ttl: v.ttl, now: () => v.now * 1000 }), v.token, JSON.stringify(v.user_id))
  }
  for (const v of vectors.verify) {
    assert.equal(getSession(v.token, { secret: v.secret, now: () => v.now * 1000 }), v.expect, v.case)
  }
})

await check('the cross-origin check: a POST from another site is refused, a same-origin one passes', async () => {
  const { base, close } = await quickStart()
  try {
    const crossSite = await fetch(base + '/login', { method: 'POST', headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.test' } })
    assert.equal(crossSite.status, 403)
    assert.equal(crossSite.headers.get('set-cookie'), null)
    const badOrigin = await fetch(base + '/login', { method: 'POST', headers: { origin: 'https://evil.test' } })
    assert.equal(badOrigin.status, 403, 'Origin alone, not the host')
    const sameOrigin = await fetch(base + '/login', { method: 'POST', headers: { 'sec-fetch-site': 'same-origin', origin: base } })
    assert.equal(sameOrigin.status, 200)
  } finally { await close() }
})

await check('rotation: a token signed with the older secret is accepted and re-signed with the newest', async () => {
  const OLD = 'old-runtime-secret-0123456789abcdef0123'
  const { base, close } = await quickStart({ secret: [SECRET, OLD] })
  try {
    const old = createSession('grace', { secret: OLD })
    const answer = await fetch(base + '/dashboard', { headers: { cookie: `__Host-Http-session=${old}` } })
    assert.deepEqual(await answer.json(), { userId: 'grace' })
    const fresh = cookieOf(answer).split('=').slice(1).join('=')
    assert.notEqual(fresh, old)
    assert.equal(getSession(fresh, { secret: SECRET }), 'grace', 'signed with the newest')
    assert.equal(getSession(fresh, { secret: OLD }), null)
  } finally { await close() }
})

await check('the demo (example/server.js on this runtime): register, sign in, /me, sign out', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'runtime-demo-'))
  const args = typeof globalThis.Deno !== 'undefined' ? ['run', '-A', 'example/server.js'] : ['example/server.js']
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, PORT: '0', DATA_DIR: dataDir, SECRET_KEY: SECRET }, stdio: ['ignore', 'pipe', 'pipe'] })
  try {
    let output = ''
    const base = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the demo did not start within 30 s:\n${output}`)), 30_000)
      const read = (chunk) => {
        output += chunk
        const match = /Demo listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
        if (match !== null) { clearTimeout(timer); resolve(match[1]) }
      }
      child.stdout.on('data', read)
      child.stderr.on('data', read)
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the demo exited (${code}):\n${output}`)) })
    })
    const form = (fields) => ({ method: 'POST', redirect: 'manual', body: new URLSearchParams(fields) })
    const registered = await fetch(base + '/register', form({ name: 'Ada', password: 'correct horse battery' }))
    assert.equal(registered.status, 303)
    const wrong = await fetch(base + '/login', form({ name: 'Ada', password: 'not it' }))
    assert.equal(wrong.status, 401)
    const login = await fetch(base + '/login', form({ name: 'Ada', password: 'correct horse battery' }))
    assert.equal(login.status, 303)
    const cookie = cookieOf(login)
    assert.match(cookie, /^session=/)
    assert.equal((await (await fetch(base + '/me', { headers: { cookie } })).json()).name, 'Ada')
    const csrf = await fetch(base + '/logout', { ...form({}), headers: { cookie, origin: 'http://evil.test' } })
    assert.equal(csrf.status, 403, 'a cross-origin sign-out is refused')
    const logout = await fetch(base + '/logout', { ...form({}), headers: { cookie } })
    assert.equal(logout.status, 303)
    assert.match(logout.headers.get('set-cookie'), /Max-Age=0/)
  } finally {
    child.kill('SIGTERM')
    rmSync(dataDir, { recursive: true, force: true })
  }
})

console.log(`${runtime}: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
