// `npm run bench:micro`: the micro-benchmark tables (verify, create, how cost grows)
// against node:crypto and the peers, iron-session 9 on a Node from the npm `node`
// package (it needs 22.13 or later). Writes bench/MICRO.md. The goals are `npm run bench`'s.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cpus } from 'node:os'
import { buildCases, runGroup } from './micro.mjs'
import { median, pairedRatio, summarise } from './stats.mjs'

const quick = process.argv.includes('--quick')
const ROUNDS = quick ? 2 : 5
const CPU_MS = quick ? 30 : 100
const started = Date.now()
const log = (line) => process.stderr.write(line + '\n')
const root = new URL('..', import.meta.url).pathname

// The same place test:node-versions installs it, so one install serves both.
function newerNode (major = '24') {
  const dir = join(root, '.cache', `node-${major}`)
  const node = join(dir, 'node_modules', '.bin', 'node')
  if (!existsSync(node)) {
    mkdirSync(dir, { recursive: true })
    log(`installing node@${major} from the npm registry into ${dir} (for iron-session 9)`)
    execFileSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error', `node@${major}`], { stdio: 'inherit' })
  }
  return node
}

log(`micro-benchmarks: ${ROUNDS} rounds`)
const cases = await buildCases()
const verify = await runGroup(cases.verify, { rounds: ROUNDS, cpuTimeMs: CPU_MS, log })
const create = await runGroup(cases.create, { rounds: ROUNDS, cpuTimeMs: CPU_MS, log })
const scaling = await runGroup(cases.scaling, { rounds: ROUNDS, cpuTimeMs: CPU_MS, log })
await cases.close()
log('iron-session 9, on a Node from the npm package')
const iron = JSON.parse(execFileSync(newerNode(), [join(root, 'bench', 'iron.mjs'), String(quick ? 1 : 3)], { encoding: 'utf8' }))

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
const only = (rounds, names) => rounds.map((r) => Object.fromEntries(names.map((n) => [n, r[n]])))
const pkg = (name) => JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url))).version
const versions = ['fastify', '@fastify/cookie', '@fastify/secure-session', '@fastify/jwt', 'fast-jwt', 'iron-session', 'mitata'].map((n) => `${n} ${pkg(n)}`).join(', ')
const report = `# Micro-benchmarks

Made by \`npm run bench:micro\`${quick ? ' --quick' : ''} on ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, ${cpus().length} × ${cpus()[0].model.trim()}; ${versions}.
Each case once per round, ${ROUNDS} rounds; a ratio is the median of same-round ratios. The goals are in RESULTS.md.

## Verify (per token)

"First seen" takes 5,000 distinct tokens in turn, through a new verifier (cache of 10,000) each time round; "cache off" the same tokens; each a fresh slice of a Cookie header as a request hands it over.

${microTable(verify, 'baseline: node:crypto verify')}

## Create (per token)

${microTable(create, 'baseline: node:crypto create')}

## iron-session ${iron.ironSession} (on Node ${iron.node} from the npm \`node\` package: it needs 22.13 or later)

Measured beside the same node:crypto baseline in that process; compare the ratios, not the times, with the tables above.

${microTable(only(iron.results, ['baseline: node:crypto verify', 'iron-session: unseal']), 'baseline: node:crypto verify')}

${microTable(only(iron.results, ['baseline: node:crypto create', 'iron-session: seal']), 'baseline: node:crypto create')}

## How cost grows

${seriesTable(scaling, cases.order, (n) => n.split(':')[0])}
`
writeFileSync(new URL('./MICRO.md', import.meta.url), report)
console.log(report)
log(`bench:micro finished in ${((Date.now() - started) / 1000).toFixed(0)} s; wrote bench/MICRO.md`)
