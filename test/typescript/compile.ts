// The compiler's half of typescript.test.ts, in one pass: docs/typescript.md's set-up as
// an app compiles it (strict, exactOptionalPropertyTypes, no skipLibCheck:
// test/typescript/tsconfig.json), beside each store-backed session plugin, and every
// other ```ts and ```js block of the documentation (test/docs.ts). A program for the
// set-up beside each plugin, since the two declare request.session each their own way,
// one for the blocks, and one for each block that registers one of those plugins (see
// OLD_PLUGIN_PRELUDE), all sharing the files each has parsed. Run as a program, it
// prints its Report as JSON.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { PRELUDE, blocks, compile, documents, type Block } from '../docs.js'
import { root } from '../paths.js'

export interface Report {
  /** What reading test/typescript/tsconfig.json gave. */
  config: { errors: string[], strict: unknown, exactOptionalPropertyTypes: unknown, skipLibCheck: unknown }
  /** How many ```ts blocks docs/typescript.md has (its set-up is the first). */
  setUpBlocks: number
  /** The set-up's diagnostics beside each plugin. */
  beside: Record<string, string[]>
  /** Each documentation block's diagnostics, by `file:line`; blocks marked skip are not compiled. */
  docs: Record<string, string[]>
}

// The "Signing a user out everywhere" block of the README before the documentation was
// compiled: it reads request.session.userId (string | null) where a string is needed.
export const OLD_SIGN_OUT_EVERYWHERE: Block = {
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

/** The blocks of README.md and docs/*.md that are compiled: all but those marked skip. */
export const docBlocks = (): Block[] => documents().filter((f) => f !== 'CONTRIBUTING.md').flatMap(blocks)

// Besides the set-up: the other plugin's request.session in use, ours not under that
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

// A block that registers one of these plugins (docs/migration.md's bridges) brings its
// declaration of request.session, and its own of FastifyDbbasicSessionsTypes: both hold
// for a whole program, so each such block is a program of its own, which declares the
// old plugin's parts the app already has.
const OLD_PLUGIN_PRELUDE: Record<string, string> = {
  '@fastify/secure-session': '',
  '@fastify/session': "/** The store @fastify/session was given. */\ndeclare const sessionStore: import('@fastify/session').SessionStore\n"
}
const besideOf = (block: Block): string | undefined => Object.keys(OLD_PLUGIN_PRELUDE).find((name) => block.code.includes(`from '${name}'`))

/**
 * A compiler host that hands every program the same parsed declaration files (@types/node,
 * fastify's and the plugins' types: most of the work), and reads the generated files
 * afresh. The programs agree on what parsing depends on: target ES2022, NodeNext, strict.
 */
function sharing (parsed: Map<string, ts.SourceFile | undefined>, options: ts.CompilerOptions, generated: string[]): ts.CompilerHost {
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (name, language, onError) => {
    if (generated.some((dir) => name.startsWith(dir))) return getSourceFile(name, language, onError)
    const key = `${typeof language === 'object' ? `${language.languageVersion}/${language.impliedNodeFormat ?? ''}` : language}:${name}`
    if (!parsed.has(key)) parsed.set(key, getSourceFile(name, language, onError))
    return parsed.get(key)
  }
  return host
}

export function run (): Report {
  const doc = readFileSync(new URL('docs/typescript.md', root), 'utf8')
  const setUp = [...doc.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '')
  const tsconfig = ts.readConfigFile(fileURLToPath(new URL('test/typescript/tsconfig.json', root)), (path) => readFileSync(path, 'utf8'))
  const { options, errors } = ts.convertCompilerOptionsFromJson(tsconfig.config.compilerOptions, fileURLToPath(root))
  const dir = new URL('.build/typescript/', root)
  mkdirSync(dir, { recursive: true })
  const parsed = new Map<string, ts.SourceFile | undefined>()
  const generated = [fileURLToPath(dir), fileURLToPath(new URL('test/docs-snippets/', root))]

  const host = sharing(parsed, options, generated)
  const report: Report = {
    config: {
      errors: errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')),
      strict: options.strict,
      exactOptionalPropertyTypes: options.exactOptionalPropertyTypes,
      skipLibCheck: options.skipLibCheck
    },
    setUpBlocks: setUp.length,
    beside: {},
    docs: {}
  }
  for (const [other, code] of Object.entries(beside)) {
    const file = fileURLToPath(new URL(other.replace(/\W+/g, '-').replace(/^-/, '') + '.ts', dir))
    writeFileSync(file, (setUp[0] ?? '') + code + mistakes)
    const program = ts.createProgram({ rootNames: [file], options, host })
    report.beside[other] = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file === undefined ? '' : `${d.file.fileName.replace(fileURLToPath(root), '')}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: `
      return `${where}TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
    })
  }

  const checked = [...docBlocks().filter((b) => b.marker?.kind !== 'skip'), OLD_SIGN_OUT_EVERYWHERE]
  const docHost = (docOptions: ts.CompilerOptions): ts.CompilerHost => sharing(parsed, docOptions, generated)
  const programs: Array<[Block[], string]> = [[checked.filter((b) => besideOf(b) === undefined), PRELUDE]]
  for (const b of checked) {
    const other = besideOf(b)
    if (other !== undefined) programs.push([[b], PRELUDE + OLD_PLUGIN_PRELUDE[other]])
  }
  for (const [list, prelude] of programs) {
    for (const [block, found] of compile(list, docHost, prelude)) report.docs[`${block.file}:${block.line}`] = found
  }
  return report
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.stdout.write(JSON.stringify(run()))
