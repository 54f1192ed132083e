// The documentation's code blocks, for the tests that compile, run and exercise them.
// A block may carry a marker, an HTML comment on the line just above its fence:
//   <!-- snippet: run -->                 a complete program: compiled, then run
//   <!-- snippet: recipe NAME -->         compiled; a test loads it by name and drives it
//   <!-- snippet: skip: REASON -->        not compiled (a reason is required)
// Every other ```ts and ```js block is compiled.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { root } from './paths.js'

export interface Block {
  /** Relative to the project root, e.g. `docs/lifetime.md`. */
  file: string
  /** 1-based line of the opening fence. */
  line: number
  lang: 'ts' | 'js'
  code: string
  marker: { kind: 'run' } | { kind: 'recipe', name: string } | { kind: 'skip', reason: string } | null
}

/** README.md, CONTRIBUTING.md and docs/*.md, relative to the root. */
export function documents (): string[] {
  const docs = readdirSync(new URL('docs/', root)).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)
  return ['README.md', 'CONTRIBUTING.md', ...docs]
}

export const read = (file: string): string => readFileSync(new URL(file, root), 'utf8')

const MARKER = /^<!-- snippet: (run|recipe ([a-z0-9-]+)|skip: (\S.*?)) -->$/

/** The fenced code blocks of a document, any language, with their markers. */
export function fences (file: string): Array<{ line: number, info: string, code: string, above: string }> {
  const lines = read(file).split('\n')
  const found = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})(.*)$/.exec(lines[i] ?? '')
    if (open === null) continue
    const [, fence = '```', info = ''] = open
    let end = i + 1
    while (end < lines.length && lines[end] !== fence) end++
    found.push({ line: i + 1, info: info.trim(), code: lines.slice(i + 1, end).join('\n'), above: lines[i - 1] ?? '' })
    i = end
  }
  return found
}

export function blocks (file: string): Block[] {
  const out: Block[] = []
  for (const { line, info, code, above } of fences(file)) {
    if (info !== 'ts' && info !== 'js') continue
    const m = MARKER.exec(above)
    if (above.startsWith('<!-- snippet') && m === null) throw new Error(`${file}:${line - 1}: unreadable marker ${above}`)
    const marker = m === null
      ? null
      : m[1] === 'run' ? { kind: 'run' as const } : m[2] !== undefined ? { kind: 'recipe' as const, name: m[2] } : { kind: 'skip' as const, reason: m[3] ?? '' }
    out.push({ file, line, lang: info, code, marker })
  }
  return out
}

/**
 * Names the documentation uses for the app's own parts (its Fastify instance with this
 * plugin registered, its database, its password check), declared so that the blocks
 * compile as a reader's app would around them. A block that makes its own \`app\` uses that.
 */
export const PRELUDE = `
declare const app: import('fastify').FastifyInstance
interface User { id: string, name: string, sessionsValidAfter: number }
declare const db: {
  users: {
    find (id: string): Promise<User | null>
    update (id: string, fields: Partial<User>): Promise<void>
  }
}
/** Checks a name and password from a form; the account, or null. */
declare function checkPassword (form: unknown): Promise<User | null>
declare function renderLoginPage (message: string | null): string
/** A row of docs/devices.md's table: one sign-in, by its session id. */
interface Device { sessionId: string, userId: string, signedInAt: number, browser: string }
declare const devices: {
  add (device: Device): Promise<void>
  list (userId: string): Promise<Device[]>
  owns (userId: string, sessionId: string): Promise<boolean>
  remove (userId: string, sessionId: string): Promise<void>
  /** Every row of the user's but \`keep\`'s. */
  removeAll (userId: string, keep?: string | null): Promise<void>
}
`

/**
 * Where the blocks are written: inside the package, so that \`fastify-dbbasic-sessions\`
 * resolves to itself, and under test/, which coverage leaves out (ignored by git, eslint and tsc).
 */
export const workDir = new URL('test/docs-snippets/', root)

export function fileOf (block: Block): string {
  return `${block.file.replace(/[^a-z0-9]+/gi, '-')}-${block.line}.${block.lang === 'ts' ? 'mts' : 'mjs'}`
}

/** How the blocks are compiled: strict and with exactOptionalPropertyTypes, as users copy them. */
const OPTIONS: ts.CompilerOptions = {
  strict: true,
  exactOptionalPropertyTypes: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  allowJs: true,
  checkJs: true,
  skipLibCheck: true,
  types: ['node']
}

/**
 * Type-checks the blocks as one program; `host` may give it files another program has
 * parsed, and `prelude` declares more of the app's own parts than PRELUDE does.
 */
export function compile (list: Block[], host: (options: ts.CompilerOptions) => ts.CompilerHost = ts.createCompilerHost, prelude = PRELUDE): Map<Block, string[]> {
  mkdirSync(workDir, { recursive: true })
  const dir = fileURLToPath(workDir)
  writeFileSync(new URL('prelude.d.ts', workDir), prelude)
  const names = new Map<string, Block>()
  for (const block of list) {
    const name = `${dir}${fileOf(block)}`
    // `export {}` makes each block a module of its own, so top-level await works and names do not clash.
    writeFileSync(name, `${block.code}\nexport {}\n`)
    names.set(name, block)
  }
  const program = ts.createProgram({ rootNames: [...names.keys(), `${dir}prelude.d.ts`], options: OPTIONS, host: host(OPTIONS) })
  const errors = new Map<Block, string[]>(list.map((b) => [b, []]))
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const block = d.file === undefined ? undefined : names.get(d.file.fileName)
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n')
    if (block === undefined || d.file === undefined) throw new Error(`outside the blocks: ${text}`)
    const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0)
    errors.get(block)?.push(`${block.file}:${block.line + 1 + line}: TS${d.code} ${text}`)
  }
  return errors
}

const LIB = new URL('.build/lib/index.js', root).href

/** A block as runnable JavaScript: types stripped, the package's name pointing at the compiled lib/. */
export function javascript (block: Block, extra = ''): string {
  const js = block.lang === 'ts'
    ? ts.transpileModule(block.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false } }).outputText
    : block.code
  return js.replace(/from 'fastify-dbbasic-sessions'/g, `from '${LIB}'`) + extra
}

let loads = 0
/**
 * Loads the block marked `recipe NAME` as a module with the names of `scope` in scope
 * (the test's Fastify instance as `app`, the app's own parts the prelude declares), and
 * gives back its top-level names.
 */
export async function loadRecipe (file: string, name: string, scope: Record<string, unknown>): Promise<Record<string, unknown>> {
  const block = blocks(file).find((b) => b.marker?.kind === 'recipe' && b.marker.name === name)
  if (block === undefined) throw new Error(`${file} has no recipe ${name}`)
  mkdirSync(workDir, { recursive: true })
  const key = `__recipe_${name.replace(/-/g, '_')}_${++loads}`
  ;(globalThis as Record<string, unknown>)[key] = scope
  const tops = [...block.code.matchAll(/^(?:export )?(?:const|let|async function|function|class) (\w+)/gm)].map((m) => m[1])
  const source = `const { ${Object.keys(scope).join(', ')} } = globalThis.${key}\n${javascript(block, `\nexport { ${tops.join(', ')} }\n`)}`
  const url = new URL(`recipe-${name}-${loads}.mjs`, workDir)
  writeFileSync(url, source)
  return import(url.href) as Promise<Record<string, unknown>>
}
