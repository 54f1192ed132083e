// A real socket.io server on the Fastify server, checking the handshake's cookie with
// fastify.readSession, as docs/socketio.md shows (its recipe is loaded from the page). Loopback only; every wait is bounded.
import t from 'tap'
import Fastify from 'fastify'
import { Server } from 'socket.io'
import { io as connect, type Socket as ClientSocket } from 'socket.io-client'
import sessions, { createSession } from '../lib/index.js'
import { loadRecipe } from './docs.js'
import { LogCapture, OTHER_SECRET, SECRET } from './helpers.js'

const BOUND_MS = 5000

/**
 * The recipe of docs/socketio.md, loaded from the page as written, on a listening app.
 * `validate` stands for the app's user check; `logs` receives the app's log lines.
 */
async function start (validate?: () => Promise<boolean>, logs?: LogCapture): Promise<{ url: string, close: () => Promise<void> }> {
  const app = Fastify(logs === undefined ? {} : { logger: { level: 'info', stream: logs } })
  await app.register(sessions, { secret: SECRET, validate })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { io } = await loadRecipe('docs/socketio.md', 'socketio', { app }) as { io: Server }
  io.on('connection', (socket) => {
    socket.on('whoami', (ack: (id: string) => void) => { ack(socket.data.userId) })
  })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening on a port')
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: async () => {
      await io.close() // closes app.server too
      await app.close()
    }
  }
}

/** Connects with this Cookie header; resolves with the socket or the refusal's message, within BOUND_MS. */
async function dial (url: string, cookie: string | undefined, transports = ['websocket']): Promise<{ socket: ClientSocket, refused: string | null }> {
  const socket = connect(url, {
    transports,
    reconnection: false,
    timeout: BOUND_MS,
    extraHeaders: cookie === undefined ? {} : { cookie }
  })
  return new Promise((resolve) => {
    socket.once('connect', () => { resolve({ socket, refused: null }) })
    socket.once('connect_error', (err) => { resolve({ socket, refused: err.message }) })
  })
}

t.test('socket.io: a signed-in client is accepted and sees its user id; the others are refused', async (t) => {
  const server = await start()
  const sockets: ClientSocket[] = []
  t.teardown(async () => {
    for (const s of sockets) s.close()
    await server.close()
  })

  const token = createSession('alice', { secret: SECRET })
  // A browser starts with long polling: the handshake is then a plain HTTP request.
  for (const transports of [['websocket'], ['polling', 'websocket']]) {
    const signedIn = await dial(server.url, `theme=dark; __Host-Http-session=${token}`, transports)
    sockets.push(signedIn.socket)
    t.equal(signedIn.refused, null, transports.join(', '))
    t.equal(await signedIn.socket.timeout(BOUND_MS).emitWithAck('whoami'), 'alice', transports.join(', '))
  }

  const refusals: Array<[string, string | undefined]> = [
    ['anonymous', undefined],
    ['other cookies only', 'theme=dark'],
    ['forged', `__Host-Http-session=${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}`],
    ['signed with another secret', `__Host-Http-session=${createSession('alice', { secret: OTHER_SECRET })}`]
  ]
  for (const [what, cookie] of refusals) {
    const client = await dial(server.url, cookie)
    sockets.push(client.socket)
    t.equal(client.refused, 'unauthorized', what)
    t.equal(client.socket.connected, false, what)
  }
})

t.test('socket.io: when the session cannot be read, the client gets a fixed message and the log the detail', async (t) => {
  const DETAIL = 'connect ECONNREFUSED 10.0.0.5:5432 (users db)'
  const logs = new LogCapture()
  const server = await start(async () => { throw new Error(DETAIL) }, logs)
  const sockets: ClientSocket[] = []
  t.teardown(async () => {
    for (const s of sockets) s.close()
    await server.close()
  })
  const client = await dial(server.url, `__Host-Http-session=${createSession('alice', { secret: SECRET })}`)
  sockets.push(client.socket)
  t.equal(client.refused, 'server error')
  t.notMatch(client.refused ?? '', /ECONNREFUSED|users db/)
  const logged = logs.records.filter((r) => r.msg === 'socket.io handshake: the session could not be read')
  t.equal(logged.length, 1)
  t.match(JSON.stringify(logged[0]), DETAIL)
})
