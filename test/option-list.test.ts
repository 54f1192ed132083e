// Each option is declared once (lib/option-list.ts): its schema, rule, default and doc.
// The public contract's JSDoc (`@default`, every member) and the README's options table
// are checked against that declaration here, so neither drifts from the code.
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import ts from 'typescript'
import { optionsSchema } from '../lib/index.js'
import { pluginOptions, signInOptions, standaloneOptions, type Declared } from '../lib/option-list.js'
import { root } from './paths.js'

const source = ts.createSourceFile('index.d.ts', readFileSync(new URL('types/index.d.ts', root), 'utf8'), ts.ScriptTarget.Latest, true)

/** The members of an interface (or type literal) of the contract, with their @default text. */
function membersOf (name: string): Map<string, string | undefined> {
  const members = new Map<string, string | undefined>()
  const visit = (node: ts.Node): void => {
    if ((ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) && node.name.text === name) {
      const body = ts.isInterfaceDeclaration(node) ? node.members : (node.type as ts.TypeLiteralNode).members ?? []
      for (const member of body) {
        if (!ts.isPropertySignature(member) || !ts.isIdentifier(member.name)) continue
        const tag = ts.getJSDocTags(member).find((tg) => tg.tagName.text === 'default')
        members.set(member.name.text, typeof tag?.comment === 'string' ? tag.comment.trim() : undefined)
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return members
}

/** `sessionName` sits in a conditional type; its optional branch holds the default. */
function sessionNameDefault (): string | undefined {
  let found: string | undefined
  const visit = (node: ts.Node): void => {
    if (ts.isPropertySignature(node) && ts.isIdentifier(node.name) && node.name.text === 'sessionName' && node.questionToken !== undefined) {
      const tag = ts.getJSDocTags(node).find((tg) => tg.tagName.text === 'default')
      found ??= typeof tag?.comment === 'string' ? tag.comment.trim() : undefined
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

function checkAgainst (t: Test, declared: Record<string, Declared>, contract: string, skip: string[] = []): void {
  const members = membersOf(contract)
  t.same([...members.keys()].filter((k) => !skip.includes(k)).sort(), Object.keys(declared).filter((k) => !skip.includes(k)).sort(), `${contract}: the same options`)
  for (const [name, option] of Object.entries(declared)) {
    if (skip.includes(name)) continue
    t.equal(members.get(name), option.default, `${contract}.${name}: @default`)
  }
}

t.test('the JSDoc of every option says the default its declaration says, and no option is missing on either side', async (t) => {
  checkAgainst(t, pluginOptions, 'FastifyDbbasicSessionsOptions', ['sessionName'])
  t.equal(sessionNameDefault(), pluginOptions.sessionName.default, 'sessionName: @default')
  checkAgainst(t, pluginOptions.cookie.options!, 'CookieOptions')
  checkAgainst(t, pluginOptions.csrf.options!, 'CsrfOptions')
  checkAgainst(t, pluginOptions.revocation.options!, 'RevocationOptions')
  checkAgainst(t, signInOptions, 'ReplyCreateSessionOptions')
  checkAgainst(t, standaloneOptions, 'CreateSessionOptions')
  const get = membersOf('GetSessionOptions')
  t.same([...get.keys()], ['secret', 'now'])
  t.equal(get.get('secret'), standaloneOptions.secret.default)
  t.equal(get.get('now'), standaloneOptions.now.default)
})

t.test('the published JSON Schema is the declarations\', every option and suboption', async (t) => {
  const names = (properties: Record<string, { properties?: Record<string, unknown> }>, declared: Record<string, Declared>, within = ''): void => {
    t.same(Object.keys(properties), Object.keys(declared), within === '' ? 'options' : within)
    for (const [name, option] of Object.entries(declared)) {
      if (option.options !== undefined) names(properties[name].properties as Record<string, { properties?: Record<string, unknown> }>, option.options, name)
    }
  }
  names(optionsSchema.properties as Record<string, { properties?: Record<string, unknown> }>, pluginOptions)
})

/** The README's options table, as the declarations write it. */
function table (): string {
  const rows = Object.entries(pluginOptions).map(([name, option]) => `| \`${name}\` | ${option.default} | ${option.doc} |`)
  return ['| option | default | what it is |', '| --- | --- | --- |', ...rows].join('\n')
}

t.test('the README\'s options table is the declarations\' (the expected table is printed when it is not)', async (t) => {
  const readme = readFileSync(new URL('README.md', root), 'utf8')
  const start = readme.indexOf('| option | default | what it is |')
  t.not(start, -1, 'the table is there')
  const end = readme.indexOf('\n\n', start)
  const written = readme.slice(start, end === -1 ? undefined : end)
  t.equal(written, table(), written === table() ? 'as declared' : `write this table in the README:\n${table()}`)
})
