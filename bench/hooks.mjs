// `node bench/hooks.mjs`: where the plugin's cost on a request goes, for trimming
// it. Over HTTP, one repeated cookie: bare Fastify, bare with empty hooks of the
// kinds the plugin adds, and the plugin. Not part of `npm run bench`.
import { runHttp, WORKLOADS } from './http.mjs'
import { median, pairedRatio } from './stats.mjs'

const names = ['bare', 'bare + empty onRequest', 'bare + empty onSend', 'bare + both empty', 'this package', 'this package, csrf: false']
const rounds = Number(process.argv[2] ?? 6)
const http = await runHttp({ rounds, seconds: 3, log: (l) => process.stderr.write(l + '\n'), oneCookie: names, many: [] })
const key = (n) => `${WORKLOADS[0]}: ${n}`
const cpu = (n) => median(http.results.map((r) => r[key(n)].cpuPerRequest))
const cap = http.results.map((r) => Object.fromEntries(names.map((n) => [n, 1 / r[key(n)].cpuPerRequest])))
const extra = (n) => median(http.results.map((r) => r[key(n)].cpuPerRequest - r[key('bare')].cpuPerRequest))
console.log('| server | CPU per request | over bare (paired median) | capacity vs bare |\n| --- | ---: | ---: | ---: |')
for (const n of names) console.log(`| ${n} | ${cpu(n).toFixed(2)} µs | ${(extra(n) * 1000).toFixed(0)} ns | ${pairedRatio(cap, n, 'bare').toFixed(3)}x |`)
