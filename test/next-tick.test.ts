// Importing the plugin keeps process.nextTick on its fast path for the life of the
// process (lib/ticks.ts). Each case runs in a child process of its own with V8's
// test natives: eight full GCs, each while the tick queue is empty, then the inline
// caches of the literal nextTick builds each tick with, as V8 reports them.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
