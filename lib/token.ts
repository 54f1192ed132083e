// The dbbasic-sessions 3.0.0 wire format: base64url(json) "." hex(HMAC-SHA256).
// Pure and synchronous: no Fastify, no clock, no environment.
import { HmacKey, NOT_HEX, findKey } from './hmac.js'
import { TooLargeError } from './errors.js'
import { isSessionId } from './session-id.js'

/** Longer inputs are refused before any hashing: no cookie can hold more. */
export const MAX_TOKEN_LENGTH = 4096

export type Keys = readonly HmacKey[]

export interface Verified {
  userId: string
  expires: number
  /** The login time carried by the token, or null when it has none (the reference never writes one). */
  iat: number | null
  /** The session id the token carries, or null when it has none (the reference never writes one). */
  sid: string | null
  /**
   * The user's latest "sign out everywhere" that the issuing process knew of at login
   * (its `after`), or null when it knew of none: see revocation/revocations.ts.
   */
  gen: number | null
  /**
   * What revocations know this session by: its sid, or for a token without one an id
   * derived from its signature (so every copy of that token has the same one), made by
   * revocationKey when first asked for. Null until then.
   */
  key: string | null
  /** The signature, kept for revocationKey when the token has no sid. */
  signature: string | null
  /**
   * The revocation table's 64-bit fingerprint of the key, as two halves, once a
   * revocation check asked (-1 until then): a cached token is not hashed again.
   */
  high: number
  low: number
  /** When a rolling renewal last wrote the token, or null when it is the login's own. */
  renewed: number | null
  /** The login's own ttl, when it was made with one other than the plugin's and renews (absent in the reference). */
  ttl: number | null
  /** False for a browser-session cookie (no Max-Age), which renewals keep as such. */
  persistent: boolean
  /** Position in the key list of the secret that verified the token (0 = the signing one). */
  keyIndex: number
}

export type Failure = 'malformed' | 'bad signature' | 'expired'

// The secret string is the key as UTF-8 text, as the reference uses it.
export function toKeys (secrets: readonly string[]): HmacKey[] {
  return secrets.map((s) => new HmacKey(Buffer.from(s, 'utf8')))
}

const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/
const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t'
}

/**
 * A JSON string literal exactly as Python's json.dumps writes it (ensure_ascii):
 * everything outside printable ASCII as lower-case \uXXXX, one escape per UTF-16
 * unit, so astral characters become surrogate pairs and lone surrogates survive.
 */
export function pyJsonString (s: string): string {
  if (PLAIN.test(s)) return '"' + s + '"'
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]
    const code = s.charCodeAt(i)
    if (code >= 0x20 && code < 0x7f && ch !== '"' && ch !== '\\') {
      out += ch
    } else {
      out += SHORT_ESCAPES[ch] ?? '\\u' + code.toString(16).padStart(4, '0')
    }
  }
  return out + '"'
}

/** What a token may carry besides the reference's two fields; each is written only when given. */
export interface Extras {
  iat?: number | undefined
  sid?: string | undefined
  gen?: number | undefined
  renewed?: number | undefined
  ttl?: number | undefined
  persistent?: false | undefined
}

/**
 * Makes a token. The extra fields come after `expires`, each only when given, so
 * without them tokens match the reference byte for byte (which ignores unknown fields).
 */
export function encodeToken (userId: string, expires: number, key: HmacKey, extras?: Extras): string {
  let json = '{"user_id": ' + pyJsonString(userId) + ', "expires": ' + expires
  if (extras !== undefined) {
    if (extras.iat !== undefined) json += ', "iat": ' + extras.iat
    if (extras.sid !== undefined) json += ', "sid": "' + extras.sid + '"'
    if (extras.gen !== undefined) json += ', "gen": ' + extras.gen
    if (extras.renewed !== undefined) json += ', "renewed": ' + extras.renewed
    if (extras.ttl !== undefined) json += ', "ttl": ' + extras.ttl
    if (extras.persistent === false) json += ', "persistent": false'
  }
  json += '}'
  // The JSON is ASCII, so btoa takes it as is. Python's urlsafe_b64encode keeps the
  // '=' padding, which Node's 'base64url' would drop.
  const standard = btoa(json)
  const payload = standard.includes('+') || standard.includes('/') ? standard.replace(/\+/g, '-').replace(/\//g, '_') : standard
  return payload + '.' + key.hexDigest(payload)
}

/** A token of the package's keys, refused when no cookie could hold it. */
export function makeToken (userId: string, expires: number, keys: Keys, extras?: Extras): string {
  const token = encodeToken(userId, expires, keys[0], extras)
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new TooLargeError(`the token would be ${token.length} characters, over the ${MAX_TOKEN_LENGTH} a cookie holds; use a shorter user id`)
  }
  return token
}

const PAYLOAD = /^[A-Za-z0-9_-]+={0,2}$/

interface Claims { userId: unknown, expires: unknown, iat: unknown, sid: unknown, gen: unknown, renewed: unknown, ttl: unknown, persistent: unknown }

// Decoded payloads land here (synchronous, so one buffer serves every call): base64
// takes 3 bytes per 4 characters, so a payload of a token that fits decodes into it.
const decoded = Buffer.alloc(MAX_TOKEN_LENGTH)

/**
 * The claims of a payload whose signature matched; undefined when it is not a
 * JSON object. Padding follows atob's rule (the decoder used before): with '='
 * the length is a multiple of 4; without, it is not one more than a multiple of 4.
 * The bytes are read as UTF-8, as json.loads reads them.
 */
function decodePayload (payload: string): Claims | undefined {
  const padded = payload.charCodeAt(payload.length - 1) === 0x3d
  if (padded ? payload.length % 4 !== 0 : payload.length % 4 === 1) return undefined
  const text = decoded.toString('utf8', 0, decoded.write(payload, 0, 'base64url'))
  const own = readOwnShape(text)
  if (own !== undefined) return own
  const data: unknown = JSON.parse(text)
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined
  const { user_id: userId, expires, iat, sid, gen, renewed, ttl, persistent } = data as Record<string, unknown>
  return { userId, expires, iat, sid, gen, renewed, ttl, persistent }
}

const ID_START = '{"user_id": "'
const EXPIRES = '", "expires": '
const IAT = ', "iat": '
const SID_FIELD = ', "sid": "'
const GEN = ', "gen": '
const RENEWED = ', "renewed": '
const TTL = ', "ttl": '
const NOT_PERSISTENT = ', "persistent": false'
/** A user id JSON writes as it is: printable ASCII but '"' and '\\'. */
const PLAIN_ID = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/

/**
 * The exact JSON this package and the reference write, read without JSON.parse:
 * `{"user_id": "<plain id>", "expires": <digits>}`, with encodeToken's extras in
 * its order when present. Anything else (escapes, other spacing or order,
 * fractions) is left to JSON.parse.
 */
function readOwnShape (text: string): Claims | undefined {
  if (!text.startsWith(ID_START)) return undefined
  const close = text.indexOf('"', ID_START.length)
  if (close === -1) return undefined
  const userId = text.slice(ID_START.length, close)
  if (!PLAIN_ID.test(userId)) return undefined
  cursor = close
  const expires = field(text, EXPIRES)
  if (expires === undefined || expires === -1) return undefined
  const iat = field(text, IAT)
  if (iat === -1) return undefined
  let sid: string | undefined
  if (text.startsWith(SID_FIELD, cursor)) {
    const at = cursor + SID_FIELD.length
    const end = text.indexOf('"', at)
    if (end === -1) return undefined
    sid = text.slice(at, end)
    cursor = end + 1
  }
  const gen = field(text, GEN)
  if (gen === -1) return undefined
  const renewed = field(text, RENEWED)
  if (renewed === -1) return undefined
  const ttl = field(text, TTL)
  if (ttl === -1) return undefined
  let persistent: false | undefined
  if (text.startsWith(NOT_PERSISTENT, cursor)) {
    cursor += NOT_PERSISTENT.length
    persistent = false
  }
  return cursor === text.length - 1 && text.charCodeAt(cursor) === 0x7d ? { userId, expires, iat, sid, gen, renewed, ttl, persistent } : undefined
}

/** Where readOwnShape has read to (it is synchronous, so one serves every call). */
let cursor = 0

/**
 * The integer written after `prefix` at the cursor, which moves past it: undefined
 * when the prefix is not there, -1 when what follows is not an integer as JSON writes it.
 */
function field (text: string, prefix: string): number | undefined {
  if (!text.startsWith(prefix, cursor)) return undefined
  const at = cursor + prefix.length
  const end = integerEnd(text, at)
  if (end === -1) return -1
  cursor = end
  return integer(text, at, end)
}

/**
 * Where the integer written at `at` ends, if JSON would write it so (digits, no
 * sign, no leading zero) and it has at most 15 digits, so it is exact; else -1.
 */
function integerEnd (text: string, at: number): number {
  let i = at
  while (i < text.length && i - at <= 15 && isDigit(text.charCodeAt(i))) i++
  const count = i - at
  return count === 0 || count > 15 || (count > 1 && text.charCodeAt(at) === 0x30) ? -1 : i
}

const isDigit = (code: number): boolean => code >= 0x30 && code <= 0x39

function integer (text: string, from: number, to: number): number {
  let value = 0
  for (let i = from; i < to; i++) value = value * 10 + text.charCodeAt(i) - 0x30
  return value
}

/** The one expiry rule: expired when `expires <= now`, after `tolerance` seconds of grace. */
export function isExpired (expires: number, tolerance: number, nowSeconds: number): boolean {
  return expires + tolerance <= nowSeconds
}

/**
 * Checks a token. Returns what it carries, or why it was refused. Never throws.
 * `tolerance` seconds after `expires` a token is still accepted (clock skew).
 * The HMAC is checked over the payload text exactly as received; nothing is
 * decoded before it matches.
 */
export function verifyToken (token: unknown, keys: Keys, nowSeconds: number, tolerance = 0): Verified | Failure {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return 'malformed'
  // The signature is the last 64 characters, the dot just before them; a dot
  // anywhere else fails the payload's check.
  const dot = token.length - 65
  if (dot < 1 || token.charCodeAt(dot) !== 0x2e) return 'malformed'
  const payload = token.slice(0, dot)
  // Only characters of the format reach the HMAC, so no text is re-encoded on its
  // way to the hash.
  if (!PAYLOAD.test(payload)) return 'malformed'
  const signature = token.slice(dot + 1)

  const keyIndex = findKey(keys, payload, signature)
  if (keyIndex === NOT_HEX) return 'malformed'
  if (keyIndex === -1) return 'bad signature'

  let claims: Claims | undefined
  try {
    claims = decodePayload(payload)
  } catch {
    return 'malformed'
  }
  if (claims === undefined) return 'malformed'
  const { userId, expires, iat, sid, gen, renewed, ttl, persistent } = claims
  if (typeof userId !== 'string' || userId.length === 0) return 'malformed'
  if (typeof expires !== 'number' || !Number.isFinite(expires)) return 'malformed'
  if (isExpired(expires, tolerance, nowSeconds)) return 'expired'
  const id = isSessionId(sid) ? sid : null
  return {
    userId,
    expires,
    iat: typeof iat === 'number' && Number.isSafeInteger(iat) ? iat : null,
    sid: id,
    gen: typeof gen === 'number' && Number.isSafeInteger(gen) ? gen : null,
    key: id,
    high: -1,
    low: -1,
    // A copy, not a slice: a cached token must not keep the Cookie header it came in alive.
    signature: id === null ? (' ' + signature).slice(1) : null,
    renewed: typeof renewed === 'number' && Number.isSafeInteger(renewed) ? renewed : null,
    ttl: typeof ttl === 'number' && Number.isSafeInteger(ttl) && ttl > 0 ? ttl : null,
    persistent: persistent !== false,
    keyIndex
  }
}
