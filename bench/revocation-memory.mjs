// The memory a revoked session costs in memoryStore(), the default store: a child
// process with a GC it can force (`node --expose-gc bench/revocation-memory.mjs N`)
// adds N revocations of ids as newSessionId makes them, merges them as the minute's
// prune does, and prints the bytes each took (heap and array buffers, the ids kept alive
// in both readings so that only the store's cost counts).
import { randomBytes } from 'node:crypto'
import { memoryStore } from '../dist/index.js'

const count = Number(process.argv[2] ?? 1_000_000)
const now = Math.floor(Date.now() / 1000)
const bytes = randomBytes(18 * count)
const ids = Array.from({ length: count }, (_, i) => bytes.toString('base64url', 18 * i, 18 * i + 18))
const used = () => { globalThis.gc(); globalThis.gc(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers }
const store = memoryStore()
const before = used()
for (const id of ids) await store.add({ kind: 'session', id, until: now + 3600 })
await store.prune(now)
const after = used()
process.stdout.write(JSON.stringify({ count, perRevocation: (after - before) / ids.length }))
