// docs/devices.md's recipe, loaded from the document as written, on a table in memory:
// rows recorded at sign-in stay right through renewals and re-signing, go with every
// kind of sign-out (after it, never before), and a user can end only their own.
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import formbody from '@fastify/formbody'
import sessions, { memoryStore } from '../lib/index.js'
import type { FastifyDbbasicSessionsOptions, RevocationStore } from '../types/index.js'
import { loadRecipe } from './docs.js'
import { NONE, OTHER_SECRET, SECRET, clock, visit } from './helpers.js'

interface Device { sessionId: string, userId: string, signedInAt: number, browser: string }

/** The table of the recipe, in memory. */
function table (): { rows: Device[], devices: Record<string, (...args: never[]) => Promise<unknown>> } {
  let rows: Device[] = []
  const devices = {
    add: async (d: Device) => { rows.push(d) },
    list: async (userId: string) => rows.filter((d) => d.userId === userId),
    owns: async (userId: string, sessionId: string) => rows.some((d) => d.userId === userId && d.sessionId === sessionId),
    remove: async (userId: string, sessionId: string) => { rows = rows.filter((d) => !(d.userId === userId && d.sessionId === sessionId)) },
    removeAll: async (userId: string, keep?: string | null) => { rows = rows.filter((d) => d.userId !== userId || d.sessionId === keep) }
  }
  return { get rows () { return rows }, devices }
}

const users: Record<string, { id: string, name: string, sessionsValidAfter: number }> = {
  ann: { id: 'ann', name: 'ann', sessionsValidAfter: 0 },
  bo: { id: 'bo', name: 'bo', sessionsValidAfter: 0 }
}
const checkPassword = async (form: { name: string }): Promise<typeof users[string] | null> => users[form.name] ?? null

async function build (t: Test, devices: unknown, options: FastifyDbbasicSessionsOptions): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(formbody)
  await app.register(sessions, options)
  await loadRecipe('docs/devices.md', 'devices', { app, devices, checkPassword })
  app.get('/whoami', async (request) => request.session)
  await app.ready()
  t.teardown(() => app.close())
  return app
}

const cookie = (token: string): Record<string, string> => ({ cookie: `__Host-Http-session=${token}` })
async function signIn (app: FastifyInstance, name: string, presented?: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/login', payload: { name }, headers: { 'user-agent': `browser of ${name}`, ...(presented === undefined ? {} : cookie(presented)) } })
  return res.cookies.find((c) => c.name === '__Host-Http-session')!.value
}
const list = async (app: FastifyInstance, token: string): Promise<Array<{ current: boolean, browser: string }>> => (await app.inject({ url: '/devices', headers: cookie(token) })).json()
const post = async (app: FastifyInstance, url: string, token: string): Promise<number> => (await app.inject({ method: 'POST', url, headers: cookie(token) })).statusCode
const idOf = async (app: FastifyInstance, token: string): Promise<string> => (await visit(app, token)).session.sessionId as string

t.test('rows stay right through renewals and re-signing, and go with every kind of sign-out, each after it', async (t) => {
  const time = clock()
  const store = memoryStore()
  const db = table()
  const { devices } = db
  const options = { now: time.now, ttl: 600, rolling: true, revocation: { store } }
  const app = await build(t, devices, { ...options, secret: SECRET })
  const phone = await signIn(app, 'ann')
  const laptop = await signIn(app, 'ann')
  const other = await signIn(app, 'bo')
  t.same((await list(app, phone)).map((d) => d.current), [true, false], 'ann sees two, this one marked')
  time.advance(400)
  const renewed = (await visit(app, phone)).cookie!.value
  t.same((await list(app, renewed)).map((d) => d.current), [true, false], 'a renewal is the same row')
  const rotated = await build(t, devices, { ...options, secret: [OTHER_SECRET, SECRET] })
  const resigned = (await visit(rotated, renewed)).cookie!.value
  t.same((await list(rotated, resigned)).map((d) => d.current), [true, false], 're-signed with a new secret: the same row')

  t.equal(await post(app, `/devices/${await idOf(app, other)}/sign-out`, phone), 404, 'bo\'s session is not on ann\'s list')
  t.equal((await visit(app, other)).session.userId, 'bo', 'and was not touched')
  t.equal(await post(app, `/devices/${await idOf(app, laptop)}/sign-out`, phone), 200)
  t.same((await visit(app, laptop)).session, NONE)
  t.equal((await list(app, phone)).length, 1)

  const tablet = await signIn(app, 'ann')
  const car = await signIn(app, 'ann')
  t.equal(await post(app, '/devices/sign-out-others', phone), 200)
  for (const gone of [tablet, car]) t.same((await visit(app, gone)).session, NONE)
  t.same((await list(app, phone)).map((d) => d.current), [true], 'only this one left')

  const again = await signIn(app, 'ann', phone)
  t.same((await visit(app, phone)).session, NONE, 'a sign-in in the same browser ended the session it carried')
  t.same((await list(app, again)).map((d) => d.current), [true], 'and replaced its row')

  t.equal(await post(app, '/logout', again), 200)
  t.same(db.rows.filter((d) => d.userId === 'ann'), [], 'signed out here: the row is gone')
  const one = await signIn(app, 'ann')
  await signIn(app, 'ann')
  t.equal(await post(app, '/sign-out-everywhere', one), 200)
  t.same(db.rows.filter((d) => d.userId === 'ann'), [], 'everywhere: every row')
  t.equal(db.rows.length, 1, 'bo\'s row stays')
})

t.test('a sign-out the store cannot record keeps the session and its row', async (t) => {
  let fail = false
  const inner = memoryStore()
  const store: RevocationStore = {
    add: async (r) => { if (fail) throw new Error('connect ECONNREFUSED'); await inner.add(r) },
    since: async (cursor, now) => await inner.since(cursor, now)
  }
  const db = table()
  const { devices } = db
  const app = await build(t, devices, { secret: SECRET, revocation: { store } })
  const phone = await signIn(app, 'ann')
  const laptop = await signIn(app, 'ann')
  fail = true
  t.equal(await post(app, '/logout', phone), 503)
  t.equal(await post(app, `/devices/${(await list(app, phone)).length === 2 ? db.rows[1].sessionId : ''}/sign-out`, phone), 503)
  t.equal(await post(app, '/devices/sign-out-others', phone), 503)
  t.equal(db.rows.length, 2, 'both rows stay: both sessions are alive')
  t.equal((await list(app, laptop)).length, 2)
})
