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

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => { app.close().then(() => process.exit(0)) })
}
