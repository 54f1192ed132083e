// `node bench/profile.mjs [seconds] [case...] [--node-flag...]`: where a server's CPU goes, for finding
// cost, not for goals. Each case runs forked (IPC channel) and spawned (none) under
// a CPU profile of the loaded window (node:inspector, 100 µs sampling), one repeated cookie, 50 connections; the profile's self time is summed
// by where the code lives and printed per request. Profiles stay in scratch/profiles/.
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { load, start, STYLES, WORKLOADS } from './http.mjs'

const flags = process.argv.slice(2).filter((a) => a.startsWith('--'))
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const seconds = Number(args[0] ?? 5)
const cases = args.length > 1 ? args.slice(1) : ['bare', 'bare + both empty', 'this package']
const dir = new URL('../scratch/profiles/', import.meta.url).pathname

// Where a frame's code lives: this package, Fastify and its own dependencies, Node, V8.
function placeOf (frame) {
  const { url, functionName } = frame.callFrame
  if (url === '') return functionName.startsWith('(') ? functionName : `(native) ${functionName}`
  if (url.includes('/dist/')) return 'this package'
  const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)
  if (m) return m[1]
  if (url.startsWith('node:')) return 'node: ' + url.slice(5).split('/')[0]
  return url.split('/').slice(-1)[0]
}

function summarise (file, requests) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const interval = new Map()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]
    interval.set(id, (interval.get(id) ?? 0) + profile.timeDeltas[i])
  }
  const byPlace = new Map()
  const byFunction = new Map()
  for (const [id, us] of interval) {
    const node = byId.get(id)
    const place = placeOf(node)
    byPlace.set(place, (byPlace.get(place) ?? 0) + us)
    const fn = `${place}: ${node.callFrame.functionName || '(anonymous)'}:${node.callFrame.lineNumber + 1}`
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us)
  }
  const busy = [...byPlace].filter(([p]) => p !== '(idle)').reduce((a, [, us]) => a + us, 0)
  return { busy, requests, byPlace: [...byPlace].sort((a, b) => b[1] - a[1]), byFunction: [...byFunction].sort((a, b) => b[1] - a[1]) }
}

rmSync(dir, { recursive: true, force: true })
for (const style of STYLES) {
  for (const name of cases) {
    const out = join(dir, `${style} ${name}`.replace(/[^a-z0-9]+/gi, '-'))
    mkdirSync(out, { recursive: true })
    const server = await start(name, 1, { ipc: style === STYLES[0], pin: true, flags })
    await load(server, WORKLOADS[0], 1)
    await server.ask('profile-start')
    const before = await server.cpu()
    const result = await load(server, WORKLOADS[0], seconds)
    const cpu = (await server.cpu()) - before
    const file = join(out, 'run.cpuprofile')
    await server.ask(`profile-stop:${file}`)
    server.stop()
    const s = summarise(file, result.requests.total)
    s.cpu = cpu / result.requests.total
    const per = (us) => (us / s.requests).toFixed(2)
    console.log(`\n## ${style}: ${name} — ${s.requests} requests (1 s warm-up and ${seconds} s), ${per(s.busy)} µs sampled (not idle) and ${s.cpu.toFixed(2)} µs of CPU (process.cpuUsage) per request`)
    console.log('| where | µs per request |\n| --- | ---: |')
    for (const [place, us] of s.byPlace.slice(0, 14)) console.log(`| ${place} | ${per(us)} |`)
    console.log('\ntop functions (self):')
    for (const [fn, us] of s.byFunction.slice(0, 15)) console.log(`  ${per(us).padStart(6)} µs  ${fn}`)
  }
}
