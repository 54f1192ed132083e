import * as crypto from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'
import t from 'tap'
import fc from 'fast-check'
import { MAX_TOKEN_LENGTH, encodeToken, pyJsonString, toKeys, verifyToken, type Verified } from '../lib/token.js'
import { revocationKey } from '../lib/session-id.js'
import { OTHER_SECRET, SECRET } from './helpers.js'

const keys = toKeys([SECRET])
const NOW = 1764115200

t.test('user ids are written as Python json.dumps writes them (ensure_ascii)', async (t) => {
  // Each expected literal was printed by CPython 3.11's json.dumps for the input.
  const cases: Array<[string, string]> = [
    ['plain', '"plain"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['\b\f\n\r\t', '"\\b\\f\\n\\r\\t"'],
    ['\x00\x1f\x7f', '"\\u0000\\u001f\\u007f"'],
    ['é€', '"\\u00e9\\u20ac"'],
    ['\u{1F680}', '"\\ud83d\\ude80"'],
    ['\ud800x', '"\\ud800x"'],
    ['\u2028</script>', '"\\u2028</script>"'],
    ['~ !#', '"~ !#"']
  ]
  for (const [input, expected] of cases) t.equal(pyJsonString(input), expected, expected)
})

t.test('a token carries the exact JSON, padded base64url, and a lower-case hex HMAC of the payload text', async (t) => {
  const token = encodeToken('42', NOW + 3600, keys[0])
  const [payload, signature] = token.split('.')
  t.equal(Buffer.from(payload, 'base64url').toString(), '{"user_id": "42", "expires": 1764118800}')
  t.match(payload, /==$/, 'padding is kept, as urlsafe_b64encode keeps it')
  t.equal(signature, crypto.createHmac('sha256', SECRET).update(payload).digest('hex'))
})

t.test('payloads whose base64url has "-" and "_" are written and read back', async (t) => {
  const token = encodeToken('>>>???', NOW + 60, keys[0])
  const payload = token.split('.')[0]
  t.ok(payload.includes('-') && payload.includes('_'), payload)
  t.equal(Buffer.from(payload, 'base64url').toString(), '{"user_id": ">>>???", "expires": 1764115260}')
  t.match(verifyToken(token, keys, NOW), { userId: '>>>???' })
})

t.test('iat is written after expires only when given', async (t) => {
  const token = encodeToken('42', NOW + 3600, keys[0], { iat: NOW })
  t.equal(Buffer.from(token.split('.')[0], 'base64url').toString(), '{"user_id": "42", "expires": 1764118800, "iat": 1764115200}')
  const verified = verifyToken(token, keys, NOW)
  t.equal(revocationKey(verified as Verified), keyOf(token), 'a token without a sid is revoked by a hash of its signature')
  t.equal((verified as Verified).key, keyOf(token), 'computed once, then kept')
  t.same(verifyToken(token, keys, NOW), { userId: '42', expires: NOW + 3600, iat: NOW, sid: null, gen: null, key: null, signature: token.slice(-64), renewed: null, ttl: null, persistent: true, keyIndex: 0 })
  const bare = encodeToken('42', NOW + 3600, keys[0])
  t.same(verifyToken(bare, keys, NOW), { userId: '42', expires: NOW + 3600, iat: null, sid: null, gen: null, key: null, signature: bare.slice(-64), renewed: null, ttl: null, persistent: true, keyIndex: 0 })
})

t.test('gen, the user\'s sign-out everywhere a login came after, is written after sid and read back, by both readers', async (t) => {
  const sid = 'AZq9dbgAMs38td7cgfC_tcYl'
  const token = encodeToken('42', NOW + 300, keys[0], { iat: NOW, sid, gen: 1764115199123 })
  const text = Buffer.from(token.split('.')[0], 'base64url').toString()
  t.equal(text, `{"user_id": "42", "expires": 1764115500, "iat": 1764115200, "sid": "${sid}", "gen": 1764115199123}`)
  t.match(verifyToken(token, keys, NOW), { sid, gen: 1764115199123 })
  // The same fields in another order or spacing go through JSON.parse, with the same result.
  const spaced = sign(b64url(Buffer.from(`{"gen":1764115199123,"user_id":"42","expires":${NOW + 300}}`)))
  t.match(verifyToken(spaced, keys, NOW), { userId: '42', gen: 1764115199123 })
  for (const odd of ['"1"', '1.5', '-1e400', 'null', '90071992547409930']) {
    const strange = sign(b64url(Buffer.from(`{"user_id": "42", "expires": ${NOW + 300}, "gen": ${odd}}`)))
    t.match(verifyToken(strange, keys, NOW), { userId: '42', gen: null }, `gen ${odd} counts as absent`)
  }
})

t.test('in our own spacing, a field the fast reader does not take goes to JSON.parse, which decides', async (t) => {
  for (const field of ['iat', 'gen', 'renewed', 'ttl']) {
    const read = (odd: string): unknown => verifyToken(sign(b64url(Buffer.from(`{"user_id": "42", "expires": ${NOW + 300}, "${field}": ${odd}}`))), keys, NOW)
    t.match(read('"1"'), { userId: '42', [field]: null }, `${field}: a string counts as absent`)
    t.match(read('1234567890123456'), { userId: '42', [field]: 1234567890123456 }, `${field}: 16 digits, still exact`)
    t.equal(read('01'), 'malformed', `${field}: a leading zero is not JSON`)
    t.equal(read(''), 'malformed', `${field}: nothing is not JSON`)
  }
})

t.test('a per-login ttl and a browser-session flag are written after iat, only when given, and read back', async (t) => {
  const token = encodeToken('42', NOW + 300, keys[0], { iat: NOW, ttl: 300, persistent: false })
  t.equal(Buffer.from(token.split('.')[0], 'base64url').toString(), '{"user_id": "42", "expires": 1764115500, "iat": 1764115200, "ttl": 300, "persistent": false}')
  t.same(verifyToken(token, keys, NOW), { userId: '42', expires: NOW + 300, iat: NOW, sid: null, gen: null, key: null, signature: token.slice(-64), renewed: null, ttl: 300, persistent: false, keyIndex: 0 })
  t.equal(encodeToken('42', NOW + 300, keys[0], { persistent: undefined }), encodeToken('42', NOW + 300, keys[0]), 'absent fields write nothing')
  // Signed but odd values (not made by this package) count as absent.
  for (const odd of ['"ttl": 0', '"ttl": 1.5', '"ttl": "300"', '"persistent": 0', '"persistent": null']) {
    const json = `{"user_id": "42", "expires": ${NOW + 300}, ${odd}}`
    const payload = Buffer.from(json).toString('base64url')
    const padded = payload + '='.repeat((4 - payload.length % 4) % 4)
    t.match(verifyToken(padded + '.' + keys[0].hexDigest(padded), keys, NOW), { ttl: null, persistent: true }, odd)
  }
})

t.test('verification reports why a token was refused', async (t) => {
  const good = encodeToken('alice', NOW + 10, keys[0])
  t.equal(verifyToken(good, keys, NOW + 10), 'expired', 'expires <= now is expired')
  t.equal(typeof verifyToken(good, keys, NOW + 9.999), 'object', 'valid until the very second')
  t.equal(verifyToken(good, toKeys([OTHER_SECRET]), NOW), 'bad signature')
  t.equal(verifyToken(good.slice(0, -1) + (good.endsWith('0') ? '1' : '0'), keys, NOW), 'bad signature')
  t.equal(verifyToken('no-dot', keys, NOW), 'malformed')
  t.equal(verifyToken('.' + 'a'.repeat(64), keys, NOW), 'malformed', 'empty payload')
  t.equal(verifyToken(good.replace('.', '.' + 'a'), keys, NOW), 'malformed', 'signature of the wrong length')
  t.equal(verifyToken('e30=!.' + 'a'.repeat(64), keys, NOW), 'malformed', 'a character base64url does not have')
})

t.test('signed payloads that are not a session are refused, not thrown', async (t) => {
  const signed = (json: string): string => {
    const payload = Buffer.from(json).toString('base64url')
    return payload + '.' + crypto.createHmac('sha256', SECRET).update(payload).digest('hex')
  }
  t.equal(verifyToken(signed('{"user_id": 42, "expires": 1764118800}'), keys, NOW), 'malformed', 'numeric user_id')
  t.equal(verifyToken(signed('{"user_id": "never closed'), keys, NOW), 'malformed', 'a user id whose quote never closes')
  t.equal(verifyToken(signed('{"user_id": "4", "expires": 1764118800, "sid": "never closed'), keys, NOW), 'malformed', 'a session id whose quote never closes')
  t.equal(verifyToken(signed('null'), keys, NOW), 'malformed')
  t.equal(verifyToken(signed('"text"'), keys, NOW), 'malformed')
  t.equal(verifyToken(signed('{"user_id": "4", "expires": true}'), keys, NOW), 'malformed', 'boolean expires')
  t.equal(verifyToken(signed('{"user_id": "4", "expires": 1e999}'), keys, NOW), 'malformed', 'infinite expires')
  t.match(verifyToken(signed('{"user_id": "Zoë", "expires": 1764118800}'), keys, NOW), { userId: 'Zoë' },
    'raw UTF-8 in a payload (another implementation, same secret) is read as UTF-8, as json.loads reads it')
  const odd = signed('{"user_id": "4", "expires": 1764118800.5, "iat": "x", "sid": 7, "renewed": 1.5}')
  t.same(verifyToken(odd, keys, NOW),
    { userId: '4', expires: 1764118800.5, iat: null, sid: null, gen: null, key: null, signature: odd.slice(-64), renewed: null, ttl: null, persistent: true, keyIndex: 0 },
    'a non-numeric iat, a sid that is not a string and a fractional renewal time count as none')
})

t.test('any secret of the list verifies, and the result says which', async (t) => {
  const list = toKeys([SECRET, OTHER_SECRET])
  const byOld = encodeToken('bob', NOW + 60, toKeys([OTHER_SECRET])[0])
  t.match(verifyToken(byOld, list, NOW), { userId: 'bob', keyIndex: 1 })
  t.equal(verifyToken(byOld, keys, NOW), 'bad signature')
})

t.test('input of any type or size returns a reason and never throws', async (t) => {
  const values: unknown[] = [undefined, null, 0, 1n, true, {}, [], () => 1, Symbol('s'), new Uint8Array(3), '', '.', '..', '\u0000', 'é.é']
  for (const value of values) t.equal(verifyToken(value, keys, NOW), 'malformed', String(typeof value))
})

t.test('inputs over 4096 characters are refused before any hashing', async (t) => {
  let hashed = 0
  // Every HMAC ends in crypto.hash (lib/hmac.ts); count the calls.
  // Modules named by URL from this file: t.mockImport would resolve a relative name from
  // the source-mapped test/ path, where only the .ts files are.
  const hmacUrl = new URL('../lib/hmac.js', import.meta.url).href
  const hmac = await t.mockImport<typeof import('../lib/hmac.js')>(hmacUrl, {
    'node:crypto': { ...crypto, hash: (...args: Parameters<typeof crypto.hash>) => { hashed++; return crypto.hash(...args) } }
  })
  const { verifyToken: counted, toKeys: countedKeys, encodeToken: countedEncode } =
    await t.mockImport<typeof import('../lib/token.js')>(new URL('../lib/token.js', import.meta.url).href, { [hmacUrl]: hmac })
  const k = countedKeys([SECRET])
  const long = countedEncode('x'.repeat(2900), NOW + 60, k[0])
  hashed = 0
  t.type(counted(long, k, NOW), 'object', 'a long token under the limit verifies')
  t.equal(hashed, 2, 'one HMAC: the inner and the outer hash')
  hashed = 0
  const over = 'a'.repeat(MAX_TOKEN_LENGTH - 64) + '.' + 'a'.repeat(64)
  t.equal(over.length, MAX_TOKEN_LENGTH + 1)
  t.equal(counted(over, k, NOW), 'malformed')
  t.equal(hashed, 0, 'no HMAC was computed')
})

// The payload decoder before this one: atob, then JSON.parse of the bytes read as
// UTF-8. The reader of our own JSON shape must agree with it on every payload.
function parsedAsBefore (payload: string, now: number, signature: string): unknown {
  let data: unknown
  try {
    data = JSON.parse(Buffer.from(atob(payload.replace(/-/g, '+').replace(/_/g, '/')), 'latin1').toString('utf8'))
  } catch {
    return 'malformed'
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'malformed'
  const { user_id: userId, expires, iat, sid, gen, renewed, ttl, persistent } = data as Record<string, unknown>
  if (typeof userId !== 'string' || userId.length === 0) return 'malformed'
  if (typeof expires !== 'number' || !Number.isFinite(expires)) return 'malformed'
  if (expires <= now) return 'expired'
  const id = typeof sid === 'string' && /^[A-Za-z0-9_-]{16,64}$/.test(sid) ? sid : null
  return {
    userId,
    expires,
    iat: typeof iat === 'number' && Number.isSafeInteger(iat) ? iat : null,
    sid: id,
    gen: typeof gen === 'number' && Number.isSafeInteger(gen) ? gen : null,
    key: id,
    signature: id === null ? signature : null,
    renewed: typeof renewed === 'number' && Number.isSafeInteger(renewed) ? renewed : null,
    ttl: typeof ttl === 'number' && Number.isSafeInteger(ttl) && ttl > 0 ? ttl : null,
    persistent: persistent !== false,
    keyIndex: 0
  }
}

/** The revocation key of a token without a sid: a hash of its signature. */
const keyOf = (token: string): string => crypto.createHash('sha256').update(token.slice(-64)).digest('base64url').slice(0, 22)
const sign = (payload: string): string => payload + '.' + crypto.createHmac('sha256', SECRET).update(payload).digest('hex')
const b64url = (bytes: Buffer): string => bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '_')

t.test('signed payloads near our own JSON shape read exactly as JSON.parse reads them', async (t) => {
  const runs = Number(process.env.PROPERTY_RUNS ?? 300) * 10
  const number = fc.oneof(
    fc.constantFrom('1764118800', '0', '00', '01764118800', '-1764118800', '1764118800.5', '1e10', '999999999999999', '1000000000000000', '9999999999999999', '', ' 1', '1 ', 'x', '17641188001764118800'),
    fc.integer({ min: 0, max: 2 ** 40 }).map(String)
  )
  const id = fc.oneof(
    fc.constantFrom('42', 'alice', 'user@example.com', 'a b', 'a\\"b', 'a\\\\b', 'a\\u00e9', 'Zoë', '用户', '"', '', 'a"', 'x'.repeat(300)),
    fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 20 })
  )
  const shape = fc.record({
    start: fc.constantFrom('{"user_id": "', '{"user_id":"', ' {"user_id": "', '{"user_id": "'),
    id,
    middle: fc.constantFrom('", "expires": ', '","expires":', '", "expires" : ', '", "expire": ', ' no closing quote '),
    expires: number,
    iat: fc.option(fc.tuple(fc.constantFrom(', "iat": ', ',"iat":', ', "iat": ', ', "iat": "'), number).map(([a, b]) => a + b)),
    sid: fc.option(fc.tuple(fc.constantFrom(', "sid": "', ',"sid":"', ', "sid": "', ', "sid": '), fc.constantFrom('AAAAAAAAAAAAAAAAAAAAAAAA', 'abc', 'a-b_c'.repeat(5), 'é'.repeat(20), '', '"'), fc.constantFrom('"', '"', '')).map(([a, b, c]) => a + b + c)),
    gen: fc.option(fc.tuple(fc.constantFrom(', "gen": ', ',"gen":', ', "gen": "'), number).map(([a, b]) => a + b)),
    renewed: fc.option(fc.tuple(fc.constantFrom(', "renewed": ', ',"renewed":', ', "renewed": "'), number).map(([a, b]) => a + b)),
    ttl: fc.option(fc.tuple(fc.constantFrom(', "ttl": ', ',"ttl":', ', "ttl": ', ', "ttl": "'), number).map(([a, b]) => a + b)),
    persistent: fc.option(fc.constantFrom(', "persistent": false', ', "persistent": false', ', "persistent": true', ',"persistent":false', ', "persistent": 0', ', "persistent": fals')),
    end: fc.constantFrom('}', '}', '} ', '}}', ', "x": 1}', ', "expires": 1}', ', "user_id": "b"}', '', '\n}')
  })
  fc.assert(fc.property(shape, fc.boolean(), ({ start, id, middle, expires, iat, sid, gen, renewed, ttl, persistent, end }, stripPadding) => {
    const json = start + id + middle + expires + (iat ?? '') + (sid ?? '') + (gen ?? '') + (renewed ?? '') + (ttl ?? '') + (persistent ?? '') + end
    let payload = b64url(Buffer.from(json, 'utf8'))
    if (stripPadding) payload = payload.replace(/=+$/, '')
    const token = sign(payload)
    const got = verifyToken(token, keys, NOW)
    const want = parsedAsBefore(payload, NOW, token.slice(-64))
    return isDeepStrictEqual(got, want)
  }), { numRuns: runs })
  t.pass(`${runs} payloads`)
})

t.test('padding as atob takes it: "=" only up to a multiple of four characters, never one character over', async (t) => {
  // 47 bytes of JSON: 64 characters of base64, the last one "="
  const json = `{"user_id": "pad-it", "expires": ${NOW + 60}}`.padEnd(47, ' ')
  const payload = b64url(Buffer.from(json))
  t.equal(payload.length, 64)
  t.ok(payload.endsWith('=') && !payload.endsWith('=='))
  const bare = payload.slice(0, -1)
  t.match(verifyToken(sign(payload), keys, NOW), { userId: 'pad-it' }, 'padded')
  t.match(verifyToken(sign(bare), keys, NOW), { userId: 'pad-it' }, 'unpadded')
  for (const [what, odd] of [['one "=" too many', payload + '='], ['"==" where one belongs', bare + '=='], ['one character over a multiple of four', payload + 'A'], ['a single character', 'A']]) {
    t.equal(verifyToken(sign(odd), keys, NOW), 'malformed', what)
    t.equal(parsedAsBefore(odd, NOW, ''), 'malformed', `${what}: as before`)
  }
})
