// `node --expose-gc bench/memory.mjs [total] [id length]`: verifications of distinct
// tokens through the plugin's verifier (default cache), each token twice in a row so
// the cache takes every one in (the most it can hold), heap sampled after GC. Prints JSON.
import { randomBytes } from 'node:crypto'
import { createSession } from '../dist/index.js'
import { toKeys } from '../dist/token.js'
import { makeVerifier } from '../dist/verifier.js'
import { DEFAULT_CACHE_SIZE } from '../dist/options.js'

const TOTAL = Number(process.argv[2] ?? 1_000_000)
const ID_LENGTH = Number(process.argv[3] ?? 0)
const secret = randomBytes(32).toString('hex')
const keys = toKeys([secret])
const now = Date.now() / 1000
const heap = () => { globalThis.gc(); return process.memoryUsage().heapUsed }
const id = (i) => ID_LENGTH === 0 ? `user-${i}` : `${i}-`.padEnd(ID_LENGTH, 'x')

const verify = makeVerifier(keys, 0, DEFAULT_CACHE_SIZE)
const start = heap()
const samples = []
let ok = 0
let tokenLength = 0
const every = TOTAL / 10
for (let i = 1; i <= TOTAL; i++) {
  const token = createSession(id(i), { secret, ttl: 3600 })
  tokenLength = token.length
  // Each token is a slice of a larger header, as in a request, to catch retention.
  for (let seen = 0; seen < 2; seen++) {
    const header = `_ga=GA1.2.${i}; theme=dark; pad=${'p'.repeat(400)}; session=${token}`
    if (typeof verify(header.slice(header.indexOf('session=') + 8), now) !== 'string') ok++
  }
  if (i % every === 0) samples.push(heap() - start)
}
console.log(JSON.stringify({ total: TOTAL, ok, cacheSize: DEFAULT_CACHE_SIZE, idLength: ID_LENGTH === 0 ? id(TOTAL).length : ID_LENGTH, tokenLength, samples, maxGrowth: Math.max(...samples) }))
