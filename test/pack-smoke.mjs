// `npm run test:package`: the packed tarball installs into a new app without npm's
// install-scripts warning, and works through both `import` and `require()` (error
// classes by instanceof included), and a strict TypeScript app written from the README
// (strict, exactOptionalPropertyTypes, requireUserId, a renamed session) compiles
// against it and runs, under TypeScript 5.9 and 7. Not a tap test: it runs npm itself.
import { execFileSync, spawnSync } from 'node:child_process'
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
    // The code, its types, and the documents the README links to (so its links work from node_modules).
    if (!/^(dist\/(revocation\/)?[a-z-]+\.js|types\/index\.d\.ts|package\.json|README\.md|LICENSE|CHANGELOG\.md|CONTRIBUTING\.md|docs\/[a-z-]+\.md|bench\/(INSTRUCTIONS|RESULTS)\.md)$/.test(path)) {
      throw new Error(`unexpected file in the package: ${path}`)
    }
  }

  const app = join(work, 'app')
  execFileSync('mkdir', [app])
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-smoke-app', private: true }))
  // What a user sees installing it: npm's warnings included. The package runs nothing at
  // install (no install or prepare script ships), so npm must not list it under install-scripts.
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', join(work, filename), 'fastify@5'], { cwd: app, encoding: 'utf8' })
  const output = `${install.stdout}${install.stderr}`.trim()
  console.log(`npm install output:\n${output.replace(/^/gm, '  | ')}`)
  if (install.status !== 0) throw new Error(`npm install failed (${install.status})`)
  if (/install-scripts|fastify-dbbasic-sessions@[^ ]* \(/.test(output)) throw new Error('npm warns about the package\'s scripts')

  const check = `
    const secret = 'pack-smoke-secret-0123456789abcdef0123'
    const app = Fastify()
    await app.register(sessions, { secret })
    app.post('/login', async (req, reply) => ({ token: (await reply.createSession('packed')).token }))
    app.get('/me', { preHandler: app.requireSession }, async (req) => req.session)
    const { token } = (await app.inject({ method: 'POST', url: '/login' })).json()
    const me = await app.inject({ url: '/me', headers: { cookie: '__Host-Http-session=' + token } })
    if (me.json().userId !== 'packed') throw new Error('plugin: ' + me.body)
    if (getSession(createSession(7, { secret }), { secret }) !== '7') throw new Error('standalone API')
    // The error classes are the ones the plugin throws, through this entry point too.
    const anonymous = await app.inject({ url: '/me' })
    if (anonymous.json().code !== new UnauthorizedError().code) throw new Error('401 code: ' + anonymous.body)
    let caught = null
    try { createSession('', { secret }) } catch (err) { caught = err }
    if (!(caught instanceof InvalidUserIdError) || !(caught instanceof TypeError)) throw new Error('InvalidUserIdError instanceof')
    const bad = Fastify()
    bad.register(sessions, { secret, ttl: 0 })
    caught = await bad.ready().then(() => null, (err) => err)
    if (!(caught instanceof InvalidOptionError) || caught.code !== 'FST_DBBASIC_SESSIONS_INVALID_OPTION') throw new Error('InvalidOptionError instanceof')
    if (safeRedirect('//evil.test') !== '/' || safeRedirect('/a?b') !== '/a?b') throw new Error('safeRedirect')
    console.log(KIND + ': ok')
  `
  writeFileSync(join(app, 'esm.mjs'), `import Fastify from 'fastify'
import sessions, { createSession, getSession, InvalidOptionError, InvalidUserIdError, UnauthorizedError, safeRedirect, postgresStore, redisStore } from 'fastify-dbbasic-sessions'
const KIND = 'import'
${check}
// The stores load with neither pg nor ioredis installed: the package depends on neither.
if (typeof postgresStore !== 'function' || typeof redisStore !== 'function') throw new Error('stores')
`)
  writeFileSync(join(app, 'cjs.cjs'), `const Fastify = require('fastify')
const { fastifyDbbasicSessions: sessions, createSession, getSession, InvalidOptionError, InvalidUserIdError, UnauthorizedError, safeRedirect } = require('fastify-dbbasic-sessions')
const KIND = 'require()'
;(async () => {
${check}
})().catch((err) => { console.error(err); process.exit(1) })`)
  // The README's quick start and its TypeScript section, in an app as strict as they come.
  // tsc and @types/node are this project's: installing them again would only be slower.
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: false, // our .d.ts is checked under these flags too
      typeRoots: [join(root, 'node_modules/@types')],
      types: ['node'],
      outDir: 'out'
    },
    files: ['app.mts']
  }))
  writeFileSync(join(app, 'app.mts'), `import Fastify from 'fastify'
import sessions, { createSession, getSession } from 'fastify-dbbasic-sessions'

// Two registrations, under the default name and under 'auth' (docs/typescript.md).
declare module 'fastify-dbbasic-sessions' {
  interface FastifyDbbasicSessionsTypes {
    sessionName: 'session' | 'auth'
  }
}

const app = Fastify()
await app.register(sessions, { secret: process.env.SECRET_KEY, ttl: process.env.NO_SUCH_TTL ? Number(process.env.NO_SUCH_TTL) : undefined })

app.post('/login', async (_request, reply) => {
  reply.createSession('packed', { persistent: false })
  return { ok: true }
})
app.get('/dashboard', { preHandler: app.requireSession }, async (request) => {
  const userId: string = request.requireUserId()
  return { userId }
})

const login = await app.inject({ method: 'POST', url: '/login' })
const cookie = String(login.headers['set-cookie']).split(';')[0] ?? ''
const me = await app.inject({ url: '/dashboard', headers: { cookie } })
if (me.json().userId !== 'packed') throw new Error('quick start: ' + me.body)
if ((await app.readSession(cookie)).userId !== 'packed') throw new Error('readSession')
if (getSession(createSession(7), {}) !== '7') throw new Error('standalone API')

const renamed = Fastify()
await renamed.register(sessions, { sessionName: 'auth' })
renamed.get('/who', async (request) => ({ userId: request.auth.userId }))
const who = await renamed.inject({ url: '/who', headers: { cookie } })
if (who.json().userId !== 'packed') throw new Error('sessionName: ' + who.body)
console.log('strict TypeScript: ok')
`)
  // Both compilers a new app may have: TypeScript 5.9 and 7 (the native tsc, installed here as typescript7).
  for (const [compiler, outDir] of [['typescript', 'out'], ['typescript7', 'out7']]) {
    const tsc = join(root, 'node_modules', compiler, 'bin', 'tsc')
    const version = execFileSync(process.execPath, [tsc, '--version'], { encoding: 'utf8' }).trim()
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--outDir', outDir], { cwd: app, encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] })
    console.log(`the strict app compiled with tsc ${version}`)
  }

  const env = { ...process.env, SECRET_KEY: 'pack-smoke-secret-0123456789abcdef0123' }
  for (const file of ['esm.mjs', 'cjs.cjs', 'out/app.mjs', 'out7/app.mjs']) {
    process.stdout.write(execFileSync(process.execPath, [file], { cwd: app, encoding: 'utf8', env }))
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}
