// Reading the session cookie from the Cookie header: the same values a plain split would
// give, names and values trimmed of space and tab only (RFC 6265), percent-decoded, and
// work that grows with the header's length, never faster, whatever the header's shape;
// no cookie of ours is no session; several of its name are never the planted user, and
// past four none is verified. Then thousands of generated Cookie headers through
// fastify.inject, seeded: a failure prints the seed, and FUZZ_SEED=<seed> replays exactly
// the same cases (FUZZ_CASES makes a run longer).
import t, { type Test } from 'tap'
import fc from 'fast-check'
import fastifyCookie from '@fastify/cookie'
import { createSession } from '../lib/index.js'
import { MAX_SAME_NAME, pick, readCookies } from '../lib/cookie.js'
import { LogCapture, NONE, OTHER_SECRET, SECRET, T0, buildApp } from './helpers.js'

// The scan (readCookies) against the rule, written the obvious way: split on ";", the
// name is what comes before the first "=", both sides trimmed of space and tab.
const blanks = /^[ \t]+|[ \t]+$/g

function reference (header: string, name: string): string[] {
  const found: string[] = []
  for (const segment of header.split(';')) {
    const eq = segment.indexOf('=')
    if (eq === -1 || segment.slice(0, eq).replace(blanks, '') !== name) continue
    const value = segment.slice(eq + 1).replace(blanks, '')
    let decoded = value
    try { decoded = value.includes('%') ? decodeURIComponent(value) : value } catch {}
    found.push(decoded)
  }
  return found
}

t.test('the values found are those of the plain split, for any header', async (t) => {
  const runs = Number(process.env.PROPERTY_RUNS ?? 300) * 10
  const unit = fc.constantFrom('s', 'e', 'ss', 'session', 'sessions', 'x', '=', ';', ' ', '\t', '\u00a0', '\u000b', '\u000c', '%', '%41', 'a.b')
  fc.assert(fc.property(
    fc.string({ unit, maxLength: 40 }),
    fc.constantFrom('session', 's', 'ss', 'sess'),
    (header, name) => {
      const got = readCookies(header, name)
      const want = reference(header, name)
      return got.length === want.length && got.every((v, i) => v === want[i])
    }
  ), { numRuns: runs })
  t.pass(`${runs} headers`)
})

t.test('only space and horizontal tab are trimmed around names and values', async (t) => {
  t.same(readCookies(' \tsession \t= \tv1 \t;session=v2', 'session'), ['v1', 'v2'])
  for (const blank of ['\u00a0', '\u000b', '\u000c', '\r', '\n']) {
    const code = blank.charCodeAt(0).toString(16)
    t.same(readCookies(`${blank}session=x`, 'session'), [], `U+${code} before the name is part of the name`)
    t.same(readCookies(`session${blank}=x`, 'session'), [], `U+${code} after the name is part of the name`)
    t.same(readCookies(`session=${blank}x${blank}`, 'session'), [`${blank}x${blank}`], `U+${code} around the value is part of the value`)
  }
})

t.test('the name must be a whole cookie name, not part of a name or a value', async (t) => {
  t.same(readCookies('mysession=a; session2=b; x=session=c; session; session =d', 'session'), ['d'])
  t.same(readCookies('session=a;session=b; session=', 'session'), ['a', 'b', ''])
  t.same(readCookies('session=a=b', 'session'), ['a=b'], 'the first "=" ends the name')
})

// Work is counted, not timed: during each call, the String methods a scan can use
// are wrapped to add up how many characters each one looked at. A scan that is
// linear does at most a few units of work per character of the header, for every
// shape; the old scan, whose indexOf('=') ran to the end of the header from every
// segment without one, did about a segment's worth per segment.
function work (header: string, name: string): { units: number, found: number } {
  const proto = String.prototype
  const saved = { indexOf: proto.indexOf, charCodeAt: proto.charCodeAt, slice: proto.slice, trim: proto.trim, includes: proto.includes }
  let units = 0
  proto.indexOf = function (this: string, search: string, from = 0) {
    const at = saved.indexOf.call(this, search, from)
    units += (at === -1 ? this.length : at + search.length) - Math.max(0, from)
    return at
  }
  proto.charCodeAt = function (this: string, i: number) { units++; return saved.charCodeAt.call(this, i) }
  proto.slice = function (this: string, a?: number, b?: number) { const s = saved.slice.call(this, a, b); units += s.length; return s }
  proto.trim = function (this: string) { units += this.length; return saved.trim.call(this) }
  proto.includes = function (this: string, search: string, from?: number) { units += this.length; return saved.includes.call(this, search, from) }
  let found: number
  try {
    found = readCookies(header, name).length
  } finally {
    Object.assign(proto, saved)
  }
  return { units, found }
}

t.test('the work of a scan is linear in the header\'s length, whatever its shape', async (t) => {
  const shapes: Record<string, string> = {
    'segments without "="': 'a;',
    'our name without "="': 'session;',
    'our name, no separators': 'session',
    'spaces before our name': '   session',
    'semicolons only': ';',
    'equals only': '=',
    'empty cookies': 'a=;',
    'our cookie, empty': 'session=;',
    'blanks around "="': 'session \t = \t ;'
  }
  for (const [shape, unit] of Object.entries(shapes)) {
    const small = work(unit.repeat(2000), 'session')
    const large = work(unit.repeat(20000), 'session')
    const length = unit.length * 20000
    t.ok(large.units >= length, `${shape}: the counter saw the scan (${large.units} units)`)
    t.ok(large.units <= 4 * length, `${shape}: at most 4 units per character (${(large.units / length).toFixed(2)})`)
    t.ok(large.units <= 11 * small.units, `${shape}: 10 times the header, at most 11 times the work (${(large.units / small.units).toFixed(2)})`)
  }
})

t.test('a header of 500,000 segments without "=" is read, and our cookie after them found', async (t) => {
  const header = 'a;'.repeat(500_000) + 'session=tail'
  t.same(readCookies(header, 'session'), ['tail'])
  t.same(readCookies('session=head;' + 'a;'.repeat(500_000), 'session'), ['head'])
})

// Through the plugin: no cookie of ours, several of its name, percent-encoding.
t.test('a missing cookie is no session, with reason "no cookie"', async (t) => {
  const logs = new LogCapture()
  const app = await buildApp({}, logs)
  t.teardown(() => app.close())
  for (const headers of [{}, { cookie: 'other=1' }, { cookie: '' }, { cookie: ';;=;' }]) {
    t.same((await app.inject({ url: '/whoami', headers })).json(), NONE)
  }
  const lines = logs.records.filter((r) => r.reason !== undefined)
  t.same(lines.map((r) => r.reason), ['no cookie', 'no cookie', 'no cookie', 'no cookie'])
  // Health checks and assets carry no cookie: at debug they would be a line each.
  t.same(lines.map((r) => r.level), [10, 10, 10, 10], 'at trace, not debug')
})

t.test('two cookies of the session\'s name: never the planted user when they disagree', async (t) => {
  const app = await buildApp()
  t.teardown(() => app.close())
  const mine = createSession('me', { secret: SECRET, now: () => T0 })
  const planted = createSession('attacker', { secret: SECRET, now: () => T0 })
  const who = async (cookie: string): Promise<string | null> => (await app.inject({ url: '/whoami', headers: { cookie } })).json().userId
  t.equal(await who(`__Host-Http-session=garbage; __Host-Http-session=${mine}`), 'me', 'an invalid duplicate is ignored')
  t.equal(await who(`__Host-Http-session=${mine}; __Host-Http-session=${mine}`), 'me')
  t.equal(await who(`__Host-Http-session=${planted}; __Host-Http-session=${mine}`), null, 'two valid users: no session at all')
  t.equal(await who(`__Host-Http-session=${mine}; __Host-Http-session=${planted}`), null)
})

t.test('two valid cookies for different users give reason "conflicting cookies"', async (t) => {
  const logs = new LogCapture()
  const app = await buildApp({}, logs)
  t.teardown(() => app.close())
  const valid = createSession('42', { secret: SECRET, ttl: 3600, now: () => T0 })
  const other = createSession('43', { secret: SECRET, now: () => T0 })
  t.same((await app.inject({ url: '/whoami', headers: { cookie: `__Host-Http-session=${valid}; __Host-Http-session=${other}` } })).json(), NONE)
  t.same(logs.records.filter((r) => r.reason !== undefined).map((r) => r.reason), ['conflicting cookies'])
})

t.test('at most four cookies of the session\'s name are verified; more count as conflicting, none verified', async (t) => {
  const logs = new LogCapture()
  const app = await buildApp({}, logs)
  t.teardown(() => app.close())
  const mine = createSession('me', { secret: SECRET, now: () => T0 })
  const forged = createSession('me', { secret: OTHER_SECRET, now: () => T0 })
  const header = (n: number, last: string): string => [...Array.from({ length: n - 1 }, () => `__Host-Http-session=${forged}`), `__Host-Http-session=${last}`].join('; ')
  t.equal((await app.inject({ url: '/whoami', headers: { cookie: header(4, mine) } })).json().userId, 'me', 'four: the valid one is found')
  t.equal((await app.inject({ url: '/whoami', headers: { cookie: header(5, mine) } })).json().userId, null, 'five: no session')
  t.equal(logs.records.filter((r) => r.reason === 'conflicting cookies').length, 1)
  // Counted at the verifier: a header stuffed with forgeries costs no verification at all.
  let calls = 0
  const counting = (value: string, seconds: number): 'bad signature' => { calls++; t.type(value, 'string'); t.equal(seconds, 1); return 'bad signature' }
  t.equal(pick(Array.from({ length: 210 }, () => forged), counting, 1), 'conflicting cookies')
  t.equal(calls, 0, '210 forged cookies: not one verified')
  t.equal(pick(Array.from({ length: MAX_SAME_NAME }, () => forged), counting, 1), 'bad signature')
  t.equal(calls, MAX_SAME_NAME, `${MAX_SAME_NAME}: each verified once`)
})

t.test('a percent-encoded token, as some clients send it, still verifies', async (t) => {
  const app = await buildApp()
  t.teardown(() => app.close())
  const token = createSession('gina', { secret: SECRET, now: () => T0 })
  const res = await app.inject({ url: '/whoami', headers: { cookie: `__Host-Http-session=${encodeURIComponent(token)}` } })
  t.equal(res.json().userId, 'gina')
  const broken = await app.inject({ url: '/whoami', headers: { cookie: `__Host-Http-session=${token}%E0%A4%A` } })
  t.equal(broken.json().userId, null, 'a broken escape is just a bad value')
})

// Fuzzing: generated Cookie headers, with and without @fastify/cookie.
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))
const CASES = Number(process.env.FUZZ_CASES ?? 3000)
const TIME_LIMIT_MS = 60_000

const USER = 'fuzz-user'
const valid = createSession(USER, { secret: SECRET, now: () => T0 })
const other = createSession('planted-user', { secret: SECRET, now: () => T0 })

interface Case { header: string, expect: string | null, kind: string }

// What a header may carry: tab, printable ASCII and the latin-1 upper half (Node refuses the rest).
const headerChar = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }),
  fc.integer({ min: 0x80, max: 0xff }),
  fc.constant(0x09)
).map((c) => String.fromCharCode(c))

const junk = fc.string({ unit: headerChar, minLength: 1, maxLength: 40 })
const name = fc.oneof(fc.constantFrom('session', '__Host-Http-session', '__host-session', '__Host-Http-session ', ' __Host-Http-session', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', ''), fc.string({ unit: 'grapheme-ascii', maxLength: 12 }))
const value = fc.oneof(junk, fc.constantFrom('__proto__', 'constructor', '{}', '""', '"', '%', '%zz', '%E0%A4%A', '%00', '=', '==', ';', valid.slice(0, 40), valid.toUpperCase()))
const others = fc.array(fc.tuple(name.filter((n) => n.trim() !== '__Host-Http-session'), value), { maxLength: 8 }).map((pairs) => pairs.map(([n, v]) => `${n}=${v}`))
const cases: fc.Arbitrary<Case> = fc.oneof(
  fc.string({ unit: headerChar, maxLength: 300 }).map((header) => ({ header, expect: null, kind: 'random bytes' })),
  fc.uint8Array({ maxLength: 200 }).map((b) => ({ header: Buffer.from(b.filter((c) => c === 9 || (c >= 0x20 && c !== 0x7f))).toString('latin1'), expect: null, kind: 'random latin-1' })),
  fc.tuple(fc.integer({ min: 4097, max: 65536 }), fc.constantFrom('x', ';', '=', 'session=', '%')).map(([n, s]) => ({ header: '__Host-Http-session=' + s.repeat(Math.ceil(n / s.length)), expect: null, kind: 'very long' })),
  fc.tuple(fc.integer({ min: 100, max: 400 }), fc.boolean()).map(([n, mine]) => {
    const pairs = Array.from({ length: n }, (_, i) => `c${i}=v${i}`)
    if (mine) pairs.splice(n >> 1, 0, `__Host-Http-session=${valid}`)
    return { header: pairs.join('; '), expect: mine ? USER : null, kind: 'hundreds of cookies' }
  }),
  fc.tuple(others, fc.array(fc.oneof(fc.constant(valid), value), { minLength: 2, maxLength: 6 })).map(([rest, values]) => ({
    header: [...rest, ...values.map((v) => `__Host-Http-session=${v}`)].join('; '),
    // More than four cookies of the name count as conflicting, none verified.
    expect: values.length <= 4 && values.includes(valid) ? USER : null,
    kind: 'duplicate session cookies'
  })),
  others.map((rest) => ({ header: [...rest, `__Host-Http-session=${other}`, `__Host-Http-session=${valid}`].join('; '), expect: null, kind: 'two valid users' })),
  fc.tuple(others, fc.constantFrom('%', '%zz', '%E0%A4%A', '%ZZ%', valid.replace('.', '%2')), fc.boolean()).map(([rest, bad, front]) => ({
    header: [...rest, `__Host-Http-session=${front ? bad + valid : valid + bad}`].join('; '), expect: null, kind: 'bad percent-encoding'
  })),
  fc.tuple(others, fc.constantFrom(`"${valid}"`, `"${valid}`, `${valid}"`, `'${valid}'`)).map(([rest, quoted]) => ({
    header: [...rest, `__Host-Http-session=${quoted}`].join('; '), expect: null, kind: 'quotes'
  })),
  // Junk without ";": a ";" would only end the cookie, leaving the token intact.
  fc.tuple(others, junk.map((j) => j.replace(/;/g, ',')), fc.boolean()).map(([rest, extra, front]) => ({
    header: [...rest, `__Host-Http-session=${front ? extra.trimStart() + valid : valid + extra.trimEnd()}`].join('; '),
    expect: extra.trim() === '' ? USER : null,
    kind: 'valid token with junk around it'
  })),
  fc.tuple(others, fc.constantFrom('__proto__', 'constructor', 'prototype')).map(([rest, n]) => ({
    header: [`${n}=${valid}`, ...rest, `__Host-Http-session=${valid}`, `${n}=x`].join('; '), expect: USER, kind: '__proto__ and constructor'
  })),
  others.map((rest) => ({ header: [...rest, `__Host-Http-session=${valid}`].join('; '), expect: USER, kind: 'untouched token among others' }))
)

async function fuzz (t: Test, withCookiePlugin: boolean, count: number): Promise<void> {
  const logs = new LogCapture()
  const app = await buildApp({}, logs, (app) => { if (withCookiePlugin) app.register(fastifyCookie) })
  t.teardown(() => app.close())
  const started = Date.now()
  const kinds: Record<string, number> = {}
  let sent = 0
  const failures: string[] = []
  for (const c of fc.sample(cases, { numRuns: count, seed: SEED + (withCookiePlugin ? 1 : 0) })) {
    if (Date.now() - started > TIME_LIMIT_MS) break
    const res = await app.inject({ url: '/whoami', headers: { cookie: c.header } })
    sent++
    kinds[c.kind] = (kinds[c.kind] ?? 0) + 1
    const userId = res.statusCode === 200 ? res.json().userId : undefined
    if (res.statusCode !== 200 || userId !== c.expect) {
      failures.push(`${c.kind}: status ${res.statusCode}, userId ${JSON.stringify(userId)}, expected ${JSON.stringify(c.expect)}, header ${JSON.stringify(c.header.slice(0, 200))}`)
    }
  }
  t.comment(`fuzz seed ${SEED}${withCookiePlugin ? ' (+1, with @fastify/cookie)' : ''}: ${sent} headers, ${JSON.stringify(kinds)}`)
  t.same(failures.slice(0, 5), [], `every response was the route's 200 with the expected user (reproduce with FUZZ_SEED=${SEED})`)
  t.ok(sent >= Math.min(count, 1000), `${sent} cases ran within the time bound`)
  t.equal(Object.keys(kinds).length, 11, 'every kind of header was generated')
  const loud = logs.records.filter((r) => (r.level as number) >= 40)
  t.same(loud.slice(0, 3), [], 'no warn or error line in the log')
  t.notOk(logs.text.includes(valid.split('.')[1]), 'no token signature in the log')
}

t.test('thousands of generated Cookie headers: the route\'s 200 every time, the right user or none', async (t) => {
  await fuzz(t, false, CASES)
})

t.test('the same with @fastify/cookie registered by the app', async (t) => {
  await fuzz(t, true, Math.ceil(CASES / 3))
})
