// The documentation compiles as users copy it. docs/typescript.md's set-up is compiled as
// an app would: beside @fastify/secure-session or @fastify/session, strict,
// exactOptionalPropertyTypes and no skipLibCheck (test/typescript/tsconfig.json). Every
// other ```ts and ```js block of README.md and docs/*.md compiles against the package's
// own types, strict and with exactOptionalPropertyTypes; the blocks marked `run` are
// complete programs and run. Markers are described in test/docs.ts.
//
// The compiling is one pass, test/typescript/compile.ts, in a child process that tap does
// not measure coverage of: V8's block counters made the compiler (no code of lib/) two
// to three times slower. Its files are written inside this package, so
// 'fastify-dbbasic-sessions' resolves to its own types.
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { fileOf, javascript, workDir } from './docs.js'
import { SECRET } from './helpers.js'
import { OLD_SIGN_OUT_EVERYWHERE, docBlocks, type Report } from './typescript/compile.js'

// Three whole programs, two without skipLibCheck: about 10 s of CPU, more on a busy machine.
t.setTimeout(300_000)

const pass = spawnSync(process.execPath, [fileURLToPath(new URL('./typescript/compile.js', import.meta.url))], {
  encoding: 'utf8',
  // @tapjs/processinfo's switch: no coverage in this process.
  env: { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0' },
  maxBuffer: 64 * 1024 * 1024,
  timeout: 280_000
})
if (pass.status !== 0) throw new Error(`test/typescript/compile.ts failed (${pass.error?.message ?? `exit ${pass.status}`}):\n${pass.stderr}`)
const report = JSON.parse(pass.stdout) as Report

const all = docBlocks()
const checked = all.filter((b) => b.marker?.kind !== 'skip')

t.test('the compiler options are the documented ones', async (t) => {
  t.same(report.config.errors, [])
  t.same([report.config.strict, report.config.exactOptionalPropertyTypes, report.config.skipLibCheck], [true, true, false])
  t.equal(report.setUpBlocks, 1, 'one ts block in docs/typescript.md')
})

t.test('docs/typescript.md\'s set-up compiles beside each store-backed session plugin, and its mistakes do not', async (t) => {
  t.same(Object.keys(report.beside), ['@fastify/secure-session', '@fastify/session'])
  for (const [other, errors] of Object.entries(report.beside)) t.same(errors, [], `${other}: no error`)
})

t.test('the documents have code blocks, and every skipped one says why', async (t) => {
  t.ok(checked.length >= 15, `${checked.length} blocks compiled, ${all.length - checked.length} skipped`)
  for (const b of all) {
    if (b.marker?.kind === 'skip') t.ok(b.marker.reason.length >= 10, `${b.file}:${b.line} skipped: ${b.marker.reason}`)
  }
})

t.test('every block compiles under strict and exactOptionalPropertyTypes', async (t) => {
  for (const b of checked) t.same(report.docs[`${b.file}:${b.line}`], [], `${b.file}:${b.line} (${b.lang})`)
})

t.test('control: the old README\'s sign-out-everywhere block does not compile', async (t) => {
  const found = report.docs[`${OLD_SIGN_OUT_EVERYWHERE.file}:${OLD_SIGN_OUT_EVERYWHERE.line}`] ?? []
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
