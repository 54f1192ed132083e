// The token: the wire format of dbbasic-sessions (the payload JSON as Python's json.dumps
// writes it, padded base64url, a lower-case hex HMAC-SHA256 of the payload text), the
// fields this plugin adds, the reader's verdict on every token and never an exception,
// the HMAC (lib/hmac.ts, which must equal createHmac), and tampered tokens sent as
// cookies: each is "no session" with one debug line saying why. Property tests
// (fast-check) run PROPERTY_RUNS cases (300 by default, times 4 or 10). The reference's
// own vectors and Python reading our tokens: wire-compatibility.test.ts.
import { spawnSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import { inspect, isDeepStrictEqual } from 'node:util'
import t from 'tap'
import fc from 'fast-check'
import { createSession, getSession } from '../lib/index.js'
import { HmacKey, NOT_HEX, findKey } from '../lib/hmac.js'
import { MAX_TOKEN_LENGTH, encodeToken, pyJsonString, toKeys, verifyToken, type Verified } from '../lib/token.js'
import { revocationKey } from '../lib/session-id.js'
import { LogCapture, NONE, OTHER_SECRET, SECRET, T0, buildApp } from './helpers.js'

const keys = toKeys([SECRET])
const NOW = 1764115200
const RUNS = Number(process.env.PROPERTY_RUNS ?? 300)
const MAX_TTL = 34560000
const options = { secret: SECRET, now: () => T0 }

// Every UTF-16 code unit, so lone surrogates and control characters come up often,
// mixed with whole code points (astral ones included) and plain ASCII.
const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u))
const userIdArb = fc.oneof(
  fc.string({ unit: anyUnit, minLength: 1, maxLength: 60 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }),
  fc.string({ unit: fc.constantFrom('"', '\\', '\b', '\f', '\n', '\r', '\t', '\u0000', '\u007f', '\u2028', '\ud800', '\udfff', 'é', '🚀'), minLength: 1, maxLength: 30 }),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 3000 }),
  fc.string({ unit: anyUnit, minLength: 500, maxLength: 1200 })
)

/** The token length the wire format gives for a user id and an expiry. */
function expectedLength (id: string, expires: number): number {
  const json = `{"user_id": ${pyJsonString(id)}, "expires": ${expires}}`
  return 4 * Math.ceil(json.length / 3) + 1 + 64
}

// Writing: the payload as json.dumps writes it, and the fields after the reference's two.
// Writing: the payload as json.dumps writes it, and the fields after the reference's two.
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

const python = spawnSync('python3', ['-c', 'print(1)'], { encoding: 'utf8' })

t.test('CPython\'s json.dumps writes exactly our payload for the same user id, and json.loads reads it back', {
  skip: python.status === 0 ? false : 'python3 is not installed: the cross-check with CPython needs it'
}, async (t) => {
  const ids = fc.sample(userIdArb, { numRuns: RUNS * 3, seed: 42 })
  // Each id travels as UTF-16LE hex, an encoding independent of JSON, so lone surrogates survive.
  const input = ids.map((id) => Buffer.from(id, 'utf16le').toString('hex')).join('\n') + '\n'
  const script = [
    'import json, sys',
    'for line in sys.stdin:',
    '    s = bytes.fromhex(line.strip()).decode("utf-16-le", "surrogatepass")',
    '    text = json.dumps({"user_id": s, "expires": 1764118800})',
    '    assert json.loads(text)["user_id"] == s',
    '    print(text)'
  ].join('\n')
  const run = spawnSync('python3', ['-c', script], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  t.equal(run.status, 0, run.stderr)
  const lines = run.stdout.split('\n').slice(0, -1)
  t.equal(lines.length, ids.length)
  let same = 0
  for (let i = 0; i < ids.length; i++) {
    const ours = `{"user_id": ${pyJsonString(ids[i])}, "expires": 1764118800}`
    if (ours === lines[i]) same++
    else t.fail(`differs for ${JSON.stringify(ids[i])}: ours ${ours} python ${lines[i]}`)
  }
  t.equal(same, ids.length, `${same} payloads byte-identical to CPython's`)
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
  t.same(verifyToken(token, keys, NOW), { userId: '42', expires: NOW + 3600, iat: NOW, sid: null, gen: null, key: null, signature: token.slice(-64), high: -1, low: -1, renewed: null, ttl: null, persistent: true, keyIndex: 0 })
  const bare = encodeToken('42', NOW + 3600, keys[0])
  t.same(verifyToken(bare, keys, NOW), { userId: '42', expires: NOW + 3600, iat: null, sid: null, gen: null, key: null, signature: bare.slice(-64), high: -1, low: -1, renewed: null, ttl: null, persistent: true, keyIndex: 0 })
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
  t.same(verifyToken(token, keys, NOW), { userId: '42', expires: NOW + 300, iat: NOW, sid: null, gen: null, key: null, signature: token.slice(-64), high: -1, low: -1, renewed: null, ttl: 300, persistent: false, keyIndex: 0 })
  t.equal(encodeToken('42', NOW + 300, keys[0], { persistent: undefined }), encodeToken('42', NOW + 300, keys[0]), 'absent fields write nothing')
  // Signed but odd values (not made by this package) count as absent.
  for (const odd of ['"ttl": 0', '"ttl": 1.5', '"ttl": "300"', '"persistent": 0', '"persistent": null']) {
    const json = `{"user_id": "42", "expires": ${NOW + 300}, ${odd}}`
    const payload = Buffer.from(json).toString('base64url')
    const padded = payload + '='.repeat((4 - payload.length % 4) % 4)
    t.match(verifyToken(padded + '.' + keys[0].hexDigest(padded), keys, NOW), { ttl: null, persistent: true }, odd)
  }
})

t.test('round trip: any user id and ttl comes back, or is refused as too large, never anything else', async (t) => {
  let fitted = 0
  let refused = 0
  fc.assert(fc.property(userIdArb, fc.integer({ min: 1, max: MAX_TTL }), (id, ttl) => {
    const expires = T0 / 1000 + ttl
    if (expectedLength(id, expires) > 4096) {
      refused++
      try {
        createSession(id, { ...options, ttl })
      } catch (err) {
        return err instanceof RangeError && (err as { code?: string }).code === 'FST_DBBASIC_SESSIONS_TOO_LARGE'
      }
      return false
    }
    fitted++
    const token = createSession(id, { ...options, ttl })
    const payload = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('latin1'))
    return token.length <= 4096 &&
      /^[\x20-\x7e]*$/.test(Buffer.from(token.split('.')[0], 'base64url').toString('latin1')) &&
      payload.user_id === id && payload.expires === expires &&
      getSession(token, { ...options, now: () => T0 + (ttl - 1) * 1000 }) === id &&
      getSession(token, { ...options, now: () => T0 + ttl * 1000 }) === null
  }), { numRuns: RUNS * 4 })
  t.comment(`round trip: ${fitted} ids fitted a cookie, ${refused} were refused as too large`)
  t.ok(fitted > RUNS && refused > 0, 'both outcomes were exercised')
})

// Reading: a verdict for every input, a reason for every refusal, never an exception.
// Reading: a verdict for every input, a reason for every refusal, never an exception.
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
    { userId: '4', expires: 1764118800.5, iat: null, sid: null, gen: null, key: null, signature: odd.slice(-64), high: -1, low: -1, renewed: null, ttl: null, persistent: true, keyIndex: 0 },
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

t.test('garbage: strings, bytes as latin1 and UTF-8, and values of every type return null without throwing', async (t) => {
  const garbage = fc.oneof(
    fc.string({ unit: anyUnit, maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 5000 }),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('utf8')),
    fc.tuple(fc.base64String(), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 })).map(([p, s]) => `${p}.${s}`),
    fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true }),
    fc.constantFrom(undefined, null, Symbol('s'), () => 'x', NaN, -0, Infinity, 10n ** 30n, new Error('e'), Promise.resolve('x'))
  )
  fc.assert(fc.property(garbage, (value) => getSession(value as string, options) === null), { numRuns: RUNS * 10 })
  t.pass(`${RUNS * 10} garbage values`)
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
    high: -1,
    low: -1,
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

// The HMAC: lib/hmac.ts is not a single node:crypto call, so it must equal createHmac exactly.
const reference = (key: Buffer, message: string): string => crypto.createHmac('sha256', key).update(message, 'latin1').digest('hex')
const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1')

t.test('every key and message length around the block and scratch boundaries', async (t) => {
  const keyLengths = [0, 1, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200]
  const messageLengths = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 4031, 4032, 4095, 4096, 4097, 5000]
  let checked = 0
  for (const k of keyLengths) {
    const key = crypto.randomBytes(k)
    const mac = new HmacKey(key)
    for (const m of messageLengths) {
      const message = latin1(crypto.randomBytes(m))
      if (mac.hexDigest(message) !== reference(key, message)) t.fail(`key ${k} bytes, message ${m} bytes`)
      checked++
    }
  }
  t.equal(checked, keyLengths.length * messageLengths.length, `${checked} length pairs equal createHmac`)
})

t.test('a large random sample of keys and messages equals createHmac', async (t) => {
  const runs = Number(process.env.PROPERTY_RUNS ?? 300) * 10
  fc.assert(fc.property(
    fc.uint8Array({ maxLength: 160 }),
    fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 4000, maxLength: 4200 })),
    (key, message) => new HmacKey(Buffer.from(key)).hexDigest(latin1(message)) === reference(Buffer.from(key), latin1(message))
  ), { numRuns: runs })
  t.pass(`${runs} random pairs`)
})

t.test('one key gives the same MAC on every call: the scratch buffer leaves nothing behind', async (t) => {
  const key = crypto.randomBytes(64)
  const mac = new HmacKey(key)
  const long = latin1(crypto.randomBytes(3000))
  mac.hexDigest(long)
  t.equal(mac.hexDigest('short'), reference(key, 'short'))
  t.equal(mac.hexDigest(long), reference(key, long))
  t.equal(findKey([mac], 'short', reference(key, 'short')), 0)
  t.equal(findKey([mac], 'short', reference(key, 'shorT')), -1)
})

t.test('findKey: the first key whose MAC matches, -1 for none, NOT_HEX for a signature that cannot be one', async (t) => {
  const keys = [crypto.randomBytes(32), crypto.randomBytes(32), crypto.randomBytes(32)]
  const macs = keys.map((k) => new HmacKey(k))
  for (let i = 0; i < keys.length; i++) t.equal(findKey(macs, 'message', reference(keys[i], 'message')), i)
  const good = reference(keys[1], 'message')
  const letter = good.search(/[a-f]/)
  t.equal(findKey(macs, 'other', good), -1, 'a MAC of another message')
  t.equal(findKey([], 'message', good), -1, 'no keys')
  const forms: Array<[string, string]> = [
    ['upper-case hex', good.toUpperCase()],
    ['one letter re-cased', good.slice(0, letter) + good[letter].toUpperCase() + good.slice(letter + 1)],
    ['63 characters', good.slice(1)],
    ['65 characters', good + '0'],
    ['not hex', 'z'.repeat(64)],
    // latin1 would write U+0161 as 0x61 ("a") and U+0130 as 0x30 ("0")
    ['a character whose low byte is a hex digit', good.slice(0, 63) + String.fromCharCode(0x100 + good.charCodeAt(63))],
    ['the same, first', String.fromCharCode(0x100 + good.charCodeAt(0)) + good.slice(1)],
    ['latin-1 letters', 'é'.repeat(64)],
    ['empty', '']
  ]
  for (const [what, signature] of forms) t.equal(findKey(macs, 'message', signature), NOT_HEX, what)
  t.equal(findKey(macs, 'message', good), 1, 'and the right one still matches after them')
})

t.test('the key material cannot be printed or serialised', async (t) => {
  const key = Buffer.from('inspect-me-not-0123456789abcdef0123456789')
  const mac = new HmacKey(key)
  const shown = [inspect(mac, { showHidden: true, depth: Infinity }), JSON.stringify({ mac }), String(Object.keys(mac))].join('\n')
  t.notOk(shown.includes(key.toString()), 'no key text')
  t.notOk(shown.includes(key.toString('hex')), 'no key hex')
  t.equal(inspect(mac), 'HmacKey <redacted>')
  t.equal(JSON.stringify({ mac }), '{"mac":"[HmacKey]"}')
})

// Tampering: any change to a token is refused. The seed's security cases, sent as cookies,
// are each "no session", answered by the route (never a 4xx/5xx from the plugin), with
// one debug line saying why.
const tokenArb = fc.tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), fc.integer({ min: 60, max: MAX_TTL }))
  .map(([id, ttl]) => createSession(id, { ...options, ttl }))
const charArb = fc.oneof(fc.constantFrom(...'abcdefABCDEF0123456789-_=.+/ %"'), anyUnit)

t.test('tampering: any one-character change, insertion, deletion, truncation or swap verifies to null', async (t) => {
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('change' as const), at: fc.nat(), ch: charArb }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), ch: charArb }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), other: fc.nat() })
  )
  const counts: Record<string, number> = {}
  fc.assert(fc.property(tokenArb, mutation, (token, m) => {
    const i = m.at % token.length
    let tampered: string
    switch (m.kind) {
      case 'change':
        fc.pre(token[i] !== m.ch)
        tampered = token.slice(0, i) + m.ch + token.slice(i + 1)
        break
      case 'insert':
        tampered = token.slice(0, i) + m.ch + token.slice(i)
        break
      case 'delete':
        tampered = token.slice(0, i) + token.slice(i + 1)
        break
      case 'truncate':
        tampered = token.slice(0, i)
        break
      case 'swap': {
        const j = m.other % token.length
        fc.pre(token[i] !== token[j])
        const chars = [...token]
        ;[chars[i], chars[j]] = [chars[j], chars[i]]
        tampered = chars.join('')
        break
      }
    }
    counts[m.kind] = (counts[m.kind] ?? 0) + 1
    return getSession(tampered, options) === null
  }), { numRuns: RUNS * 10 })
  t.comment(`tampering: ${JSON.stringify(counts)}`)
  t.ok(Object.keys(counts).length === 5, 'every kind of change was tried')
})

const valid = createSession('42', { secret: SECRET, ttl: 3600, now: () => T0 })
const [validPayload, validSignature] = valid.split('.')
const reencode = (json: string): string => Buffer.from(json).toString('base64').replace(/\+/g, '-').replace(/\//g, '_')
const flip = (c: string): string => (c === '0' ? '1' : '0')
const tamperings: Array<[string, string, string]> = [
  ['user id changed, old signature', reencode('{"user_id": "1", "expires": 1764118800}') + '.' + validSignature, 'bad signature'],
  ['expiry extended, old signature', reencode('{"user_id": "42", "expires": 1864118800}') + '.' + validSignature, 'bad signature'],
  ['field added, old signature', reencode('{"user_id": "42", "expires": 1764118800, "admin": true}') + '.' + validSignature, 'bad signature'],
  ['last signature character changed', valid.slice(0, -1) + flip(valid.slice(-1)), 'bad signature'],
  ['first signature character changed', validPayload + '.' + flip(validSignature[0]) + validSignature.slice(1), 'bad signature'],
  ['signature re-cased', validPayload + '.' + validSignature.toUpperCase(), 'malformed'],
  ['signed with another secret', createSession('42', { secret: OTHER_SECRET, ttl: 3600, now: () => T0 }), 'bad signature'],
  ['padding stripped from the payload', validPayload.replace(/=+$/, '') + '.' + validSignature, 'bad signature'],
  ['three parts', valid + '.' + validSignature, 'malformed'],
  ['four parts', 'a.b.c.d', 'malformed'],
  ['empty', '', 'malformed'],
  ['10,000 characters', 'a'.repeat(10_000), 'malformed'],
  ['binary bytes', '\u0001\u0002\u0003', 'malformed'],
  ['latin-1 bytes', '\u00ff\u00fe.\u00e9', 'malformed'],
  ['non-ASCII signature', validPayload + '.' + 'é'.repeat(64), 'malformed'],
  ['a signature of the right length that is not hex', validPayload + '.' + 'z'.repeat(64), 'malformed'],
  ['a signed payload that is not JSON', 'bm90IGpzb24=.' + crypto.createHmac('sha256', SECRET).update('bm90IGpzb24=').digest('hex'), 'malformed']
]

t.test('the untouched token signs in (the baseline the cases change)', async (t) => {
  const app = await buildApp()
  t.teardown(() => app.close())
  t.equal((await app.inject({ url: '/whoami', headers: { cookie: `__Host-Http-session=${valid}` } })).json().userId, '42')
})

for (const [what, value, reason] of tamperings) {
  t.test(`${what}: no session, reason "${reason}"`, async (t) => {
    const logs = new LogCapture()
    const app = await buildApp({}, logs)
    t.teardown(() => app.close())
    const res = await app.inject({ url: '/whoami', headers: { cookie: `__Host-Http-session=${value}` } })
    t.equal(res.statusCode, 200)
    t.same(res.json(), NONE)
    const ours = logs.records.filter((r) => String(r.msg).startsWith('fastify-dbbasic-sessions'))
    t.same(ours.map((r) => [r.level, r.reason, r.msg]), [[20, reason, 'fastify-dbbasic-sessions: no session']], 'one debug line with the reason')
    t.same(logs.records.filter((r) => (r.level as number) >= 40), [], 'nothing at warn or above')
    if (value.length > 8) t.notOk(logs.text.includes(value), 'the cookie value is not logged')
  })
}
