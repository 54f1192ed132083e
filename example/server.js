// @ts-check
// `npm run demo`: the demo on 127.0.0.1 (PORT, default 3000). The variables are
// described in settings.js and in the README's "The demo".
import { buildDemo } from './app.js'
import { settingsFromEnv } from './settings.js'

let settings
try {
  settings = settingsFromEnv(process.env)
} catch (err) {
  console.error(`demo: ${/** @type {Error} */ (err).message}`)
  process.exit(1)
}
if (settings.secretGenerated) {
  console.log('SECRET_KEY is not set: using a one-time secret, so sessions will not survive a restart.')
  console.log('For lasting sessions: export SECRET_KEY=$(node -e "console.log(crypto.randomBytes(32).toString(\'hex\'))")')
}
console.log('Plain http on 127.0.0.1: the cookie\'s Secure flag is off for this demo only. Keep it on behind HTTPS.')

const { app, database } = await buildDemo({
  ...settings,
  secure: false,
  logger: settings.logLevel === undefined ? false : { level: settings.logLevel }
})
const { from, to } = database.migration
if (database.created) console.log(`Created the demo's database: ${database.where}`)
else console.log(`Accounts are kept in ${database.where} (${await database.countUsers()} so far)`)
if (from !== to) console.log(`Database schema: version ${from} -> ${to}`)

const address = await app.listen({ host: '127.0.0.1', port: settings.port })
console.log(`Demo listening on ${address}`)

// A restart drains. The listening socket closes first: new connections are refused,
// so a proxy tries another process. Requests already on accepted connections are
// answered, with Connection: close. Only then does the app close. (app.close() alone
// marks the app closing first, and Fastify answers such requests with 503, which
// nginx passes on to the user.)
function drain () {
  const server = app.server
  server.prependListener('request', (_request, response) => { response.setHeader('connection', 'close') })
  // Keep-alive connections whose request was under way at the signal: close each once idle.
  const idle = setInterval(() => server.closeIdleConnections(), 100)
  server.close(() => {
    clearInterval(idle)
    app.close().then(() => process.exit(0))
  })
}
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, drain)
