// `node --allow-natives-syntax bench/probes.mjs`: the checks behind docs/performance.md
// that do not depend on how busy the machine is.
// 1. Hidden classes: do request and reply keep one map through the hooks and across
//    requests (with and without a cookie), with the plugin registered?
// 2. Deoptimisations in steady state: --trace-deopt on a forked server, counted after
//    a 3 s warm-up over 3 s more, one cookie and 50,000 users in turn.
// 3. System calls per request (strace -c -f, when strace exists), both harness styles.
import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, rmSync } from 'node:fs'
import Fastify from 'fastify'
import autocannon from 'autocannon'
import sessions, { createSession } from '../dist/index.js'
import { load, start, STYLES, WORKLOADS } from './http.mjs'

const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') // eslint-disable-line no-new-func
const secret = randomBytes(32).toString('hex')
const app = Fastify()
await app.register(sessions, { secret })
const seen = []
app.addHook('onRequest', (request, reply, done) => { seen.push([request, reply]); done() })
app.get('/', async (request, reply) => { seen.push([request, reply]); return {} })
app.addHook('onSend', (request, reply, payload, done) => { seen.push([request, reply]); done(null, payload) })
const cookie = `__Host-Http-session=${createSession('42', { secret })}`
for (const headers of [{ cookie }, {}, { cookie }]) await app.inject({ url: '/', headers })
const same = (i, j) => sameMap(seen[i][0], seen[j][0]) && sameMap(seen[i][1], seen[j][1])
console.log(`1. request and reply keep their maps: through the hooks ${same(0, 1) && same(1, 2)}, with and without a cookie ${same(2, 5)}, request to request ${same(2, 8)}`)
await app.close()

const deopts = async (users) => {
  const server = await start('this package', users, { ipc: true, pin: true, flags: ['--trace-deopt'], quiet: true })
  const workload = users === 1 ? WORKLOADS[0] : WORKLOADS[1]
  await load(server, workload, 3)
  // Closing the warm-up's connections deoptimises some of Node's stream code: not per request.
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const before = server.output().length
  await load(server, workload, 3)
  const lines = server.output().slice(before).split('\n').filter((l) => l.includes('bailout (kind'))
  server.stop()
  return lines.map((l) => l.replace(/.*reason: ([^)]*)\).*<JSFunction (\S+).*/, '$2 ($1)'))
}
for (const users of [1, 50_000]) {
  const d = await deopts(users)
  console.log(`2. deoptimisations in 3 s of steady state, ${users === 1 ? 'one cookie' : '50,000 users in turn'}: ${d.length}${d.length > 0 ? ': ' + d.join('; ') : ''}`)
}

let strace = true
try { execFileSync('strace', ['-V'], { stdio: 'ignore' }) } catch { strace = false }
if (strace) {
  const N = 20_000
  for (const style of STYLES) {
    for (const name of ['bare', 'bare + both empty', 'this package']) {
      const s = await start(name, 1, { ipc: style === STYLES[0], pin: true })
      await autocannon({ url: s.address, connections: 50, amount: N, headers: { cookie: s.cookies[0] } })
      const out = `/tmp/bench-strace-${process.pid}.txt`
      const tracer = spawn('strace', ['-c', '-f', '-p', String(s.pid), '-o', out], { stdio: 'ignore' })
      await new Promise((resolve) => setTimeout(resolve, 500))
      await autocannon({ url: s.address, connections: 50, amount: N, headers: { cookie: s.cookies[0] } })
      tracer.kill('SIGINT')
      await new Promise((resolve) => tracer.once('exit', resolve))
      const rows = readFileSync(out, 'utf8').split('\n').filter((l) => /^\s*\d/.test(l)).map((l) => l.trim().split(/\s+/))
      rmSync(out)
      const calls = rows.map((c) => [c[c.length - 1], Number(c[3])]).filter(([, n]) => n >= N / 100)
      console.log(`3. system calls per request, ${style}, ${name}: ${calls.map(([n, c]) => `${n} ${(c / N).toFixed(2)}`).join(', ')}`)
      s.stop()
    }
  }
}
