import { buildCases, runGroup } from './micro.mjs'
import { pairedRatio } from './stats.mjs'
const cases = await buildCases()
const pick = ['this package: first seen (cache miss)', 'this package: cache off', 'this package: getSession', 'this package: getSession, bad signature', '@fastify/secure-session: decode', 'this package: bad signature']
const group = Object.fromEntries(pick.map((n) => [n, cases.verify[n]]))
const r = await runGroup(group, { rounds: 9, cpuTimeMs: 100, log: () => {} })
for (const n of pick) console.log(n.padEnd(45), pairedRatio(r, n, '@fastify/secure-session: decode').toFixed(2))
console.log('first/off', pairedRatio(r, pick[0], pick[1]).toFixed(2))
await cases.close()
