// What caches may do with a response, read from the headers the route set: whether a
// shared cache (a CDN, a proxy) may store it, and whether any cache, the browser's
// own included, may keep it. Pure: reads headers only.
import type { FastifyReply } from 'fastify'

/**
 * A Cache-Control-style header's directives, names lower-cased, values unquoted (or
 * true). A quoted value may hold commas: `private="set-cookie, x-other"`.
 */
export function directives (header: unknown): Map<string, string | true> {
  const found = new Map<string, string | true>()
  const text = String(header)
  for (const [, name, quoted, bare] of text.matchAll(/([^\s,="]+)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^,]*)))?/g)) {
    found.set(name.toLowerCase(), quoted ?? bare?.trim() ?? true)
  }
  return found
}

/** A shared cache reading these directives may store the response. */
function shareable (cc: Map<string, string | true>): boolean {
  if (cc.has('no-store')) return false
  // `private` alone keeps it out of every shared cache; `private="field"` only keeps
  // those fields out, and the rest of the response may be stored for everyone.
  const priv = cc.get('private')
  if (priv === true) return false
  return priv !== undefined || cc.has('public') || cc.has('s-maxage') || cc.has('max-age')
}

/** Headers a CDN or surrogate obeys instead of Cache-Control (RFC 9213, Edge Architecture 1.0). */
const TARGETED = ['cdn-cache-control', 'surrogate-control']

/**
 * Whether a shared cache may store this response: its Cache-Control (`public`,
 * `s-maxage`, `max-age`, a field-qualified `private`, without `no-store` or a bare
 * `private`), or without one an `Expires` header; or a CDN-Cache-Control or
 * Surrogate-Control that lets the CDN store it, whatever Cache-Control says.
 */
export function sharedCacheable (reply: FastifyReply): boolean {
  for (const name of TARGETED) {
    const value = reply.getHeader(name)
    if (value !== undefined && shareable(directives(value))) return true
  }
  const cc = reply.getHeader('cache-control')
  if (cc === undefined) return reply.getHeader('expires') !== undefined
  return shareable(directives(cc))
}

/**
 * Whether any cache may keep this response, the browser's own included: everything but
 * `no-store` (a browser keeps even an uncacheable page for its back button).
 */
export function storable (reply: FastifyReply): boolean {
  const cc = reply.getHeader('cache-control')
  return cc === undefined || !directives(cc).has('no-store') || sharedCacheable(reply)
}

/** Appends `Cookie` to the response's Vary, unless it is there already (or `*`). */
export function varyOnCookie (reply: FastifyReply): void {
  const vary = reply.getHeader('vary')
  if (vary === undefined) {
    reply.header('vary', 'Cookie')
    return
  }
  const text = String(vary)
  if (/(^|,)\s*(cookie|\*)\s*(,|$)/i.test(text)) return
  reply.header('vary', text + ', Cookie')
}
