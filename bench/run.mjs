// `npm run bench`: micro-benchmarks, cost scaling, memory and HTTP, in one run.
// Prints the tables and writes bench/RESULTS.md. Every ratio compares two cases
// measured in the same round; the figure shown is the median over rounds.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { buildCases, runGroup } from './micro.mjs'
import { runHttp, ONE_COOKIE, MANY, WORKLOADS } from './http.mjs'
import { interleavedRatio, median, pairedRatio, summarise } from './stats.mjs'

const quick = process.argv.includes('--quick')
const ROUNDS = quick ? 2 : 5
const CPU_MS = quick ? 30 : 100
const HTTP_ROUNDS = quick ? 1 : 5
const HTTP_SECONDS = 2
const MEMORY = quick ? [100_000, 20_000] : [500_000, 50_000]
const LONG_ID = 2800
/** The heap the default cache may take, as the README states it. */
const MEMORY_BOUND = 4 * 1024 * 1024
const started = Date.now()
const log = (line) => process.stderr.write(line + '\n')

log(`micro-benchmarks: ${ROUNDS} rounds`)
const cases = await buildCases()
const verify = await runGroup(cases.verify, { rounds: ROUNDS, cpuTimeMs: CPU_MS, log })
const create = await runGroup(cases.create, { rounds: ROUNDS, cpuTimeMs: CPU_MS, log })
const scaling = await runGroup(cases.scaling, { rounds: ROUNDS, cpuTimeMs: CPU_MS, log })
const noSubscriber = await runGroup(cases.noSubscriber, { rounds: 1, cpuTimeMs: CPU_MS, log })
log('goal pairs, interleaved')
const pairs = Object.fromEntries(Object.entries(cases.pairs).map(([name, [a, b]]) => [name, interleavedRatio(a, b, quick ? { batches: 300 } : {})]))
const scalingOrder = cases.order
await cases.close()

log('memory: distinct tokens through the default cache, short and long user ids')
const memoryRun = (total, idLength) => JSON.parse(execFileSync(process.execPath, ['--expose-gc', new URL('./memory.mjs', import.meta.url).pathname, String(total), String(idLength)], { encoding: 'utf8' }))
const memory = [memoryRun(MEMORY[0], 0), memoryRun(MEMORY[1], LONG_ID)]

log(`HTTP: ${HTTP_ROUNDS} rounds of ${HTTP_SECONDS} s per run`)
const http = await runHttp({ rounds: HTTP_ROUNDS, seconds: HTTP_SECONDS, log })

// ---- tables
const ns = (x) => x >= 10000 ? `${(x / 1000).toFixed(1)} µs` : x >= 1000 ? `${(x / 1000).toFixed(2)} µs` : x >= 10 ? `${x.toFixed(0)} ns` : `${x.toFixed(1)} ns`
const r2 = (x) => `${x.toFixed(2)}x`
function microTable (rounds, baseline) {
  const s = summarise(rounds, (name) => name === baseline ? undefined : baseline)
  const rows = Object.keys(s).sort((a, b) => s[a].median - s[b].median)
  return ['| case | median per op | vs baseline |', '| --- | ---: | ---: |',
    ...rows.map((n) => `| ${n} | ${ns(s[n].median)} | ${n === baseline ? '1.00x' : r2(s[n].ratio)} |`)].join('\n')
}
function seriesTable (rounds, names, prefixOf) {
  const groups = {}
  for (const n of names) (groups[prefixOf(n)] ??= []).push(n)
  const lines = ['| case | median per op | vs first of its series |', '| --- | ---: | ---: |']
  for (const list of Object.values(groups)) {
    for (const n of list) lines.push(`| ${n} | ${ns(median(rounds.map((r) => r[n])))} | ${r2(pairedRatio(rounds, n, list[0]))} |`)
  }
  return lines.join('\n')
}
const runs = http.runs
const rps = http.results.map((r) => Object.fromEntries(runs.map((c) => [c, r[c].rps])))
const cap = http.results.map((r) => Object.fromEntries(runs.map((c) => [c, 1 / r[c].cpuPerRequest])))
const cpuOf = (c) => median(http.results.map((r) => r[c].cpuPerRequest))
function httpTable (workload, names, baseline) {
  const key = (n) => `${workload}: ${n}`
  return [`| server | req/s (median) | server CPU per request | capacity vs ${baseline} |`, '| --- | ---: | ---: | ---: |',
    ...names.map((n) => `| ${n} | ${Math.round(median(rps.map((r) => r[key(n)])))} | ${cpuOf(key(n)).toFixed(1)} µs | ${r2(pairedRatio(cap, key(n), key(baseline)))} |`)].join('\n')
}

// ---- goals
const V = (a, b) => pairedRatio(verify, a, b)
const C = (workload, a, b) => pairedRatio(cap, `${workload}: ${a}`, `${workload}: ${b}`)
const ours = 'this package: '
const ss = '@fastify/secure-session: decode'
const atMost = (limit) => (x) => x <= limit
const atLeast = (limit) => (x) => x >= limit
const [one, turn, skew] = WORKLOADS
const bareCpu = cpuOf(`${one}: bare`) * 1000
const P = (name) => pairs[name].ratio
const goals = [
  ['1a. verify, first seen ≤ 0.85x @fastify/secure-session decode', P('first seen / secure-session decode'), atMost(0.85)],
  ['1b. verify, first seen ≤ 1.1x the same verifier with the cache off', P('first seen / cache off'), atMost(1.1)],
  ['2a. standalone getSession ≤ 0.8x @fastify/secure-session decode', P('getSession / secure-session decode'), atMost(0.8)],
  ['2b. getSession, bad signature ≤ 0.5x @fastify/secure-session decode', P('getSession, bad signature / secure-session decode'), atMost(0.5)],
  [`3a. HTTP, ${turn}: capacity ≥ 1.2x @fastify/secure-session`, C(turn, 'this package', '@fastify/secure-session'), atLeast(1.2)],
  [`3b. HTTP, ${turn}: capacity ≥ 0.95x bare + @fastify/cookie`, C(turn, 'this package', 'bare + @fastify/cookie'), atLeast(0.95)],
  [`3c. HTTP, ${skew}: capacity ≥ 1.2x @fastify/secure-session`, C(skew, 'this package', '@fastify/secure-session'), atLeast(1.2)],
  [`3d. HTTP, ${skew}: capacity ≥ 0.95x bare + @fastify/cookie`, C(skew, 'this package', 'bare + @fastify/cookie'), atLeast(0.95)],
  ['4. HTTP, one repeated cookie: capacity ≥ 0.98x bare Fastify (no cookie handling)', C(one, 'this package', 'bare'), atLeast(0.98)],
  ['5. Cookie header with 50 other cookies: our scan ≤ 1x @fastify/cookie\'s parse', P('scan of 50 other cookies / @fastify/cookie parse'), atMost(1)],
  ['6a. cross-origin check on GET: capacity with it ≥ 0.98x with csrf: false', C(one, 'this package', 'this package, csrf: false'), atLeast(0.98)],
  ['(hardening: a header of 50,000 segments without "=" vs 5,000: ≤ 11x for 10x the length)', P('scan of 50,000 / 5,000 segments without "="'), atMost(11)],
  ['(1a with the cache off, for reference)', V(ours + 'cache off', ss), () => null],
  ['(verify, seen again, for reference)', V(ours + 'seen again (cache hit)', ss), () => null],
  ['(create vs @fastify/cookie sign, for reference)', pairedRatio(create, ours + 'createSession', '@fastify/cookie: sign'), () => null]
]
const diagnostics = median(noSubscriber.map((r) => r['diagnostics channel: no subscriber, the check per event']))
const mb = (b) => `${(b / 1024 / 1024).toFixed(1)} MB`
const memoryMet = memory.every((m) => m.maxGrowth <= MEMORY_BOUND)
const goalTable = ['| goal | measured | met |', '| --- | ---: | :---: |',
  ...goals.map(([g, x, ok]) => `| ${g} | ${r2(x)} | ${ok(x) === null ? '' : ok(x) ? 'yes' : 'no'} |`),
  `| 6b. diagnostics channel without a subscriber: one property read per event | ${ns(diagnostics)}, ${(100 * diagnostics / bareCpu).toFixed(3)}% of a bare request | ${diagnostics / bareCpu < 0.001 ? 'yes' : 'no'} |`,
  `| 7. the default cache's heap stays under ${mb(MEMORY_BOUND)}, with short and with ${LONG_ID.toLocaleString('en')}-character user ids | ${memory.map((m) => mb(m.maxGrowth)).join(', ')} | ${memoryMet ? 'yes' : 'no'} |`].join('\n')

const pkg = (name) => JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url))).version
const versions = ['fastify', '@fastify/cookie', '@fastify/secure-session', '@fastify/jwt', 'fast-jwt', 'iron-session', 'autocannon', 'mitata'].map((n) => `${n} ${pkg(n)}`).join(', ')
const self = JSON.parse(readFileSync(new URL('../package.json', import.meta.url))).version
const machine = `${cpus().length} × ${cpus()[0].model.trim()}, ${mb(totalmem()).replace(' MB', '')} MB RAM`
const memoryLine = (m) => `${m.total.toLocaleString('en')} distinct tokens with ${m.idLength.toLocaleString('en')}-character user ids (${m.tokenLength.toLocaleString('en')}-character tokens): ${m.samples.map(mb).join(', ')}`

const report = `# Benchmark results

Made by \`npm run bench\`${quick ? ' --quick' : ''} on ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, ${machine}.
fastify-dbbasic-sessions ${self}; ${versions}.
Every ratio compares two cases measured in the same round (median over ${ROUNDS} micro rounds, ${HTTP_ROUNDS} HTTP rounds); absolute times are for orientation only, the machine is shared. The micro goals (1, 2, 5) are measured once more by alternating batches of 100 calls of the two cases, 1,500 of each, and compare their lower deciles: on a shared machine the slow batches measure the neighbours.

## Goals

${goalTable}

## Verify (per token)

"First seen" takes 5,000 distinct tokens in turn, through a new verifier (cache of 10,000) each time round; "cache off" the same tokens; each a fresh slice of a Cookie header as a request hands it over.

${microTable(verify, 'baseline: node:crypto verify')}

## Create (per token)

${microTable(create, 'baseline: node:crypto create')}

## How cost grows

${seriesTable(scaling, scalingOrder, (n) => n.split(':')[0])}

## Memory

Heap growth after GC, sampled ten times, while distinct tokens go through the plugin's verifier with the default cache (${memory[0].cacheSize.toLocaleString('en')} entries), each token twice in a row so that the cache takes every one in, and each a slice of a 500-byte Cookie header:

- ${memory.map(memoryLine).join('\n- ')}.

The cache holds at most ${memory[0].cacheSize.toLocaleString('en')} tokens and at most 256 bytes of token and user-id text per entry on average, so long ids make fewer entries, not a bigger heap; nothing else grows per session.

## HTTP (hello-world route, 127.0.0.1, 10 connections${http.pinned ? ', server on core 1, autocannon on core 0' : ''}, ${HTTP_SECONDS} s per run)

### ${one}

${httpTable(one, ONE_COOKIE, 'bare')}

### ${turn}

Each request carries the next of ${(50_000).toLocaleString('en')} valid sessions, in turn: the cache (10,000) never holds the one asked for.

${httpTable(turn, MANY, 'bare + @fastify/cookie')}

### ${skew}

A fixed pseudo-random sequence: 90% of the requests come from 20 users, the rest from the other ${(49_980).toLocaleString('en')}.

${httpTable(skew, MANY, 'bare + @fastify/cookie')}

"Capacity" is the inverse of the server's CPU time per request (process.cpuUsage() over the run), which is what req/s becomes once the server, not the load generator, is the bottleneck. Every request carries two other cookies besides the session.
`
writeFileSync(new URL('./RESULTS.md', import.meta.url), report)
console.log(report)
log(`bench finished in ${((Date.now() - started) / 1000).toFixed(0)} s; wrote bench/RESULTS.md`)
