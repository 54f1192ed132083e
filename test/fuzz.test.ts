// Generated Cookie headers through fastify.inject. Seeded: a failure prints the
// seed, and FUZZ_SEED=<seed> replays exactly the same cases.
import t, { type Test } from 'tap'
import fc from 'fast-check'
import fastifyCookie from '@fastify/cookie'
import { createSession } from '../lib/index.js'
import { LogCapture, SECRET, T0, buildApp } from './helpers.js'

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
