// The HTTP benchmark, run the way the held-out harness runs it: each server its own
// process pinned to core 1 (taskset), autocannon here on core 0 with 50 connections;
// every case in every round, the order reversed every other round; the server's CPU
// time per request from process.cpuUsage() read just before and just after each run.
// Every server is started twice: forked with an IPC channel (as under `cluster` or a
// process manager) and spawned with none (as from a shell).
import { execFileSync, fork, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import autocannon from 'autocannon'

/** Servers that get one repeated cookie. */
export const ONE_COOKIE = ['bare', 'bare + @fastify/cookie', 'this package', '@fastify/secure-session']
/** Servers that also get many users' cookies. */
export const MANY = ['bare + @fastify/cookie', 'this package', '@fastify/secure-session']
export const USERS = 50_000
export const WORKLOADS = ['one cookie', `${USERS.toLocaleString('en')} users in turn`, 'skewed: 20 users send 90%']
export const STYLES = ['forked, IPC channel', 'spawned, no IPC channel']
export const CONNECTIONS = 50

function hasTaskset () {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const SERVER = new URL('./server.mjs', import.meta.url).pathname

// A forked server answers over its IPC channel.
function forked (args, pin, flags, quiet) {
  const stdio = ['ignore', quiet ? 'pipe' : 'inherit', 'inherit', 'ipc']
  const child = pin
    ? fork(SERVER, args, { execPath: 'taskset', execArgv: ['-c', '1', process.execPath, ...flags], stdio })
    : fork(SERVER, args, { execArgv: flags, stdio })
  let output = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk) => { output += chunk })
  return { child, output: () => output, next: () => new Promise((resolve) => child.once('message', resolve)), ask: (m) => child.send(m), stop: () => child.disconnect() }
}

// A spawned one has no channel: it reads lines on stdin and answers with lines on stdout.
function spawned (args, pin, flags) {
  const argv = [...flags, SERVER, ...args]
  const child = pin
    ? spawn('taskset', ['-c', '1', process.execPath, ...argv], { stdio: ['pipe', 'pipe', 'inherit'] })
    : spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'inherit'] })
  const waiting = []
  createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => waiting.shift()?.(JSON.parse(line)))
  return { child, next: () => new Promise((resolve) => waiting.push(resolve)), ask: (m) => child.stdin.write(m + '\n'), stop: () => child.stdin.end() }
}

/** `flags` go to node (for profiling); `extra` to the server; `quiet` keeps a forked server's stdout for `output()`. */
export async function start (name, users, { ipc, pin, extra = [], flags = [], quiet = false }) {
  const p = (ipc ? forked : spawned)([name, String(users), ...extra], pin, flags, quiet)
  const { address, cookies } = await new Promise((resolve, reject) => {
    p.next().then(resolve)
    p.child.once('exit', (code) => reject(new Error(`${name} server exited (${code})`)))
  })
  const ask = async (question) => {
    const answer = p.next()
    p.ask(question)
    return answer
  }
  const cpu = async () => {
    const m = await ask('cpu')
    return m.cpu.user + m.cpu.system
  }
  return { name, address, cookies, cpu, ask, stop: p.stop, pid: p.child.pid, output: p.output }
}

// A fixed pseudo-random sequence (xorshift), the same for every server.
function skewed (length, users) {
  let x = 0x9e3779b9
  const next = () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) / 2 ** 32 }
  return Array.from({ length }, () => next() < 0.9 ? Math.floor(next() * 20) : 20 + Math.floor(next() * (users - 20)))
}
const SKEWED = skewed(200_000, USERS)

export function load (server, workload, seconds, connections = CONNECTIONS) {
  const options = { url: server.address, connections, duration: seconds }
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

/** Every case of a round, in a fixed order; odd rounds run it reversed. */
export function plan ({ oneCookie = ONE_COOKIE, many = MANY, workloads = WORKLOADS.slice(0, 2), styles = STYLES, forkedOnly = [] } = {}) {
  return styles.flatMap((style) => [
    ...oneCookie.map((name) => ({ style, name, workload: WORKLOADS[0] })),
    ...(style === STYLES[0] ? forkedOnly.map((name) => ({ style, name, workload: WORKLOADS[0] })) : []),
    ...workloads.slice(1).flatMap((workload) => many.map((name) => ({ style, name, workload })))
  ])
}

export const keyOf = (run) => `${run.style} | ${run.workload}: ${run.name}`
export const serverKey = (run) => `${run.style} | ${run.name}`

/**
 * Runs `runs` (from plan()) for `rounds` rounds of `seconds` s; `flags(name)` are node
 * flags for a server; `after(servers)` asks the servers what it needs before they stop.
 * Returns per round { key: { rps, cpuPerRequest (µs) } }.
 */
export async function runHttp ({ runs, rounds, seconds, log, warmup = 1, extraArgs = () => [], flags = () => [], after = async () => {} }) {
  const pin = hasTaskset()
  if (pin) execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' })
  const servers = {}
  try {
    for (const run of runs) {
      const key = serverKey(run)
      if (servers[key] !== undefined) continue
      const users = runs.some((r) => r.name === run.name && r.workload !== WORKLOADS[0]) ? USERS : 1
      servers[key] = await start(run.name, users, { ipc: run.style === STYLES[0], pin, extra: extraArgs(run.name), flags: flags(run.name) })
    }
    for (const s of Object.values(servers)) await check(s, s.cookies.length)
    for (const run of runs) await load(servers[serverKey(run)], run.workload, warmup) // JIT and connections
    const results = []
    for (let r = 0; r < rounds; r++) {
      const round = {}
      for (const run of r % 2 === 0 ? runs : [...runs].reverse()) {
        const s = servers[serverKey(run)]
        const before = await s.cpu()
        const result = await load(s, run.workload, seconds)
        const used = (await s.cpu()) - before
        if (result.non2xx > 0 || result.errors > 0) throw new Error(`${s.name}: ${result.non2xx} non-2xx, ${result.errors} errors`)
        round[keyOf(run)] = { rps: result.requests.average, cpuPerRequest: used / result.requests.total }
      }
      results.push(round)
      log(`  HTTP round ${r + 1}/${rounds} done`)
    }
    return { pinned: pin, results, after: await after(servers) }
  } finally {
    for (const s of Object.values(servers)) s.stop()
  }
}
