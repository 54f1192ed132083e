// Where to send a browser after sign-in: a path on this site, never another origin.
import type * as Contract from '../types/index.js'

// A fixed origin of our own to resolve against: a path is safe when resolving it keeps
// this origin. https, a special scheme, so that the parser reads the text as a browser
// reading a Location header on an http(s) page would.
const BASE = 'https://redirect.invalid'
// Refused before parsing: browsers read a backslash as a slash in http(s) URLs and drop
// tabs and newlines anywhere, so `/\evil.test` and `/\t/evil.test` mean `//evil.test`.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f\\]/

export const safeRedirect: typeof Contract.safeRedirect = (next, fallback = '/') => {
  if (typeof next !== 'string' || !next.startsWith('/') || UNSAFE.test(next)) return fallback
  let url: URL
  try {
    url = new URL(next, BASE)
  } catch {
    return fallback // `//[`: an authority that does not parse
  }
  if (url.origin !== BASE) return fallback
  // `/.//evil.test` keeps the origin, but its path is `//evil.test`, which a browser
  // would read as another host once it is the whole Location.
  // The href, not pathname + search + hash, keeps an empty `?` or `#` as it was written.
  const path = url.href.slice(BASE.length)
  return path.startsWith('//') ? fallback : path
}
