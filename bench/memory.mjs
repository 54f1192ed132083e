// `node --expose-gc bench/memory.mjs`: one million verifications of distinct tokens
// through the plugin's verifier (default cache), heap sampled after GC. Prints JSON.
import { randomBytes } from 'node:crypto'
import { createSession } from '../dist/index.js'
import { toKeys } from '../dist/token.js'
import { makeVerifier } from '../dist/verifier.js'

const TOTAL = Number(process.argv[2] ?? 1_000_000)
const CACHE = 10000
const secret = randomBytes(32).toString('hex')
const keys = toKeys([secret])
const now = Date.now() / 1000
const heap = () => { globalThis.gc(); return process.memoryUsage().heapUsed }

// What one cached entry costs: fill a fresh cache and weigh it, then let it go.
function weighEntry () {
  const probe = makeVerifier(keys, 0, CACHE)
  const tokens = Array.from({ length: CACHE }, (_, i) => createSession(`probe-user-${i}`, { secret, ttl: 3600 }))
  const empty = heap()
  for (const t of tokens) probe(t, now)
  const full = heap()
  probe(tokens[0], now)
  return (full - empty) / CACHE
}
const perEntry = weighEntry()

const verify = makeVerifier(keys, 0, CACHE)
const start = heap()
const samples = []
let ok = 0
for (let i = 1; i <= TOTAL; i++) {
  // Each token is a slice of a larger header, as in a request, to catch retention.
  const header = `_ga=GA1.2.${i}; theme=dark; pad=${'p'.repeat(400)}; session=${createSession(`user-${i}`, { secret, ttl: 3600 })}`
  if (typeof verify(header.slice(header.indexOf('session=') + 8), now) !== 'string') ok++
  if (i % 100_000 === 0) samples.push(heap() - start)
}
console.log(JSON.stringify({ total: TOTAL, ok, cacheSize: CACHE, perEntry, bound: perEntry * CACHE, samples, maxGrowth: Math.max(...samples) }))
