// The dbbasic-sessions 3.0.0 wire format: base64url(json) "." hex(HMAC-SHA256).
// Pure and synchronous: no Fastify, no clock, no environment.
import { HmacKey } from './hmac.js'

/** Longer inputs are refused before any hashing: no cookie can hold more. */
export const MAX_TOKEN_LENGTH = 4096

export type Keys = readonly HmacKey[]

export interface Verified {
  userId: string
  expires: number
  /** The login time carried by the token, or null when it has none (the reference never writes one). */
  iat: number | null
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

const PAYLOAD = /^[A-Za-z0-9_-]+={0,2}$/
const SIGNATURE = /^[0-9a-f]{64}$/
const NON_ASCII = /[\x80-\xff]/

// atob is the quickest base64 decoder here; it wants the standard alphabet and
// gives bytes as latin1, so UTF-8 (never in our own ASCII payloads) is decoded again.
function decodePayload (payload: string): unknown {
  const standard = payload.includes('-') || payload.includes('_') ? payload.replace(/-/g, '+').replace(/_/g, '/') : payload
  const bytes = atob(standard)
  return JSON.parse(NON_ASCII.test(bytes) ? Buffer.from(bytes, 'latin1').toString('utf8') : bytes)
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
  const dot = token.indexOf('.')
  if (dot < 1 || token.length - dot - 1 !== 64) return 'malformed'
  const payload = token.slice(0, dot)
  const signature = token.slice(dot + 1)
  // Both checks bound what reaches the HMAC to the characters the format allows,
  // so no text is re-encoded on its way to the hash.
  if (!SIGNATURE.test(signature) || !PAYLOAD.test(payload)) return 'malformed'

  let keyIndex = -1
  for (let i = 0; i < keys.length; i++) {
    if (keys[i].matches(payload, signature)) {
      keyIndex = i
      break
    }
  }
  if (keyIndex === -1) return 'bad signature'

  let data: unknown
  try {
    data = decodePayload(payload)
  } catch {
    return 'malformed'
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'malformed'
  const { user_id: userId, expires, iat, ttl, persistent } = data as Record<string, unknown>
  if (typeof userId !== 'string' || userId.length === 0) return 'malformed'
  if (typeof expires !== 'number' || !Number.isFinite(expires)) return 'malformed'
  if (isExpired(expires, tolerance, nowSeconds)) return 'expired'
  return {
    userId,
    expires,
    iat: typeof iat === 'number' && Number.isFinite(iat) ? iat : null,
    ttl: typeof ttl === 'number' && Number.isSafeInteger(ttl) && ttl > 0 ? ttl : null,
    persistent: persistent !== false,
    keyIndex
  }
}
