// iron-session 9 needs Node 22.13 or later: bench/micro-run.mjs runs this file on a
// Node from the npm `node` package. It measures iron-session beside the node:crypto
// baseline in this same process, so the ratio holds whatever the Node. Prints JSON.
import { randomBytes } from 'node:crypto'
import { measure, do_not_optimize as keep } from 'mitata'
import { sealData, unsealData } from 'iron-session'
import { baselineCreate, baselineVerify } from './baseline.mjs'

const rounds = Number(process.argv[2] ?? 3)
const SECRET = randomBytes(32).toString('hex')
const NOW = Math.floor(Date.now() / 1000)
const password = randomBytes(32).toString('hex')
const token = baselineCreate('42', NOW + 3600, SECRET)
const seal = await sealData({ userId: '42' }, { password, ttl: 3600 })
const cases = {
  'baseline: node:crypto verify': () => keep(baselineVerify(token, SECRET, NOW)),
  'iron-session: unseal': async () => keep(await unsealData(seal, { password })),
  'baseline: node:crypto create': () => keep(baselineCreate('42', NOW + 3600, SECRET)),
  'iron-session: seal': async () => keep(await sealData({ userId: '42' }, { password, ttl: 3600 }))
}
const results = []
for (let r = 0; r < rounds; r++) {
  const round = {}
  for (const name of Object.keys(cases)) round[name] = (await measure(cases[name], { min_cpu_time: 100e6 })).p50
  results.push(round)
}
const { version } = JSON.parse((await import('node:fs')).readFileSync(new URL('../node_modules/iron-session/package.json', import.meta.url)))
console.log(JSON.stringify({ node: process.version, ironSession: version, results }))
