// `npm run test:fleet`: a restarted demo process drains. A request already on an
// accepted connection when SIGTERM arrives is answered normally (not 503, which a
// proxy passes on to the user); new connections are refused at once, so a proxy
// tries another process; then the process exits.
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import t from 'tap'
import { startDemo } from '../demo/process.js'

async function open (port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  return socket
}

async function refused (port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1')
  try {
    await once(socket, 'connect')
    socket.destroy()
    return false
  } catch {
    return true
  }
}

t.test('SIGTERM: the listener closes at once, a request already on its way is answered, then the process exits', async (t) => {
  const demo = await startDemo(t, { SECRET_KEY: randomBytes(32).toString('hex') })

  // nginx has connected and sent part of its request when the restart begins.
  const socket = await open(demo.port)
  let answer = ''
  socket.on('data', (chunk) => { answer += chunk })
  socket.write('GET /me HTTP/1.1\r\nHost: app.example.test\r\n')
  await new Promise((resolve) => setTimeout(resolve, 100))
  const exited = once(demo.child, 'exit')
  demo.child.kill('SIGTERM')

  const started = Date.now()
  while (!(await refused(demo.port))) {
    if (Date.now() - started > 5000) throw new Error('the process kept accepting connections after SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.pass(`new connections refused ${Date.now() - started} ms after SIGTERM: a proxy tries another process`)

  socket.write('\r\n')
  await once(socket, 'end')
  const status = answer.split('\r\n')[0]
  t.comment(`the request in flight during the restart was answered: ${status}`)
  t.equal(status, 'HTTP/1.1 401 Unauthorized', 'answered by the route (401: no session), not refused with 503')
  t.match(answer, /\r\nconnection: close\r\n/i, 'with Connection: close')
  const [code] = await Promise.race([exited, new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('the process did not exit after draining')), 5000))])
  t.equal(code, 0, 'then the process exits cleanly')
})
