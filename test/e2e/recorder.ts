// A plain-http reverse proxy in front of the demo that records what each request
// carried and how it was answered, as the server saw it, whatever the browser's
// driver can report. It passes requests and answers on unchanged (the Host header
// too, so the demo sees the name the browser used). Not a test itself.
import { once } from 'node:events'
import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'

export interface Exchange {
  method: string
  path: string
  status: number
  /** Sec-Fetch-Site as sent, or '-' for none. */
  site: string
  /** Origin as sent, or '-' for none. */
  origin: string
  /** Whether the request carried a cookie of the session's name. */
  sentSession: boolean
  setCookie: string[]
  cacheControl: string
  vary: string
}

/** One line about an exchange, for the test's comments and docs/browsers.md. */
export const describe = (s: Exchange): string =>
  `${s.method} ${s.path} with ${s.site === '-' ? 'no Sec-Fetch-Site' : `Sec-Fetch-Site ${s.site}`}, Origin ${s.origin}, session cookie ${s.sentSession ? 'sent' : 'not sent'}: ${s.status}`

/** Reads an exchange out of a request's headers and its answer's; shared with the in-process apps' hooks. */
export function exchange (method: string, path: string, request: Record<string, string | string[] | undefined>, status: number, answer: Record<string, unknown>, cookieName = /(^|;\s*)(__Host-Http-|__Http-|__Host-|__Secure-)?session=/): Exchange {
  const setCookie = answer['set-cookie']
  return {
    method,
    path,
    status,
    site: String(request['sec-fetch-site'] ?? '-'),
    origin: String(request.origin ?? '-'),
    sentSession: cookieName.test(String(request.cookie ?? '')),
    setCookie: setCookie === undefined ? [] : ([] as string[]).concat(setCookie as string | string[]),
    cacheControl: String(answer['cache-control'] ?? '-'),
    vary: String(answer.vary ?? '-')
  }
}

export interface Recorder {
  port: number
  /** Every exchange so far, favicon requests left out. */
  seen: Exchange[]
}

export async function startRecorder (t: Test, targetPort: number): Promise<Recorder> {
  const seen: Exchange[] = []
  const server = createServer((req, res) => {
    const upstream = httpRequest({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const path = req.url ?? '/'
      if (path !== '/favicon.ico') seen.push(exchange(req.method ?? '', path, req.headers, answer.statusCode ?? 0, answer.headers))
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders)
      answer.pipe(res)
    })
    upstream.on('error', () => { res.destroy() })
    req.pipe(upstream)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return { port: (server.address() as AddressInfo).port, seen }
}
