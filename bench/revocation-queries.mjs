// `npm run bench:revocation-queries`: how often one process asks the revocation store
// for news over 30 s at full load (one repeated cookie, 50 connections). The bound is
// set by staleness (2 s in bench/server.mjs), not by traffic: the plugin polls every
// staleness / 2 seconds, whatever the request rate.
import { load, start, STYLES, WORKLOADS } from './http.mjs'

const SECONDS = Number(process.argv[2] ?? 30)
const STALENESS = 2
if ((await import('../dist/index.js')).memoryStore === undefined) {
  console.log('The plugin on this commit has no revocation option yet: nothing to measure.')
  process.exit(0)
}
for (const style of STYLES) {
  const server = await start('this package, revocation on', 1, { ipc: style === STYLES[0], pin: true })
  await load(server, WORKLOADS[0], 1)
  const before = await server.ask('cpu')
  const result = await load(server, WORKLOADS[0], SECONDS)
  const after = await server.ask('cpu')
  server.stop()
  const queries = after.queries - before.queries
  const bound = Math.ceil(SECONDS / (STALENESS / 2)) + 1
  console.log(`${style}: ${result.requests.total.toLocaleString('en')} requests in ${SECONDS} s, ${queries} store queries (bound by staleness: ${bound}) — ${queries <= bound ? 'within' : 'OVER'} the bound`)
}
