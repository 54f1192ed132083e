// `npm run test:node-versions`: the tap suite, the demo's tests, the pack check and the
// runtime smoke test (test/runtimes/smoke.mjs) again on Node 22, 24 and 26, then the
// smoke test on Bun and on Deno. Every runtime comes from the npm registry, binaries
// included (the `node`, `bun` and `deno` packages), installed once into .cache/; the
// machine's own Node runs `npm test`. NODE_VERSIONS and RUNTIMES narrow the matrix.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const versions = (process.env.NODE_VERSIONS ?? '22,24,26').split(',').filter(Boolean)
const others = { bun: 'bun@^1.4', deno: 'deno@^2.9' }
const runtimes = (process.env.RUNTIMES ?? 'bun,deno').split(',').filter(Boolean)
const failed = []
const ran = []

/** The binary of an npm package (node, bun, deno) installed under .cache/. */
function install (name, spec, bin) {
  const dir = join(root, '.cache', spec.replace(/[^\w.-]+/g, '-'))
  const file = join(dir, 'node_modules', '.bin', bin)
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true })
    console.log(`installing ${spec} from the npm registry into ${dir}`)
    execFileSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error', spec], { stdio: 'inherit' })
  }
  return file
}

function step (label, command, args) {
  console.log(`\n== ${label}`)
  const started = Date.now()
  const run = spawnSync(command, args, { cwd: root, stdio: 'inherit' })
  const seconds = ((Date.now() - started) / 1000).toFixed(0)
  ran.push(`${label}: ${run.status === 0 ? 'passed' : 'FAILED'} (${seconds} s)`)
  if (run.status !== 0) failed.push(label)
}

// tap runs the compiled tests (.build/, written by `npm run typecheck`) and the demo
// loads dist/: make both once here, with this machine's Node, so that this command
// works on its own.
execFileSync('npm', ['run', 'typecheck'], { cwd: root, stdio: 'inherit' })
execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
const demoTests = readdirSync(join(root, '.build', 'test', 'demo'))
  .filter((name) => name.endsWith('.test.js'))
  .map((name) => join('.build', 'test', 'demo', name))
const tap = join(root, 'node_modules', '.bin', 'tap')
const smoke = join(root, 'test', 'runtimes', 'smoke.mjs')

for (const major of versions) {
  const node = install('node', `node@${major}`, 'node')
  const version = 'Node ' + execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
  step(`${version}: tap suite`, node, [tap])
  step(`${version}: the demo's tests (libsql's binary, the demo as a process)`, node, [tap, '--disable-coverage', ...demoTests])
  step(`${version}: packed tarball through import and require()`, node, [join(root, 'test', 'pack-smoke.mjs')])
  step(`${version}: runtime smoke test`, node, [smoke])
}
for (const name of runtimes) {
  const bin = install(name, others[name], name)
  const version = `${name === 'bun' ? 'Bun' : 'Deno'} ${/\d+\.\d+\.\d+/.exec(execFileSync(bin, ['--version'], { encoding: 'utf8' }))?.[0]}`
  step(`${version}: runtime smoke test`, bin, name === 'deno' ? ['run', '-A', smoke] : [smoke])
}

console.log(`\n${ran.join('\n')}`)
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`)
  process.exit(1)
}
console.log(`\n${ran.length} runs, every one passed`)
