// A forward proxy on 127.0.0.1 for an engine that has no way to map host names itself
// (WebKitGTK): it connects the test names (TEST_HOSTS), on any port, to 127.0.0.1 and
// refuses every other name, so no request leaves the machine. Plain http is forwarded
// as it came; https passes through CONNECT untouched (the browser's TLS, end to end).
// Not a test itself.
import { once } from 'node:events'
import { createServer, request as httpRequest, type Server } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { TEST_HOSTS } from './engine.js'

const known = (host: string): boolean => TEST_HOSTS.includes(host.toLowerCase())

/** Starts the proxy; its port. */
export async function startNameProxy (t: Test): Promise<number> {
  const server = serve(createServer())
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return (server.address() as AddressInfo).port
}

function serve (server: Server): Server {
  server.on('request', (req, res) => {
    const url = URL.canParse(req.url ?? '') ? new URL(req.url ?? '') : undefined
    if (url === undefined || url.protocol !== 'http:' || !known(url.hostname)) {
      res.writeHead(502).end('not a test host')
      return
    }
    const upstream = httpRequest({ host: '127.0.0.1', port: url.port || 80, method: req.method, path: url.pathname + url.search, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders)
      answer.pipe(res)
    })
    upstream.on('error', () => { res.destroy() })
    req.pipe(upstream)
  })
  server.on('connect', (req, socket, head) => {
    const [host = '', port = '443'] = (req.url ?? '').split(':')
    if (!known(host)) {
      socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n')
      return
    }
    const upstream = connect(Number(port), '127.0.0.1', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(socket)
      socket.pipe(upstream)
    })
    upstream.on('error', () => socket.destroy())
    socket.on('error', () => upstream.destroy())
  })
  return server
}
