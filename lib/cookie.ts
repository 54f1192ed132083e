// Reading our cookie from the Cookie header, and writing Set-Cookie for it.
import { fastifyCookie } from '@fastify/cookie'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { CookieConfig } from './cookie-name.js'
import { TooLargeError } from './errors.js'
import type { Failure, Verified } from './token.js'
import type { Verify } from './verifier.js'

/** Browsers keep at most 4096 bytes of name, value and attributes per cookie. */
export const MAX_SET_COOKIE_BYTES = 4096

/**
 * Every value sent under `name`, in header order. A sibling subdomain can plant a
 * second cookie with the same name, so a first-match parser would let it choose.
 * Names and values are trimmed of spaces and tabs only (RFC 6265). The scan looks
 * for the name itself and checks what surrounds it, so each character of the
 * header is looked at a bounded number of times whatever the header's shape.
 */
export function readCookies (header: string, name: string): string[] {
  const found: string[] = []
  let at = header.indexOf(name)
  while (at !== -1) {
    let before = at - 1
    while (before >= 0 && isBlank(header.charCodeAt(before))) before--
    let after = at + name.length
    while (after < header.length && isBlank(header.charCodeAt(after))) after++
    if ((before === -1 || header.charCodeAt(before) === SEMICOLON) && header.charCodeAt(after) === EQUALS) {
      let end = header.indexOf(';', after + 1)
      if (end === -1) end = header.length
      let first = after + 1
      let last = end
      while (first < last && isBlank(header.charCodeAt(first))) first++
      while (last > first && isBlank(header.charCodeAt(last - 1))) last--
      found.push(decode(header.slice(first, last)))
      at = end === header.length ? -1 : header.indexOf(name, end + 1)
    } else {
      at = header.indexOf(name, at + 1)
    }
  }
  return found
}

const SEMICOLON = 0x3b
const EQUALS = 0x3d
const isBlank = (code: number): boolean => code === 0x20 || code === 0x09

function decode (value: string): string {
  if (!value.includes('%')) return value
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

/** More cookies of our name than this in one request count as conflicting, and none is verified. */
export const MAX_SAME_NAME = 4

/**
 * The valid session among the cookies of our name. Two valid ones for different users
 * mean one was planted (say by a sibling subdomain): trust neither. Past MAX_SAME_NAME
 * nothing is verified, so a header stuffed with forgeries costs no HMAC.
 */
export function pick (values: readonly string[], verify: Verify, seconds: number): Verified | Failure | 'conflicting cookies' {
  if (values.length > MAX_SAME_NAME) return 'conflicting cookies'
  let chosen: Verified | undefined
  let failure: Failure | undefined
  for (const value of values) {
    const result = verify(value, seconds)
    if (typeof result === 'string') failure ??= result
    else if (chosen === undefined) chosen = result
    else if (chosen.userId !== result.userId) return 'conflicting cookies'
  }
  return chosen ?? (failure as Failure)
}

// @fastify/cookie's serializer needs its module loaded, which happens when the
// plugin is registered. Unless the app already did, registering it in a child
// context loads it without decorating the app, so the app may still register
// @fastify/cookie itself after this plugin.
export async function loadSerializer (fastify: FastifyInstance): Promise<void> {
  if (fastify.hasDecorator('serializeCookie')) return
  await fastify.register(async function sessionCookieLoader (child) {
    await child.register(fastifyCookie, { hook: false })
  })
}

const asIs = (value: string): string => value

/** A Set-Cookie header for our cookie. `maxAge` undefined makes a browser-session cookie; 0 clears it. */
export function serializeCookie (name: string, value: string, maxAge: number | undefined, cookie: CookieConfig): string {
  const header = fastifyCookie.serialize(name, value, {
    encode: asIs,
    maxAge,
    ...(maxAge === 0 ? { expires: new Date(0) } : {}),
    path: cookie.path,
    domain: cookie.domain,
    secure: cookie.secure,
    httpOnly: cookie.httpOnly,
    sameSite: cookie.sameSite
  })
  const bytes = Buffer.byteLength(header, 'utf8')
  if (bytes > MAX_SET_COOKIE_BYTES) {
    throw new TooLargeError(`the session cookie would be ${bytes} bytes, over the ${MAX_SET_COOKIE_BYTES} a browser keeps; use a shorter user id`)
  }
  return header
}

/**
 * Sets this response's session cookie (or, with null, none), replacing the one this
 * plugin wrote earlier in it (`written`, compared exactly), so at most one goes out.
 * Every other Set-Cookie stays, including an app's own one for the same name with
 * another Domain or Path (the only way to clear a cookie planted on a parent domain).
 */
export function writeCookie (reply: FastifyReply, written: { written: string | null }, header: string | null): void {
  const previous = written.written
  written.written = header
  const existing = reply.getHeader('set-cookie')
  if (existing === undefined) {
    if (header !== null) reply.header('set-cookie', header)
    return
  }
  const list = Array.isArray(existing) ? existing : [String(existing)]
  const others = previous === null ? list : list.filter((c) => c !== previous)
  reply.removeHeader('set-cookie')
  if (header !== null) others.push(header)
  if (others.length > 0) reply.header('set-cookie', others)
}
