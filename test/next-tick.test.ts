// Importing the plugin keeps process.nextTick on its fast path for the life of the
// process (lib/ticks.ts). Each case runs in a child process of its own with V8's
// test natives: eight full GCs, each while the tick queue is empty, then the inline
// caches of the literal nextTick builds each tick with, as V8 reports them.
import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AsyncLocalStorage } from 'node:async_hooks'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { holdTickShapes } from '../lib/ticks.js'
import { root } from './paths.js'

const lib = new URL('../lib/index.js', import.meta.url).href

function literalCaches (imports: string): string[] {
  const script = `
    ${imports}
    const noop = () => {}
    for (let cycle = 0; cycle < 8; cycle++) {
      for (let i = 0; i < 50; i++) process.nextTick(noop, i)
      await new Promise((resolve) => setImmediate(resolve))
      globalThis.gc()
    }
    for (let i = 0; i < 50; i++) process.nextTick(noop, i)
    await new Promise((resolve) => setImmediate(resolve))
    ;%DebugPrint(process.nextTick)`
  // V8 writes the report straight to the stdout descriptor: a file takes all of it,
  // where a non-blocking pipe may drop the end.
  const dir = mkdtempSync(join(tmpdir(), 'next-tick-'))
  const fd = openSync(join(dir, 'out'), 'w')
  try {
    // Through env(1) with an empty environment: tap adds its coverage loader to every
    // child's NODE_OPTIONS, and a process an app runs in has none.
    execFileSync('env', ['-i', process.execPath, '--expose-gc', '--allow-natives-syntax', '--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', fd, 'pipe'], timeout: 30_000 })
  } finally {
    closeSync(fd)
  }
  const out = readFileSync(join(dir, 'out'), 'utf8')
  rmSync(dir, { recursive: true })
  return [...out.matchAll(/slot #\d+ DefineKeyedOwnPropertyInLiteral (\w+)/g)].map((m) => m[1] as string)
}

t.test('without the plugin, GCs between ticks leave the tick literal megamorphic (the cliff the plugin guards against)', async (t) => {
  const caches = literalCaches("await import('fastify')")
  t.ok(caches.length >= 4, `V8 reports the literal's four property definitions (got ${caches.join(', ')})`)
  t.ok(caches.includes('MEGAMORPHIC'), `some are megamorphic: ${caches.join(', ')}`)
})

t.test('with the plugin imported, every property definition of the tick literal stays monomorphic', async (t) => {
  const caches = literalCaches(`await import('fastify'); await import(${JSON.stringify(lib)})`)
  t.ok(caches.length >= 4, `V8 reports the literal's four property definitions (got ${caches.join(', ')})`)
  t.same([...new Set(caches)], ['MONOMORPHIC'], caches.join(', '))
})

// Issue 28: the tick object the guard keeps must not keep the async context that was
// current when it was made. A child process (without tap's async hooks) runs `inside`
// in AsyncLocalStorage.run() with an 8 MiB store, drops the store, collects garbage
// and says whether the store went.
function storeCollected (t: Test, before: string, inside: string): boolean {
  const script = `
    import { AsyncLocalStorage } from 'node:async_hooks'
    // Made on first use: a pipe's handle made inside run() would keep the store.
    process.stdout, process.stderr
    ${before}
    const als = new AsyncLocalStorage()
    let store = { bytes: new Uint8Array(8 * 1024 * 1024) }
    const weak = new WeakRef(store)
    await als.run(store, async () => { ${inside} })
    store = null
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setImmediate(resolve))
      globalThis.gc()
    }
    process.stdout.write(weak.deref() === undefined ? 'collected' : 'kept')`
  // From a file: a script given with -e keeps the store of a module it imports on Node 24 and 26.
  const dir = mkdtempSync(join(tmpdir(), 'next-tick-'))
  writeFileSync(join(dir, 'child.mjs'), script)
  let out: string
  try {
    out = execFileSync('env', ['-i', process.execPath, '--expose-gc', join(dir, 'child.mjs')], { cwd: root, encoding: 'utf8', timeout: 30_000 })
  } finally {
    rmSync(dir, { recursive: true })
  }
  t.match(out, /^(collected|kept)$/, 'the child answered')
  return out === 'collected'
}

const ticks = new URL('../lib/ticks.js', import.meta.url).href
const token = new URL('../lib/token.js', import.meta.url).href

t.test('the guard called inside AsyncLocalStorage.run() keeps nothing of that context', async (t) => {
  const load = `const { holdTickShapes } = await import(${JSON.stringify(ticks)})`
  t.ok(storeCollected(t, load, 'await null'), 'control: the store goes when nothing keeps it')
  t.ok(storeCollected(t, load, 'holdTickShapes()'), 'the kept tick object does not keep the store')
})

t.test('importing the package inside AsyncLocalStorage.run() keeps nothing of that context', async (t) => {
  // Node 20 and 22 keep the context of any module first imported inside run(): its
  // module record holds its evaluation promise, which holds the store. There the test
  // above, the very call the import makes, is what can be checked.
  if (!storeCollected(t, '', `await import(${JSON.stringify(token)})`)) {
    t.comment(`Node ${process.version} keeps the store of any module imported inside run(): not comparable here`)
    return
  }
  t.ok(storeCollected(t, '', `await import(${JSON.stringify(lib)})`), 'the package\'s import does not keep the store')
})

t.test('in this process, with tap\'s hooks loaded, the guard called inside run() keeps nothing of that context', async (t) => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  let store: object | null = { bytes: new Uint8Array(8 * 1024 * 1024) }
  const weak = new WeakRef(store)
  new AsyncLocalStorage().run(store, holdTickShapes)
  store = null
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve))
    gc()
  }
  t.ok(weak.deref() === undefined, 'the store was collected')
})
