// A database server as a child process the tests can stop, kill -9 and start again on
// the same port and data. Shared by postgres.ts and redis.ts; not a test itself.
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs'
import { once } from 'node:events'
import type { Test } from 'tap'

export interface Server {
  /** The port on 127.0.0.1, the same across restarts. */
  port: number
  /** Graceful shutdown (what the service manager does); resolves once the process has exited. */
  stop: () => Promise<void>
  /** kill -9 of the server and every process it started; resolves once all are gone. */
  kill: () => Promise<void>
  /** Starts it again on the same port and data; resolves once it answers. */
  start: () => Promise<void>
  /** Whether the server process is running. */
  running: () => boolean
  /** What the server has written to its log so far. */
  log: () => string
}

export interface ServerSpec {
  /** What Server.port reports. */
  port: number
  /** The temporary folder to remove at teardown. */
  dir: string
  /** The server's log file. */
  logFile: string
  command: string
  args: string[]
  /** Run as this user and group (root cannot run PostgreSQL). */
  uid?: number | undefined
  gid?: number | undefined
  /** The signal of a graceful stop. */
  stopSignal: NodeJS.Signals
  /** Resolves true once the server answers. */
  ready: () => Promise<boolean>
  /** Longest wait for readiness, and for an exit, in milliseconds. */
  waitMs: number
}

export const pause = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** Whether any process of the group led by `pid` is still alive. */
function groupAlive (pid: number): boolean {
  try {
    process.kill(-pid, 0)
    return true
  } catch {
    return false
  }
}

const killers = new Set<() => void>()
// A test that crashes must not leave a database behind.
process.once('exit', () => { for (const kill of killers) kill() })

/** Starts the server and registers its cleanup with the test. */
export async function manage (t: Test, spec: ServerSpec): Promise<Server> {
  let child: ChildProcess | null = null
  const log = (): string => { try { return readFileSync(spec.logFile, 'utf8') } catch { return '' } }
  const killGroup = (): void => {
    if (child?.pid !== undefined && groupAlive(child.pid)) process.kill(-child.pid, 'SIGKILL')
  }
  killers.add(killGroup)

  const exited = async (): Promise<void> => {
    const pid = child?.pid
    if (child === null || pid === undefined) return
    const deadline = Date.now() + spec.waitMs
    if (child.exitCode === null && child.signalCode === null) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([once(child, 'exit'), new Promise((resolve) => { timer = setTimeout(resolve, spec.waitMs) })])
      clearTimeout(timer)
    }
    // Its workers too: PostgreSQL refuses to start while an old backend still holds its memory.
    while (groupAlive(pid)) {
      if (Date.now() > deadline) throw new Error(`${spec.command} did not exit within ${spec.waitMs} ms`)
      await pause(20)
    }
    child = null
  }

  const start = async (): Promise<void> => {
    if (child !== null) throw new Error(`${spec.command} is already running`)
    const deadline = Date.now() + spec.waitMs
    // PostgreSQL's backends leave the postmaster's process group (setsid), so after a
    // kill -9 one may still hold the shared memory for a moment and the restart exits:
    // try again until the deadline.
    for (;;) {
      try {
        await launch(deadline)
        return
      } catch (err) {
        if (child !== null || Date.now() > deadline) throw err
        await pause(200)
      }
    }
  }

  const launch = async (deadline: number): Promise<void> => {
    const fd = openSync(spec.logFile, 'a')
    const started = spawn(spec.command, spec.args, {
      stdio: ['ignore', fd, fd],
      detached: true,
      ...(spec.uid === undefined ? {} : { uid: spec.uid }),
      ...(spec.gid === undefined ? {} : { gid: spec.gid })
    })
    closeSync(fd)
    child = started
    for (;;) {
      if (started.exitCode !== null || started.signalCode !== null) {
        child = null
        throw new Error(`${spec.command} exited at start:\n${log()}`)
      }
      if (await spec.ready()) return
      if (Date.now() > deadline) throw new Error(`${spec.command} did not answer within ${spec.waitMs} ms:\n${log()}`)
      await pause(50)
    }
  }

  const server: Server = {
    port: spec.port,
    start,
    running: () => child !== null,
    log,
    stop: async () => {
      if (child === null) return
      child.kill(spec.stopSignal)
      await exited()
    },
    kill: async () => {
      killGroup()
      await exited()
    }
  }
  t.teardown(async () => {
    killGroup()
    await exited()
    killers.delete(killGroup)
    rmSync(spec.dir, { recursive: true, force: true })
  })
  await start()
  return server
}
