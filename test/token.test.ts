import * as crypto from 'node:crypto'
import t from 'tap'
import { MAX_TOKEN_LENGTH, encodeToken, pyJsonString, toKeys, verifyToken } from '../lib/token.js'
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
  t.same(verified, { userId: '42', expires: NOW + 3600, iat: NOW, ttl: null, persistent: true, keyIndex: 0 })
  t.same(verifyToken(encodeToken('42', NOW + 3600, keys[0]), keys, NOW), { userId: '42', expires: NOW + 3600, iat: null, ttl: null, persistent: true, keyIndex: 0 })
})

t.test('a per-login ttl and a browser-session flag are written after iat, only when given, and read back', async (t) => {
  const token = encodeToken('42', NOW + 300, keys[0], { iat: NOW, ttl: 300, persistent: false })
  t.equal(Buffer.from(token.split('.')[0], 'base64url').toString(), '{"user_id": "42", "expires": 1764115500, "iat": 1764115200, "ttl": 300, "persistent": false}')
  t.same(verifyToken(token, keys, NOW), { userId: '42', expires: NOW + 300, iat: NOW, ttl: 300, persistent: false, keyIndex: 0 })
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
  t.equal(verifyToken(signed('null'), keys, NOW), 'malformed')
  t.equal(verifyToken(signed('"text"'), keys, NOW), 'malformed')
  t.equal(verifyToken(signed('{"user_id": "4", "expires": true}'), keys, NOW), 'malformed', 'boolean expires')
  t.equal(verifyToken(signed('{"user_id": "4", "expires": 1e999}'), keys, NOW), 'malformed', 'infinite expires')
  t.match(verifyToken(signed('{"user_id": "Zoë", "expires": 1764118800}'), keys, NOW), { userId: 'Zoë' },
    'raw UTF-8 in a payload (another implementation, same secret) is read as UTF-8, as json.loads reads it')
  t.same(verifyToken(signed('{"user_id": "4", "expires": 1764118800.5, "iat": "x"}'), keys, NOW),
    { userId: '4', expires: 1764118800.5, iat: null, ttl: null, persistent: true, keyIndex: 0 }, 'a non-numeric iat counts as none')
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
  const hmac = await t.mockImport<typeof import('../lib/hmac.js')>('../lib/hmac.js', {
    'node:crypto': { ...crypto, hash: (...args: Parameters<typeof crypto.hash>) => { hashed++; return crypto.hash(...args) } }
  })
  const { verifyToken: counted, toKeys: countedKeys, encodeToken: countedEncode } =
    await t.mockImport<typeof import('../lib/token.js')>('../lib/token.js', { '../lib/hmac.js': hmac })
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
