// `npm run test:node-versions`: the tap suite, the demo's tests and the pack check again
// on Node 22 and 24, using the Node binaries the npm registry ships as the `node` package, installed
// once into .cache/ (the machine's own Node runs `npm test`).
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const versions = (process.env.NODE_VERSIONS ?? '22,24').split(',')
const failed = []

// tap runs the compiled tests (.build/, written by `npm run typecheck`) and the demo
// loads dist/: make both once here, with this machine's Node, so that this command
// works on its own.
execFileSync('npm', ['run', 'typecheck'], { cwd: root, stdio: 'inherit' })
execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
const demoTests = readdirSync(join(root, '.build', 'test', 'demo'))
  .filter((name) => name.endsWith('.test.js'))
  .map((name) => join('.build', 'test', 'demo', name))

for (const major of versions) {
  const dir = join(root, '.cache', `node-${major}`)
  const node = join(dir, 'node_modules', '.bin', 'node')
  if (!existsSync(node)) {
    mkdirSync(dir, { recursive: true })
    console.log(`installing node@${major} from the npm registry into ${dir}`)
    execFileSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error', `node@${major}`], { stdio: 'inherit' })
  }
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
  console.log(`\n== Node ${version}: tap suite`)
  const tap = spawnSync(node, [join(root, 'node_modules', '.bin', 'tap')], { cwd: root, stdio: 'inherit' })
  console.log(`\n== Node ${version}: the demo's tests (libsql's binary, the demo as a process)`)
  const demo = spawnSync(node, [join(root, 'node_modules', '.bin', 'tap'), '--disable-coverage', ...demoTests], { cwd: root, stdio: 'inherit' })
  console.log(`\n== Node ${version}: packed tarball through import and require()`)
  const pack = spawnSync(node, [join(root, 'test', 'pack-smoke.mjs')], { cwd: root, stdio: 'inherit' })
  if (tap.status !== 0) failed.push(`tap on ${version}`)
  if (demo.status !== 0) failed.push(`demo tests on ${version}`)
  if (pack.status !== 0) failed.push(`pack check on ${version}`)
}

if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`)
  process.exit(1)
}
console.log(`\nNode ${versions.join(' and ')}: every test passed`)
