// One warn line per process when a Secure cookie is set on a plain-http request to
// another host than this machine: the browser drops it without a word, and signing
// in seems to do nothing.
import type { FastifyRequest } from 'fastify'

let warned = false

// Browsers treat these as this machine, where a Secure cookie over http is kept; a
// trailing dot (a fully qualified "localhost.") names the same host.
const LOCAL = /^(localhost|.+\.localhost|127(\.\d{1,3}){3}|\[::1\])\.?$/i

export function warnPlainHttp (request: FastifyRequest, secure: boolean): void {
  if (warned || !secure || request.protocol !== 'http' || LOCAL.test(request.hostname)) return
  // A route logging only errors would swallow the line: leave it to the next request.
  // (pino's isLevelEnabled; a logger without it is taken to log warnings.)
  if ((request.log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('warn') === false) return
  warned = true
  request.log.warn('fastify-dbbasic-sessions: a Secure session cookie was set on a plain-http request to ' +
    `${JSON.stringify(request.hostname.slice(0, 100))}; browsers drop it, so the sign-in will not stick. Serve the app over HTTPS, ` +
    'or behind a TLS proxy set Fastify\'s trustProxy to true or to the proxy\'s address so X-Forwarded-Proto counts (a hop count does not); ' +
    'for local plain-http development only, set cookie.secure: false')
}
