// `npm run bench:instructions` (issue 28): user-space instructions per request, counted
// by valgrind's callgrind, where wall-clock ratios on a busy shared machine cannot decide
// the goals. Each server (bench/server.mjs) runs under callgrind; this process is the
// client, outside it: one keep-alive connection, one request at a time. After 20,000
// requests uninstrumented, instrumentation goes on, 1,000 requests settle, then two
// windows of 1,000 and 3,000 requests are each zeroed and dumped: their difference over
// 2,000 is one request's cost, with what is paid once per window (the dump, the last
// response's tail) cancelled out. Writes bench/INSTRUCTIONS.md.
// `npm run bench:instructions [-- --runs N] [--only text] [--keep dir [--perf-map]]` (it builds dist/ first)
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { readDump, SLOW_TICK } from './callgrind.mjs'

const argv = process.argv.slice(2)
const option = (name, fallback) => argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback
const RUNS = Number(option('--runs', 2))
const ONLY = option('--only', '')
/** Where to keep every dump (for callgrind_annotate); by default they are deleted. */
const KEEP = option('--keep', '')
// With --keep: node writes where its compiled JavaScript is (--perf-basic-prof, which also
// stops V8 moving code), kept beside the dumps to name the JIT's addresses in them
// (bench/experiments/profile-instructions.mjs). Its figures are for profiles, not the goals.
const PERF_MAP = KEEP !== '' && argv.includes('--perf-map')

const WARMUP = 20_000
const SETTLE = 1_000
const WINDOWS = [1_000, 3_000]
const USERS = 50_000
// The young generation pinned, so that scavenges depend only on what requests allocate,
// and GC on the main thread only; gc() to collect what the setup left.
const V8_FLAGS = ['--min-semi-space-size=16', '--max-semi-space-size=16', '--single-threaded-gc', '--expose-gc']
const VALGRIND = ['--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no']
const SERVER = new URL('./server.mjs', import.meta.url).pathname
const GUARD = new URL('./tick-guard.mjs', import.meta.url).pathname
const log = (line) => process.stderr.write(line + '\n')

/**
 * `send`: the server's one cookie as it is, none of ours (only the two other cookies),
 * or ours with a wrong signature. `guard`: a server that does not import this package
 * gets its nextTick guard by --import. `userId`: what the route must answer.
 */
const CASES = [
  { name: 'bare', server: 'bare', guard: true, userId: null },
  { name: 'bare + @fastify/cookie', server: 'bare + @fastify/cookie', guard: true, userId: '?' },
  { name: 'cache hit (one repeated cookie)', server: 'this package', userId: '42' },
  { name: 'no session cookie', server: 'this package', send: 'none', userId: null },
  { name: `cache miss (${USERS.toLocaleString('en')} tokens in turn)`, server: 'this package', users: USERS, userId: 'user-0' },
  { name: 'forged cookie (bad signature)', server: 'this package', send: 'forged', userId: null },
  { name: 'revocation off (login cookie)', server: 'this package, login cookie, revocation off', userId: '42' },
  { name: 'revocation on, nothing revoked', server: 'this package, memoryStore', userId: '42' },
  { name: 'revocation on, 1,000,000 revoked', server: 'this package, memoryStore, 1,000,000 revoked', userId: '42' },
  { name: '@fastify/secure-session, one cookie', server: '@fastify/secure-session', guard: true, userId: '42' },
  { name: `@fastify/secure-session, ${USERS.toLocaleString('en')} cookies in turn`, server: '@fastify/secure-session', users: USERS, guard: true, userId: 'user-0' },
  { name: '@fastify/jwt (cookie)', server: '@fastify/jwt (cookie)', guard: true, userId: '42' },
  // The check's control: this one must come out VOID.
  { name: 'bare, made to fall (control)', server: 'bare, made to fall', userId: null, control: true }
].filter((c) => c.name.includes(ONLY))

// ---- valgrind itself

function ensureValgrind () {
  const found = () => spawnSync('valgrind', ['--version'], { encoding: 'utf8' }).stdout?.trim()
  let version = found()
  if (version) return version
  if (process.getuid?.() !== 0) {
    console.error('bench:instructions needs valgrind (callgrind and callgrind_control): install it, e.g. `sudo apt-get install valgrind`')
    process.exit(1)
  }
  log('valgrind is missing: installing Debian\'s valgrind package')
  const apt = (...args) => spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0
  if (!apt('install', '-y', 'valgrind')) apt('update') && apt('install', '-y', 'valgrind')
  version = found()
  if (!version) {
    console.error('bench:instructions needs valgrind, and `apt-get install valgrind` did not install it')
    process.exit(1)
  }
  return version
}

// ---- the client: one connection, one request at a time

function client (address) {
  const { hostname, port } = new URL(address)
  const socket = connect({ host: hostname, port: Number(port), noDelay: true })
  let buffer = Buffer.alloc(0)
  let waiting = null
  const tryResponse = () => {
    if (waiting === null) return
    const end = buffer.indexOf('\r\n\r\n')
    if (end === -1) return
    const head = buffer.toString('latin1', 0, end)
    const length = /\r\ncontent-length: *(\d+)/i.exec(head)
    if (length === null) return waiting.reject(new Error(`a response without content-length: ${head}`))
    const total = end + 4 + Number(length[1])
    if (buffer.length < total) return
    const response = { status: Number(head.slice(9, 12)), head, body: buffer.toString('utf8', end + 4, total) }
    buffer = buffer.subarray(total)
    const { resolve } = waiting
    waiting = null
    resolve(response)
  }
  socket.on('data', (chunk) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk])
    tryResponse()
  })
  socket.on('error', (err) => waiting?.reject(err))
  socket.on('close', () => waiting?.reject(new Error('the server closed the connection')))
  const ready = new Promise((resolve, reject) => { socket.once('connect', resolve).once('error', reject) })
  const host = `${hostname}:${port}`
  return {
    ready,
    get (cookie) {
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject }
        socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookie}\r\n\r\n`)
      })
    },
    close: () => socket.destroy()
  }
}

// ---- one server under callgrind

const control = (pid, ...args) => execFileSync('callgrind_control', [...args, String(pid)], { stdio: 'ignore' })
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function measure (c, run) {
  const dir = mkdtempSync(join(tmpdir(), 'instructions-'))
  const args = [...VALGRIND, `--callgrind-out-file=${join(dir, 'cg.%p')}`, process.execPath, ...V8_FLAGS, ...(PERF_MAP ? ['--perf-basic-prof'] : []), ...(c.guard ? ['--import', GUARD] : []), SERVER, c.server, String(c.users ?? 1)]
  // In the dump's folder: what node may write to its working folder (V8's log with
  // --perf-basic-prof) goes with it.
  const child = spawn('valgrind', args, { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr = (stderr + chunk).slice(-20_000) })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  // The server's lines: first its address and cookies, then an answer to each question.
  const answers = []
  const waiting = []
  createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
    const next = waiting.shift()
    if (next === undefined) answers.push(line)
    else next(line)
  })
  const died = exited.then((code) => { throw new Error(`${c.name}: the server exited (${code}):\n${stderr}`) })
  const line = () => Promise.race([answers.length > 0 ? answers.shift() : new Promise((resolve) => waiting.push(resolve)), died])
  const ask = async (question) => {
    child.stdin.write(question + '\n')
    return JSON.parse(await line())
  }
  const { address, cookies } = JSON.parse(await line())
  // What the setup left (a million revocations make hundreds of megabytes of garbage
  // and array buffers, which keep V8 scavenging for "external memory pressure" until
  // collected) is collected before any request: GC work then follows what requests allocate.
  const collect = async () => {
    await ask('heap')
    await ask('heap')
  }
  await collect()
  const started = Date.now()
  const send = (cookie) => {
    if (c.send === 'none') return cookie.replace(/; __Host-Http-session=.*$/, '')
    // The signature is the cookie's last 64 characters: its last hex digit changed.
    if (c.send === 'forged') return cookie.slice(0, -1) + (cookie.endsWith('0') ? '1' : '0')
    return cookie
  }
  const sent = cookies.map(send)
  const http = client(address)
  await http.ready
  let n = 0
  const requests = async (count) => {
    for (let i = 0; i < count; i++) {
      const response = await http.get(sent[n++ % sent.length])
      if (response.status !== 200) throw new Error(`${c.name}: ${response.status} ${response.body}`)
    }
  }
  const check = await http.get(sent[n++ % sent.length])
  const answered = JSON.parse(check.body).userId
  if (answered !== c.userId) throw new Error(`${c.name}: the route answered userId ${JSON.stringify(answered)}, expected ${JSON.stringify(c.userId)}`)

  const windows = []
  const measureWindows = async () => {
    for (const size of WINDOWS) {
      // The last response's tail (the server's work after it wrote) out of the window.
      await pause(100)
      control(child.pid, '-z')
      await requests(size)
      await pause(100)
      const before = new Set(readdirSync(dir))
      control(child.pid, '-d')
      const file = readdirSync(dir).find((f) => !before.has(f) && f !== `cg.${child.pid}`)
      if (file === undefined) throw new Error(`${c.name}: callgrind wrote no dump`)
      windows.push({ size, ...await readDump(join(dir, file)) })
      if (KEEP) {
        mkdirSync(KEEP, { recursive: true })
        execFileSync('cp', [join(dir, file), join(KEEP, `${c.name.replace(/[^\w.+-]+/g, '_')}.run${run}.${size}.out`)])
      }
    }
  }
  try {
    await requests(WARMUP - 1)
    const warm = Date.now()
    control(child.pid, '-i', 'on')
    await requests(SETTLE)
    // A full collection costs what the whole heap holds, not what the requests did:
    // windows with one in them are measured again.
    for (let attempt = 1; attempt <= 3 && (windows.length === 0 || windows.some((w) => w.markCompacts > 0)); attempt++) {
      if (attempt > 1) log(`  ${c.name}, run ${run}: a full GC in the windows (${windows.map((w) => w.markCompacts).join(', ')}), measured again`)
      windows.length = 0
      await measureWindows()
    }
    if (windows.some((w) => w.markCompacts > 0)) throw new Error(`${c.name}: a full GC in the windows three times`)
    log(`  ${c.name}, run ${run}: warm-up ${((warm - started) / 1000).toFixed(0)} s, instrumented ${((Date.now() - warm) / 1000).toFixed(0)} s`)
  } finally {
    http.close()
    child.stdin.end()
    // A server that does not exit on its own is ended: none is left running.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    await exited
    clearTimeout(timer)
    rmSync(dir, { recursive: true, force: true })
    if (PERF_MAP) {
      const map = `/tmp/perf-${child.pid}.map`
      execFileSync('cp', [map, join(KEEP, `${c.name.replace(/[^\w.+-]+/g, '_')}.run${run}.map`)])
      rmSync(map, { force: true })
    }
  }
  const [a, b] = windows
  const own = (w) => w.total - w.compiler
  return {
    perRequest: (own(b) - own(a)) / (b.size - a.size),
    gcPerRequest: (b.gc - a.gc) / (b.size - a.size),
    scavenges: windows.map((w) => w.scavenges),
    compiler: windows.map((w) => w.compiler),
    slowPerRequest: (b.slowCalls + a.slowCalls) / (a.size + b.size),
    // On the fast path nextTick calls the runtime for none of its properties; off it,
    // for three of four, about eight ticks a request.
    fallen: b.slowCalls + a.slowCalls >= a.size + b.size
  }
}

// ---- the run

const valgrind = ensureValgrind()
const startedAt = Date.now()
log(`${CASES.length} cases, ${RUNS} runs each, ${valgrind}, Node ${process.version}`)
const results = new Map(CASES.map((c) => [c.name, []]))
for (let run = 1; run <= RUNS; run++) {
  for (const c of CASES) results.get(c.name).push(await measure(c, run))
}
const seconds = Math.round((Date.now() - startedAt) / 1000)

// ---- tables

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length
const summary = (name) => {
  const runs = results.get(name)
  if (runs === undefined) return undefined
  const xs = runs.map((r) => r.perRequest)
  return { runs, value: mean(xs), spread: (Math.max(...xs) - Math.min(...xs)) / mean(xs), fallen: runs.some((r) => r.fallen) }
}
const fmt = (x) => Math.round(x).toLocaleString('en')
const pct = (x) => `${(100 * x).toFixed(2)}%`
/** Capacity ratio: the reference's instructions over the case's; void when either server fell. */
const ratio = (reference, name) => {
  const r = summary(reference)
  const s = summary(name)
  if (r === undefined || s === undefined) return null
  return { value: r.value / s.value, void: r.fallen || s.fallen }
}
const showRatio = (x) => x === null ? '' : x.void ? 'VOID' : `${x.value.toFixed(3)}x`
const BARE = 'bare'
const COOKIE = 'bare + @fastify/cookie'

const caseTable = ['| case | instructions / request | spread of runs | runs | vs bare | vs bare + @fastify/cookie | nextTick |',
  '| --- | ---: | ---: | --- | ---: | ---: | --- |',
  ...CASES.map((c) => {
    const s = summary(c.name)
    const runs = s.runs.map((r) => r.fallen ? 'VOID' : fmt(r.perRequest)).join(', ')
    const tick = s.fallen ? `FELL (${s.runs.map((r) => r.slowPerRequest.toFixed(1)).join(', ')} slow-literal calls a request)` : c.guard ? 'fast path (guard by --import)' : 'fast path (the package\'s import)'
    return `| ${c.name} | ${s.fallen ? 'VOID' : fmt(s.value)} | ${pct(s.spread)} | ${runs} | ${showRatio(ratio(BARE, c.name))} | ${showRatio(ratio(COOKIE, c.name))} | ${tick} |`
  })].join('\n')

const runTable = ['| case | run | instructions / request | of which GC | scavenges in the windows | compilers\' instructions taken out | slow-literal calls / request |',
  '| --- | ---: | ---: | ---: | --- | --- | ---: |',
  ...CASES.flatMap((c) => summary(c.name).runs.map((r, i) =>
    `| ${c.name} | ${i + 1} | ${r.fallen ? 'VOID' : fmt(r.perRequest)} | ${fmt(r.gcPerRequest)} | ${r.scavenges.join(', ')} | ${r.compiler.map(fmt).join(', ')} | ${r.slowPerRequest.toFixed(2)} |`))].join('\n')

const HIT = 'cache hit (one repeated cookie)'
const MISS = `cache miss (${USERS.toLocaleString('en')} tokens in turn)`
const FORGED = 'forged cookie (bad signature)'
const OFF = 'revocation off (login cookie)'
const SECURE_TURN = `@fastify/secure-session, ${USERS.toLocaleString('en')} cookies in turn`
const goalRow = (goal, reference, name, limit) => {
  const x = ratio(reference, name)
  const met = x === null ? 'not measured' : x.void ? 'void' : x.value >= limit ? 'yes' : 'no'
  return `| ${goal} | ${showRatio(x)} | ≥ ${limit}x | ${met} |`
}
const fallen = CASES.filter((c) => !c.control && summary(c.name).fallen).map((c) => c.name)
const controlCase = CASES.find((c) => c.control)
// The check is shown to work when the server made to fall is seen to have fallen.
const seen = controlCase === undefined ? null : summary(controlCase.name).runs.every((r) => r.fallen)
const goalTable = ['| goal | ratio | needs | met |', '| --- | ---: | ---: | :---: |',
  goalRow('1a. cache hit vs bare + @fastify/cookie', COOKIE, HIT, 0.97),
  goalRow('1b. cache hit vs bare', BARE, HIT, 0.93),
  goalRow('2a. cache miss vs bare + @fastify/cookie', COOKIE, MISS, 0.85),
  goalRow('2b. cache miss vs @fastify/secure-session, 50,000 cookies in turn (on the fast path)', SECURE_TURN, MISS, 1.3),
  goalRow('3. forged cookie vs bare + @fastify/cookie', COOKIE, FORGED, 0.85),
  goalRow('4a. revocation on, nothing revoked, vs off', OFF, 'revocation on, nothing revoked', 0.99),
  goalRow('4b. revocation on, 1,000,000 revoked, vs off', OFF, 'revocation on, 1,000,000 revoked', 0.99),
  `| 5. every server protected from the nextTick cliff or its state printed; a ratio against a fallen server void | ${fallen.length === 0 ? 'none fell' : `fell, VOID: ${fallen.join(', ')}`}; the control made to fall: ${seen === null ? 'not run' : seen ? 'seen to fall' : 'NOT SEEN'} | | ${seen === false ? 'no' : 'yes'} |`
].join('\n')

const pkg = (name) => JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url))).version
const versions = ['fastify', '@fastify/cookie', '@fastify/secure-session', '@fastify/jwt'].map((n) => `${n} ${pkg(n)}`).join(', ')
const self = JSON.parse(readFileSync(new URL('../package.json', import.meta.url))).version
const command = `npm run bench:instructions${argv.length > 0 ? ' -- ' + argv.join(' ') : ''}`

const report = `# Instructions per request

Made by \`${command}\` on ${new Date().toISOString().slice(0, 10)} in ${Math.floor(seconds / 60)} min ${seconds % 60} s: Node ${process.version}, ${valgrind}, ${cpus().length} × ${cpus()[0].model.trim()}.
fastify-dbbasic-sessions ${self}; ${versions}.

How: each server (bench/server.mjs) runs under \`valgrind ${VALGRIND.join(' ')}\`, node with \`${V8_FLAGS.join(' ')}\` (the young generation pinned, so GC work follows what requests allocate); the client, outside valgrind, holds one keep-alive connection and sends one request at a time with the Cookie header of \`npm run bench\` (two other cookies, then the session's). Once the server listens, two full GCs (\`gc()\`) collect what its setup left; then ${WARMUP.toLocaleString('en')} requests uninstrumented, \`callgrind_control -i on\`, ${SETTLE.toLocaleString('en')} requests to settle, then windows of ${WINDOWS.map((w) => w.toLocaleString('en')).join(' and ')} requests, each zeroed (\`-z\`) and dumped (\`-d\`): a request is the difference of the two windows over ${(WINDOWS[1] - WINDOWS[0]).toLocaleString('en')}, with the self cost of V8's compilers (TurboFan, Maglev, Sparkplug: \`v8::internal::compiler::\`, \`maglev::\`, \`baseline::\` and their job classes) taken out of each window. A window with a full GC (\`Heap::MarkCompact\`) in it is measured again: its cost is what the whole heap holds, not what the requests did. Every case runs ${RUNS} times, each a process of its own; the figure is their mean, the spread (highest − lowest) / mean. A ratio is the reference's instructions over the case's (capacity: above 1x the case is cheaper).

Every dump is searched for calls of \`${SLOW_TICK}\`: a server whose \`process.nextTick\` fell off V8's fast path makes three a tick, about eight ticks a request (lib/ticks.ts, docs/performance.md). Its figures are VOID and no ratio uses them. Servers that do not import this package (bare, the peers) get the same guard by \`node --import bench/tick-guard.mjs\`.

## Goals

${goalTable}

## Cases

${caseTable}

## Every run

The two windows of each run: GC is what \`Heap::CollectGarbage\` cost, all in, over the difference of the windows; scavenges are counted in each window (a window holds a whole number of them, so GC is where most of the spread between runs comes from).

${runTable}

The revocation cases send a cookie the plugin wrote at login (it carries a session id), with \`revocation: { store: memoryStore() }\` and its default staleness; the million revoked sessions are added to the store before the plugin reads it. The memory store is the plugin's table itself: nothing reads or prunes it on a timer (it is pruned as revocations are added), so the figures are the request path's alone. "Cache miss" sends the next of ${USERS.toLocaleString('en')} valid tokens each request (the cache never holds it); "forged" is the one cookie with the last digit of its signature changed; "no session cookie" sends only the two other cookies.
`
writeFileSync(new URL('./INSTRUCTIONS.md', import.meta.url), report)
console.log(report)
log(`bench:instructions finished in ${Math.floor(seconds / 60)} min ${seconds % 60} s; wrote bench/INSTRUCTIONS.md`)
