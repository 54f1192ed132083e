// What revocation costs in memory, and its bound under an attacker who signs in and out
// in a loop: past maxRevokedSessions a sign-out ends every session of its user (one
// entry per user) instead of adding one more.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { memoryStore } from '../lib/index.js'
import { LogCapture, NONE, T0, buildApp, visit } from './helpers.js'
import { root } from './paths.js'

const S0 = T0 / 1000

t.test('an attacker\'s sign-in/sign-out loop holds at most maxRevokedSessions revoked sessions; past it a sign-out ends the user\'s sessions, once said', async (t) => {
  const store = memoryStore()
  const logs = new LogCapture()
  const app = await buildApp({ revocation: { store, maxRevokedSessions: 50 } }, logs)
  t.teardown(() => app.close())
  const login = async (user: string): Promise<string> => (await app.inject({ method: 'POST', url: `/login?user=${user}` })).json().token
  const logout = async (token: string): Promise<number> => (await app.inject({ method: 'POST', url: '/logout', headers: { cookie: `__Host-Http-session=${token}` } })).statusCode
  const victim = await login('victim')
  const attackerPhone = await login('mallory')
  for (let i = 0; i < 500; i++) t.equal(await logout(await login('mallory')), 200, `round ${i}`)
  const held = (await store.since(null, S0)).revocations
  t.ok(held.filter((r) => r.kind === 'session').length <= 50, `${held.filter((r) => r.kind === 'session').length} revoked sessions held`)
  t.equal(held.filter((r) => r.kind === 'user').length, 1, 'and one entry for the looping user')
  t.same((await visit(app, attackerPhone)).session, NONE, 'past the bound, a sign-out ended the user\'s other sessions too')
  t.equal((await visit(app, victim)).session.userId, 'victim', 'nobody else\'s')
  const fresh = await login('mallory')
  t.equal((await visit(app, fresh)).session.userId, 'mallory', 'and the user signs in again at once')
  t.equal(logs.records.filter((r) => String(r.msg).includes('revocation.maxRevokedSessions')).length, 1, 'said once')
  t.equal(await logout(victim), 200, 'an ordinary sign-out at the bound works')
  t.same((await visit(app, victim)).session, NONE)
})

t.test('a revoked session costs at most 16 bytes of memory in the default (memory) store', async (t) => {
  // A child process of its own, with a GC it can force: the heap before and after
  // 200,000 revocations through the public decorator, once the table has merged them.
  const program = `
    import Fastify from 'fastify'
    import { randomBytes } from 'node:crypto'
    import sessions, { memoryStore } from ${JSON.stringify(new URL('.build/lib/index.js', root).href)}
    const app = Fastify()
    const store = memoryStore()
    await app.register(sessions, { secret: 'x'.repeat(8) + 'abcdefghijklmnopqrstuvwx', now: () => ${T0}, revocation: { store } })
    await app.ready()
    const ids = Array.from({ length: 200000 }, () => randomBytes(18).toString('base64url'))
    gc(); gc()
    // Typed arrays keep their bytes outside the JavaScript heap: both are counted.
    const used = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers }
    const before = used()
    for (const id of ids) await app.revokeSessionById(id)
    // What the minute's prune does: the last additions merged into the sorted arrays.
    await store.prune(${S0})
    gc(); gc()
    const after = used()
    // The ids stay alive to here, in both readings: only the table's cost is counted.
    process.stdout.write(String((after - before) / ids.length))
    await app.close()
  `
  const perRevocation = Number(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', program], { cwd: new URL('.', root), encoding: 'utf8', timeout: 60_000 }))
  t.ok(perRevocation > 0 && perRevocation <= 16, `${perRevocation.toFixed(1)} bytes a revocation`)
})
