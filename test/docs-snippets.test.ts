// Every ```ts and ```js block of README.md and docs/*.md compiles against the package's
// own types, strict and with exactOptionalPropertyTypes, as users copy them; the blocks
// marked `run` are complete programs and run. Markers are described in test/docs.ts.
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { blocks, compile, documents, fileOf, javascript, workDir, type Block } from './docs.js'
import { SECRET } from './helpers.js'

const all = documents().filter((f) => f !== 'CONTRIBUTING.md').flatMap(blocks)
const checked = all.filter((b) => b.marker?.kind !== 'skip')
// The "Signing a user out everywhere" block of the README before this test existed: it
// reads request.session.userId (string | null) where a string is needed.
const OLD_SIGN_OUT_EVERYWHERE: Block = {
  file: 'old README.md',
  line: 1,
  lang: 'js',
  marker: null,
  code: `import Fastify from 'fastify'
import sessions from 'fastify-dbbasic-sessions'
const app = Fastify()
await app.register(sessions, {
  validate: async ({ userId, issuedAt }, request) => {
    const user = await db.users.find(userId)
    // Tokens from before the cut-off, or without a login time, are refused.
    return user !== null && issuedAt !== null && issuedAt > user.sessionsValidAfter
  }
})

app.post('/logout-everywhere', { preHandler: app.requireSession }, async (request, reply) => {
  await db.users.update(request.session.userId, { sessionsValidAfter: Math.floor(Date.now() / 1000) })
  return reply.destroySession().send({ ok: true })
})`
}

const errors = compile([...checked, OLD_SIGN_OUT_EVERYWHERE])

t.test('the documents have code blocks, and every skipped one says why', async (t) => {
  t.ok(checked.length >= 15, `${checked.length} blocks compiled, ${all.length - checked.length} skipped`)
  for (const b of all) {
    if (b.marker?.kind === 'skip') t.ok(b.marker.reason.length >= 10, `${b.file}:${b.line} skipped: ${b.marker.reason}`)
  }
})

t.test('every block compiles under strict and exactOptionalPropertyTypes', async (t) => {
  for (const b of checked) t.same(errors.get(b), [], `${b.file}:${b.line} (${b.lang})`)
})

t.test('control: the old README\'s sign-out-everywhere block does not compile', async (t) => {
  const found = errors.get(OLD_SIGN_OUT_EVERYWHERE) ?? []
  t.match(found.join('\n'), /TS2345 Argument of type 'string \| null' is not assignable to parameter of type 'string'/)
})

t.test('the blocks marked run are programs that run and exit 0', async (t) => {
  const programs = checked.filter((b) => b.marker?.kind === 'run')
  t.ok(programs.length >= 1)
  for (const b of programs) {
    const url = new URL(fileOf(b).replace(/\.mts$/, '.mjs').replace(/\.mjs$/, '.run.mjs'), workDir)
    writeFileSync(url, javascript(b))
    const run = spawnSync(process.execPath, [fileURLToPath(url)], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, SECRET_KEY: SECRET, NODE_ENV: 'test' }
    })
    t.equal(run.status, 0, `${b.file}:${b.line} exits 0${run.status === 0 ? '' : `\n${run.stdout}${run.stderr}`}`)
  }
})
