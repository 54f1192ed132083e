// `npm run test:pack`: the packed tarball, installed into a new app, works
// through both `import` and `require()`. Not a tap test: it runs npm itself.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const work = mkdtempSync(join(tmpdir(), 'fdbs-pack-'))
const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })

try {
  // `prepare` rebuilds dist/ first and may print before the JSON.
  const packed = npm(['pack', '--json', '--pack-destination', work], root)
  const [{ filename, files }] = JSON.parse(packed.slice(packed.indexOf('[')))
  const shipped = files.map((f) => f.path).sort()
  console.log(`packed ${filename}: ${shipped.join(', ')}`)
  for (const path of shipped) {
    if (!/^(dist\/[a-z]+\.js|types\/index\.d\.ts|package\.json|README\.md|LICENSE)$/.test(path)) {
      throw new Error(`unexpected file in the package: ${path}`)
    }
  }

  const app = join(work, 'app')
  execFileSync('mkdir', [app])
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-smoke-app', private: true }))
  npm(['install', '--no-audit', '--no-fund', '--loglevel=error', join(work, filename), 'fastify@5'], app)

  const check = `
    const secret = 'pack-smoke-secret-0123456789abcdef0123'
    const app = Fastify()
    await app.register(sessions, { secret })
    app.post('/login', async (req, reply) => ({ token: reply.createSession('packed') }))
    app.get('/me', { preHandler: app.requireSession }, async (req) => req.session)
    const { token } = (await app.inject({ method: 'POST', url: '/login' })).json()
    const me = await app.inject({ url: '/me', headers: { cookie: 'session=' + token } })
    if (me.json().userId !== 'packed') throw new Error('plugin: ' + me.body)
    if (getSession(createSession(7, { secret }), { secret }) !== '7') throw new Error('standalone API')
    console.log(KIND + ': ok')
  `
  writeFileSync(join(app, 'esm.mjs'), `import Fastify from 'fastify'
import sessions, { createSession, getSession } from 'fastify-dbbasic-sessions'
const KIND = 'import'
${check}`)
  writeFileSync(join(app, 'cjs.cjs'), `const Fastify = require('fastify')
const { fastifyDbbasicSessions: sessions, createSession, getSession } = require('fastify-dbbasic-sessions')
const KIND = 'require()'
;(async () => {
${check}
})().catch((err) => { console.error(err); process.exit(1) })`)
  for (const file of ['esm.mjs', 'cjs.cjs']) {
    process.stdout.write(execFileSync(process.execPath, [file], { cwd: app, encoding: 'utf8' }))
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}
