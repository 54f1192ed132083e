// Cross-origin protection without tokens, as Go 1.25's net/http.CrossOriginProtection
// does it: browsers say where a request comes from (Sec-Fetch-Site, else Origin), and
// an unsafe request from another origin is refused. Pure: no Fastify.
import type { IncomingHttpHeaders } from 'node:http'

/**
 * Why an unsafe request must be refused, or undefined when it may go on. GET, HEAD
 * and OPTIONS always pass; so does a request with neither header (not a browser, or
 * an old browser's same-origin request).
 */
export function crossOriginRefusal (method: string, headers: IncomingHttpHeaders, trusted: ReadonlySet<string>): string | undefined {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return undefined
  const site = headers['sec-fetch-site']
  const origin = headers.origin
  if (site !== undefined) {
    if (site === 'same-origin' || site === 'none') return undefined
    if (origin !== undefined && trusted.has(origin)) return undefined
    return site === 'cross-site' || site === 'same-site' ? `Sec-Fetch-Site is ${site}` : 'Sec-Fetch-Site is not same-origin'
  }
  if (origin === undefined) return undefined
  if (trusted.has(origin)) return undefined
  const scheme = origin.indexOf('://')
  const host = headers.host ?? (headers[':authority'] as string | undefined)
  if (scheme !== -1 && host !== undefined && origin.slice(scheme + 3).toLowerCase() === host.toLowerCase()) return undefined
  return 'Origin does not match Host'
}

/**
 * `scheme://host[:port]` exactly as a browser sends it in Origin, of any scheme
 * (`https://…`, `chrome-extension://<id>`, `capacitor://localhost`): lower case,
 * canonical (no default port), nothing before the host or after it.
 */
export function isExactOrigin (text: string): boolean {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[a-z0-9.:[\]-]+$/.test(text)) return false
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return false
  }
  // http(s) have a tuple origin; other schemes an opaque one, spelled the same way
  // here. A file: page sends "null", never an origin of its own.
  if (url.protocol === 'file:') return false
  return (url.origin === 'null' ? `${url.protocol}//${url.host}` : url.origin) === text
}
