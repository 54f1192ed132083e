// Reading callgrind's dumps (bench/instructions.mjs): its text format, with the
// compressed names "fn=(12) name" then "fn=(12)", and a cost line after each "calls="
// that is the call's inclusive cost, already counted as the callee's own.
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'

// V8's compilers run on their own threads when they like: a late TurboFan job is about
// five million instructions in whichever window it lands, so their own cost is taken out.
export const COMPILER = /v8::internal::(compiler|maglev|baseline)::|v8::internal::(Compiler|OptimizingCompileDispatcher|OptimizedCompilationJob|TurbofanCompilationJob|BaselineBatchCompiler)::/
// What a nextTick off V8's fast path calls for three of its four properties (lib/ticks.ts).
export const SLOW_TICK = 'Runtime_DefineKeyedOwnPropertyInLiteral'
/** Every collection, minor or full, goes through this. */
const COLLECT = 'v8::internal::Heap::CollectGarbage('
const SCAVENGE = 'v8::internal::Heap::Scavenge()'
const MARK_COMPACT = 'v8::internal::Heap::MarkCompact()'

/**
 * A dump's Ir: `total` (every function's own cost), `compiler` (the compilers' own),
 * `slowCalls` (calls of SLOW_TICK), `gc` (what collections cost, all in), `scavenges`,
 * `markCompacts` (full collections) and, when asked, `self`: each function's own cost, and `objects`: the file it is in.
 */
export async function readDump (file, { functions = false } = {}) {
  const names = new Map()
  const nameOf = (rest) => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(rest)
    if (m === null) return rest
    if (m[2] !== undefined) names.set(m[1], m[2])
    return names.get(m[1]) ?? rest
  }
  const self = new Map()
  /** The object file (binary or library) of each function, from the ob= lines. */
  const objects = new Map()
  let object = ''
  const objectNames = new Map()
  const objectOf = (rest) => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(rest)
    if (m === null) return rest
    if (m[2] !== undefined) objectNames.set(m[1], m[2])
    return objectNames.get(m[1]) ?? rest
  }
  let total = 0
  let compiler = 0
  let slowCalls = 0
  let gc = 0
  let scavenges = 0
  let markCompacts = 0
  let callIsCollect = false
  let current = ''
  let currentIsCompiler = false
  let callee = ''
  let afterCall = false
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    const c = line.charCodeAt(0)
    // A cost line: a position (a number, or +n, -n, * relative to the last), then Ir.
    if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2a) {
      const space = line.lastIndexOf(' ')
      if (space === -1) continue
      const ir = Number(line.slice(space + 1))
      if (afterCall) {
        afterCall = false
        // Collections are not nested in one another, but one collection calls another
        // function of the same name (the full GC's helpers): counted from outside only.
        if (callIsCollect && !current.startsWith(COLLECT)) gc += ir
        continue
      }
      total += ir
      if (currentIsCompiler) compiler += ir
      if (functions) self.set(current, (self.get(current) ?? 0) + ir)
    } else if (line.startsWith('fn=')) {
      current = nameOf(line.slice(3))
      currentIsCompiler = COMPILER.test(current)
      if (functions) objects.set(current, object)
    } else if (line.startsWith('ob=')) {
      object = objectOf(line.slice(3))
    } else if (line.startsWith('cob=')) {
      objectOf(line.slice(4))
    } else if (line.startsWith('cfn=')) {
      callee = nameOf(line.slice(4))
    } else if (line.startsWith('calls=')) {
      afterCall = true
      const count = Number(line.slice(6, line.indexOf(' ')))
      callIsCollect = callee.startsWith(COLLECT)
      if (callee.includes(SLOW_TICK)) slowCalls += count
      if (callee === SCAVENGE) scavenges += count
      if (callee === MARK_COMPACT) markCompacts += count
    }
  }
  return { total, compiler, slowCalls, gc, scavenges, markCompacts, self, objects }
}
