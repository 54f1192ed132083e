// The session cookie's name: by default the strongest prefix its attributes allow, and
// for any name, the rules of its prefix. Checked at register because a browser drops a
// cookie that breaks its prefix's rule without a word: the sign-in would silently do
// nothing. Prefixes are matched in any case, as browsers match them.
import { InvalidOptionError } from './errors.js'

export interface CookieConfig {
  path: string
  domain: string | undefined
  secure: boolean
  httpOnly: boolean
  sameSite: 'lax' | 'strict' | 'none'
}

const PREFIXES: Array<[prefix: string, rule: (c: CookieConfig) => boolean, needs: string]> = [
  ['__host-http-', (c) => c.secure && c.httpOnly && c.path === '/' && c.domain === undefined, 'cookie.secure: true, cookie.httpOnly: true, cookie.path "/" and no cookie.domain'],
  ['__http-', (c) => c.secure && c.httpOnly, 'cookie.secure: true and cookie.httpOnly: true'],
  ['__host-', (c) => c.secure && c.path === '/' && c.domain === undefined, 'cookie.secure: true, cookie.path "/" and no cookie.domain'],
  ['__secure-', (c) => c.secure, 'cookie.secure: true']
]

export function checkCookieRules (name: string, cookie: CookieConfig): void {
  if (cookie.sameSite === 'none' && !cookie.secure) {
    throw new InvalidOptionError('cookie.sameSite "none" requires cookie.secure: true (browsers drop SameSite=None cookies that are not Secure)')
  }
  const lower = name.toLowerCase()
  const prefix = PREFIXES.find(([p]) => lower.startsWith(p))
  if (prefix !== undefined && !prefix[1](cookie)) {
    throw new InvalidOptionError(`cookieName "${name}" requires ${prefix[2]} (browsers drop a ${name.slice(0, prefix[0].length)} cookie otherwise, so signing in would do nothing)`)
  }
}

/** The strongest prefix the attributes allow: browsers refuse it from another host, over plain http, or from a script. */
export function defaultCookieName (cookie: CookieConfig): string {
  if (!cookie.secure) return 'session'
  const hostOnly = cookie.path === '/' && cookie.domain === undefined
  if (cookie.httpOnly) return hostOnly ? '__Host-Http-session' : '__Http-session'
  return hostOnly ? '__Host-session' : '__Secure-session'
}
