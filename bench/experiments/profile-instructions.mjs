// EXPERIMENT (issue 28), not part of any bench command: where a case's instructions go,
// from the dumps `npm run bench:instructions -- --keep DIR --perf-map` keeps. Each
// function's cost is the difference of the two windows over 2,000 requests (the same
// measure as the harness), the JIT's addresses named from node's perf map, then grouped.
// `node bench/experiments/profile-instructions.mjs DIR [--vs case] [case...]` (case: a file
// prefix in DIR; --vs: each case's groups and functions less that one's)
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readDump } from '../callgrind.mjs'

const args = process.argv.slice(2)
const vs = args.includes('--vs') ? args.splice(args.indexOf('--vs'), 2)[1] : null
const [dir, ...wanted] = args
const REQUESTS = 2000

/** Code ranges of node's perf map, the latest first (an address may be reused). */
function perfMap (file) {
  const ranges = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => {
    const [start, size, ...name] = l.split(' ')
    return { start: BigInt('0x' + start), end: BigInt('0x' + start) + BigInt('0x' + size), name: name.join(' ') }
  })
  return (address) => {
    const a = BigInt(address)
    for (let i = ranges.length - 1; i >= 0; i--) if (a >= ranges[i].start && a < ranges[i].end) return ranges[i].name
    return address
  }
}

/** `JS:*verifyToken file:///…/dist/token.js:245:28` as `verifyToken (dist/token.js)`, the tier's mark dropped. */
const short = (name) => name.replace(/^JS:[*~^+]?/, '').replace(/ (?:file:\/\/)?\S*\/((?:dist|node_modules\/(?:@fastify\/)?[^/]+)\/\S*?):\d+:\d+$/, ' ($1)').replace(/ node:(\S+?):\d+:\d+$/, ' (node:$1)')

const GROUPS = [
  ['SHA-256 (OpenSSL\'s compression and its SHA256_* calls)', (n) => /^(sha256_block_data_order|SHA256_|sha256_internal_|ossl_sha256)/.test(n)],
  ['OpenSSL glue (EVP, CRYPTO_memcmp, OPENSSL_cleanse, engines)', (n) => /^(EVP_|evp_|OPENSSL_|CRYPTO_|ossl_|OSSL_|ENGINE_|engine_|ERR_)/.test(n)],
  ['node:crypto binding (Hash::OneShotDigest, node:internal/crypto, hex output)', (n) => /node::crypto::|\(node:internal\/crypto|^node::StringBytes::Encode/.test(n)],
  ['Buffer writes (buf.write: node:buffer, StringWrite)', (n) => /node::Buffer::.*StringWrite|^write \(node:buffer\)|^v8::String::WriteOneByte/.test(n)],
  ['the package: HMAC in JS (dist/hmac.js)', (n) => /\(dist\/hmac\.js/.test(n)],
  ['the package: token decode and checks (dist/token.js, its regular expressions)', (n) => /\(dist\/token\.js/.test(n) || n === 'RegExp:^[A-Za-z0-9_-]+={0,2}$' || n === 'RegExp:^[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]+$'],
  ['the package: cookie scan (dist/cookie.js)', (n) => /\(dist\/cookie\.js/.test(n)],
  ['the package: the rest of dist/', (n) => /\(dist\//.test(n)],
  ['GC', (n) => /v8::internal::(Heap|Scavenger|ScavengerCollector|ScavengeVisitor|RootScavengeVisitor|IterateAndScavengePromotedObjectsVisitor|MarkCompactCollector|MinorMarkCompact|IncrementalMarking|ConcurrentMarking|MarkingVisitor|GCTracer|ArrayBufferSweeper|Sweeper|MemoryAllocator|PagedSpace|SemiSpace|NewSpace|LargeObjectSpace|EvacuationAllocator|LocalAllocator)|heap::base::|v8::internal::BodyDescriptorBase::IteratePointers<v8::internal::(Scavenge|IterateAndScavenge)/.test(n)],
  ['inline caches and megamorphic stubs (Builtins_*IC*)', (n) => /^Builtins_\w*IC/.test(n)],
  ['Fastify (node_modules/fastify and its deps)', (n) => /\(node_modules\/(fastify|find-my-way|light-my-request|avvio|fast-json-stringify|@fastify\/(error|fast-json-stringify-compiler|ajv-compiler|merge-json-schemas))/.test(n)],
  ['@fastify/cookie, secure-session, jwt', (n) => /\(node_modules\/(@fastify\/(cookie|secure-session|jwt)|fast-jwt|sodium-native|cookie)/.test(n)],
  ['llhttp (HTTP parser, C)', (n) => /^llhttp/.test(n)],
  ['Node\'s JavaScript (node:internal, node:http…)', (n) => /\(node:/.test(n)],
  ['other builtins (Builtins_*)', (n) => /^Builtins_/.test(n)],
  ['V8 runtime and API (C++)', (n) => /^v8::|Runtime_|^void v8::|^unsigned long v8::|^long v8::/.test(n)],
  ['Node C++ and libuv', (n) => /^node::|^uv_|^non-virtual thunk to node::|node::/.test(n)],
  ['libc (malloc and free, memcpy, system calls)', (n, o) => /libc\.so/.test(o)]
]

function groupOf (name, object) {
  for (const [group, test] of GROUPS) if (test(name, object)) return group
  return 'other'
}

/** Per-request self cost of every function, named, from the two windows of one run. */
async function perRequest (prefix) {
  const files = readdirSync(dir).filter((f) => f.startsWith(prefix + '.') && f.endsWith('.out')).sort((a, b) => parseInt(a.split('.').at(-2)) - parseInt(b.split('.').at(-2)))
  const [a, b] = await Promise.all(files.map((f) => readDump(join(dir, f), { functions: true })))
  const name = perfMap(join(dir, prefix + '.map'))
  const costs = new Map()
  const objects = new Map([...a.objects, ...b.objects])
  for (const [fn, ir] of b.self) costs.set(fn, (costs.get(fn) ?? 0) + ir)
  for (const [fn, ir] of a.self) costs.set(fn, (costs.get(fn) ?? 0) - ir)
  const named = new Map()
  for (const [fn, ir] of costs) {
    const n = /^0x[0-9a-f]+$/.test(fn) ? short(name(fn)) : fn
    named.set(n, { ir: (named.get(n)?.ir ?? 0) + ir / REQUESTS, object: objects.get(fn) ?? '' })
  }
  // Inclusive costs of named JavaScript functions: callgrind_annotate on the windows with
  // the JIT's addresses replaced by their names.
  const inclusive = new Map()
  for (const [i, f] of files.entries()) {
    const text = readFileSync(join(dir, f), 'utf8').replace(/^((?:c?fn)=\(\d+\)) (0x[0-9a-f]+)$/gm, (_, head, address) => `${head} ${short(name(address))}`)
    const scratch = mkdtempSync(join(tmpdir(), 'profile-'))
    const named = join(scratch, f)
    writeFileSync(named, text)
    const out = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', named], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
    rmSync(scratch, { recursive: true })
    for (const m of out.matchAll(/^\s*([\d,]+) \([^)]*\)\s+\S*?:(.*?)(?: \[[^\]]*\])?$/gm)) {
      const fn = m[2]
      inclusive.set(fn, (inclusive.get(fn) ?? 0) + (i === 0 ? -1 : 1) * Number(m[1].replaceAll(',', '')) / REQUESTS)
    }
  }
  return { self: named, inclusive }
}

const prefixes = [...new Set(readdirSync(dir).filter((f) => f.endsWith('.map')).map((f) => f.slice(0, -4)))]
  .filter((p) => wanted.length === 0 || wanted.some((w) => p.startsWith(w)) || (vs !== null && p.startsWith(vs)))
const fmt = (x) => Math.round(x).toLocaleString('en')
const profiles = {}
for (const prefix of prefixes) profiles[prefix] = await perRequest(prefix)

const groupsOf = (self) => {
  const groups = new Map()
  for (const [fn, { ir, object }] of self) groups.set(groupOf(fn, object), (groups.get(groupOf(fn, object)) ?? 0) + ir)
  return groups
}
const reference = vs === null ? null : prefixes.find((p) => p.startsWith(vs))
for (const prefix of prefixes) {
  if (prefix === reference) continue
  const { self, inclusive } = profiles[prefix]
  const total = [...self.values()].reduce((s, x) => s + x.ir, 0)
  const groups = groupsOf(self)
  if (reference !== null) {
    const other = profiles[reference].self
    const theirs = groupsOf(other)
    const otherTotal = [...other.values()].reduce((s, x) => s + x.ir, 0)
    console.log(`\n### ${prefix} less ${reference}: ${fmt(total)} − ${fmt(otherTotal)} = ${fmt(total - otherTotal)} instructions a request\n`)
    console.log('| group | this case | reference | difference |\n| --- | ---: | ---: | ---: |')
    const names = [...new Set([...groups.keys(), ...theirs.keys()])]
    for (const g of names.sort((x, y) => ((groups.get(y) ?? 0) - (theirs.get(y) ?? 0)) - ((groups.get(x) ?? 0) - (theirs.get(x) ?? 0)))) {
      console.log(`| ${g} | ${fmt(groups.get(g) ?? 0)} | ${fmt(theirs.get(g) ?? 0)} | ${fmt((groups.get(g) ?? 0) - (theirs.get(g) ?? 0))} |`)
    }
    const diffs = [...new Set([...self.keys(), ...other.keys()])].map((fn) => [fn, (self.get(fn)?.ir ?? 0) - (other.get(fn)?.ir ?? 0)])
    console.log('\n| function (own cost), the largest differences | difference |\n| --- | ---: |')
    for (const [fn, d] of diffs.sort((x, y) => Math.abs(y[1]) - Math.abs(x[1])).slice(0, 30)) console.log(`| ${fn.slice(0, 140).replaceAll('|', '\\|')} | ${fmt(d)} |`)
    console.log('\n| this package\'s functions and what they call (inclusive) | instructions / request |\n| --- | ---: |')
    for (const [fn, ir] of [...inclusive].filter(([fn]) => /\(dist\//.test(fn)).sort((x, y) => y[1] - x[1]).slice(0, 20)) console.log(`| ${fn.replaceAll('|', '\\|')} | ${fmt(ir)} |`)
    continue
  }
  console.log(`\n### ${prefix}: ${fmt(total)} instructions a request\n`)
  console.log('| group (own cost of its functions) | instructions / request |\n| --- | ---: |')
  for (const [g, ir] of [...groups].sort((x, y) => y[1] - x[1])) console.log(`| ${g} | ${fmt(ir)} |`)
  console.log('\n| function (own cost) | instructions / request |\n| --- | ---: |')
  for (const [fn, { ir }] of [...self].sort((x, y) => y[1].ir - x[1].ir).slice(0, 25)) console.log(`| ${fn.slice(0, 140).replaceAll('|', '\\|')} | ${fmt(ir)} |`)
  console.log('\n| this package\'s functions and what they call (inclusive) | instructions / request |\n| --- | ---: |')
  for (const [fn, ir] of [...inclusive].filter(([fn]) => /\(dist\//.test(fn)).sort((x, y) => y[1] - x[1]).slice(0, 20)) console.log(`| ${fn.replaceAll('|', '\\|')} | ${fmt(ir)} |`)
}
