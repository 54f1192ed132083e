// Starts the demo (example/server.js) as a real process, as `npm run demo` does.
// Shared by the demo's process test and the end-to-end tests; not a test itself.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { root } from '../paths.js'

export interface Demo {
  base: string
  port: number
  /** The folder of the demo's SQLite file (DATA_DIR). */
  dataDir: string
  output: () => string
  child: ChildProcess
  /** SIGTERM, and wait for the exit. */
  stop: () => Promise<void>
}

/**
 * A fresh DATA_DIR, removed when the test ends (after every demo using it has stopped).
 * Pass it as DATA_DIR to several demos to have them share one database.
 */
export function demoDataDir (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'demo-data-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * Unless `env` says otherwise: PORT 0 (any free port), a DATA_DIR of its own (removed
 * at teardown), and RATE_LIMIT_MAX 10000 so that tests signing in often are not
 * throttled.
 */
export async function startDemo (t: Test, env: Record<string, string>): Promise<Demo> {
  if (!existsSync(new URL('dist/index.js', root))) throw new Error('dist/ is missing: run `npm run build` (npm install does it) before the tests')
  const dataDir = env.DATA_DIR ?? demoDataDir(t)
  // A clean environment: the demo must not inherit the test runner's coverage hooks.
  const child = spawn(process.execPath, ['example/server.js'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: '0', RATE_LIMIT_MAX: '10000', ...env, DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  }
  // Teardowns run last-registered first, so the demo stops before its DATA_DIR goes.
  t.teardown(stop)
  let output = ''
  child.stderr?.on('data', (chunk) => { output += chunk })
  const base = await new Promise<string>((resolve, reject) => {
    // Loading the demo (fastify, libsql, a first scrypt hash) took over 15 s on the 2-core machine under load.
    const timer = setTimeout(() => reject(new Error(`the demo did not start within 30 s:\n${output}`)), 30_000)
    child.stdout?.on('data', (chunk) => {
      output += chunk
      const match = /Demo listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match !== null) {
        clearTimeout(timer)
        resolve(match[1])
      }
    })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the demo exited (${code}):\n${output}`)) })
  })
  return { base, port: Number(new URL(base).port), dataDir, output: () => output, child, stop }
}
