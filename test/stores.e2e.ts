// Two real Fastify processes share each store (PostgreSQL, then Redis): a sign-out on one
// is refused on the other within `staleness`; the database is killed (-9), then stopped,
// mid-traffic and brought back: each process's onStale policy holds ('accept' on one,
// 'refuse' on the other), no 5xx but the 503 of a revocation tried while down, nothing
// stored before is lost, and both recover without a restart. Prints its figures.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { startPostgres } from './servers/postgres.js'
import { startRedis } from './servers/redis.js'
import type { Server } from './servers/process.js'
import { pause } from './servers/process.js'
import { waitFor, within } from './servers/wait.js'

const STALENESS = 1
const APP = fileURLToPath(new URL('./stores-app.js', import.meta.url))

interface App { name: string, base: string, /** What it logged (stdout) and wrote to stderr. */ output: () => string }

async function startApp (t: Test, name: string, store: string, url: string, onStale: string): Promise<App> {
  const child = spawn(process.execPath, [APP], {
    env: { ...process.env, STORE: store, STORE_URL: url, ON_STALE: onStale, STALENESS: String(STALENESS) },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let err = ''
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString('utf8') })
  t.teardown(async () => {
    if (child.exitCode !== null) return
    child.kill('SIGTERM')
    const exited = once(child, 'exit')
    await within(exited, 5000).catch(async () => { child.kill('SIGKILL'); await exited })
  })
  let out = ''
  const port = await within(new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8')
      const found = /^PORT=(\d+)$/m.exec(out)
      if (found !== null) resolve(Number(found[1]))
    })
    child.once('exit', (code) => reject(new Error(`${name} exited (${String(code)}): ${err}`)))
  }), 20_000)
  return { name, base: `http://127.0.0.1:${port}`, output: () => out + err }
}

const STALE = 'has not been read for over'
const RECOVERED = 'answers again'
/** How many times the app logged `text`. */
const count = (app: App, text: string): number => app.output().split(text).length - 1

const cookie = (token: string): Record<string, string> => ({ cookie: `__Host-Http-session=${token}` })
async function call (app: App, method: string, path: string, token?: string): Promise<number> {
  const response = await fetch(app.base + path, { method, headers: token === undefined ? {} : cookie(token), signal: AbortSignal.timeout(5000) })
  await response.arrayBuffer()
  return response.status
}
async function login (app: App, user: string): Promise<string> {
  const response = await fetch(`${app.base}/login?user=${user}`, { method: 'POST', signal: AbortSignal.timeout(5000) })
  return ((await response.json()) as { token: string }).token
}
/** Milliseconds until `app` answers `status` for the token's /private, polled every 10 ms. */
async function until (app: App, token: string, status: number, ms: number): Promise<number> {
  const start = Date.now()
  await waitFor(async () => await call(app, 'GET', '/private', token) === status, ms, `${app.name} to answer ${status}`)
  return Date.now() - start
}

/** GET /private with each token on each app, again and again, counting the statuses. */
function traffic (apps: App[], tokens: Record<string, string>): { stop: () => Promise<Map<string, Map<number, number>>>, requests: () => number } {
  const counts = new Map<string, Map<number, number>>()
  const running = { on: true }
  let requests = 0
  const loop = (async () => {
    while (running.on) {
      await Promise.all(apps.flatMap((app) => Object.entries(tokens).map(async ([what, token]) => {
        const status = await call(app, 'GET', '/private', token).catch(() => 0)
        const key = `${app.name} ${what}`
        const seen = counts.get(key) ?? new Map<number, number>()
        seen.set(status, (seen.get(status) ?? 0) + 1)
        counts.set(key, seen)
        requests++
      })))
      await pause(10)
    }
  })()
  return { stop: async () => { running.on = false; await loop; return counts }, requests: () => requests }
}
const statuses = (seen: Map<number, number> | undefined): number[] => [...(seen ?? new Map<number, number>()).keys()].sort()

async function shareStore (t: Test, store: string, server: Server, url: string): Promise<void> {
  const a = await startApp(t, 'A(accept)', store, url, 'accept')
  const b = await startApp(t, 'B(refuse)', store, url, 'refuse')
  const figures: string[] = []

  // A sign-out on one process is refused on the other within the staleness.
  const alice = await login(a, 'alice')
  t.equal(await call(b, 'GET', '/private', alice), 200)
  t.equal(await call(a, 'POST', '/logout', alice), 200)
  t.equal(await call(a, 'GET', '/private', alice), 401, 'refused at once where it was signed out')
  const destroyMs = await until(b, alice, 401, STALENESS * 1000 + 2000)
  t.ok(destroyMs <= STALENESS * 1000, `destroySession enforced on the other process in ${destroyMs} ms`)
  const bob = [await login(a, 'bob'), await login(b, 'bob')]
  t.equal(await call(b, 'POST', '/everywhere?user=bob'), 200)
  const everywhereMs = Math.max(...await Promise.all(bob.map(async (token) => await until(a, token, 401, STALENESS * 1000 + 2000))))
  t.ok(everywhereMs <= STALENESS * 1000, `revokeAllSessions enforced on the other process in ${everywhereMs} ms`)
  t.equal(await call(a, 'GET', '/private', await login(b, 'bob')), 200, 'a sign-in right after works at once')
  figures.push(`enforced on the other process: destroySession ${destroyMs} ms, revokeAllSessions ${everywhereMs} ms (staleness ${STALENESS * 1000} ms)`)

  let round = 0
  for (const fault of ['kill', 'stop'] as const) {
    round++
    const carol = await login(a, 'carol')
    const dave = await login(a, 'dave')
    const load = traffic([a, b], { valid: carol, revoked: alice, 'revoked-user': bob[0] as string })
    await pause(200)
    const downAt = Date.now()
    await server[fault]()
    const failedLogout = await call(a, 'POST', '/logout', dave)
    const failedEverywhere = await call(b, 'POST', '/everywhere?user=carol')
    t.equal(failedLogout, 503, `${fault}: a sign-out tried while the store is down is reported failed`)
    t.equal(failedEverywhere, 503, `${fault}: so is a sign-out everywhere`)
    t.equal(await call(a, 'GET', '/private', dave), 200, `${fault}: and that session was not ended`)
    await until(b, carol, 401, STALENESS * 1000 + 5000)
    const staleAfter = Date.now() - downAt
    t.ok(staleAfter <= 3 * STALENESS * 1000, `${fault}: 'refuse' refuses within a poll and the staleness of the outage (${staleAfter} ms)`)
    t.equal(await call(a, 'GET', '/private', carol), 200, `${fault}: 'accept' keeps accepting what is not revoked`)
    await waitFor(() => [a, b].every((app) => count(app, STALE) === round), 5000, 'each process to log the stale period')
    await server.start()
    const upAt = Date.now()
    await until(b, carol, 200, 15_000)
    const recoveredMs = Date.now() - upAt
    const counts = await load.stop()
    await waitFor(() => [a, b].every((app) => count(app, RECOVERED) === round), 5000, 'each process to log the recovery')
    for (const app of [a, b]) {
      t.same(statuses(counts.get(`${app.name} revoked`)), [401], `${fault}: ${app.name} never accepted the signed-out session`)
      t.same(statuses(counts.get(`${app.name} revoked-user`)), [401], `${fault}: ${app.name} never accepted the signed-out user`)
    }
    t.same(statuses(counts.get('A(accept) valid')), [200], `${fault}: 'accept' answered 200 all along`)
    t.same(statuses(counts.get('B(refuse) valid')), [200, 401], `${fault}: 'refuse' answered 401 while stale, 200 otherwise`)
    // Now the sign-out works, and is enforced on the other process.
    t.equal(await call(a, 'POST', '/logout', dave), 200, `${fault}: the sign-out works again without a restart`)
    const afterMs = await until(b, dave, 401, STALENESS * 1000 + 2000)
    t.ok(afterMs <= STALENESS * 1000, `${fault}: enforced on the other process in ${afterMs} ms`)
    const summary = [...counts].map(([key, seen]) => `${key} ${[...seen].map(([s, n]) => `${s}x${n}`).join(' ')}`).join('; ')
    figures.push(`${fault}: ${load.requests()} requests (${summary}); revocations while down: ${failedLogout}, ${failedEverywhere}; ` +
      `'refuse' refused ${staleAfter} ms into the outage; recovered ${recoveredMs} ms after the restart; a sign-out after it enforced in ${afterMs} ms`)
  }
  // A process started now reads everything that was stored, from before the faults too.
  const c = await startApp(t, 'C(new)', store, url, 'accept')
  for (const token of [alice, ...bob]) t.equal(await call(c, 'GET', '/private', token), 401, 'a new process refuses what was revoked before the faults')
  for (const app of [a, b]) {
    t.equal(count(app, STALE), 2, `${app.name}: each stale period logged once`)
    t.equal(count(app, RECOVERED), 2, `${app.name}: each recovery logged once`)
  }
  for (const line of figures) t.comment(`${store}: ${line}`)
}

t.test('PostgreSQL', async (t) => {
  const server = await startPostgres(t)
  await shareStore(t, 'postgres', server, server.url)
})

t.test('Redis', async (t) => {
  const server = await startRedis(t)
  await shareStore(t, 'redis', server, `redis://127.0.0.1:${server.port}`)
})
