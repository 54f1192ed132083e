// `node bench/hooks.mjs [rounds]`: where the plugin's cost on a request goes, for
// trimming it. Not part of `npm run bench`.
// 1. The bodies of the plugin's onRequest and onSend hooks, called directly with a
//    real request and reply, against an empty function, interleaved (ns per call).
// 2. Over HTTP, one repeated cookie, both harness styles: bare Fastify, bare with
//    empty hooks of the kinds the plugin adds (what Fastify's dispatch costs), and the plugin.
// `node bench/hooks.mjs [rounds] [seconds] [--http-only]`
import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import sessions, { createSession } from '../dist/index.js'
import { keyOf, plan, runHttp, STYLES, WORKLOADS } from './http.mjs'
import { interleavedRatio, median, spread } from './stats.mjs'

const secret = randomBytes(32).toString('hex')
const cookie = `_ga=GA1.2.1234567890.1700000000; theme=dark; __Host-Http-session=${createSession('42', { secret })}`

async function hooksOf (options) {
  const app = Fastify({ logger: false })
  const hooks = {}
  const addHook = app.addHook.bind(app)
  app.addHook = (name, fn) => { hooks[name] = fn; return addHook(name, fn) }
  await app.register(sessions, { secret, ...options })
  let captured
  app.get('/', async (request, reply) => { captured = { request, reply }; return {} })
  await app.inject({ url: '/', headers: { cookie } })
  const { request, reply } = captured
  const done = () => {}
  return {
    onRequest: () => hooks.onRequest.call(app, request, reply, done),
    onSend: () => hooks.onSend.call(app, request, reply, '{}', done),
    close: () => app.close()
  }
}

const empty = () => {}
if (!process.argv.includes('--http-only')) {
  console.log('| hook body (a cached session, GET) | over an empty function |\n| --- | ---: |')
  for (const [label, options] of [['default', {}], ['csrf: false', { csrf: false }]]) {
    const h = await hooksOf(options)
    for (const name of ['onRequest', 'onSend']) {
      const r = interleavedRatio(h[name], empty)
      console.log(`| ${name}, ${label} | ${(r.a - r.b).toFixed(0)} ns |`)
    }
    await h.close()
  }
}

const names = ['bare', 'bare, nextTick guard', 'bare + empty onRequest', 'bare + empty onSend', 'bare + both empty', 'this package']
const rounds = Number(process.argv[2] ?? 6)
const seconds = Number(process.argv[3] ?? 3)
const runs = plan({ oneCookie: names, many: [] })
const http = await runHttp({ runs, rounds, seconds, log: (l) => process.stderr.write(l + '\n') })
for (const style of STYLES) {
  const key = (n) => keyOf({ style, workload: WORKLOADS[0], name: n })
  const cpu = (n) => median(http.results.map((r) => r[key(n)].cpuPerRequest))
  const extra = (n) => http.results.map((r) => r[key(n)].cpuPerRequest - r[key('bare')].cpuPerRequest)
  const cap = (n) => http.results.map((r) => r[key('bare')].cpuPerRequest / r[key(n)].cpuPerRequest)
  console.log(`\n${style}\n| server | CPU per request | over bare (paired median, spread) | capacity vs bare |\n| --- | ---: | ---: | ---: |`)
  for (const n of names) console.log(`| ${n} | ${cpu(n).toFixed(2)} µs | ${(median(extra(n)) * 1000).toFixed(0)} ns (${spread(extra(n).map((x) => x * 1000), 0)}) | ${median(cap(n)).toFixed(3)}x (${spread(cap(n), 2)}) |`)
}
