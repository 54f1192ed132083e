// Starts the demo (example/server.js) as a real process, as `npm run demo` does.
// Shared by the demo test and the end-to-end tests; not a test itself.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { once } from 'node:events'
import type { Test } from 'tap'

const root = new URL('..', import.meta.url)

export interface Demo {
  base: string
  port: number
  output: () => string
  child: ChildProcess
  /** SIGTERM, and wait for the exit. */
  stop: () => Promise<void>
}

export async function startDemo (t: Test, env: Record<string, string>): Promise<Demo> {
  if (!existsSync(new URL('dist/index.js', root))) throw new Error('dist/ is missing: run `npm run build` (npm install does it) before the tests')
  // A clean environment: the demo must not inherit the test runner's coverage hooks.
  const child = spawn(process.execPath, ['example/server.js'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  }
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
  return { base, port: Number(new URL(base).port), output: () => output, child, stop }
}
