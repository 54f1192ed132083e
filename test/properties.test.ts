// Property-based tests (fast-check): round trips for any user id, tampering
// anywhere, garbage of every type, and the size limit.
import { spawnSync } from 'node:child_process'
import t from 'tap'
import fc from 'fast-check'
import Fastify from 'fastify'
import sessions, { createSession, getSession } from '../lib/index.js'
import { pyJsonString } from '../lib/token.js'
import { SECRET, T0 } from './helpers.js'

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

t.test('size: reply.createSession refuses a user id whose Set-Cookie would pass 4096 bytes, before any header', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(sessions, options)
  app.post<{ Body: { id: string } }>('/login', async (request, reply) => {
    try {
      reply.createSession(request.body.id)
      return { ok: true }
    } catch (err) {
      return { ok: false, code: (err as { code: string }).code }
    }
  })
  const ids = fc.sample(fc.oneof(
    fc.string({ unit: 'grapheme-ascii', minLength: 2800, maxLength: 3100 }),
    fc.string({ unit: 'binary', minLength: 400, maxLength: 700 })
  ), { numRuns: RUNS, seed: 7 })
  let fits = 0
  let refused = 0
  for (const id of ids) {
    const res = await app.inject({ method: 'POST', url: '/login', payload: { id } })
    const header = res.headers['set-cookie'] as string | undefined
    if (res.json().ok === true) {
      fits++
      t.ok(header !== undefined && Buffer.byteLength(header) <= 4096, 'a cookie that fits is set')
      t.equal(getSession(header!.split(';')[0].slice('__Host-Http-session='.length), options), id)
    } else {
      refused++
      t.equal(res.json().code, 'FST_DBBASIC_SESSIONS_TOO_LARGE')
      t.equal(header, undefined, 'no Set-Cookie at all')
    }
  }
  t.ok(fits > 0 && refused > 0, `${fits} fitted, ${refused} refused`)
})
