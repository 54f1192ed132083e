// docs/typescript.md's set-up, compiled as an app would: alone and beside
// @fastify/secure-session or @fastify/session, strict, exactOptionalPropertyTypes and no
// skipLibCheck (test/typescript/tsconfig.json). The files are written under .build/,
// inside this package, so 'fastify-dbbasic-sessions' resolves to its own types.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import ts from 'typescript'
import { root } from './paths.js'

// Two whole programs without skipLibCheck: about 9 s of CPU each, more on a busy machine.
t.setTimeout(300_000)

const doc = readFileSync(new URL('docs/typescript.md', root), 'utf8')
const blocks = [...doc.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1])

const config = ts.readConfigFile(fileURLToPath(new URL('test/typescript/tsconfig.json', root)), (path) => readFileSync(path, 'utf8'))
const { options, errors } = ts.convertCompilerOptionsFromJson(config.config.compilerOptions, fileURLToPath(root))
const dir = new URL('.build/typescript/', root)
mkdirSync(dir, { recursive: true })

// One compiler host for every program, so the declaration files are parsed once.
const host = ts.createCompilerHost(options)
const parsed = new Map<string, ts.SourceFile | undefined>()
const getSourceFile = host.getSourceFile.bind(host)
host.getSourceFile = (name, language, onError) => {
  if (name.includes('/.build/typescript/')) return getSourceFile(name, language, onError)
  if (!parsed.has(name)) parsed.set(name, getSourceFile(name, language, onError))
  return parsed.get(name)
}

/** The compiler's diagnostics for one file of app code, as text. */
function compile (name: string, code: string): string[] {
  const file = fileURLToPath(new URL(name, dir))
  writeFileSync(file, code)
  const program = ts.createProgram({ rootNames: [file], options, host })
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file === undefined ? '' : `${d.file.fileName.replace(fileURLToPath(root), '')}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: `
    return `${where}TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
  })
}

// Besides the block: the other plugin's request.session in use, ours not under that
// name, and the option that must say the declared name. Each @ts-expect-error must meet
// its error (TS2578 otherwise), so the check cannot pass by checking nothing.
const beside: Record<string, string> = {
  '@fastify/secure-session': `
import fastifySecureSession from '@fastify/secure-session'
await app.register(fastifySecureSession, { key: Buffer.alloc(32, 1), cookieName: 'cart' })
app.get('/cart', async (request) => ({ changed: request.session.changed, user: request.auth.userId }))
`,
  '@fastify/session': `
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
await app.register(fastifyCookie)
await app.register(fastifySession, { secret: 'x'.repeat(32) })
app.get('/cart', async (request) => ({ id: request.session.sessionId, user: request.auth.userId }))
`
}
const mistakes = `
app.get('/not-ours', async (request) => {
  // @ts-expect-error under sessionName 'auth', request.session is not the plugin's
  return request.session.userId
})
// @ts-expect-error the option must say the declared name
await Fastify().register(fastifyDbbasicSessions, { secret: process.env.SECRET_KEY, sessionName: 'session' })
`

t.test('the compiler options are the documented ones', async (t) => {
  t.same(errors, [])
  t.same([options.strict, options.exactOptionalPropertyTypes, options.skipLibCheck], [true, true, false])
  t.equal(blocks.length, 1, 'one ts block in docs/typescript.md')
})

t.test('docs/typescript.md\'s set-up compiles beside each store-backed session plugin, and its mistakes do not', async (t) => {
  for (const [other, code] of Object.entries(beside)) {
    const name = other.replace(/\W+/g, '-').replace(/^-/, '') + '.ts'
    t.same(compile(name, blocks[0] + code + mistakes), [], `${other}: no error`)
  }
})
