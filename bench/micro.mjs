// Micro-benchmarks of create and verify: this package, the node:crypto baseline and
// the peers, interleaved over rounds (mitata measures each case once per round).
// iron-session runs apart, on a newer Node (bench/iron.mjs).
import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import { measure, do_not_optimize as keep } from 'mitata'
import { sign as cookieSign, unsign as cookieUnsign, parse as cookieParse } from '@fastify/cookie'
import secureSession from '@fastify/secure-session'
import { createSigner, createVerifier } from 'fast-jwt'
import { createSession, getSession } from '../dist/index.js'
import { toKeys } from '../dist/token.js'
import { makeVerifier } from '../dist/verifier.js'
import { readCookies } from '../dist/cookie.js'
import { sessionChannel } from '../dist/diagnostics.js'
import { baselineCreate, baselineVerify } from './baseline.mjs'
import { shuffle } from './stats.mjs'

const SECRET = randomBytes(32).toString('hex')
const NOW = Math.floor(Date.now() / 1000)
const opts = { secret: SECRET, ttl: 3600 }

async function peers () {
  const app = Fastify()
  await app.register(secureSession, { key: randomBytes(32), cookieName: 'ss' })
  await app.ready()
  const jwtSign = createSigner({ key: SECRET, expiresIn: 3600_000 })
  return { app, jwtSign, jwtVerify: createVerifier({ key: SECRET }), jwtVerifyCached: createVerifier({ key: SECRET, cache: true }) }
}

// Tokens as a request hands them over: each call gets a fresh slice of a Cookie
// header, which nothing has hashed or copied yet.
function slicer (tokens) {
  const prefix = '_ga=GA1.2.1234567890.1700000000; theme=dark; session='
  const headers = tokens.map((t) => prefix + t)
  let next = 0
  return () => headers[next++ % headers.length].slice(prefix.length)
}

export async function buildCases () {
  const p = await peers()
  const keys = toKeys([SECRET])
  const token = createSession('42', opts)
  const cached = makeVerifier(keys, 0, 10000)
  const uncached = makeVerifier(keys, 0, 0)
  // First sight: 5,000 distinct tokens in turn (few enough to stay in the CPU's
  // caches, as a header the HTTP parser just wrote does), through a new verifier
  // each time round, so that every token is one it has never seen.
  const fresh = Array.from({ length: 5000 }, (_, i) => createSession(`user-${i}`, opts))
  const firstSightToken = slicer(fresh)
  let firstSightVerifier = makeVerifier(keys, 0, 10000)
  let seen = 0
  const firstSight = (now) => {
    if (++seen === fresh.length) {
      seen = 0
      firstSightVerifier = makeVerifier(keys, 0, 10000)
    }
    return firstSightVerifier(firstSightToken(), now)
  }
  const cacheOff = slicer(fresh)
  const again = slicer([token])
  const inTurn = slicer(fresh.slice(0, 20_000))
  const forged = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0')
  const expired = createSession('42', { secret: SECRET, ttl: 60, now: () => (NOW - 120) * 1000 })
  const cookieValue = JSON.stringify({ userId: '42', expires: NOW + 3600 })
  const signedCookie = cookieSign(cookieValue, SECRET)
  const ss = p.app.encodeSecureSession(p.app.createSecureSession({ userId: '42' }))
  const jwt = p.jwtSign({ userId: '42' })
  p.jwtVerifyCached(jwt)
  const get = { secret: SECRET }

  const verify = {
    'baseline: node:crypto verify': () => keep(baselineVerify(token, SECRET, NOW)),
    'this package: first seen (cache miss)': () => keep(firstSight(NOW)),
    'this package: cache off': () => keep(uncached(cacheOff(), NOW)),
    'this package: seen again (cache hit)': () => keep(cached(again(), NOW)),
    'this package: 20,000 users in turn (cache of 10,000)': () => keep(cached(inTurn(), NOW)),
    'this package: bad signature': () => keep(cached(forged, NOW)),
    'this package: expired': () => keep(cached(expired, NOW)),
    'this package: getSession': () => keep(getSession(token, get)),
    'this package: getSession, bad signature': () => keep(getSession(forged, get)),
    '@fastify/cookie: unsign + parse': () => { const r = cookieUnsign(signedCookie, SECRET); keep(r.valid ? JSON.parse(r.value) : null) },
    '@fastify/secure-session: decode': () => keep(p.app.decodeSecureSession(ss)),
    'fast-jwt HS256: verify, no cache': () => keep(p.jwtVerify(jwt)),
    'fast-jwt HS256: verify, cache hit': () => keep(p.jwtVerifyCached(jwt))
  }
  const create = {
    'baseline: node:crypto create': () => keep(baselineCreate('42', NOW + 3600, SECRET)),
    'this package: createSession': () => keep(createSession('42', opts)),
    '@fastify/cookie: sign': () => keep(cookieSign(cookieValue, SECRET)),
    '@fastify/secure-session: encode': () => keep(p.app.encodeSecureSession(p.app.createSecureSession({ userId: '42' }))),
    'fast-jwt HS256: sign': () => keep(p.jwtSign({ userId: '42' }))
  }

  const scaling = {}
  for (const n of [1, 10, 100, 1000]) {
    const t = createSession('u'.repeat(n), opts)
    scaling[`user id length: ${n} character${n > 1 ? 's' : ''}`] = () => keep(uncached(t, NOW))
  }
  const secrets = Array.from({ length: 5 }, () => randomBytes(32).toString('hex'))
  for (const n of [1, 2, 3, 4, 5]) {
    const v = makeVerifier(toKeys(secrets.slice(0, n)), 0, 0)
    const t = createSession('42', { secret: secrets[n - 1], ttl: 3600 })
    scaling[`secrets: ${n}, token signed by the last`] = () => keep(v(t, NOW))
  }
  const cookieHeaders = {}
  for (const n of [0, 1, 10, 50]) {
    const others = Array.from({ length: n }, (_, i) => `pref_${i}=${randomBytes(12).toString('base64url')}`)
    others.splice(n >> 1, 0, `session=${token}`)
    const header = others.join('; ')
    cookieHeaders[n] = header
    scaling[`Cookie header: ${n} other cookie${n === 1 ? '' : 's'} (${header.length} B), our scan`] = () => keep(readCookies(header, 'session'))
  }
  scaling['Cookie header: 50 other cookies, @fastify/cookie parse'] = () => keep(cookieParse(cookieHeaders[50]))
  for (const n of [5000, 50000]) {
    const header = 'a;'.repeat(n) + 'session=' + token
    scaling[`Cookie header shape: ${n.toLocaleString('en')} segments without "=" (${header.length} B), our scan`] = () => keep(readCookies(header, 'session'))
  }
  const noSubscriber = { 'diagnostics channel: no subscriber, the check per event': () => keep(sessionChannel.hasSubscribers) }
  // The goals' pairs, measured again by interleaved batches (see stats.mjs).
  const shapes = Object.keys(scaling).filter((n) => n.startsWith('Cookie header shape'))
  const pairs = {
    'first seen / secure-session decode': [verify['this package: first seen (cache miss)'], verify['@fastify/secure-session: decode']],
    'first seen / cache off': [verify['this package: first seen (cache miss)'], verify['this package: cache off']],
    'getSession / secure-session decode': [verify['this package: getSession'], verify['@fastify/secure-session: decode']],
    'getSession, bad signature / secure-session decode': [verify['this package: getSession, bad signature'], verify['@fastify/secure-session: decode']],
    'scan of 50 other cookies / @fastify/cookie parse': [scaling[Object.keys(scaling).find((n) => n.startsWith('Cookie header: 50 other cookies ('))], scaling['Cookie header: 50 other cookies, @fastify/cookie parse']],
    'scan of 50,000 / 5,000 segments without "="': [scaling[shapes[1]], scaling[shapes[0]]]
  }
  return { verify, create, scaling, noSubscriber, pairs, order: Object.keys(scaling), close: () => p.app.close() }
}

/** Runs every case of `group` once per round, shuffled, and returns ns/op per round. */
export async function runGroup (group, { rounds, cpuTimeMs, log }) {
  const results = []
  for (let r = 0; r < rounds; r++) {
    const round = {}
    for (const name of shuffle(Object.keys(group))) {
      const stats = await measure(group[name], { min_cpu_time: cpuTimeMs * 1e6 })
      round[name] = stats.p50
    }
    results.push(round)
    log(`  round ${r + 1}/${rounds} done`)
  }
  return results
}
