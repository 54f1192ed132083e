// `npm run test:types`, second half: the type tests (types/index.test-d.ts) under
// TypeScript 7's native tsc (the `typescript7` alias; tsd, which needs the 5.x compiler
// API, runs them with 5.9). Plain tsc has no tsd assertions, so the file is read as
// tsc sees it: every line outside an expectError(...) call must compile, and every
// expectError(...) call must hold at least one error. expectNotAssignable<T>(v) is
// checked as an expectAssignable that must fail; expectType<T>(v) checks that v is
// assignable to T (tsd checks that the types are identical). Same flags as tsd's:
// strict and exactOptionalPropertyTypes.
import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const tsc = join(root, 'node_modules', 'typescript7', 'bin', 'tsc')
const source = readFileSync(join(root, 'types', 'index.test-d.ts'), 'utf8')
// Beside the original, so that its import of './index.js' resolves the same way.
const copy = join(root, 'types', 'ts7-check.test-d.ts')

/** Line ranges [first, last] (1-based) of each call to `name(`, to its closing parenthesis. */
function calls (text, name) {
  const ranges = []
  const pattern = new RegExp(`\\b${name}(<[^(]*>)?\\(`, 'g')
  for (const match of text.matchAll(pattern)) {
    let depth = 0
    let at = match.index + match[0].length - 1
    for (; at < text.length; at++) {
      if (text[at] === '(') depth++
      else if (text[at] === ')' && --depth === 0) break
    }
    const lineOf = (offset) => text.slice(0, offset).split('\n').length
    ranges.push([lineOf(match.index), lineOf(at)])
  }
  return ranges
}

const checked = source.replace(/\bexpectNotAssignable</g, 'expectAssignable<')
const mustFail = [...calls(checked, 'expectError'), ...calls(source, 'expectNotAssignable')]
const version = execFileSync(process.execPath, [tsc, '--version'], { encoding: 'utf8' }).trim()
let output = ''
try {
  writeFileSync(copy, checked)
  output = execFileSync(process.execPath, [tsc, '--ignoreConfig', '--noEmit', '--pretty', 'false', '--strict', '--exactOptionalPropertyTypes',
    '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', copy], { cwd: root, encoding: 'utf8' })
} catch (err) {
  output = String(err.stdout ?? '') + String(err.stderr ?? '')
} finally {
  rmSync(copy, { force: true })
}

const errors = [...output.matchAll(/ts7-check\.test-d\.ts\((\d+),\d+\): error (TS\d+): ([^\n]*)/g)].map((m) => ({ line: Number(m[1]), code: m[2], text: m[3] }))
const unexplained = output.split('\n').filter((l) => l.trim() !== '' && !/ts7-check\.test-d\.ts\(\d+,\d+\): error/.test(l) && !/^\s/.test(l))
const inside = (line) => mustFail.some(([first, last]) => line >= first && line <= last)
const stray = errors.filter((e) => !inside(e.line))
const silent = mustFail.filter(([first, last]) => !errors.some((e) => e.line >= first && e.line <= last))

let failed = 0
for (const e of stray) { failed++; console.log(`not ok - types/index.test-d.ts:${e.line} must compile under ${version}: ${e.code} ${e.text}`) }
for (const [first] of silent) { failed++; console.log(`not ok - types/index.test-d.ts:${first} must not compile under ${version}, and does`) }
for (const line of unexplained) { failed++; console.log(`not ok - tsc said: ${line}`) }
const passed = mustFail.length - silent.length + 1 - (stray.length > 0 ? 1 : 0)
console.log(`${version}: ${mustFail.length} must-fail cases, ${errors.length} errors, all inside them: ${stray.length === 0 ? 'yes' : 'no'}`)
console.log(`types: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
