// The HTTP benchmark: each server in its own process (pinned to one core when
// taskset exists), autocannon here. Runs are interleaved over rounds. Besides req/s,
// the server's own CPU time per request is read from process.cpuUsage(), which
// stays meaningful when the load generator, not the server, is the bottleneck.
import { fork } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import autocannon from 'autocannon'
import { shuffle } from './stats.mjs'

/** Servers that get one repeated cookie. */
export const ONE_COOKIE = ['bare', 'bare + @fastify/cookie', 'this package', 'this package, csrf: false', '@fastify/secure-session', '@fastify/jwt (cookie)']
/** Servers that also get many users' cookies. */
export const MANY = ['bare + @fastify/cookie', 'this package', '@fastify/secure-session']
export const USERS = 50_000
export const WORKLOADS = ['one cookie', `${USERS.toLocaleString('en')} users in turn`, 'skewed: 20 users send 90%']

function hasTaskset () {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

async function start (name, users, pin) {
  const url = new URL('./server.mjs', import.meta.url).pathname
  const args = [name, String(users)]
  // With taskset the server runs on core 1; this process moves itself to core 0.
  const child = pin
    ? fork(url, args, { execPath: 'taskset', execArgv: ['-c', '1', process.execPath], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    : fork(url, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const { address, cookies } = await new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error(`${name} server exited (${code})`)))
  })
  const cpu = () => new Promise((resolve) => {
    child.once('message', (m) => resolve(m.cpu.user + m.cpu.system))
    child.send('cpu')
  })
  return { name, address, cookies, cpu, stop: () => child.disconnect() }
}

// A fixed pseudo-random sequence (xorshift), the same for every server.
function skewed (length, users) {
  let x = 0x9e3779b9
  const next = () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) / 2 ** 32 }
  return Array.from({ length }, () => next() < 0.9 ? Math.floor(next() * 20) : 20 + Math.floor(next() * (users - 20)))
}
const SKEWED = skewed(200_000, USERS)

function load (server, workload, seconds) {
  const options = { url: server.address, connections: 10, duration: seconds }
  if (workload === WORKLOADS[0]) return autocannon({ ...options, headers: { cookie: server.cookies[0] } })
  const order = workload === WORKLOADS[1] ? null : SKEWED
  let i = 0
  const cookies = server.cookies
  const setupRequest = (request) => {
    const user = order === null ? i % cookies.length : order[i % order.length]
    i++
    request.headers = { ...request.headers, cookie: cookies[user] }
    return request
  }
  return autocannon({ ...options, requests: [{ method: 'GET', path: '/', setupRequest }] })
}

// Each server must sign its users in, or the run would measure a refusal.
async function check (server, users) {
  for (const i of users === 1 ? [0] : [0, 1, users - 1]) {
    const body = await (await fetch(server.address, { headers: { cookie: server.cookies[i] } })).json()
    if (!server.name.startsWith('bare') && body.userId === null) throw new Error(`${server.name}: cookie ${i} did not sign in`)
  }
}

export async function runHttp ({ rounds, seconds, log, oneCookie = ONE_COOKIE, many = MANY }) {
  const pin = hasTaskset()
  if (pin) execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' })
  const servers = {}
  for (const name of oneCookie) servers[name] = await start(name, many.includes(name) ? USERS : 1, pin)
  const runs = [
    ...oneCookie.map((name) => ({ name, workload: WORKLOADS[0] })),
    ...WORKLOADS.slice(1).flatMap((workload) => many.map((name) => ({ name, workload })))
  ]
  try {
    for (const s of Object.values(servers)) await check(s, s.cookies.length)
    for (const run of runs) await load(servers[run.name], run.workload, 1) // warm-up: JIT and connections
    const results = []
    for (let r = 0; r < rounds; r++) {
      const round = {}
      for (const run of shuffle(runs)) {
        const s = servers[run.name]
        const before = await s.cpu()
        const result = await load(s, run.workload, seconds)
        const used = (await s.cpu()) - before
        if (result.non2xx > 0 || result.errors > 0) throw new Error(`${s.name}: ${result.non2xx} non-2xx, ${result.errors} errors`)
        round[`${run.workload}: ${run.name}`] = { rps: result.requests.average, cpuPerRequest: used / result.requests.total }
      }
      results.push(round)
      log(`  HTTP round ${r + 1}/${rounds} done`)
    }
    return { pinned: pin, results, runs: runs.map((run) => `${run.workload}: ${run.name}`) }
  } finally {
    for (const s of Object.values(servers)) s.stop()
  }
}
