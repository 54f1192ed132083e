// `npm run demo`: the demo on 127.0.0.1 (PORT, default 3000).
import { randomBytes } from 'node:crypto'
import { buildDemo } from './app.js'

const port = Number(process.env.PORT ?? 3000)
// SECRET_KEYS, comma-separated (the first signs, all verify), is for rotation drills.
let secret = process.env.SECRET_KEYS ? process.env.SECRET_KEYS.split(',') : process.env.SECRET_KEY
if (!secret) {
  secret = randomBytes(32).toString('hex')
  console.log('SECRET_KEY is not set: using a one-time secret, so sessions will not survive a restart.')
  console.log('For lasting sessions: export SECRET_KEY=$(node -e "console.log(crypto.randomBytes(32).toString(\'hex\'))")')
}
const ttl = process.env.SESSION_TTL === undefined ? undefined : Number(process.env.SESSION_TTL)
console.log('Plain http on 127.0.0.1: the cookie\'s Secure flag is off for this demo only. Keep it on behind HTTPS.')

const app = await buildDemo({ secret, ttl, secure: false, logger: process.env.LOG_LEVEL ? { level: process.env.LOG_LEVEL } : false })
const address = await app.listen({ host: '127.0.0.1', port })
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
