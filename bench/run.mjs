// `npm run bench`: micro-benchmarks, cost scaling, memory and HTTP, in one run.
// Prints the tables and writes bench/RESULTS.md. Every ratio compares two cases
// measured in the same round; the figure shown is the median over rounds.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { buildCases, runGroup } from './micro.mjs'
import { runHttp, HTTP_CASES } from './http.mjs'
import { median, pairedRatio, summarise } from './stats.mjs'

const quick = process.argv.includes('--quick')
const ROUNDS = quick ? 2 : 5
const CPU_MS = quick ? 30 : 100
const HTTP_ROUNDS = quick ? 1 : 4
const HTTP_SECONDS = quick ? 2 : 5
const started = Date.now()
const log = (line) => process.stderr.write(line + '\n')

log(`micro-benchmarks: ${ROUNDS} rounds`)
const cases = await buildCases()
const verify = await runGroup(cases.verify, { rounds: ROUNDS, cpuTimeMs: CPU_MS, log })
const create = await runGroup(cases.create, { rounds: ROUNDS, cpuTimeMs: CPU_MS, log })
const scaling = await runGroup(cases.scaling, { rounds: ROUNDS, cpuTimeMs: CPU_MS, log })
const scalingOrder = cases.order
await cases.close()

log('memory: 1,000,000 verifications of distinct tokens')
const memory = JSON.parse(execFileSync(process.execPath, ['--expose-gc', new URL('./memory.mjs', import.meta.url).pathname, quick ? '200000' : '1000000'], { encoding: 'utf8' }))

log(`HTTP: ${HTTP_ROUNDS} rounds of ${HTTP_SECONDS} s per case`)
const http = await runHttp({ rounds: HTTP_ROUNDS, seconds: HTTP_SECONDS, log })

// ---- tables
const ns = (x) => x >= 10000 ? `${(x / 1000).toFixed(1)} µs` : x >= 1000 ? `${(x / 1000).toFixed(2)} µs` : `${x.toFixed(0)} ns`
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
const httpRps = http.results.map((r) => Object.fromEntries(HTTP_CASES.map((c) => [c, r[c].rps])))
const httpCap = http.results.map((r) => Object.fromEntries(HTTP_CASES.map((c) => [c, 1 / r[c].cpuPerRequest])))
const httpTable = ['| server | req/s (median) | req/s vs bare + @fastify/cookie | server CPU per request | capacity vs bare + @fastify/cookie |', '| --- | ---: | ---: | ---: | ---: |',
  ...HTTP_CASES.map((c) => `| ${c} | ${Math.round(median(httpRps.map((r) => r[c])))} | ${r2(pairedRatio(httpRps, c, 'bare + @fastify/cookie'))} | ${median(http.results.map((r) => r[c].cpuPerRequest)).toFixed(1)} µs | ${r2(pairedRatio(httpCap, c, 'bare + @fastify/cookie'))} |`)].join('\n')

// ---- goals
const V = (a, b) => pairedRatio(verify, a, b)
const ours = 'this package: '
const goals = [
  ['1a. verify, first seen ≤ 0.8x @fastify/secure-session decode', V(ours + 'first seen (cache miss)', '@fastify/secure-session: decode'), (x) => x <= 0.8],
  ['1b. verify, first seen ≤ 0.6x fast-jwt without cache', V(ours + 'first seen (cache miss)', 'fast-jwt HS256: verify, no cache'), (x) => x <= 0.6],
  ['(1a with the cache off, for reference)', V(ours + 'cache off', '@fastify/secure-session: decode'), () => null],
  ['2. verify, seen again ≤ 0.15x @fastify/secure-session decode', V(ours + 'seen again (cache hit)', '@fastify/secure-session: decode'), (x) => x <= 0.15],
  ['3a. HTTP capacity ≥ 0.95x bare + @fastify/cookie', pairedRatio(httpCap, 'this package', 'bare + @fastify/cookie'), (x) => x >= 0.95],
  ['3b. HTTP capacity vs the best peer plugin (> 1 beats it)', Math.min(pairedRatio(httpCap, 'this package', '@fastify/secure-session'), pairedRatio(httpCap, 'this package', '@fastify/jwt (cookie)')), (x) => x > 1],
  ['4. create ≤ 0.9x @fastify/cookie sign', pairedRatio(create, ours + 'createSession', '@fastify/cookie: sign'), (x) => x <= 0.9]
]
const mb = (b) => `${(b / 1024 / 1024).toFixed(1)} MB`
const memoryMet = memory.maxGrowth <= memory.bound * 1.25 + 1024 * 1024
const goalTable = ['| goal | measured | met |', '| --- | ---: | :---: |',
  ...goals.map(([g, x, ok]) => `| ${g} | ${r2(x)} | ${ok(x) === null ? '' : ok(x) ? 'yes' : 'no'} |`),
  `| 5. heap over ${memory.total.toLocaleString('en')} distinct verifications stays within the cache's bound (${memory.cacheSize} entries × ${(memory.perEntry).toFixed(0)} B = ${mb(memory.bound)}) | max growth ${mb(memory.maxGrowth)} | ${memoryMet ? 'yes' : 'no'} |`].join('\n')

const pkg = (name) => JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url))).version
const versions = ['fastify', '@fastify/cookie', '@fastify/secure-session', '@fastify/jwt', 'fast-jwt', 'iron-session', 'autocannon', 'mitata'].map((n) => `${n} ${pkg(n)}`).join(', ')
const self = JSON.parse(readFileSync(new URL('../package.json', import.meta.url))).version
const machine = `${cpus().length} × ${cpus()[0].model.trim()}, ${mb(totalmem()).replace(' MB', '')} MB RAM`

const report = `# Benchmark results

Made by \`npm run bench\`${quick ? ' --quick' : ''} on ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, ${machine}.
fastify-dbbasic-sessions ${self}; ${versions}.
Every ratio compares two cases measured in the same round (median over ${ROUNDS} micro rounds, ${HTTP_ROUNDS} HTTP rounds); absolute times are for orientation only, the machine is shared.

## Goals

${goalTable}

## Verify (per token)

${microTable(verify, 'baseline: node:crypto verify')}

## Create (per token)

${microTable(create, 'baseline: node:crypto create')}

## How cost grows

${seriesTable(scaling, scalingOrder, (n) => n.split(':')[0])}

## Memory

${memory.total.toLocaleString('en')} verifications of distinct tokens (each a slice of a 500-byte Cookie header) through the plugin's verifier with the default cache of ${memory.cacheSize} tokens: heap growth after GC, every 100,000: ${memory.samples.map(mb).join(', ')}. One cached token costs about ${memory.perEntry.toFixed(0)} bytes, so the cache is bounded at about ${mb(memory.bound)}; nothing else grows per session.

## HTTP (hello-world route, 127.0.0.1, 10 connections${http.pinned ? ', server on core 1, autocannon on core 0' : ''})

${httpTable}

"Capacity" is the inverse of the server's CPU time per request (process.cpuUsage() over the run), which is what req/s becomes once the server, not the load generator, is the bottleneck.
`
writeFileSync(new URL('./RESULTS.md', import.meta.url), report)
console.log(report)
log(`bench finished in ${((Date.now() - started) / 1000).toFixed(0)} s; wrote bench/RESULTS.md`)
