// The HTTP benchmark: each case in its own server process (pinned to one core when
// taskset exists), autocannon here. Cases are interleaved over rounds. Besides
// req/s, the server's own CPU time per request is read from process.cpuUsage(), which
// stays meaningful when the load generator, not the server, is the bottleneck.
import { fork } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import autocannon from 'autocannon'
import { shuffle } from './stats.mjs'

export const HTTP_CASES = ['bare', 'bare + @fastify/cookie', 'this package', '@fastify/secure-session', '@fastify/jwt (cookie)']

function hasTaskset () {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

async function start (name, pin) {
  const url = new URL('./server.mjs', import.meta.url).pathname
  // With taskset the server runs on core 1; this process moves itself to core 0.
  const child = pin
    ? fork(url, [name], { execPath: 'taskset', execArgv: ['-c', '1', process.execPath], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    : fork(url, [name], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const { address, cookie } = await new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error(`${name} server exited (${code})`)))
  })
  const cpu = () => new Promise((resolve) => {
    child.once('message', (m) => resolve(m.cpu.user + m.cpu.system))
    child.send('cpu')
  })
  return { name, address, cookie, cpu, stop: () => child.disconnect() }
}

const load = (server, seconds) => autocannon({ url: server.address, connections: 10, duration: seconds, headers: { cookie: server.cookie } })

export async function runHttp ({ rounds, seconds, log }) {
  const pin = hasTaskset()
  if (pin) execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' })
  const servers = []
  for (const name of HTTP_CASES) servers.push(await start(name, pin))
  try {
    for (const s of servers) await load(s, 1) // warm-up: JIT and connections
    const results = []
    for (let r = 0; r < rounds; r++) {
      const round = {}
      for (const s of shuffle(servers)) {
        const before = await s.cpu()
        const result = await load(s, seconds)
        const used = (await s.cpu()) - before
        if (result.non2xx > 0 || result.errors > 0) throw new Error(`${s.name}: ${result.non2xx} non-2xx, ${result.errors} errors`)
        round[s.name] = { rps: result.requests.average, cpuPerRequest: used / result.requests.total }
      }
      results.push(round)
      log(`  HTTP round ${r + 1}/${rounds} done`)
    }
    return { pinned: pin, results }
  } finally {
    for (const s of servers) s.stop()
  }
}
